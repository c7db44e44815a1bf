"""The working-day calendar against dates worked out by hand from the law and the calendar.

Facts used below (checked against a printed calendar, not against the code under test):
- Weekdays: 1.1.2025 is a Wednesday, 1.1.2026 a Thursday, 1.1.2027 a Friday.
- Easter Sunday 2025 = 20 April: Good Friday 18.4., Easter Monday 21.4., Ascension (Easter + 39)
  29.5., Whit Monday (Easter + 50) 9.6., Corpus Christi (Easter + 60) 19.6.
- Easter Sunday 2026 = 5 April: Good Friday 3.4., Easter Monday 6.4., Ascension 14.5.,
  Whit Monday 25.5., Corpus Christi 4.6.
- Easter Sunday 2027 = 28 March: Good Friday 26.3., Easter Monday 29.3., Ascension 6.5.,
  Whit Monday 17.5., Corpus Christi 27.5.
- Frauentag 8 March: public holiday in Berlin since 2019 and in Mecklenburg-Vorpommern since
  2023, not in Bavaria. 8.3.2025 is a Saturday, 8.3.2026 a Sunday, 8.3.2027 a Monday.
- Reformationstag 31 October: holiday in MV (and the other eastern states), not in Berlin or
  Bavaria. 31.10.2025 is a Friday.
- Heilige Drei Könige 6 January and Fronleichnam: holidays in Bavaria, not in MV or Berlin.
  6.1.2027 is a Wednesday.
- Berlin had a one-off holiday on Thursday 8.5.2025 (80th anniversary of the end of WWII).
- Europe/Berlin is UTC+1 in winter and UTC+2 from 29.3.2026 to 25.10.2026.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.config import OfficeSettings
from jugendhaus_mail.errors import ConfigError
from jugendhaus_mail.workdays import WorkCalendar

MV = WorkCalendar("DE-MV")
BE = WorkCalendar("DE-BE")
BY = WorkCalendar("DE-BY")
CALENDARS = {"DE-MV": MV, "DE-BE": BE, "DE-BY": BY}


def received(text: str) -> datetime:
    """An aware receipt time, e.g. "2026-03-09T23:30:00+00:00"."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment


# --- which days are working days ------------------------------------------------------------

# (region, day, working?, reason)
DAY_TABLE = [
    # Frauentag 2027 falls on a Monday: off in MV and BE, a normal Monday in BY.
    ("DE-MV", date(2027, 3, 8), False, "Frauentag"),
    ("DE-BE", date(2027, 3, 8), False, "Frauentag"),
    ("DE-BY", date(2027, 3, 8), True, None),
    # 8.3.2026 is a Sunday: the holiday name wins in MV, in BY it is just a Sunday.
    ("DE-MV", date(2026, 3, 8), False, "Frauentag"),
    ("DE-BY", date(2026, 3, 8), False, "Sonntag"),
    # Easter 2026 everywhere.
    ("DE-MV", date(2026, 4, 3), False, "Karfreitag"),
    ("DE-BE", date(2026, 4, 6), False, "Ostermontag"),
    ("DE-BY", date(2026, 4, 6), False, "Ostermontag"),
    ("DE-MV", date(2026, 4, 7), True, None),  # the Tuesday after Easter
    # Ascension and Whit Monday 2026.
    ("DE-MV", date(2026, 5, 14), False, "Christi Himmelfahrt"),
    ("DE-BE", date(2026, 5, 25), False, "Pfingstmontag"),
    # Reformationstag 2025 (Friday): off in MV only.
    ("DE-MV", date(2025, 10, 31), False, "Reformationstag"),
    ("DE-BE", date(2025, 10, 31), True, None),
    ("DE-BY", date(2025, 10, 31), True, None),
    # Bavarian holidays that MV does not have.
    ("DE-BY", date(2027, 1, 6), False, "Heilige Drei Könige"),
    ("DE-MV", date(2027, 1, 6), True, None),
    ("DE-BY", date(2026, 6, 4), False, "Fronleichnam"),
    ("DE-BE", date(2026, 6, 4), True, None),
    # Berlin's one-off holiday 2025.
    ("DE-MV", date(2025, 5, 8), True, None),
    # Christmas 2026: 24. (Thu) closed day, 25./26. holidays, 31. (Thu) closed day.
    ("DE-MV", date(2026, 12, 23), True, None),
    ("DE-MV", date(2026, 12, 24), False, "Schließtag"),
    ("DE-MV", date(2026, 12, 25), False, "Erster Weihnachtstag"),
    ("DE-BY", date(2026, 12, 26), False, "Zweiter Weihnachtstag"),
    ("DE-BE", date(2026, 12, 31), False, "Schließtag"),
    ("DE-MV", date(2027, 1, 1), False, "Neujahr"),
    # A plain weekend and a plain weekday.
    ("DE-MV", date(2026, 3, 7), False, "Samstag"),
    ("DE-MV", date(2026, 3, 15), False, "Sonntag"),
    ("DE-MV", date(2026, 3, 10), True, None),
    # 24.12.2028 is a Sunday: the weekday is the more natural reason.
    ("DE-MV", date(2028, 12, 24), False, "Sonntag"),
    ("DE-MV", date(2025, 10, 3), False, "Tag der Deutschen Einheit"),
]


