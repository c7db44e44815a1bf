"""The deadline engine: pure functions of (workbook rows, calendar, now).

Nothing here reads a clock, a file or a mailbox, or sends anything. The caller reads the
workbook, passes `today`/`now`, writes the returned cell updates, and keeps the sent log
(each `Notice.key` / `AbsenceNotice.key` / joint-case event is sent once).
"""

from jugendhaus_mail.rules.absences import (
    Absence,
    AbsenceNotice,
    absence_notices,
    absence_problems,
    read_absences,
)
from jugendhaus_mail.rules.cases import is_finished, is_joint_case, joint_case_events
from jugendhaus_mail.rules.columns import COMPUTED_COLUMNS, column_updates, computed_columns
from jugendhaus_mail.rules.deadlines import duties
from jugendhaus_mail.rules.digest import AbsenceItem, Digest, DigestItem, digest, is_digest_day
from jugendhaus_mail.rules.model import BOTH, LABELS, SGB2, SGB8, Duty, RowProblem
from jugendhaus_mail.rules.office import (
    next_goals_review,
    next_qualitaetsdialog,
    qualitaetsdialog_organiser,
)
from jugendhaus_mail.rules.recipients import Person, Recipients, recipients
from jugendhaus_mail.rules.sprechzeiten import next_office_hour, office_hours_on
from jugendhaus_mail.rules.stages import DUE, ESCALATION, REMINDER, Notice, notices

__all__ = [
    "BOTH",
    "COMPUTED_COLUMNS",
    "DUE",
    "ESCALATION",
    "LABELS",
    "REMINDER",
    "SGB2",
    "SGB8",
    "Absence",
    "AbsenceItem",
    "AbsenceNotice",
    "Digest",
    "DigestItem",
    "Duty",
    "Notice",
    "Person",
    "Recipients",
    "RowProblem",
    "absence_notices",
    "absence_problems",
    "column_updates",
    "computed_columns",
    "digest",
    "duties",
    "is_digest_day",
    "is_finished",
    "is_joint_case",
    "joint_case_events",
    "next_goals_review",
    "next_office_hour",
    "next_qualitaetsdialog",
    "notices",
    "office_hours_on",
    "qualitaetsdialog_organiser",
    "read_absences",
    "recipients",
]
