"""Dates staff must keep come with an .ics that a standard parser (icalendar) reads with the
right local time in Europe/Berlin, one UID per case and duty, SEQUENCE growing.

Hausbesuch request received Mon 2.11.2026: due 10 working days later, Mon 16.11.2026;
reminder 2 working days before (Thu 12.11.), due day notice on 16.11.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import openpyxl

from tests.site import STAFF, make_site, outgoing, request_mail, set_staff, utc

BERLIN = ZoneInfo("Europe/Berlin")
BODY = "Name: Jonas Müller\nAnschrift: Lange Straße 3, 18055 Rostock\n"


def calendars(message) -> list[icalendar.Calendar]:  # type: ignore[no-untyped-def]
    found = []
    for part in message.iter_attachments():
        if part.get_filename("").endswith(".ics"):
            assert part.get_content_type() == "text/calendar"
            found.append(icalendar.Calendar.from_ical(part.get_payload(decode=True)))
    return found


def test_home_visit_reminders_and_the_announcement_carry_calendar_entries(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    site.deliver(request_mail("Hausbesuch erbeten", BODY), utc(2026, 11, 2, 8), "h1")
    site.run("poll", now="2026-11-02T09:30")
    site.run("remind", now="2026-11-12T08:00")
    site.run("remind", now="2026-11-16T08:00")
    mails = [m for m in outgoing(site) if "Hausbesuch durchführen" in str(m["Subject"])]
    assert len(mails) == 2
    events = []
    for mail in mails:
        [calendar] = calendars(mail)
        assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"
        [event] = calendar.walk("VEVENT")
        events.append(event)
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None
        assert start.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 11, 16, 8, 0)
        assert "2026-0001" in str(event["SUMMARY"])
    assert events[0]["UID"] == events[1]["UID"] == "2026-0001-home_visit@jugendhaus-mail"
    assert int(events[1]["SEQUENCE"]) > int(events[0]["SEQUENCE"])

    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(2, headers.index("Hausbesuch geplant am") + 1, datetime(2026, 11, 13, 10, 30))
    sheet.cell(2, headers.index("Ansprechpartner JSB") + 1, "Lena Kowalski")
    sheet.cell(2, headers.index("Hausbesuch durch") + 1, "Lena Kowalski")
    workbook.save(site.workbook)
    site.run("remind", now="2026-11-12T09:00")
    [cover] = [m for m in outgoing(site) if "Ankündigung Hausbesuch" in str(m["Subject"])]
    [calendar] = calendars(cover)
    [event] = calendar.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 11, 13, 10, 30)
    assert start.utcoffset().total_seconds() == 3600  # CET in November


def test_the_qualitaetsdialog_reminder_has_one_entry_per_half_year() -> None:
    from datetime import date

    from jugendhaus_mail.jobs.appointments import duty_calendar
    from jugendhaus_mail.rules.model import Duty

    duty = Duty(
        "qualitaetsdialog", None, date(2026, 3, 31), "Qualitätsdialog organisieren", "SGB II"
    )
    [(name, data, mime)] = duty_calendar(duty, date(2026, 3, 3), BERLIN)
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert (name, mime) == ("2026-1-qualitaetsdialog.ics", "text/calendar")
    assert event["UID"] == "2026-1-qualitaetsdialog@jugendhaus-mail"
    start = event.decoded("DTSTART")
    assert start.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 31, 8, 0)
    assert start.utcoffset().total_seconds() == 7200  # summer time from 29.3.2026
    assert (
        duty_calendar(
            Duty("feedback", "2026-0001", date(2026, 3, 31), "x", "beide"),
            date(2026, 3, 3),
            BERLIN,
        )
        == ()
    )


def test_the_entry_is_in_the_offices_own_time_zone() -> None:
    """An office configured with another zone gets its due date at 08:00 of that zone."""
    from datetime import date

    from jugendhaus_mail.jobs.appointments import duty_calendar
    from jugendhaus_mail.rules.model import Duty

    lisbon = ZoneInfo("Europe/Lisbon")
    duty = Duty("home_visit", "2026-0007", date(2026, 3, 12), "Hausbesuch durchführen", "SGB VIII")
    [(_name, data, _mime)] = duty_calendar(duty, date(2026, 3, 3), lisbon)
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start.astimezone(lisbon).replace(tzinfo=None) == datetime(2026, 3, 12, 8, 0)
    assert start.utcoffset().total_seconds() == 0  # Lisbon in winter, not Berlin's +1
