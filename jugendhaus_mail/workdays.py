"""The office's working-day calendar: which days count for deadlines, and how to count them.

A working day is Monday to Friday that is neither a public holiday of the office's federal state
nor a configured closed day (default 24.12. and 31.12., TVöD § 6 Abs. 3). A deadline of N working
days counts from the day after receipt (§ 187 Abs. 1 BGB), with the calendar day of receipt taken
in the office's time zone.

Each year is computed once (holidays, closed days, a sorted tuple of working-day ordinals), so the
deadline engine can ask for thousands of due dates cheaply: counting and stepping are bisections
in those tuples instead of day-by-day loops.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jugendhaus_mail.config import GERMAN_STATES, OfficeSettings
from jugendhaus_mail.errors import ConfigError

DEFAULT_CLOSED_DAYS: tuple[tuple[int, int], ...] = ((24, 12), (31, 12))
WEEKEND_REASONS = {5: "Samstag", 6: "Sonntag"}
CLOSED_DAY_REASON = "Schließtag"
_SETTINGS_HINT = "Bitte in der Konfiguration im Abschnitt [office] korrigieren."


class CalendarSettingsError(ConfigError, ValueError):
    """Region, time zone or closed days cannot be used to build the calendar."""


@dataclass(frozen=True)
class _Year:
    holidays: dict[date, str]  # public holidays of the state, German names
    closed: frozenset[date]  # configured closed days that fall in this year
    working: tuple[int, ...]  # ordinals of all working days, ascending
    working_set: frozenset[int]


class WorkCalendar:
    """Working days of one office (federal state, closed days, time zone)."""

    def __init__(
        self,
        region: str = "DE-MV",
        closed_days: tuple[tuple[int, int], ...] = DEFAULT_CLOSED_DAYS,
        timezone: str = "Europe/Berlin",
    ) -> None:
        self.region = region
        self._state = _state_code(region)
        self.closed_days = tuple(_checked_closed_day(day, month) for day, month in closed_days)
        self.tz = _zone(timezone)
        self._years: dict[int, _Year] = {}

    @classmethod
    def from_settings(cls, office: OfficeSettings) -> WorkCalendar:
        return cls(
            region=office.holiday_region,
            closed_days=office.closed_days,
            timezone=office.timezone,
        )

    def __repr__(self) -> str:
        closed = self.closed_days
        return f"WorkCalendar(region={self.region!r}, closed_days={closed!r}, tz={self.tz})"

    # --- single days -------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        return day.toordinal() in self._year(day.year).working_set

    def non_working_reason(self, day: date) -> str | None:
        """Why `day` is not a working day, in German; None for a working day.

        A holiday's name wins over the weekday (Sunday 8.3.2026 is "Frauentag" in MV), and the
        weekday wins over a closed day (Sunday 24.12.2028 is "Sonntag").
        """
        year = self._year(day.year)
        holiday = year.holidays.get(day)
        if holiday is not None:
            return holiday
        if day.weekday() in WEEKEND_REASONS:
            return WEEKEND_REASONS[day.weekday()]
        if day in year.closed:
            return CLOSED_DAY_REASON
        return None

    def local_date(self, moment: datetime) -> date:
        """The calendar day in the office's time zone; naive datetimes are refused."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(
                f"Zeitpunkt {moment.isoformat()} hat keine Zeitzone; ohne sie ist der "
                "Eingangstag nicht eindeutig (Programmfehler: bitte mit Zeitzone übergeben)."
            )
        return moment.astimezone(self.tz).date()

    def next_working_day(self, day: date, *, include_today: bool = True) -> date:
        if include_today and self.is_working_day(day):
            return day
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: date, *, include_today: bool = True) -> date:
        if include_today and self.is_working_day(day):
            return day
        return self.add_working_days(day, -1)

    # --- counting ----------------------------------------------------------------------------

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (before it if n < 0); `start` itself for n == 0.

        `start` does not need to be a working day and is never counted.
        """
        if n == 0:
            return start
        year = start.year
        working = self._year(year).working
        if n > 0:
            index = bisect_right(working, start.toordinal()) + n - 1
            while index >= len(working):
                index -= len(working)
                year += 1
                working = self._year(year).working
        else:
            index = bisect_left(working, start.toordinal()) + n
            while index < 0:
                year -= 1
                working = self._year(year).working
                index += len(working)
        return date.fromordinal(working[index])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end; for end < start the negated count of (end, start].

        So the count is additive: between(a, b) + between(b, c) == between(a, c).
        """
        if end < start:
            return -self.working_days_between(end, start)
        whole_years = sum(len(self._year(year).working) for year in range(start.year, end.year))
        return whole_years + self._rank(end) - self._rank(start)

    # --- deadlines ---------------------------------------------------------------------------

    def due_after_receipt(self, received: datetime, n: int) -> date:
        """§ 187 BGB: the n-th working day after the local calendar day on which mail arrived."""
        if n < 0:
            raise ValueError(f"Frist von {n} Arbeitstagen ist nicht möglich (mindestens 0).")
        return self.add_working_days(self.local_date(received), n)

    def due_after_weeks(self, start: date, weeks: int) -> date:
        """`start` plus whole weeks; a non-working due day moves back to the previous working day.

        Moving back (not forward) keeps the rule "feedback at least every N weeks".
        """
        if weeks < 0:
            raise ValueError(f"Frist von {weeks} Wochen ist nicht möglich (mindestens 0).")
        return self.previous_working_day(start + timedelta(weeks=weeks))

    # --- per-year tables ---------------------------------------------------------------------

    def _rank(self, day: date) -> int:
        """How many working days of day's year fall on or before `day`."""
        return bisect_right(self._year(day.year).working, day.toordinal())

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._build_year(year)
        return cached

    def _build_year(self, year: int) -> _Year:
        if not date.min.year <= year <= date.max.year:
            raise ValueError(f"Jahr {year} liegt außerhalb des Kalenders (1 bis 9999).")
        holidays = self._load_holidays(year)
        closed = frozenset(_closed_dates(self.closed_days, year))
        days_off = {day.toordinal() for day in (*holidays, *closed)}
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        working = tuple(
            ordinal
            for ordinal in range(first, last + 1)
            if _is_weekday(ordinal) and ordinal not in days_off
        )
        return _Year(holidays, closed, working, frozenset(working))

    def _load_holidays(self, year: int) -> dict[date, str]:
        # Imported here: the package is slow to import and `--help` must stay fast.
        import holidays

        found = holidays.country_holidays("DE", subdiv=self._state, years=year, language="de")
        return {day: str(name) for day, name in found.items()}


