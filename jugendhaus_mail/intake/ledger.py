"""How intake recognises a mail it has seen before, and what a run takes in.

A mail's key in the state database (and in the workbook's hidden `Dienst-Schlüssel`) is its
Message-ID *and* a digest of its content: "mid:<Message-ID>#<digest>". Message-IDs are not
unique in the wild (tools build them from a timestamp in seconds), so two different mails with
the same Message-ID get two keys, while the same mail delivered twice or read again after a
crash gets the same one. Mail without a usable Message-ID is keyed by the SHA-256 of its bytes.

Databases written before the digest was added hold "mid:<Message-ID>" alone; such a key is
still found (`legacy_key`), so a crash just before an upgrade is recovered as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from zoneinfo import ZoneInfo

from jugendhaus_mail.intake.appointments import NO_CALENDAR, CalendarParts, calendar_parts
from jugendhaus_mail.intake.parse import ParsedMail, parse_with_message
from jugendhaus_mail.mailbox.base import IncomingMessage

# What makes two mails with one Message-ID the same mail: who wrote what to whom, when.
# Transport headers (Received, Delivered-To, X-…) differ between two deliveries of one mail.
_IDENTITY_HEADERS = ("from", "to", "cc", "subject", "date")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class Incoming:
    """One mail of this run, parsed; the raw bytes are not kept (a batch may be large)."""

    handle: str
    received: datetime
    parsed: ParsedMail
    key: str
    legacy_key: str | None  # the key a database from before the digest used, if different
    calendar: CalendarParts = NO_CALENDAR  # iCalendar parts (intake/appointments.py)


def read_batch(messages: Iterable[IncomingMessage]) -> list[Incoming]:
    """Parse what the backend lists and order it by receipt, so that the case numbers of one
    run follow `Eingang` whatever order the backend listed it in."""
    batch = []
    for message in messages:
        parsed, headers = parse_with_message(message.raw)  # the one parse of this mail
        key = intake_key(parsed, message.raw, headers)
        legacy = parsed.key if key != parsed.key else None
        calendar = calendar_parts(message.raw)
        batch.append(Incoming(message.handle, message.received, parsed, key, legacy, calendar))
    batch.sort(key=lambda mail: mail.received)
    return batch


def intake_key(parsed: ParsedMail, raw: bytes, headers: Message | None = None) -> str:
    if parsed.key.startswith("mid:"):
        return f"{parsed.key}#{content_digest(raw, headers)}"
    return parsed.key


def content_digest(raw: bytes, parsed: Message | None = None) -> str:
    """16 hex digits over the identity headers and the body, independent of line endings,
    header folding and transport headers. `parsed` is the mail as `parse_with_message` read
    it (compat32): its headers are the ones a header-only parse of `raw` gives, since the
    parser ends the header block at the same line either way."""
    split = header_end(raw)
    head, body = (raw[: split[0]], raw[split[1] :]) if split else (raw, b"")
    digest = hashlib.sha256()
    try:
        headers = parsed
        if headers is None:
            parser = BytesHeaderParser(policy=compat32)
            headers = parser.parsebytes(head + b"\n\n", headersonly=True)
        found: dict[str, list[object]] = {name: [] for name in _IDENTITY_HEADERS}
        for key, value in headers.raw_items():  # one pass, not one per identity header
            values = found.get(key.lower())
            if values is not None:
                values.append(headers.policy.header_fetch_parse(key, value))  # as get_all
        for name, fetched in found.items():
            for item in fetched:
                text = " ".join(str(item).split())
                digest.update(f"{name}:{text}\n".encode("utf-8", "surrogateescape"))
    except Exception:  # hostile headers: the raw header block still tells mails apart
        digest.update(b" ".join(head.split()))
    digest.update(b"\n\n" + body.replace(b"\r\n", b"\n").rstrip(b"\n \t"))
    return digest.hexdigest()[:16]


def header_end(raw: bytes) -> tuple[int, int] | None:
    """Start and end of the first empty line (`_HEADER_END.search(raw)`, without a pattern
    search from every position): its first line end is a LF followed by LF or CRLF."""
    crlf = raw.find(b"\n\r\n")
    lf = raw.find(b"\n\n", 0, len(raw) if crlf < 0 else crlf + 2)
    first = crlf if lf < 0 else lf
    if first < 0:
        return None
    start = first - 1 if first and raw[first - 1] == 13 else first  # 13: CR
    return start, first + (2 if first == lf else 3)


def implausible_receipt(received: datetime, now: datetime, zone: ZoneInfo) -> str | None:
    """The set-aside reason for a receipt time no mailbox can have had, else None: a mail
    must never become case number 1970-0001 or 5138-0001."""
    if _EARLIEST <= received <= now + _LATEST_AHEAD:
        return None
    try:
        shown = received.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    except (OverflowError, ValueError):
        shown = received.strftime("%d.%m.%Y %H:%M UTC")
    return (
        f"Eingangszeit unplausibel ({shown}) – das Postfach hat keine brauchbare Eingangszeit "
        "geliefert; bitte die Mail ansehen und die Anfrage von Hand in die Anfrageliste "
        "eintragen"
    )
