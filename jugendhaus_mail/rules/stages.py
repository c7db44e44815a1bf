"""Which notification stage of a duty applies today.

- "reminder": from `reminder_days_before` working days before the due date until the day before
  it, so a cycle that runs late (or a due date that appears late) still sends it. Office-wide
  duties (Qualitätsdialog, goals review) need lead time: their reminder window opens
  `qualitaetsdialog_notice_weeks` weeks before the due date.
- "due": on the due date.
- "escalation": from the first working day after the due date, for as long as the duty is open.

The engine's own due dates are always working days. Should one fall on a non-working day, the
day before it still counts as reminder and the next working day as escalation.

Nothing is sent on a non-working day: the stage is evaluated again on the next working day. The
caller keeps the sent log: each `Notice.key` is sent once; a changed due date makes a new key
and so re-arms the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules.model import OFFICE_RULES, Duty
from jugendhaus_mail.workdays import WorkCalendar

REMINDER = "reminder"
DUE = "due"
ESCALATION = "escalation"
STAGES = (REMINDER, DUE, ESCALATION)


@dataclass(frozen=True)
class Notice:
    duty: Duty
    stage: str
    send_on: date

    @property
    def key(self) -> str:
        """Stable identity for the sent log: (Nr., rule, stage, due date)."""
        duty = self.duty
        return f"{duty.nr or '-'}|{duty.rule}|{self.stage}|{duty.due.isoformat()}"


def reminder_start(duty: Duty, calendar: WorkCalendar, settings: DeadlineSettings) -> date | None:
    """First day of the reminder window; None when no reminder is configured."""
    if duty.rule in OFFICE_RULES:
        return duty.due - timedelta(weeks=settings.qualitaetsdialog_notice_weeks)
    if settings.reminder_days_before <= 0:
        return None
    return calendar.add_working_days(duty.due, -settings.reminder_days_before)


def stage_on(
    duty: Duty, calendar: WorkCalendar, today: date, settings: DeadlineSettings
) -> str | None:
    """The stage that applies on `today`, ignoring whether today is a working day."""
    if today == duty.due:
        return DUE
    if today > duty.due:
        return ESCALATION
    start = reminder_start(duty, calendar, settings)
    return REMINDER if start is not None and today >= start else None


def notices(
    duties: list[Duty], calendar: WorkCalendar, today: date, settings: DeadlineSettings
) -> list[Notice]:
    """At most one notice per duty: the stage that applies today; [] on non-working days."""
    if not calendar.is_working_day(today):
        return []
    found = []
    for duty in duties:
        stage = stage_on(duty, calendar, today, settings)
        if stage is not None:
            found.append(Notice(duty, stage, today))
    return found
