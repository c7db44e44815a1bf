"""Open duties of the request list: what has to be done by when, and by which side.

A duty exists only while it is open. Finished requests (status Abgeschlossen or Weitergeleitet,
or `Fallende am` filled) have no case duties. A row the rules cannot read never stops the
others: the rule is skipped for that row and a RowProblem says what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import cases
from jugendhaus_mail.rules.model import (
    BOTH,
    CARE_END,
    CONTACT_PERSON,
    FEEDBACK,
    HOME_VISIT,
    LABELS,
    MET,
    MINI_CONFERENCE,
    SGB2,
    SGB8,
    BadValue,
    Duty,
    RowProblem,
    filled,
    kind_of,
    numbered,
    same_text,
    text_in,
)
from jugendhaus_mail.rules.office import office_duties
from jugendhaus_mail.rules.sprechzeiten import OfficeHours
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

_NO_RECEIPT = BadValue(
    "received",
    "„Eingang“ ist leer; ohne Eingangsdatum lässt sich die Frist nicht berechnen. "
    "Bitte das Eingangsdatum eintragen.",
)
_OUT_OF_RANGE = "Ein Datum dieser Zeile liegt außerhalb des Kalenders; bitte die Daten prüfen."

_RuleCheck = Callable[[str, Row, WorkCalendar, DeadlineSettings, list[BadValue]], Duty | None]


def duties(
    requests: list[Row],
    staff: list[Row],
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    today: date,
    *,
    office_hours: OfficeHours | None = None,
) -> tuple[list[Duty], list[RowProblem]]:
    """All open duties (case duties in row order, then the office-wide ones) and the problems
    that kept a rule from being evaluated. `office_hours` end the day on which a Kinderschutz
    report is taken up (its contact person is due that day)."""
    checks: tuple[_RuleCheck, ...] = (
        partial(_contact_person, office_hours=office_hours),
        *_CHECKS[1:],
    )
    rows, problems = numbered(requests)
    found: list[Duty] = []
    staff_names = [text_in(person, "name") for person in staff]
    for nr, row in rows:
        if cases.is_finished(row):
            continue
        notes: list[BadValue] = []
        for check in checks:
            try:
                duty = check(nr, row, calendar, settings, notes)
            except BadValue as bad:
                notes.append(bad)
            except (ValueError, OverflowError):
                problems.append(RowProblem(nr, "", _OUT_OF_RANGE))
            else:
                if duty is not None:
                    found.append(duty)
        notes.extend(_unknown_contact_person(row, staff_names))
        problems.extend(_as_problems(nr, notes))
    found.extend(office_duties(today, calendar, settings))
    return found, _dedupe(problems)


def _contact_person(
    nr: str,
    row: Row,
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    _: list[BadValue],
    office_hours: OfficeHours | None = None,
) -> Duty | None:
    if filled(row, "contact_person"):
        return None
    due = cases.contact_due(row, calendar, settings, office_hours)
    return _duty(CONTACT_PERSON, nr, due, SGB8)


def _home_visit(
    nr: str, row: Row, calendar: WorkCalendar, settings: DeadlineSettings, _: list[BadValue]
) -> Duty | None:
    if kind_of(row) != "Hausbesuch" or filled(row, "home_visit_done"):
        return None
    return _duty(HOME_VISIT, nr, cases.home_visit_due(row, calendar, settings), SGB8)


def _feedback(
    nr: str, row: Row, calendar: WorkCalendar, settings: DeadlineSettings, notes: list[BadValue]
) -> Duty | None:
    if not cases.is_joint_case(row):
        return None
    due = cases.feedback_due(row, calendar, settings, notes)
    if due is None:
        raise BadValue(
            "joint_consultation",
            "Gemeinsamer Fall ohne Datum in „Gemeinsame Fallberatung am“ oder „Letzte "
            "Rückmeldung“; bitte eintragen, sonst gibt es keine Rückmelde-Erinnerung.",
        )
    return Duty(FEEDBACK, nr, due, LABELS[FEEDBACK], BOTH)


def _consent(
    _nr: str, row: Row, _calendar: WorkCalendar, _settings: DeadlineSettings, _: list[BadValue]
) -> Duty | None:
    if cases.is_joint_case(row) and not cases.has_consent(row):
        raise BadValue(
            "consent",
            "Gemeinsamer Fall, aber „Zustimmung junger Mensch“ ist nicht „Ja“. Ohne die "
            "Zustimmung des jungen Menschen gibt es keinen gemeinsamen Fall; der VerBIS-Hinweis "
            "an das Jobcenter geht erst, wenn „Ja“ eingetragen ist. Bitte die Zustimmung "
            "eintragen oder den Status korrigieren.",
        )
    return None


def _care_end(
    nr: str, row: Row, calendar: WorkCalendar, settings: DeadlineSettings, notes: list[BadValue]
) -> Duty | None:
    if filled(row, "follow_up_talk") or not same_text(text_in(row, "home_visit_result"), MET):
        return None
    due = cases.care_until(row, calendar, settings, notes)
    if due is None:
        raise BadValue(
            "home_visit_done",
            "Hausbesuch „Angetroffen“, aber „Hausbesuch durchgeführt am“ ist leer; bitte das "
            "Datum eintragen, damit das Ende der Betreuungszeit berechnet werden kann.",
        )
    return Duty(CARE_END, nr, due, LABELS[CARE_END], BOTH)


def _mini_conference(
    nr: str, row: Row, calendar: WorkCalendar, settings: DeadlineSettings, _: list[BadValue]
) -> Duty | None:
    if kind_of(row) != "Mini-Fallkonferenz":
        return None
    missing_sgb2 = not filled(row, "conference_sgb2")
    missing_sgb8 = not filled(row, "conference_sgb8")
    if not (missing_sgb2 or missing_sgb8):
        return None
    side = BOTH if missing_sgb2 and missing_sgb8 else (SGB2 if missing_sgb2 else SGB8)
    return _duty(MINI_CONFERENCE, nr, cases.mini_conference_due(row, calendar, settings), side)


_CHECKS: tuple[_RuleCheck, ...] = (
    _contact_person,
    _home_visit,
    _feedback,
    _consent,
    _care_end,
    _mini_conference,
)


def _duty(rule: str, nr: str, due: date | None, side: str) -> Duty:
    if due is None:
        raise _NO_RECEIPT
    return Duty(rule, nr, due, LABELS[rule], side)


def _unknown_contact_person(row: Row, staff_names: list[str]) -> list[BadValue]:
    name = text_in(row, "contact_person")
    if not name or any(same_text(name, known) for known in staff_names):
        return []
    return [
        BadValue(
            "contact_person",
            "„Ansprechpartner JSB“ steht nicht im Blatt Mitarbeitende; Erinnerungen gehen "
            "deshalb an alle JSB-Mitarbeitenden. Bitte den Namen wie in Mitarbeitende schreiben.",
        )
    ]


def _as_problems(nr: str, notes: list[BadValue]) -> list[RowProblem]:
    return [RowProblem(nr, note.column, note.message) for note in notes]


def _dedupe(problems: list[RowProblem]) -> list[RowProblem]:
    return list(dict.fromkeys(problems))