@pytest.mark.parametrize(("region", "day", "working", "reason"), DAY_TABLE)
def test_working_days_and_reasons(
    region: str, day: date, working: bool, reason: str | None
) -> None:
    calendar = CALENDARS[region]
    assert calendar.is_working_day(day) is working
    assert calendar.non_working_reason(day) == reason


def test_berlin_one_off_holiday_2025() -> None:
    assert not BE.is_working_day(date(2025, 5, 8))
    assert "Befreiung" in (BE.non_working_reason(date(2025, 5, 8)) or "")


# --- deadlines from receipt (§ 187 BGB) -----------------------------------------------------

# (region, receipt, n, due)
RECEIPT_TABLE = [
    # Tue 22.12.2026, 5 working days: 23.12. (1); 24. closed, 25. holiday, 26./27. weekend;
    # 28. (2), 29. (3), 30. (4); 31. closed, 1.1. holiday, 2./3.1. weekend; Mon 4.1.2027 (5).
    ("DE-MV", "2026-12-22T09:00:00+01:00", 5, date(2027, 1, 4)),
    ("DE-BY", "2026-12-22T09:00:00+01:00", 5, date(2027, 1, 4)),
    # Just after midnight in Berlin, still 9 March in UTC: counts from Tue 10.3.2026.
    # 11. (1), 12. (2), 13. (3), 16. (4), 17. (5). From the 9th it would have been the 16th.
    ("DE-MV", "2026-03-09T23:30:00+00:00", 5, date(2026, 3, 17)),
    ("DE-MV", "2026-03-09T22:59:00+00:00", 5, date(2026, 3, 16)),  # 23:59 on the 9th
    # Summer time (UTC+2): 14.7.2026 22:15 UTC is Wed 15.7. 00:15 in Berlin.
    # 16. (1), 17. (2), 20. (3), 21. (4), 22. (5).
    ("DE-MV", "2026-07-14T22:15:00+00:00", 5, date(2026, 7, 22)),
    ("DE-MV", "2026-07-14T21:59:00+00:00", 5, date(2026, 7, 21)),  # 23:59 on the 14th
    # Received on Saturday 23.5.2026: 25. is Whit Monday; 26. (1) ... 29. (4), Mon 1.6. (5).
    ("DE-MV", "2026-05-23T10:00:00+02:00", 5, date(2026, 6, 1)),
    # Received on Good Friday 3.4.2026: weekend, Easter Monday; 7. (1), 8., 9., 10., 13.4. (5).
    ("DE-MV", "2026-04-03T09:00:00+02:00", 5, date(2026, 4, 13)),
    # Wed 13.5.2026, the day before Ascension: 15. (1), 18., 19., 20., 21.5. (5);
    # 10 days: 22. (6), 25. Whit Monday, 26. (7), 27. (8), 28. (9), 29.5. (10).
    ("DE-MV", "2026-05-13T11:00:00+02:00", 5, date(2026, 5, 21)),
    ("DE-MV", "2026-05-13T11:00:00+02:00", 10, date(2026, 5, 29)),
    # Fri 5.3.2027, 1 day: Monday 8.3. is Frauentag in MV and BE, not in BY.
    ("DE-MV", "2027-03-05T12:00:00+01:00", 1, date(2027, 3, 9)),
    ("DE-BE", "2027-03-05T12:00:00+01:00", 1, date(2027, 3, 9)),
    ("DE-BY", "2027-03-05T12:00:00+01:00", 1, date(2027, 3, 8)),
    # Thu 30.10.2025, 1 day: Reformationstag Friday 31.10. only in MV.
    ("DE-MV", "2025-10-30T12:00:00+01:00", 1, date(2025, 11, 3)),
    ("DE-BE", "2025-10-30T12:00:00+01:00", 1, date(2025, 10, 31)),
    # Tue 5.1.2027, 1 day: Heilige Drei Könige Wednesday 6.1. only in BY.
    ("DE-BY", "2027-01-05T12:00:00+01:00", 1, date(2027, 1, 7)),
    ("DE-MV", "2027-01-05T12:00:00+01:00", 1, date(2027, 1, 6)),
    # Wed 26.5.2027, 1 day: Fronleichnam Thursday 27.5. only in BY.
    ("DE-BY", "2027-05-26T12:00:00+02:00", 1, date(2027, 5, 28)),
    ("DE-BE", "2027-05-26T12:00:00+02:00", 1, date(2027, 5, 27)),
    # Wed 7.5.2025, 1 day: Berlin's one-off holiday on Thursday 8.5.
    ("DE-BE", "2025-05-07T12:00:00+02:00", 1, date(2025, 5, 9)),
    ("DE-MV", "2025-05-07T12:00:00+02:00", 1, date(2025, 5, 8)),
    # Zero days: the local day of receipt itself.
    ("DE-MV", "2026-03-09T23:30:00+00:00", 0, date(2026, 3, 10)),
]


