"""The cheaper per-mail steps around the parse give what the slower ones gave (issue 15): the
content digest in every mail's key (a database written before must still know the mail) and
the check whether a mail may hold a calendar part."""

from __future__ import annotations

import hashlib
import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake import ledger
from jugendhaus_mail.intake.appointments import _HINT, may_hold_calendar
from jugendhaus_mail.intake.ledger import content_digest
from jugendhaus_mail.intake.parse import parse_with_message
from tests.test_speed_intake_parse import hostile_mail, hostile_multipart, outlook_shaped

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IDENTITY = ("from", "to", "cc", "subject", "date")


def digest_before(raw: bytes, parsed: Message | None = None) -> str:
    """`ledger.content_digest` as it was before this change (commit 4e31823)."""
    match = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: match.start()], raw[match.end() :]) if match else (raw, b"")
    digest = hashlib.sha256()
    try:
        headers = parsed
        if headers is None:
            parser = BytesHeaderParser(policy=compat32)
            headers = parser.parsebytes(head + b"\n\n", headersonly=True)
        for name in IDENTITY:
            for value in headers.get_all(name) or []:
                text = " ".join(str(value).split())
                digest.update(f"{name}:{text}\n".encode("utf-8", "surrogateescape"))
    except Exception:
        digest.update(b" ".join(head.split()))
    digest.update(b"\n\n" + body.replace(b"\r\n", b"\n").rstrip(b"\n \t"))
    return digest.hexdigest()[:16]


IDENTITY_LINES = st.sampled_from(
    [b"From: A <a@b.de>", b"from: \xfc\xe4 <x@y.de>", b"TO: t@rostock.de", b"Cc:", b"cc: a,\r\n b",
     b"Subject: =?utf-8?q?F=C3=A4ll?=", b"SUBJECT: \xff\xfe", b"Date: Mon, 2 Mar 2026 07:00 +0000",
     b"Received: x", b"X-Other: \x80", b"From: zweite@b.de", b"Subject:\tzweiter  Betreff"]
)  # fmt: skip


@st.composite
def identity_mail(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(IDENTITY_LINES, max_size=10))
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    return eol.join(lines) + eol + eol + draw(st.binary(max_size=30))


@FUZZ
@given(identity_mail() | hostile_mail() | hostile_multipart() | outlook_shaped())
@example(b"From: \xfc <a@b.de>\r\nSubject: x\r\nsubject: y\r\n\r\nText")
def test_the_content_digest_is_the_one_before(raw: bytes) -> None:
    _, parsed = parse_with_message(raw)
    assert content_digest(raw, parsed) == digest_before(raw, parsed) == digest_before(raw)
    assert content_digest(raw) == digest_before(raw)


CALENDAR_SNIPPETS = st.sampled_from(
    [b"text/calendar", b"TEXT/Calendar", b"application/ics", b"Application/ICS", b".ics",
     b".ICS", b".icsx", b".ics_", b".ics\"", b"BEGIN:VCALENDAR", b"begin:vcalendar", b"text/cal",
     b"\xc4", b" ", b"\r\n", b"name=termin", b"\xe4.ics"]
)  # fmt: skip


@FUZZ
@given(st.lists(CALENDAR_SNIPPETS | st.binary(max_size=8), max_size=8).map(b"".join))
@example(b"termin.ics")
@example(b"termin.icsx")
@example(b"termin.ICS\r\n")
def test_the_calendar_check_is_the_one_before(raw: bytes) -> None:
    assert may_hold_calendar(raw) == (_HINT.search(raw) is not None)


LINE_ENDS = st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"x", b"\n\n", b"\r\r"]), max_size=12)


@FUZZ
@given(LINE_ENDS.map(b"".join) | st.binary(max_size=40))
@example(b"\r\n\r\n")
@example(b"a\n\r\nb\n\n")
@example(b"\n\n\r\n")
def test_the_end_of_the_header_is_found_as_before(raw: bytes) -> None:
    match = ledger._HEADER_END.search(raw)
    assert ledger.header_end(raw) == ((match.start(), match.end()) if match else None)
