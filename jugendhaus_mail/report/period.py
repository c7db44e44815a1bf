"""Report periods: a calendar half-year (`2026-H2`) or any range of days (`--from/--to`).

Every figure is shown against the previous period of equal length:
- a half-year against the half-year before it (2026-H2 against 2026-H1),
- a range of whole calendar months against the same number of months right before it,
- any other range against the same number of days right before it.

For the Qualitätsdialog the report covers the last calendar half-year that has ended on the day
the reminder goes out (`half_year_before`). With the default dialog months (March, September)
and four weeks' notice, that is the second half of the previous year for the March dialog and
the first half of the year for the September dialog.
"""

from __future__ import annotations

import calendar as gregorian
import re
from dataclasses import dataclass
from datetime import date, timedelta

from jugendhaus_mail.errors import JugendhausError

MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
             "September", "Oktober", "November", "Dezember")  # fmt: skip
MONTHS_SHORT_DE = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov",
                   "Dez")  # fmt: skip
_HALF_YEAR = re.compile(r"\s*(\d{4})\s*-?\s*H\s*([12])\s*", re.IGNORECASE)

Month = tuple[int, int]  # (year, month)


class ReportError(JugendhausError):
    """The report cannot be made as asked (period, output path); the message says what to fix."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def is_half_year(self) -> bool:
        return (self.start.month, self.start.day) in ((1, 1), (7, 1)) and self.end == date(
            self.start.year, self.start.month + 5, 30 if self.start.month == 1 else 31
        )

    @property
    def code(self) -> str:
        """For file names: "2026-H2", or "2026-03-01_2026-05-31"."""
        if self.is_half_year:
            return f"{self.start.year}-H{1 if self.start.month == 1 else 2}"
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """German: "2. Halbjahr 2026", or "01.03.2026 – 31.05.2026"."""
        if self.is_half_year:
            return f"{1 if self.start.month == 1 else 2}. Halbjahr {self.start.year}"
        return f"{self.start:%d.%m.%Y} – {self.end:%d.%m.%Y}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def months(self) -> list[Month]:
        """The calendar months the period touches, in order."""
        found: list[Month] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def previous(self) -> Period:
        """The period of equal length right before this one (see module docstring)."""
        if _whole_months(self):
            count = len(self.months())
            first = _shift_month((self.start.year, self.start.month), -count)
            last = _shift_month((self.end.year, self.end.month), -count)
            return Period(date(*first, 1), _month_end(last))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def month_label(month: Month, *, short: bool = False) -> str:
    names = MONTHS_SHORT_DE if short else MONTHS_DE
    return f"{names[month[1] - 1]} {month[0]}"


def half_year(year: int, half: int) -> Period:
    if half == 1:
        return Period(date(year, 1, 1), date(year, 6, 30))
    return Period(date(year, 7, 1), date(year, 12, 31))


def half_year_of(day: date) -> Period:
    return half_year(day.year, 1 if day.month <= 6 else 2)


def half_year_before(today: date) -> Period:
    """The last calendar half-year that ended before `today`."""
    current = half_year_of(today)
    return half_year(today.year - 1, 2) if current.start.month == 1 else half_year(today.year, 1)


def parse_period(text: str | None, date_from: str | None, date_to: str | None) -> Period:
    """`2026-H2`, or both `--from` and `--to` (ISO dates); a German ReportError otherwise."""
    if text and (date_from or date_to):
        raise ReportError(
            "Bitte entweder einen Zeitraum wie 2026-H2 oder --from/--to angeben, nicht beides."
        )
    if text:
        match = _HALF_YEAR.fullmatch(text)
        if match is None:
            raise ReportError(
                f"Zeitraum „{text}“ nicht verstanden. Erwartet wird z. B. 2026-H1 (Januar bis "
                "Juni) oder 2026-H2 (Juli bis Dezember), oder --from 2026-01-01 --to 2026-03-31."
            )
        if not 2000 <= int(match[1]) <= 2099:
            raise ReportError("Der Zeitraum muss zwischen 2000 und 2099 liegen.")
        return half_year(int(match[1]), int(match[2]))
    if not (date_from and date_to):
        raise ReportError(
            "Welcher Zeitraum? Bitte z. B. `report 2026-H2 --out bericht.xlsx` oder "
            "`report --from 2026-01-01 --to 2026-03-31 --out bericht.xlsx` angeben."
        )
    start, end = _iso_day(date_from, "--from"), _iso_day(date_to, "--to")
    if start.year < 2000 or end.year > 2099:
        raise ReportError("Der Zeitraum muss zwischen 2000 und 2099 liegen.")
    if end < start:
        raise ReportError(f"--to ({end:%d.%m.%Y}) liegt vor --from ({start:%d.%m.%Y}).")
    return Period(start, end)


def _iso_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"{option} {text!r}: erwartet ein Datum wie 2026-07-01.") from None


def _whole_months(period: Period) -> bool:
    last = (period.end.year, period.end.month)
    return period.start.day == 1 and period.end == _month_end(last)


def _month_end(month: Month) -> date:
    return date(month[0], month[1], gregorian.monthrange(*month)[1])


def _shift_month(month: Month, by: int) -> Month:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1
