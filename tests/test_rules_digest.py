"""The daily digest on Wed 8.4.2026, the day after Easter Monday (Good Friday 3.4., Easter
Monday 6.4.2026). Working days around it: Mon 30.3., Tue 31.3., Wed 1.4., Thu 2.4., Tue 7.4.,
Wed 8.4., Thu 9.4., Fri 10.4., Mon 13.4.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import Digest, DigestItem, digest, duties, is_digest_day
from jugendhaus_mail.workbook.model import CellValue, Row
from jugendhaus_mail.workdays import WorkCalendar

MV = WorkCalendar("DE-MV")
SETTINGS = DeadlineSettings()
NOW = datetime(2026, 4, 8, 7, 0, tzinfo=MV.tz)
LAST_DIGEST = datetime(2026, 4, 7, 7, 0, tzinfo=MV.tz)
STAFF: list[Row] = [
    {"name": "Anna Albers", "role": "JSB", "email": "anna@rostock.de"},
    {"name": "Ines Igel", "role": "IFK SGB II", "email": "ines@jobcenter-ge.de"},
]


def row(nr: str, received: datetime, **values: CellValue) -> Row:
    out: Row = {
        "nr": nr,
        "received": received,
        "kind": "Fallanfrage",
        "status": "Neu",
        "client_name": "Max Mustermann",
        "subject": "Fallanfrage Max Mustermann",
    }
    out.update(values)
    return out


REQUESTS = [
    # Received Mon 30.3.: 5th working day is Wed 8.4. (today): due soon, no contact person.
    row("2026-0001", datetime(2026, 3, 30, 9, 0)),
    # Received Mon 23.3.: due Mon 30.3.; overdue by 31.3., 1.4., 2.4., 7.4., 8.4. = 5 days.
    row("2026-0002", datetime(2026, 3, 23, 9, 0)),
    # Received Wed 25.3.: due Wed 1.4.; overdue by 2.4., 7.4., 8.4. = 3 working days.
    row("2026-0003", datetime(2026, 3, 25, 9, 0)),
    # Hausbesuch received Tue 7.4. 09:00, after the last digest: new. Home visit due in 10
    # working days (Tue 21.4.), contact person named.
    row("2026-0004", datetime(2026, 4, 7, 9, 0), kind="Hausbesuch", contact_person="Anna Albers"),
    # Received on Good Friday: due Mon 13.4., no contact person yet, not new any more.
    row("2026-0005", datetime(2026, 4, 3, 10, 0)),
    # Joint case, consultation Thu 12.3. + 4 weeks = Thu 9.4.: due within 2 working days.
    row(
        "2026-0006",
        datetime(2026, 3, 2, 9, 0),
        contact_person="Anna Albers",
        sgb2_contact="Ines Igel",
        consent="Ja",
        agreed_sgb2="Ja",
        agreed_sgb8="Ja",
        joint_consultation=date(2026, 3, 12),
    ),
    # Finished: its overdue contact deadline does not count.
    row("2026-0007", datetime(2026, 3, 2, 9, 0), status="Abgeschlossen"),
    # Received Tue 7.4. 06:00: before the last digest (7:00), so not new.
    row("2026-0008", datetime(2026, 4, 7, 6, 0), contact_person="Anna Albers"),
]
ABSENCES: list[Row] = [
    {"name": "Anna Albers", "start": date(2026, 4, 8), "end": date(2026, 4, 8), "kind": "Geplant"},
    {"name": "Ben Berg", "start": date(2026, 4, 9), "end": date(2026, 4, 9), "kind": "Geplant"},
    {"name": "Cem Cakir", "start": "morgen", "end": None, "kind": "Kurzfristig"},
]


def build(since: datetime | None = LAST_DIGEST) -> Digest:
    found, problems = duties(REQUESTS, STAFF, MV, SETTINGS, NOW.date())
    assert problems == []
    return digest(REQUESTS, STAFF, ABSENCES, found, MV, NOW, since, SETTINGS)


def summary(items: tuple[DigestItem, ...]) -> list[tuple[str | None, str, int]]:
    return [(i.nr, i.label, i.days_overdue) for i in items]


def test_overdue_most_overdue_first() -> None:
    got = build()
    assert summary(got.overdue) == [
        ("2026-0002", "Ansprechpartner benennen", 5),
        ("2026-0003", "Ansprechpartner benennen", 3),
    ]
    assert got.overdue[0].due == date(2026, 3, 30)
    assert got.overdue[0].responsible == "JSB"


def test_due_within_two_working_days() -> None:
    got = build()
    assert summary(got.due_soon) == [
        ("2026-0001", "Ansprechpartner benennen", 0),
        ("2026-0006", "Rückmeldung im gemeinsamen Fall", 0),
    ]
    assert got.due_soon[1].due == date(2026, 4, 9)
    assert got.due_soon[1].responsible == "Anna Albers / Ines Igel"


def test_new_since_the_last_digest_or_since_the_previous_working_day() -> None:
    got = build()
    assert [(i.nr, i.kind, i.label, i.due) for i in got.new] == [
        ("2026-0004", "Hausbesuch", "Neue Anfrage", date(2026, 4, 14)),
    ]
    # No previous digest: everything since the start of the previous working day, Tue 7.4.
    first = build(since=None)
    # Both are due Tue 14.4.; equal due dates are ordered by Nr.
    assert [i.nr for i in first.new] == ["2026-0004", "2026-0008"]


def test_without_contact_person_sorted_by_urgency() -> None:
    got = build()
    assert summary(got.without_contact) == [
        ("2026-0002", "Ansprechpartner benennen", 5),
        ("2026-0003", "Ansprechpartner benennen", 3),
        ("2026-0001", "Ansprechpartner benennen", 0),
        ("2026-0005", "Ansprechpartner benennen", 0),
    ]


def test_absences_today_and_next_qualitaetsdialog() -> None:
    got = build()
    assert [(a.name, a.kind) for a in got.absences_today] == [("Anna Albers", "Geplant")]
    # March's dialog (Tue 31.3.) has passed; September's is organised by SGB VIII.
    assert got.next_qualitaetsdialog == (date(2026, 9, 30), "SGB VIII")
    assert got.day == date(2026, 4, 8)
    assert got.has_news


def test_items_carry_no_client_data() -> None:
    got = build()
    assert [f.name for f in fields(DigestItem)] == [
        "nr",
        "kind",
        "label",
        "due",
        "responsible",
        "days_overdue",
    ]
    assert "Mustermann" not in repr(got)


def test_digest_days_are_working_days_only() -> None:
    assert is_digest_day(date(2026, 4, 8), MV)
    assert not is_digest_day(date(2026, 4, 3), MV)  # Good Friday
    assert not is_digest_day(date(2026, 4, 4), MV)  # Saturday
    assert not is_digest_day(date(2026, 12, 24), MV)  # closed day
    assert not is_digest_day(date(2027, 3, 8), MV)  # Frauentag
