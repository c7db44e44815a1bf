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
    head = _head(data)
    return [" ".join(v.decode("ascii", "replace").split()) for v in _field(name).findall(head)]


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
    """A header line starting with `name:` (any case) and the lines that continue it."""
    return re.compile(
        rb"^" + re.escape(name.encode("ascii")) + rb":([^\n]*(?:\n[ \t][^\n]*)*)", re.I | re.M
    )


def message_id(data: bytes) -> str | None:
    values = header_values(data, "Message-ID")
    return values[0] if values and values[0] else None


def recipients(data: bytes) -> list[str]:
    """The addresses in To and Cc (Bcc is never stored)."""
    fields = header_values(data, "To") + header_values(data, "Cc")
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


def attachment_count(data: bytes) -> int:
    """Parts marked as attachments (the outbox writes every attachment that way)."""
    if b"attachment" not in data.lower():  # most mail: no need to scan it line by line
        return 0
    return len(_ATTACHMENT.findall(data))