@pytest.mark.parametrize(("region", "receipt", "n", "due"), RECEIPT_TABLE)
def test_due_after_receipt(region: str, receipt: str, n: int, due: date) -> None:
    assert CALENDARS[region].due_after_receipt(received(receipt), n) == due


def test_local_date_uses_office_timezone() -> None:
    assert MV.local_date(received("2026-03-09T23:30:00+00:00")) == date(2026, 3, 10)
    assert MV.local_date(received("2026-07-14T22:15:00+00:00")) == date(2026, 7, 15)
    assert MV.local_date(received("2026-07-14T21:59:00+00:00")) == date(2026, 7, 14)
    # A sender in New York at 19:00 on the 9th is already the 10th in Berlin.
    assert MV.local_date(received("2026-03-09T19:00:00-05:00")) == date(2026, 3, 10)
    assert str(MV.tz) == "Europe/Berlin"


def test_naive_receipt_is_refused() -> None:
    with pytest.raises(ValueError, match="keine Zeitzone"):
        MV.local_date(datetime(2026, 3, 10, 9, 0))
    with pytest.raises(ValueError, match="keine Zeitzone"):
        MV.due_after_receipt(datetime(2026, 3, 10, 9, 0), 5)


def test_negative_deadline_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        MV.due_after_receipt(received("2026-03-10T09:00:00+01:00"), -1)
    with pytest.raises(ValueError, match="-2"):
        MV.due_after_weeks(date(2026, 3, 10), -2)


# --- stepping and counting ------------------------------------------------------------------


