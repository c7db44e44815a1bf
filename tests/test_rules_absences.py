"""Absences against the default Sprechzeiten, and the next Sprechzeit for acknowledgements.

Default Sprechzeiten (the agreement): Mon, Tue 07:30-12:30; Thu 07:30-12:30 and 13:30-18:00;
Wed and Fri by appointment only. June 2026: Mon 8.6., Tue 9.6., Wed 10.6., Thu 11.6., Fri 12.6.
Ascension Day is Thu 14.5.2026. Europe/Berlin is UTC+2 in summer.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from jugendhaus_mail.config import DEFAULT_OFFICE_HOURS
from jugendhaus_mail.rules import absence_notices, absence_problems, next_office_hour
from jugendhaus_mail.workbook.model import CellValue, Row
from jugendhaus_mail.workdays import WorkCalendar

MV = WorkCalendar("DE-MV")
TZ = MV.tz
HOURS = DEFAULT_OFFICE_HOURS


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


def entry(
    start: CellValue, end: CellValue, kind: str = "Geplant", name: str = "Anna Albers"
) -> Row:
    return {"name": name, "start": start, "end": end, "reason": "Dienstberatung", "kind": kind}


NOW = at(date(2026, 6, 1), 9)  # Mon 1.6.2026, a week ahead of the entries below


def test_wednesday_has_no_sprechzeit_so_no_notice() -> None:
    rows = [entry(datetime(2026, 6, 10, 7, 0), datetime(2026, 6, 10, 18, 0))]
    assert absence_notices(rows, HOURS, MV, NOW) == []


def test_thursday_afternoon_overlaps_only_the_afternoon_sprechzeit() -> None:
    rows = [entry(datetime(2026, 6, 11, 14, 0), datetime(2026, 6, 11, 16, 0))]
    [notice] = absence_notices(rows, HOURS, MV, NOW)
    thursday = date(2026, 6, 11)
    assert notice.office_hours == ((at(thursday, 13, 30), at(thursday, 18)),)
    assert notice.key == "Anna Albers|2026-06-11T14:00:00|2026-06-11T16:00:00"
    assert notice.short_notice is False
    assert notice.start == at(thursday, 14)
    assert notice.start.utcoffset() == timedelta(hours=2)


def test_lunch_break_and_touching_edges_do_not_overlap() -> None:
    rows = [
        entry(datetime(2026, 6, 11, 12, 30), datetime(2026, 6, 11, 13, 30)),
        entry(datetime(2026, 6, 8, 12, 30), datetime(2026, 6, 8, 17, 0)),
    ]
    assert absence_notices(rows, HOURS, MV, NOW) == []


def test_no_sprechzeit_on_a_holiday_thursday() -> None:
    # Ascension Day Thu 14.5.2026: the office is closed, nobody is missed.
    rows = [entry(date(2026, 5, 14), date(2026, 5, 14))]
    assert absence_notices(rows, HOURS, MV, at(date(2026, 5, 4), 9)) == []


def test_whole_days_cover_every_sprechzeit_of_the_week() -> None:
    # "Von 08.06. Bis 12.06." typed as dates: Mon, Tue, Thu morning and Thu afternoon.
    [notice] = absence_notices([entry(date(2026, 6, 8), date(2026, 6, 12))], HOURS, MV, NOW)
    assert [start for start, _ in notice.office_hours] == [
        at(date(2026, 6, 8), 7, 30),
        at(date(2026, 6, 9), 7, 30),
        at(date(2026, 6, 11), 7, 30),
        at(date(2026, 6, 11), 13, 30),
    ]
    assert notice.end == at(date(2026, 6, 13), 0)
    # The same period typed as midnight datetimes is the same absence (same key).
    [same] = absence_notices([entry(datetime(2026, 6, 8), datetime(2026, 6, 12))], HOURS, MV, NOW)
    assert same.key == notice.key == "Anna Albers|2026-06-08T00:00:00|2026-06-13T00:00:00"


def test_short_notice_by_kind_or_by_an_early_start() -> None:
    # Now Fri 5.6.2026 10:00. The next working day is Mon 8.6.
    now = at(date(2026, 6, 5), 10)
    monday = entry(datetime(2026, 6, 8, 7, 30), datetime(2026, 6, 8, 12, 30), "Geplant")
    tuesday = entry(datetime(2026, 6, 9, 7, 30), datetime(2026, 6, 9, 12, 30), "Geplant", "Ben")
    sick = entry(datetime(2026, 6, 11, 7, 30), datetime(2026, 6, 11, 18), "kurzfristig", "Cem")
    found = {
        n.name: n.short_notice for n in absence_notices([monday, tuesday, sick], HOURS, MV, now)
    }
    assert found == {"Anna Albers": True, "Ben": False, "Cem": True}


def test_ended_absences_and_past_sprechzeiten_are_left_out() -> None:
    # Now Thu 11.6.2026 13:00. One absence ended this morning; one runs today 7:00-17:00:
    # only the afternoon Sprechzeit still lies ahead.
    now = at(date(2026, 6, 11), 13)
    over = entry(datetime(2026, 6, 11, 7, 0), datetime(2026, 6, 11, 12, 30))
    running = entry(datetime(2026, 6, 11, 7, 0), datetime(2026, 6, 11, 17, 0), name="Ben")
    [notice] = absence_notices([over, running], HOURS, MV, now)
    assert notice.name == "Ben"
    assert notice.office_hours == ((at(date(2026, 6, 11), 13, 30), at(date(2026, 6, 11), 18)),)
    assert notice.short_notice is True  # it has already started


def test_unreadable_entries_are_reported_not_fatal() -> None:
    rows: list[Row] = [
        entry(None, date(2026, 6, 12)),
        entry("ab Montag", date(2026, 6, 12)),
        entry(date(2026, 6, 12), date(2026, 6, 8)),
        entry(date(2026, 6, 8), "Ende offen"),
        entry(date(2026, 6, 8), date(2026, 6, 8), name=""),
        entry(date(9999, 12, 31), date(9999, 12, 31)),
        entry(date(2026, 6, 8), None),  # no end: the whole start day
    ]
    found = absence_notices(rows, HOURS, MV, NOW)
    assert [n.end for n in found] == [at(date(2026, 6, 9), 0)]
    problems = absence_problems(rows, MV)
    assert [p.column for p in problems] == ["start", "start", "end", "end", "name", "end"]
    assert all(p.message_de.startswith("Abwesenheiten, ") for p in problems)
    assert all("Montag" not in p.message_de for p in problems)


# --- the next Sprechzeit ---------------------------------------------------------------------


def test_next_office_hour() -> None:
    monday, tuesday, thursday = date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 11)
    cases = [
        (at(monday, 6), (at(monday, 7, 30), at(monday, 12, 30))),
        (at(monday, 13), (at(tuesday, 7, 30), at(tuesday, 12, 30))),
        # Tuesday afternoon: Wednesday has none, so Thursday morning.
        (at(tuesday, 13), (at(thursday, 7, 30), at(thursday, 12, 30))),
        # During a Sprechzeit it is the current one; in the lunch break the afternoon one.
        (at(thursday, 10), (at(thursday, 7, 30), at(thursday, 12, 30))),
        (at(thursday, 12, 45), (at(thursday, 13, 30), at(thursday, 18))),
    ]
    for now, expected in cases:
        assert next_office_hour(now, MV, HOURS) == expected


def test_next_office_hour_skips_holidays() -> None:
    # Wed 13.5.2026: Thu 14.5. is Ascension Day, so Mon 18.5.
    got = next_office_hour(at(date(2026, 5, 13), 13), MV, HOURS)
    assert got == (at(date(2026, 5, 18), 7, 30), at(date(2026, 5, 18), 12, 30))
    # Thu 2.4.2026 evening: Good Friday, weekend, Easter Monday, so Tue 7.4.
    got = next_office_hour(at(date(2026, 4, 2), 19), MV, HOURS)
    assert got is not None and got[0] == at(date(2026, 4, 7), 7, 30)


def test_next_office_hour_across_the_change_to_summer_time() -> None:
    # Sat 28.3.2026 in winter time (UTC+1); Mon 30.3. 07:30 is summer time (UTC+2).
    now = datetime(2026, 3, 28, 12, 0, tzinfo=TZ)
    got = next_office_hour(now, MV, HOURS)
    assert got is not None
    assert got[0].replace(tzinfo=None) == datetime(2026, 3, 30, 7, 30)
    assert got[0].utcoffset() == timedelta(hours=2)


def test_next_office_hour_without_sprechzeiten() -> None:
    assert next_office_hour(at(date(2026, 6, 8), 9), MV, {}) is None