def _state_code(region: str) -> str:
    match = re.fullmatch(r"DE-([A-Z]{2})", region.strip().upper())
    if match is None or match[1] not in GERMAN_STATES:
        raise CalendarSettingsError(
            f"Feiertagsregion {region!r} ist unbekannt (holiday_region). Erwartet wird der "
            "ISO-3166-2-Code eines Bundeslands: "
            + ", ".join(f"DE-{s}" for s in GERMAN_STATES)
            + ". "
            + _SETTINGS_HINT
        )
    return match[1]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarSettingsError(
            f'Zeitzone {name!r} ist unbekannt (timezone), erwartet z. B. "Europe/Berlin". '
            + _SETTINGS_HINT
        ) from None


def _checked_closed_day(day: int, month: int) -> tuple[int, int]:
    try:
        date(2000, month, day)  # a leap year, so 29.2. is allowed
    except (ValueError, TypeError):
        raise CalendarSettingsError(
            f'Schließtag {day}.{month}. gibt es nicht (closed_days), erwartet z. B. "24.12". '
            + _SETTINGS_HINT
        ) from None
    return day, month


def _closed_dates(closed_days: tuple[tuple[int, int], ...], year: int) -> list[date]:
    dates = []
    for day, month in closed_days:
        try:
            dates.append(date(year, month, day))
        except ValueError:  # 29.2. outside leap years
            continue
    return dates


def _is_weekday(ordinal: int) -> bool:
    # Ordinal 1 (1.1.0001) was a Monday.
    return (ordinal - 1) % 7 < 5
