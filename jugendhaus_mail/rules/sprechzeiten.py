"""The office's Sprechzeiten as concrete, time-zone-aware periods.

Sprechzeiten exist only on working days: on a holiday or closed day the Thursday hours do not
take place. Times are wall-clock times in the office's time zone (so 07:30 stays 07:30 across
the change to summer time).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta

from jugendhaus_mail.config import TimeRange
from jugendhaus_mail.workdays import WorkCalendar

OfficeHours = Mapping[int, tuple[TimeRange, ...]]
Period = tuple[datetime, datetime]
LOOKAHEAD_DAYS = 366


def office_hours_on(day: date, calendar: WorkCalendar, office_hours: OfficeHours) -> list[Period]:
    if not calendar.is_working_day(day):
        return []
    ranges = sorted(office_hours.get(day.weekday(), ()), key=lambda r: r.start)
    return [
        (
            datetime.combine(day, r.start, tzinfo=calendar.tz),
            datetime.combine(day, r.end, tzinfo=calendar.tz),
        )
        for r in ranges
    ]


def office_hours_between(
    start: datetime, end: datetime, calendar: WorkCalendar, office_hours: OfficeHours
) -> Iterator[Period]:
    """Sprechzeiten that overlap [start, end), in order; both bounds must be aware."""
    day = calendar.local_date(start)
    last = calendar.local_date(end)
    while day <= last:
        for period in office_hours_on(day, calendar, office_hours):
            if period[0] < end and period[1] > start:
                yield period
        day += timedelta(days=1)


def next_office_hour(
    now: datetime, calendar: WorkCalendar, office_hours: OfficeHours
) -> Period | None:
    """The next Sprechzeit that has not ended yet (the current one while it runs); None when
    no Sprechzeiten are configured or none falls within a year."""
    if not any(office_hours.values()):
        return None
    day = calendar.local_date(now)
    for offset in range(LOOKAHEAD_DAYS):
        for period in office_hours_on(day + timedelta(days=offset), calendar, office_hours):
            if period[1] > now:
                return period
    return None
