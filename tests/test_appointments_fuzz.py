"""Hostile calendar data and `Termin:` lines: every input gets a result, never an exception."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake.appointments import (
    MAX_CALENDAR_BYTES,
    CalendarParts,
    calendar_parts,
    read_mail,
    set_aside_reason,
)

ZONE = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 3)
LINES = st.sampled_from([
    "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT", "METHOD:CANCEL",
    "DTSTART:20261109T090000Z", "DTSTART;VALUE=DATE:20261109", "DTSTART;TZID=Mars/Olympus:2026",
    "DTSTART:99991231T250000", "RRULE:FREQ=DAILY", "UID:x", "STATUS:CANCELLED", "BEGIN:VTIMEZONE",
    "TZID:W. Europe Standard Time", "END:VTIMEZONE", "SEQUENCE:-1", "DTSTART:", ":", "",
])  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(LINES, st.text(max_size=40)), max_size=30))
def test_any_calendar_text_gets_a_reading_or_a_reason(lines: list[str]) -> None:
    text = "\r\n".join(lines).encode("utf-8", "surrogatepass")
    reading = read_mail(CalendarParts((text,)), "", ZONE, TODAY)
    assert reading is not None and reading.invitation
    assert reading.appointments or reading.problem
    for item in reading.appointments:
        assert item.start.tzinfo is None and item.uid
    set_aside_reason(reading, None, None)  # an answer for every combination
    set_aside_reason(reading, "2026-0001", "SGB II")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_body_text_is_read_without_error(body: str) -> None:
    reading = read_mail(CalendarParts(), body, ZONE, TODAY)
    if reading is not None:
        assert not reading.invitation and reading.appointments


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_mail_bytes_give_calendar_parts(raw: bytes) -> None:
    hinted = b"Content-Type: text/calendar\r\n\r\n" + raw
    for data in (raw, hinted, b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" + raw):
        parts = calendar_parts(data)
        assert all(len(t) <= MAX_CALENDAR_BYTES for t in parts.texts)


def test_a_line_in_the_body_with_odd_spacing_and_an_impossible_date() -> None:
    body = (
        "> Termin:  12.11.2026, 10.15 Uhr\nTermin abgesagt: 10.11.2026\nTermin: 31.02.2026 10:00\n"
    )
    reading = read_mail(CalendarParts(), body, ZONE, TODAY)
    assert reading is not None
    assert [(a.start.isoformat(), a.cancel) for a in reading.appointments] == [
        ("2026-11-12T10:15:00", False),
        ("2026-11-10T00:00:00", True),
    ]
