"""Part of the reminder job: tell both sides of a case about conflicting appointments, once.

The rule lives in `rules/appointments.py`; this sends each conflict's notice once (the outbox's
key: a changed date makes a new one) to the contact persons of both sides (`Ansprechpartner
JSB`, and `Ansprechpartner SGB II` or the requester), on working days only. A conflict that is
gone before the next run (an appointment cancelled or moved) is simply not sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from jugendhaus_mail.app import App
from jugendhaus_mail.notify import render as mails
from jugendhaus_mail.notify.ics import ics_attachment
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.rules.appointments import DOUBLE, Appointment, Conflict, conflicts
from jugendhaus_mail.rules.model import BOTH, Duty, RowProblem
from jugendhaus_mail.rules.recipients import recipients
from jugendhaus_mail.rules.stages import DUE, Notice
from jugendhaus_mail.workbook.model import Snapshot

log = logging.getLogger(__name__)

LABELS = {
    DOUBLE: "Termine beider Seiten nah beieinander",
    "appointment_care": "Termin in der Betreuungszeit SGB VIII",
}


def open_conflicts(app: App, snapshot: Snapshot) -> tuple[list[Conflict], list[RowProblem]]:
    return conflicts(
        snapshot.requests, snapshot.appointments, app.calendar, app.settings.deadlines, app.now
    )


def queue_appointment_notices(
    app: App, outbox: Outbox, snapshot: Snapshot, today: date
) -> list[RowProblem]:
    """Queue the notices of open conflicts; return the rows of `Termine` that could not be read."""
    found, problems = open_conflicts(app, snapshot)
    if not app.calendar.is_working_day(today):
        return problems
    rows = {str(r["nr"]).strip(): r for r in snapshot.requests if r.get("nr")}
    for conflict in found:
        duty = Duty(conflict.rule, conflict.nr, conflict.last_day, LABELS[conflict.rule], BOTH)
        people = recipients(Notice(duty, DUE, today), rows.get(conflict.nr), snapshot.staff)
        for note in people.missing:
            log.warning("%s: %s", conflict.key, note)
        outbox.queue(
            conflict.key,
            notice_mail(conflict, app.settings.deadlines.double_invitation_working_days),
            [p.email for p in people.to],
            [p.email for p in people.cc],
        )
    return problems


def notice_mail(conflict: Conflict, working_days: int) -> mails.MailData:
    if conflict.rule == DOUBLE:
        return mails.AppointmentConflictMail(
            conflict.nr, tuple(slot(a) for a in conflict.appointments), working_days
        )
    assert conflict.care_until is not None
    return mails.AppointmentCareMail(
        conflict.nr, slot(conflict.appointments[0]), conflict.care_until
    )


def slot(appointment: Appointment) -> mails.AppointmentSlot:
    return mails.AppointmentSlot(appointment.side, appointment.start, appointment.all_day)


CALENDAR_DUTIES = {
    "home_visit": "Hausbesuch durchführen",
    "qualitaetsdialog": "Qualitätsdialog SGB II/SGB VIII",
}


def duty_calendar(duty: Duty, today: date, zone: ZoneInfo) -> tuple[tuple[str, bytes, str], ...]:
    """An .ics for the due date of duties staff put in their calendar; () for the others."""
    what = CALENDAR_DUTIES.get(duty.rule)
    if what is None:
        return ()
    owner = duty.nr or f"{duty.due.year}-{1 if duty.due.month <= 6 else 2}"  # half-year
    summary = f"Frist: {what}" + (f" (Nr. {duty.nr})" if duty.nr else "")
    made = datetime.combine(today, time(), tzinfo=UTC)
    return (ics_attachment(f"{owner}-{duty.rule}", summary, duty.due, made, zone),)


def visit_calendar(
    nr: str, planned: datetime, now: datetime, zone: ZoneInfo
) -> tuple[str, bytes, str]:
    """The announced home visit, for the cover mail of the announcement letter."""
    title = f"Hausbesuch (Nr. {nr})"
    return ics_attachment(f"{nr}-hausbesuch-termin", title, planned, now, zone)


def conflict_line(conflict: Conflict) -> str:
    """One line of the digest: case number, sides and dates only."""
    dates = " und ".join(a.label for a in conflict.appointments)
    if conflict.care_until is not None:
        until = f"{conflict.care_until:%d.%m.%Y}"
        return f"{conflict.nr}: {dates} – in der Betreuungszeit SGB VIII bis {until}"
    return f"{conflict.nr}: {dates} – nah beieinander"