def test_add_working_days_backwards() -> None:
    # Mirror of the Christmas example: 5 working days before Mon 4.1.2027 is Tue 22.12.2026.
    assert MV.add_working_days(date(2027, 1, 4), -5) == date(2026, 12, 22)
    # Before Tue 7.4.2026: Easter Monday, the weekend and Good Friday are skipped -> Thu 2.4.
    assert MV.add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    # From a Sunday backwards: Fri 13.3.2026 is the first working day before Sun 15.3.
    assert MV.add_working_days(date(2026, 3, 15), -1) == date(2026, 3, 13)
    assert MV.add_working_days(date(2026, 3, 15), 0) == date(2026, 3, 15)


def test_working_days_between() -> None:
    # 22.12.2026 -> 4.1.2027: 23., 28., 29., 30.12. and 4.1. count.
    assert MV.working_days_between(date(2026, 12, 22), date(2027, 1, 4)) == 5
    assert MV.working_days_between(date(2027, 1, 4), date(2026, 12, 22)) == -5
    # Mon 9.3. -> Mon 16.3.2026: 10., 11., 12., 13., 16.
    assert MV.working_days_between(date(2026, 3, 9), date(2026, 3, 16)) == 5
    assert MV.working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0
    # A whole year 2026 in MV: 261 weekdays (2026 starts on a Thursday: 52 full weeks plus
    # Thu 1.1.) minus the holidays on weekdays (Neujahr, Karfreitag, Ostermontag, 1. Mai,
    # Himmelfahrt, Pfingstmontag, 25.12. = 7; Frauentag, 3.10., Reformationstag and 26.12.
    # fall on weekends) minus 24.12. and 31.12. (both Thursdays) = 252.
    assert MV.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 252


def test_next_and_previous_working_day() -> None:
    assert MV.next_working_day(date(2026, 12, 24)) == date(2026, 12, 28)
    assert MV.next_working_day(date(2026, 12, 23)) == date(2026, 12, 23)
    assert MV.next_working_day(date(2026, 12, 23), include_today=False) == date(2026, 12, 28)
    assert MV.previous_working_day(date(2027, 1, 3)) == date(2026, 12, 30)
    assert MV.previous_working_day(date(2026, 12, 30), include_today=False) == date(2026, 12, 29)
    assert MV.previous_working_day(date(2026, 12, 30)) == date(2026, 12, 30)


# --- week-based deadlines -------------------------------------------------------------------

# (region, start, weeks, due)
WEEKS_TABLE = [
    # Mon 2.3.2026 + 4 weeks = Mon 30.3., a working day: stays.
    ("DE-MV", date(2026, 3, 2), 4, date(2026, 3, 30)),
    # Fri 6.3.2026 + 4 weeks = Good Friday 3.4. -> Thu 2.4.
    ("DE-MV", date(2026, 3, 6), 4, date(2026, 4, 2)),
    # Sat 14.3.2026 + 4 weeks = Sat 11.4. -> Fri 10.4.
    ("DE-MV", date(2026, 3, 14), 4, date(2026, 4, 10)),
    # Mon 27.4.2026 + 4 weeks = Whit Monday 25.5. -> back over the weekend to Fri 22.5.
    ("DE-MV", date(2026, 4, 27), 4, date(2026, 5, 22)),
    # Fri 4.12.2026 + 4 weeks = Neujahr 1.1.2027 -> 31.12. closed -> Wed 30.12.2026.
    ("DE-MV", date(2026, 12, 4), 4, date(2026, 12, 30)),
    # Fri 4.12.2026 + 3 weeks = 25.12. -> 24.12. closed -> Wed 23.12.
    ("DE-MV", date(2026, 12, 4), 3, date(2026, 12, 23)),
    # Mon 8.2.2027 + 4 weeks = Frauentag Mon 8.3.2027: back to Fri 5.3. in MV, stays in BY.
    ("DE-MV", date(2027, 2, 8), 4, date(2027, 3, 5)),
    ("DE-BY", date(2027, 2, 8), 4, date(2027, 3, 8)),
    # Fri 3.10.2025 + 4 weeks = Reformationstag Fri 31.10.2025: Thu 30.10. in MV, stays in BE.
    ("DE-MV", date(2025, 10, 3), 4, date(2025, 10, 30)),
    ("DE-BE", date(2025, 10, 3), 4, date(2025, 10, 31)),
    # Six weeks from Mon 20.4.2026 = Mon 1.6.2026.
    ("DE-MV", date(2026, 4, 20), 6, date(2026, 6, 1)),
]


