"""The date columns the service computes into `Anfragen` whenever staff change their inputs.

Only these five service-owned columns are ever written. A column is left out of the computed
result (so its cell is left alone) when an input it needs cannot be read; it is computed as
None (so the cell is cleared) when its inputs were removed or the rule no longer applies.

`Nachgespräch fällig` equals `Betreuung SGB VIII bis`: the agreement fixes the period "in einer
nachgelagerten Besprechung", so the follow-up talk is due when the care period ends.
`Nächste Rückmeldung fällig` is only filled while the joint case runs (cleared at its end).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import cases
from jugendhaus_mail.rules.model import BadValue, is_blank, numbered
from jugendhaus_mail.rules.sprechzeiten import OfficeHours
from jugendhaus_mail.workbook.model import CellUpdate, CellValue, Row
from jugendhaus_mail.workdays import WorkCalendar

COMPUTED_COLUMNS = (
    "contact_due",
    "home_visit_due",
    "next_feedback_due",
    "care_until",
    "follow_up_due",
)

_Rule = Callable[[Row, WorkCalendar, DeadlineSettings], date | None]


def _feedback(row: Row, calendar: WorkCalendar, settings: DeadlineSettings) -> date | None:
    return cases.feedback_due(row, calendar, settings, [])


def _care(row: Row, calendar: WorkCalendar, settings: DeadlineSettings) -> date | None:
    return cases.care_until(row, calendar, settings, [])


_RULES: dict[str, _Rule] = {
    "contact_due": cases.contact_due,
    "home_visit_due": cases.home_visit_due,
    "next_feedback_due": _feedback,
    "care_until": _care,
    "follow_up_due": _care,
}


def computed_columns(
    row: Row,
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    office_hours: OfficeHours | None = None,
) -> dict[str, CellValue]:
    """The value each computed column should hold; unreadable inputs leave a column out.
    `office_hours` end the day on which a Kinderschutz report is taken up."""
    result: dict[str, CellValue] = {}
    rules: dict[str, _Rule] = {
        **_RULES,
        "contact_due": partial(cases.contact_due, office_hours=office_hours),
    }
    for column, rule in rules.items():
        try:
            result[column] = rule(row, calendar, settings)
        except (BadValue, ValueError, OverflowError):
            continue  # the duties report the problem; the cell stays as it is
    return result


def column_updates(
    requests: list[Row],
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    office_hours: OfficeHours | None = None,
) -> list[CellUpdate]:
    """Only the cells whose computed value differs from the sheet, in row order.

    A column missing from a row's dict is not in the sheet (the reader includes every column
    it found), so it gets no update. Rows without a unique Nr. are skipped.
    """
    updates: list[CellUpdate] = []
    rows, _ = numbered(requests)
    for nr, row in rows:
        for column, value in computed_columns(row, calendar, settings, office_hours).items():
            if column in row and not _same(row[column], value):
                updates.append(CellUpdate(nr, column, value))
    return updates


def _same(current: CellValue, computed: CellValue) -> bool:
    if is_blank(current):
        current = None
    elif isinstance(current, datetime):
        current = current.date()
    return current == computed
