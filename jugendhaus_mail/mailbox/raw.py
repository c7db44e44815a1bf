"""Outgoing mail as the bytes the outbox stored: read the few header fields a backend needs
(Message-ID, recipients) from the header block alone, without parsing the message again."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def header_values(data: bytes, name: str) -> list[str]:
    """Every value of header `name` in the header block, unfolded (ASCII, as stored)."""
    match = _HEADER_END.search(data)
    head = data[: match.start()] if match else data
    wanted = name.lower() + ":"
    values: list[list[str]] = []
    current: list[str] | None = None
    for line in head.decode("ascii", "replace").replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t"):
            if current is not None:
                current.append(line)
            continue
        current = None
        if line[: len(wanted)].lower() == wanted:
            current = [line[len(wanted) :]]
            values.append(current)
    return [" ".join("".join(parts).split()) for parts in values]


def message_id(data: bytes) -> str | None:
    values = header_values(data, "Message-ID")
    return values[0] if values and values[0] else None


def recipients(data: bytes) -> list[str]:
    """The addresses in To and Cc (Bcc is never stored)."""
    fields = header_values(data, "To") + header_values(data, "Cc")
    return [address for _name, address in getaddresses(fields) if address]


def as_raw(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP)


_ATTACHMENT = re.compile(rb"(?im)^content-disposition:[ \t]*attachment")


def attachment_count(data: bytes) -> int:
    """Parts marked as attachments (the outbox writes every attachment that way)."""
    return len(_ATTACHMENT.findall(data))
