"""Office-wide duties: the Qualitätsdialog twice a year and the yearly review of the common goals.

Both are due on the last working day of their month. The workbook has no column to mark them
done, so the duty is always the next one not yet past: on the day after a due date the rule
moves on to the next occurrence (it never escalates).

Who organises a Qualitätsdialog is deterministic for any year: number the dialogs in calendar
order, counting the first configured month of 2026 as dialog 0 (earlier ones get negative
numbers). Even-numbered dialogs are organised by `qualitaetsdialog_first_organiser`, odd ones by
the other side. With the default months [3, 9] and "SGB II" first, SGB II organises every March
dialog and SGB VIII every September dialog.
"""

from __future__ import annotations

import calendar as gregorian
from datetime import date

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules.model import (
    BOTH,
    GOALS_REVIEW,
    LABELS,
    QUALITAETSDIALOG,
    SGB2,
    SGB8,
    Duty,
)
from jugendhaus_mail.workdays import WorkCalendar

EPOCH_YEAR = 2026


def last_working_day_of_month(year: int, month: int, calendar: WorkCalendar) -> date:
    last = date(year, month, gregorian.monthrange(year, month)[1])
    return calendar.previous_working_day(last)


def qualitaetsdialog_organiser(year: int, month: int, settings: DeadlineSettings) -> str:
    """The side that organises the dialog of `month` in `year` (see module docstring)."""
    months = _dialog_months(settings)
    if month not in months:
        raise ValueError(f"Im Monat {month} ist kein Qualitätsdialog konfiguriert.")
    number = (year - EPOCH_YEAR) * len(months) + months.index(month)
    first = settings.qualitaetsdialog_first_organiser
    other = SGB8 if first == SGB2 else SGB2
    return first if number % 2 == 0 else other


def next_qualitaetsdialog(
    today: date, calendar: WorkCalendar, settings: DeadlineSettings
) -> tuple[date, str]:
    """Due date (last working day of the month) and organising side of the next dialog whose
    due date is today or later."""
    months = _dialog_months(settings)
    for year in (today.year, today.year + 1):
        for month in months:
            due = last_working_day_of_month(year, month, calendar)
            if due >= today:
                return due, qualitaetsdialog_organiser(year, month, settings)
    raise AssertionError("unreachable: every year has its configured months")


def next_goals_review(today: date, calendar: WorkCalendar, settings: DeadlineSettings) -> date:
    for year in (today.year, today.year + 1):
        due = last_working_day_of_month(year, settings.goals_review_month, calendar)
        if due >= today:
            return due
    raise AssertionError("unreachable: every year has the configured month")


def office_duties(today: date, calendar: WorkCalendar, settings: DeadlineSettings) -> list[Duty]:
    dialog_due, organiser = next_qualitaetsdialog(today, calendar, settings)
    review_due = next_goals_review(today, calendar, settings)
    return [
        Duty(QUALITAETSDIALOG, None, dialog_due, LABELS[QUALITAETSDIALOG], organiser),
        Duty(GOALS_REVIEW, None, review_due, LABELS[GOALS_REVIEW], BOTH),
    ]


def _dialog_months(settings: DeadlineSettings) -> list[int]:
    months = sorted(set(settings.qualitaetsdialog_months))
    if not months or not all(1 <= m <= 12 for m in months):
        raise ValueError(
            "qualitaetsdialog_months muss Monate von 1 bis 12 enthalten, z. B. [3, 9]; "
            "bitte im Abschnitt [deadlines] der Konfiguration korrigieren."
        )
    return months