@pytest.mark.parametrize(("region", "start", "weeks", "due"), WEEKS_TABLE)
def test_due_after_weeks(region: str, start: date, weeks: int, due: date) -> None:
    assert CALENDARS[region].due_after_weeks(start, weeks) == due


# --- closed days ----------------------------------------------------------------------------


def test_custom_closed_days() -> None:
    # Closed on 2.1. instead of 24./31.12.: Wed 31.12.2025 becomes a working day, Fri 2.1.2026
    # does not.
    calendar = WorkCalendar("DE-MV", closed_days=((2, 1),))
    assert calendar.is_working_day(date(2025, 12, 31))
    assert calendar.non_working_reason(date(2026, 1, 2)) == "Schließtag"
    # From Tue 30.12.2025: 31.12. (1); 1.1. Neujahr, 2.1. closed, weekend; Mon 5.1.2026 (2).
    assert calendar.add_working_days(date(2025, 12, 30), 1) == date(2025, 12, 31)
    assert calendar.add_working_days(date(2025, 12, 30), 2) == date(2026, 1, 5)
    # With the defaults, 1 day from 30.12.2025 skips 31.12. and 1.1. and lands on Fri 2.1.2026.
    assert MV.add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 2)


def test_no_closed_days() -> None:
    calendar = WorkCalendar("DE-MV", closed_days=())
    assert calendar.is_working_day(date(2026, 12, 24))
    assert calendar.non_working_reason(date(2026, 12, 31)) is None
    # Tue 22.12.2026 + 5: 23. (1), 24. (2), 28. (3), 29. (4), 30.12. (5).
    assert calendar.due_after_receipt(received("2026-12-22T09:00:00+01:00"), 5) == date(
        2026, 12, 30
    )


def test_leap_day_as_closed_day_only_in_leap_years() -> None:
    calendar = WorkCalendar("DE-MV", closed_days=((29, 2),))
    assert calendar.non_working_reason(date(2028, 2, 29)) == "Schließtag"  # a Tuesday
    assert calendar.is_working_day(date(2027, 3, 1))  # 2027 has no 29.2.; Monday 1.3. works


def test_from_settings_uses_the_office_settings() -> None:
    office = OfficeSettings(holiday_region="DE-BY", closed_days=((15, 8),), timezone="UTC")
    calendar = WorkCalendar.from_settings(office)
    assert calendar.is_working_day(date(2026, 12, 24))  # not closed in this office
    assert calendar.non_working_reason(date(2026, 1, 6)) == "Heilige Drei Könige"
    assert calendar.non_working_reason(date(2025, 8, 15)) == "Schließtag"  # a Friday
    # In UTC, 23:30 UTC on the 9th is still the 9th.
    assert calendar.local_date(received("2026-03-09T23:30:00+00:00")) == date(2026, 3, 9)


# --- bad settings ---------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["DE-XX", "AT-9", "MV", "DE", "", "DE-Augsburg"])
def test_unknown_region_is_a_clear_error(region: str) -> None:
    with pytest.raises(ValueError, match="Feiertagsregion") as caught:
        WorkCalendar(region)
    message = str(caught.value)
    assert "DE-MV" in message and "[office]" in message
    assert isinstance(caught.value, ConfigError)  # the CLI shows it as a one-line message


def test_region_is_case_insensitive() -> None:
    assert not WorkCalendar("de-mv").is_working_day(date(2025, 10, 31))


