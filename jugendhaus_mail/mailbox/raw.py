"""Outgoing mail as the bytes the outbox stored: read the few header fields a backend needs
(Message-ID, recipients) from the header block alone, without parsing the message again."""

from __future__ import annotations

import functools
import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses


def header_values(data: bytes, name: str) -> list[str]:
    """Every value of header `name` in the header block, unfolded (ASCII, as stored)."""
    found = _field(name).findall(b"\n" + _head(data))
    return [" ".join(v.decode("ascii", "replace").split()) for v in found]


def _head(data: bytes) -> bytes:
    """Up to the first empty line (where the pattern \\r?\\n\\r?\\n first matches)."""
    end = data.find(b"\n\r\n")
    bare = data.find(b"\n\n", 0, len(data) if end < 0 else end + 1)
    if bare >= 0:
        end = bare
    elif end < 0:
        return data
    return data[: end - 1 if end and data[end - 1] == 0x0D else end]


@functools.lru_cache(maxsize=32)
def _field(name: str) -> re.Pattern[bytes]:
    """A header line starting with `name:` (any case) and the lines that continue it, in a
    header block with a line break put before it: the search then runs from one line break to
    the next instead of trying every byte as `^` in MULTILINE mode does (issue 15)."""
    return re.compile(
        rb"\n" + re.escape(name.encode("ascii")) + rb":([^\n]*(?:\n[ \t][^\n]*)*)", re.I
    )


# To or Cc at the start of a line, as `_field` reads one field
_TO_CC = re.compile(rb"\n(To|Cc):([^\n]*(?:\n[ \t][^\n]*)*)", re.I)


def message_id(data: bytes) -> str | None:
    values = header_values(data, "Message-ID")
    return values[0] if values and values[0] else None


def recipients(data: bytes) -> list[str]:
    """The addresses in To and Cc (Bcc is never stored)."""
    # one pass over the header block for both fields, To before Cc as `header_values` reads
    # them (issue 15): each field starts after a line break, so the search runs from one to
    # the next instead of trying every byte
    to: list[str] = []
    cc: list[str] = []
    for name, value in _TO_CC.findall(b"\n" + _head(data)):
        (to if name[:1] in b"Tt" else cc).append(" ".join(value.decode("ascii", "replace").split()))
    fields = to + cc
    if all(_BARE_ADDRESSES.fullmatch(f) for f in fields):  # as the outbox writes them
        return [address for f in fields for address in f.split(", ")]
    return [address for _name, address in getaddresses(fields) if address]


# bare addresses as `notify.outgoing` allows them, comma-separated: read without the parser
_ADDRESS = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_BARE_ADDRESSES = re.compile(rf"{_ADDRESS}(?:, {_ADDRESS})*")


def as_raw(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP)


_ATTACHMENT = re.compile(rb"(?im)^content-disposition:[ \t]*attachment")
# the same after a line break: the search jumps from one line break to the next (issue 15)
_ATTACHMENT_LINE = re.compile(rb"\ncontent-disposition:[ \t]*attachment", re.I)


def attachment_count(data: bytes) -> int:
    """Parts marked as attachments (the outbox writes every attachment that way): lines
    that start with the field, the first line included."""
    return len(_ATTACHMENT_LINE.findall(data)) + (_ATTACHMENT.match(data) is not None)
