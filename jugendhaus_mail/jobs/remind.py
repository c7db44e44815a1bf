"""The reminder job: keep the computed columns current and tell the right people, once.

One workbook read, the pure rules of `jugendhaus_mail.rules`, mail through the outbox (each
notice once, by key), and one write of the service's own columns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import WorkbookChanged, WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.jobs.appointments import duty_calendar, queue_appointment_notices
from jugendhaus_mail.jobs.letters import letter_triggers
from jugendhaus_mail.jobs.report import dialog_statistics
from jugendhaus_mail.mailbox.base import Mailbox
from jugendhaus_mail.notify import render as mails
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.rules import (
    ESCALATION,
    Notice,
    absence_notices,
    column_updates,
    duties,
    joint_case_events,
    notices,
    recipients,
)
from jugendhaus_mail.rules.digest import responsible_for
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.model import CellUpdate, Changes, Row, Snapshot
from jugendhaus_mail.workbook.renamed import described_missing, renamed_in
from jugendhaus_mail.workdays import WorkCalendar

log = logging.getLogger(__name__)

DONE_HINTS = {
    "contact_person": "Namen in „Ansprechpartner JSB“ eintragen",
    "home_visit": "Datum in „Hausbesuch durchgeführt am“ eintragen",
    "feedback": "Datum in „Letzte Rückmeldung“ eintragen oder mit [Nr.] im Betreff antworten",
    "care_end": "Datum in „Nachgespräch am“ eintragen",
    "mini_conference": "beide weiteren Personen für die Mini-Fallkonferenz eintragen",
}


@dataclass
class RemindReport:
    outbox: Outbox
    updates: int = 0
    waiting_reason: str | None = None
    problems: list[str] = field(default_factory=list)
    paused: str | None = None  # why no reminder of a request went out (see reminders_paused)


def run_remind(
    app: App, state: StateDB, mailbox: Mailbox | None, *, dry_run: bool = False
) -> RemindReport:
    settings, calendar = app.settings, app.calendar
    store = app.store()
    snapshot = store.read()
    today = calendar.local_date(app.now)
    outbox = Outbox(settings, state, app.now, dry_run=dry_run)
    report = RemindReport(outbox)
    staff = Staff(snapshot.staff)
    report.paused = reminders_paused(app, snapshot)
    if report.paused is not None:
        log.warning("%s", report.paused)
        _absences(outbox, snapshot, staff, app)  # the staff sheets are whole
        if mailbox is not None:
            outbox.flush(mailbox)
        return report
    rows = {str(r["nr"]).strip(): r for r in snapshot.requests if r.get("nr")}

    hours = settings.office.office_hours
    updates = column_updates(snapshot.requests, calendar, settings.deadlines, hours)
    open_duties, problems = duties(
        snapshot.requests, snapshot.staff, calendar, settings.deadlines, today, office_hours=hours
    )
    report.problems = [f"{p.nr or '-'}: {p.column}: {p.message_de}" for p in problems]
    for notice in notices(open_duties, calendar, today, settings.deadlines):
        _queue_notice(outbox, notice, rows.get(notice.duty.nr or ""), snapshot, calendar, today)
    for p in queue_appointment_notices(app, outbox, snapshot, today):
        report.problems.append(f"{p.nr or '-'}: {p.column}: {p.message_de}")
    updates += _contact_person_named(outbox, rows, staff, state, today)
    _verbis_hints(outbox, rows, staff)
    _absences(outbox, snapshot, staff, app)
    updates += letter_triggers(app, outbox, snapshot, today)

    if updates and not dry_run:
        try:
            store.commit(Changes(updates=tuple(updates)), now=app.now)
        except (WorkbookLocked, WorkbookUnsafe, WorkbookChanged) as exc:
            report.waiting_reason = str(exc)  # recomputed next cycle; nothing to keep
            log.warning("Berechnete Spalten nicht geschrieben: %s", exc)
    report.updates = len(updates)
    if mailbox is not None:
        outbox.flush(mailbox)
    return report


def reminders_paused(app: App, snapshot: Snapshot) -> str | None:
    """Why the requests' reminders must wait: staff renamed a column of `Anfragen` (the upgrade
    does not add it again, see workbook/renamed.py). Read as empty, a renamed „Ansprechpartner
    JSB“ or „Status“ would remind and escalate every open request at once. A column missing
    for another reason (new in this version, the upgrade still waiting for Excel to close)
    pauses nothing: empty is what it holds."""
    schema = app.store().schema
    sheet = schema.requests.name
    missing = snapshot.missing_headers.get(sheet, ())
    if not missing:
        return None
    renamed = renamed_in(app.settings.workbook.path, schema).get(sheet, {})
    headers = [header for header in missing if header in renamed]
    if not headers:
        return None
    which = "fehlt die Spalte" if len(headers) == 1 else "fehlen die Spalten"
    return (
        f"Erinnerungen ruhen: im Blatt {sheet} {which} "
        f"{described_missing(headers, renamed)}. Bitte die Überschrift "
        "wiederherstellen – der Dienst findet Spalten nur über ihren Namen und würde sonst jede "
        "offene Anfrage anmahnen."
    )


def _queue_notice(
    outbox: Outbox,
    notice: Notice,
    row: Row | None,
    snapshot: Snapshot,
    calendar: WorkCalendar,
    today: date,
) -> None:
    duty = notice.duty
    people = recipients(notice, row, snapshot.staff)
    for note in people.missing:
        log.warning("%s: %s", notice.key, note)
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    if duty.nr is None:
        mail: mails.MailData
        if duty.rule == "qualitaetsdialog":
            attachments = dialog_statistics(outbox, notice.key, snapshot.requests, calendar, today)
            mail = mails.QualitaetsdialogMail(
                due=duty.due, organiser=duty.side, statistics_attached=bool(attachments)
            )
        else:
            mail = mails.GoalsReviewMail(due=duty.due, year=duty.due.year)
    else:
        overdue = (
            calendar.working_days_between(duty.due, today) if notice.stage == ESCALATION else 0
        )
        mail = mails.ReminderMail(
            nr=duty.nr,
            stage=notice.stage,
            rule_label=duty.label,
            kind=str((row or {}).get("kind") or ""),
            due=duty.due,
            responsible=responsible_for(duty, row),
            days_overdue=max(0, overdue),
            done_hint=DONE_HINTS.get(duty.rule, ""),
        )
    to, cc = [p.email for p in people.to], [p.email for p in people.cc]
    attachments += duty_calendar(duty, today, calendar.tz)  # the due date for Outlook
    outbox.queue(notice.key, mail, to, cc, attachments=attachments)


def _contact_person_named(
    outbox: Outbox, rows: dict[str, Row], staff: Staff, state: StateDB, today: date
) -> list[CellUpdate]:
    """Tell the requester who their contact person is, once, and note the day in the sheet."""
    updates = []
    for nr, row in rows.items():
        name = str(row.get("contact_person") or "").strip()
        requester = str(row.get("requester_email") or "").strip()
        if not name or row.get("contact_notified") or not requester:
            continue
        person = staff.by_name(name)
        if person is None:
            log.warning("%s: Ansprechpartner JSB „%s“ steht nicht im Blatt Mitarbeitende", nr, name)
            continue
        key = f"{nr}|contact_person_named|{person.name}"
        received = row.get("received")
        mail = mails.ContactPersonMail(
            nr=nr,
            requester_name=str(row.get("requester_name") or ""),
            received=received.date() if isinstance(received, datetime) else today,
            contact=mails.Person(person.name, person.email, person.phone),
        )
        if outbox.queue(key, mail, [requester]) or state.already_queued(key):
            updates.append(CellUpdate(nr, "contact_notified", today))
    return updates


def _verbis_hints(outbox: Outbox, rows: dict[str, Row], staff: Staff) -> None:
    for nr, row in rows.items():
        for event in joint_case_events(row):
            contact = staff.by_name(str(row.get("sgb2_contact") or ""))
            address = contact.email if contact else str(row.get("requester_email") or "")
            start = _day(row.get("joint_consultation"))
            if not address or start is None:
                continue
            mail = mails.VerbisMail(
                nr=nr,
                event=event,
                recipient_name=contact.name if contact else str(row.get("requester_name") or ""),
                request_received=_day(row.get("received")) or start,
                start=start,
                end=_day(row.get("case_end")),
                end_reason=str(row.get("end_reason") or ""),
            )
            outbox.queue(f"{nr}|verbis|{event}", mail, [address])


def _absences(outbox: Outbox, snapshot: Snapshot, staff: Staff, app: App) -> None:
    leaders = [p.email for p in staff.leaders()]
    for notice in absence_notices(
        snapshot.absences, app.settings.office.office_hours, app.calendar, app.now
    ):
        mail = mails.AbsenceMail(
            person=notice.name,
            start=notice.start.date(),
            end=notice.end.date(),
            affected=[
                mails.OfficeHoursSlot(s.date(), s.time(), e.time()) for s, e in notice.office_hours
            ],
            short_notice=notice.short_notice,
            kind=notice.kind,
        )
        outbox.queue(f"absence|{notice.key}", mail, leaders)


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None
