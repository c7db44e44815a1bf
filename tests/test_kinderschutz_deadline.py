"""Kinderschutz is not routine (issue 11, item 5).

A Kinderschutz report is taken up on the day it arrives: `Frist Ansprechpartner` is the day of
receipt, or the next working day when it arrives on a non-working day or after the last
Sprechzeit of the day. Default Sprechzeiten (DE-MV): Mo/Di 07:30–12:30, Do 07:30–12:30 and
13:30–18:00; Mi and Fr have none, so there the latest end of the week (18:00) closes the day.
The acknowledgement promises no contact person within 5 working days and no warm handover.
The digest lists open Kinderschutz requests first.

December 2026: Fri 4.12., Mon 7.12., Wed 9.12.; Thu 24.12. is a closed day, 25./26.12. holidays.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from jugendhaus_mail.config import DEFAULT_OFFICE_HOURS, DeadlineSettings
from jugendhaus_mail.rules import computed_columns, digest, duties
from jugendhaus_mail.rules.cases import kinderschutz_due
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

MV = WorkCalendar("DE-MV")
SETTINGS = DeadlineSettings()
HOURS = DEFAULT_OFFICE_HOURS


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=MV.tz)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (local(2026, 12, 4, 19, 30), date(2026, 12, 7)),  # Friday evening -> Monday
        (local(2026, 12, 4, 18, 0), date(2026, 12, 7)),  # Friday, end of the office day
        (local(2026, 12, 4, 9, 0), date(2026, 12, 4)),  # Friday morning -> same day
        (local(2026, 12, 5, 10, 0), date(2026, 12, 7)),  # Saturday -> Monday
        (local(2026, 12, 9, 8, 15), date(2026, 12, 9)),  # Wednesday morning -> same day
        (local(2026, 12, 7, 12, 0), date(2026, 12, 7)),  # Monday during the Sprechzeit
        (local(2026, 12, 7, 12, 45), date(2026, 12, 8)),  # Monday after the last Sprechzeit
        (local(2026, 12, 10, 17, 0), date(2026, 12, 10)),  # Thursday, afternoon Sprechzeit
        (local(2026, 12, 10, 18, 30), date(2026, 12, 11)),  # Thursday after 18:00 -> Friday
        (local(2026, 12, 23, 20, 0), date(2026, 12, 28)),  # 24.12. closed, 25./26. holidays
        (local(2026, 12, 7, 0, 5), date(2026, 12, 7)),  # just after midnight
    ],
)
def test_kinderschutz_is_due_on_the_day_of_receipt(received: datetime, due: date) -> None:
    assert kinderschutz_due(received, MV, HOURS) == due


def test_without_configured_sprechzeiten_every_working_day_counts_until_midnight() -> None:
    assert kinderschutz_due(local(2026, 12, 7, 23, 0), MV, {}) == date(2026, 12, 7)
    assert kinderschutz_due(local(2026, 12, 5, 23, 0), MV, {}) == date(2026, 12, 7)


def ks_row(received: datetime | date, **extra: object) -> Row:
    row: Row = {"nr": "2026-0100", "received": received, "kind": "Kinderschutz", "status": "Neu"}
    row.update(extra)  # type: ignore[arg-type]
    return row


def test_the_rules_compute_the_same_deadline_as_intake_from_the_sheet() -> None:
    # the sheet holds local, naive datetimes (and sometimes only a date)
    friday_evening = ks_row(datetime(2026, 12, 4, 19, 30))
    assert computed_columns(friday_evening, MV, SETTINGS, HOURS)["contact_due"] == date(2026, 12, 7)
    found, _ = duties([friday_evening], [], MV, SETTINGS, date(2026, 12, 4), office_hours=HOURS)
    [duty] = [d for d in found if d.nr == "2026-0100"]
    assert duty.due == date(2026, 12, 7)
    assert computed_columns(ks_row(date(2026, 12, 5)), MV, SETTINGS, HOURS)["contact_due"] == (
        date(2026, 12, 7)
    )
    # an ordinary request keeps its 5 working days
    ordinary = ks_row(datetime(2026, 12, 4, 19, 30), kind="Fallanfrage")
    assert computed_columns(ordinary, MV, SETTINGS, HOURS)["contact_due"] == date(2026, 12, 11)


def test_the_digest_lists_open_kinderschutz_requests_first() -> None:
    rows = [
        ks_row(datetime(2026, 12, 4, 19, 30)),
        ks_row(datetime(2026, 12, 2, 9, 0), nr="2026-0099", contact_person="Lena Kowalski"),
        ks_row(datetime(2026, 12, 1, 9, 0), nr="2026-0098", status="Weitergeleitet"),
        ks_row(datetime(2026, 12, 3, 9, 0), nr="2026-0097", kind="Fallanfrage"),
    ]
    now = local(2026, 12, 7, 7, 0)
    found, _ = duties(rows, [], MV, SETTINGS, now.date(), office_hours=HOURS)
    data = digest(rows, [], [], found, MV, now, None, SETTINGS, office_hours=HOURS)
    assert [(i.nr, i.due, i.responsible, i.days_overdue) for i in data.kinderschutz] == [
        ("2026-0099", date(2026, 12, 2), "Lena Kowalski", 0),  # taken up: not overdue
        ("2026-0100", date(2026, 12, 7), "JSB", 0),
    ]
    later = digest(
        rows, [], [], found, MV, local(2026, 12, 9, 7, 0), None, SETTINGS, office_hours=HOURS
    )
    assert [(i.nr, i.days_overdue) for i in later.kinderschutz] == [
        ("2026-0100", 2),  # nobody named two working days after it was due
        ("2026-0099", 0),
    ]
    assert data.has_news


# --- end to end: intake, acknowledgement, remind and digest agree ----------------------------


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    return site


def text_of(message) -> str:  # type: ignore[no-untyped-def]
    return str(message["Subject"]) + "\n" + message.get_body(("plain",)).get_content()


def html_of(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.get_body(("html",)).get_content())


def acknowledgement(site: Site, nr: str):  # type: ignore[no-untyped-def]
    return next(
        m
        for m in outgoing(site)
        if str(m["Subject"]).startswith(f"[{nr}]") and m["To"] == "anna.schulz@jobcenter-ge.de"
    )


def test_friday_evening_report_is_taken_up_on_monday_without_a_routine_promise(
    site: Site,
) -> None:
    body = "Verdacht auf Kindeswohlgefährdung, bitte dringend melden."
    site.deliver(request_mail("Kinderschutz", body), utc(2026, 12, 4, 18, 40), "k")  # 19:40
    site.run("poll", now="2026-12-04T19:42")
    [row] = site.requests()
    assert row["Frist Ansprechpartner"].value.date() == date(2026, 12, 7)
    ack = acknowledgement(site, "2026-0001")
    text, html = text_of(ack), html_of(ack)
    assert "Montag, 07.12.2026" in text and "07.12.2026" in html
    for routine in ("bis spätestens", "warme Übergabe", "Sprechzeit", "Ansprechpartner bis"):
        assert routine not in text and routine not in html, routine
    assert "110" in text  # acute danger: do not wait for us
    # the rules agree with intake: nothing to correct on Monday, the duty is due that day
    site.run("remind", now="2026-12-07T08:00")
    [row] = site.requests()
    assert row["Frist Ansprechpartner"].value.date() == date(2026, 12, 7)
    assert any("Heute fällig" in str(m["Subject"]) for m in outgoing(site))
    site.run("remind", now="2026-12-08T08:00")
    assert any("Überfällig" in str(m["Subject"]) for m in outgoing(site))


def test_wednesday_morning_report_is_taken_up_the_same_day(site: Site) -> None:
    site.deliver(request_mail("Kinderschutz", "Bitte melden."), utc(2026, 12, 9, 7, 15), "k")
    site.run("poll", now="2026-12-09T08:17")
    [row] = site.requests()
    assert row["Frist Ansprechpartner"].value.date() == date(2026, 12, 9)
    text = text_of(acknowledgement(site, "2026-0001"))
    assert "heute" in text and "bis spätestens" not in text and "warme Übergabe" not in text


def test_an_ordinary_request_still_gets_the_routine_acknowledgement(site: Site) -> None:
    site.deliver(request_mail("Fallanfrage", "Text"), utc(2026, 12, 7, 8, 0), "f")
    site.run("poll", now="2026-12-07T09:01")
    text = text_of(acknowledgement(site, "2026-0001"))
    assert "bis spätestens 14.12.2026" in text and "warme Übergabe" in text


def test_the_digest_shows_open_kinderschutz_requests_in_a_section_at_the_top(
    site: Site,
) -> None:
    site.deliver(request_mail("Fallanfrage", "Text"), utc(2026, 11, 23, 8, 0), "f")
    site.deliver(request_mail("Kinderschutz", "Bitte melden."), utc(2026, 12, 4, 18, 40), "k")
    site.run("poll", now="2026-12-04T19:42")
    site.run("digest", now="2026-12-07T07:00")
    [mail] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    assert "Kinderschutz" in str(mail["Subject"])
    text, html = mail.get_body(("plain",)).get_content(), html_of(mail)
    assert text.index("KINDERSCHUTZ") < text.index("ÜBERFÄLLIG") < text.index("2026-0001")
    section = text[text.index("KINDERSCHUTZ") : text.index("ÜBERFÄLLIG")]
    assert "2026-0002" in section and "2026-0001" not in section
    assert html.index("Kinderschutz") < html.index("Überfällig")
    assert "Bitte melden" not in text + html  # no content, as everywhere in the digest