def test_bad_timezone_and_closed_day_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="Zeitzone 'Europe/Rostock'"):
        WorkCalendar("DE-MV", timezone="Europe/Rostock")
    with pytest.raises(ValueError, match=r"Schließtag 31\.2\."):
        WorkCalendar("DE-MV", closed_days=((31, 2),))


# --- speed and import cost ------------------------------------------------------------------


def test_ten_thousand_due_dates_are_fast() -> None:
    calendar = WorkCalendar("DE-MV")
    start = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    receipts = [start + timedelta(hours=7 * i) for i in range(10_000)]  # about 8 years
    calendar.due_after_receipt(start, 5)  # load the holidays package once
    began = time.perf_counter()
    dues = [calendar.due_after_receipt(moment, 5) for moment in receipts]
    elapsed = time.perf_counter() - began
    assert all(calendar.is_working_day(due) for due in dues)
    assert elapsed < 1.0  # measured about 0.03 s; a day-by-day loop with lookups takes longer


def test_importing_the_module_does_not_import_holidays() -> None:
    code = (
        "import sys, jugendhaus_mail.workdays as w; "
        "w.WorkCalendar('DE-BE'); "
        "print('holidays' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False"


# --- properties -----------------------------------------------------------------------------

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
regions = st.sampled_from(sorted(CALENDARS))


def slow_add(calendar: WorkCalendar, start: date, n: int) -> date:
    """The definition, one day at a time."""
    step = timedelta(days=1 if n > 0 else -1)
    day, left = start, abs(n)
    while left:
        day += step
        left -= calendar.is_working_day(day)
    return day


@settings(max_examples=200, deadline=None)
@given(region=regions, start=days, n=st.integers(min_value=1, max_value=60))
def test_property_add_then_count_round_trips(region: str, start: date, n: int) -> None:
    calendar = CALENDARS[region]
    due = calendar.add_working_days(start, n)
    assert calendar.is_working_day(due)
    assert due > start
    assert calendar.working_days_between(start, due) == n
    assert due == slow_add(calendar, start, n)


@settings(max_examples=200, deadline=None)
@given(region=regions, start=days, n=st.integers(min_value=-60, max_value=-1))
def test_property_backwards(region: str, start: date, n: int) -> None:
    calendar = CALENDARS[region]
    back = calendar.add_working_days(start, n)
    assert calendar.is_working_day(back)
    assert back == slow_add(calendar, start, n)
    if calendar.is_working_day(start):
        assert calendar.add_working_days(back, -n) == start


@settings(max_examples=200, deadline=None)
@given(region=regions, a=days, b=days, c=days)
def test_property_counting_is_additive_and_matches_definition(
    region: str, a: date, b: date, c: date
) -> None:
    calendar = CALENDARS[region]
    between = calendar.working_days_between
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, b) == -between(b, a)
    low, high = min(a, b), max(a, b)
    expected = sum(
        calendar.is_working_day(low + timedelta(days=i)) for i in range(1, (high - low).days + 1)
    )
    assert abs(between(a, b)) == expected


@settings(max_examples=200, deadline=None)
@given(region=regions, start=days, weeks=st.integers(min_value=1, max_value=6))
def test_property_week_deadline_never_later_than_the_weeks(
    region: str, start: date, weeks: int
) -> None:
    calendar = CALENDARS[region]
    target = start + timedelta(weeks=weeks)
    due = calendar.due_after_weeks(start, weeks)
    assert calendar.is_working_day(due)
    assert due <= target
    assert calendar.working_days_between(due, target) == 0  # nothing skipped in between


@settings(max_examples=200, deadline=None)
@given(region=regions, day=days)
def test_property_reason_matches_working_day(region: str, day: date) -> None:
    calendar = CALENDARS[region]
    assert calendar.is_working_day(day) == (calendar.non_working_reason(day) is None)
    assert calendar.previous_working_day(day) <= day <= calendar.next_working_day(day)
    assert calendar.next_working_day(day, include_today=False) > day
