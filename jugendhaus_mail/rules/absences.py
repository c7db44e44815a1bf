"""Absences of JSB staff (sheet `Abwesenheiten`) that hit a Sprechzeit: the team leaders are told.

Reading an entry: `Von`/`Bis` are wall-clock times in the office's time zone. A `Bis` without a
time of day (a date, or midnight) means the whole of that day, since that is how people write
"krank bis Freitag". A missing `Bis` means until the end of the `Von` day.

A notice is due for an entry that has not ended and overlaps at least one Sprechzeit that has not
ended. It is short-notice (urgent) when its `Art` is "Kurzfristig" or it starts within one working
day of now (today or the next working day). The caller sends once per `key`; editing the period
(e.g. a sick note extended) makes a new key and so a new notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from jugendhaus_mail.rules.model import RowProblem, is_blank, same_text, text_in, where
from jugendhaus_mail.rules.sprechzeiten import OfficeHours, Period, office_hours_between
from jugendhaus_mail.workbook.model import CellValue, Row
from jugendhaus_mail.workdays import WorkCalendar

SHORT_NOTICE_KIND = "Kurzfristig"
MAX_SPAN = timedelta(days=366)  # Sprechzeiten listed for at most a year ahead


@dataclass(frozen=True)
class Absence:
    """One readable entry; `start`/`end` are aware, `end` is exclusive."""

    key: str
    name: str
    start: datetime
    end: datetime
    reason: str
    kind: str


@dataclass(frozen=True)
class AbsenceNotice:
    key: str
    name: str
    start: datetime
    end: datetime
    reason: str
    short_notice: bool
    office_hours: tuple[Period, ...]  # the affected Sprechzeiten that have not ended
    kind: str = ""  # `Art` as entered


def read_absences(
    absences: list[Row], calendar: WorkCalendar
) -> tuple[list[Absence], list[RowProblem]]:
    found: list[Absence] = []
    problems: list[RowProblem] = []
    for row in absences:
        try:
            absence = _read(row, calendar)
        except (OverflowError, ValueError):
            absence = _problem(row, "end", "ein Datum liegt außerhalb des Kalenders")
        if isinstance(absence, RowProblem):
            problems.append(absence)
        else:
            found.append(absence)
    return found, problems


def absence_problems(absences: list[Row], calendar: WorkCalendar) -> list[RowProblem]:
    """Entries that cannot be read (shown to the admin; they produce no notice)."""
    return read_absences(absences, calendar)[1]


def absence_notices(
    absences: list[Row], office_hours: OfficeHours, calendar: WorkCalendar, now: datetime
) -> list[AbsenceNotice]:
    readable, _ = read_absences(absences, calendar)
    notices = []
    for absence in readable:
        try:
            notice = _notice(absence, office_hours, calendar, now)
        except (OverflowError, ValueError):  # a year typed as 9999 and the like
            continue
        if notice is not None:
            notices.append(notice)
    return notices


def _notice(
    absence: Absence, office_hours: OfficeHours, calendar: WorkCalendar, now: datetime
) -> AbsenceNotice | None:
    if absence.end <= now:
        return None
    window_start = max(absence.start, now)
    window_end = min(absence.end, window_start + MAX_SPAN)
    hours = tuple(office_hours_between(window_start, window_end, calendar, office_hours))
    if not hours:
        return None
    soon = calendar.add_working_days(calendar.local_date(now), 1)
    short = same_text(absence.kind, SHORT_NOTICE_KIND) or calendar.local_date(absence.start) <= soon
    return AbsenceNotice(
        *(absence.key, absence.name, absence.start, absence.end, absence.reason, short, hours),
        kind=absence.kind,
    )


def absences_on(day: date, absences: list[Absence], calendar: WorkCalendar) -> list[Absence]:
    """Entries that cover any part of `day` (for the digest), by start time."""
    day_start = datetime.combine(day, time(), tzinfo=calendar.tz)
    day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=calendar.tz)
    hits = [a for a in absences if a.start < day_end and a.end > day_start]
    return sorted(hits, key=lambda a: (a.start, a.name.casefold()))


def _read(row: Row, calendar: WorkCalendar) -> Absence | RowProblem:
    name = text_in(row, "name")
    start = _moment(row.get("start"), calendar)
    end_value = row.get("end")
    if not name:
        return _problem(row, "name", "„Name“ fehlt")
    if start is None:
        return _problem(row, "start", "„Von“ fehlt oder ist kein Datum")
    if is_blank(end_value):
        end = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=calendar.tz)
    else:
        moment = _moment(end_value, calendar)
        if moment is None:
            return _problem(row, "end", "„Bis“ ist kein Datum")
        end = _whole_day_end(end_value, moment, calendar)
    if end <= start:
        return _problem(row, "end", "„Bis“ liegt vor „Von“")
    key = f"{name}|{_naive(start).isoformat()}|{_naive(end).isoformat()}"
    return Absence(key, name, start, end, text_in(row, "reason"), text_in(row, "kind"))


def _moment(value: CellValue, calendar: WorkCalendar) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(calendar.tz)
        return value.replace(tzinfo=calendar.tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=calendar.tz)
    return None


def _whole_day_end(value: CellValue, moment: datetime, calendar: WorkCalendar) -> datetime:
    date_only = not isinstance(value, datetime) or moment.time() == time()
    if not date_only:
        return moment
    return datetime.combine(moment.date() + timedelta(days=1), time(), tzinfo=calendar.tz)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _problem(row: Row, column: str, what: str) -> RowProblem:
    return RowProblem(
        None,
        column,
        f"Abwesenheiten, {where(row)}: {what}; der Eintrag wird nicht berücksichtigt, "
        "bis er korrigiert ist.",
    )
