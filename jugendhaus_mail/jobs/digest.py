"""The daily digest for team leaders: on working days only, once a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from jugendhaus_mail.app import App
from jugendhaus_mail.jobs.appointments import conflict_line, open_conflicts
from jugendhaus_mail.jobs.remind import reminders_paused
from jugendhaus_mail.mailbox.base import Mailbox
from jugendhaus_mail.notify import render as mails
from jugendhaus_mail.notify.outbox import Outbox, undelivered_mail
from jugendhaus_mail.rules import DigestItem, digest, duties, is_digest_day
from jugendhaus_mail.rules.sprechzeiten import office_hours_on
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.state import StateDB, Unaddressed
from jugendhaus_mail.workdays import WorkCalendar

LAST_DIGEST = "digest.last_sent_at"


@dataclass
class DigestReport:
    outbox: Outbox
    skipped_reason: str | None = None


def run_digest(
    app: App,
    state: StateDB,
    mailbox: Mailbox | None,
    *,
    dry_run: bool = False,
    to: str | None = None,
) -> DigestReport:
    settings, calendar = app.settings, app.calendar
    today = calendar.local_date(app.now)
    outbox = Outbox(settings, state, app.now, dry_run=dry_run)
    if to is None and not is_digest_day(today, calendar):
        reason = calendar.non_working_reason(today) or "kein Arbeitstag"
        return DigestReport(outbox, f"heute kein Versand ({reason})")
    daily_key = f"digest|{today.isoformat()}"
    if to is None and state.queued_mail(daily_key) is not None:
        if mailbox is not None:
            outbox.flush(mailbox)  # one queued while the mailbox was down goes out now
        # read again: the flush may just have sent it
        return DigestReport(outbox, _already(state.queued_mail(daily_key), calendar))
    snapshot = app.store().read()
    hours = settings.office.office_hours
    open_duties, problems = duties(
        snapshot.requests, snapshot.staff, calendar, settings.deadlines, today, office_hours=hours
    )
    last = state.get(LAST_DIGEST)
    since = datetime.fromisoformat(last) if last else None
    data = digest(
        snapshot.requests,
        snapshot.staff,
        snapshot.absences,
        open_duties,
        calendar,
        app.now,
        since,
        settings.deadlines,
        office_hours=hours,
    )
    due, organiser = data.next_qualitaetsdialog
    clashes, appointment_problems = open_conflicts(app, snapshot)
    problems = [*problems, *appointment_problems]
    paused = reminders_paused(app, snapshot)  # the lists below may be wrong: said first
    shown = ([paused] if paused else []) + [f"{p.nr or '–'}: {p.message_de}" for p in problems]
    unsent = state.unaddressed(not_in_digest=True)
    mail = mails.DigestMail(
        today=today,
        kinderschutz=[_item(i) for i in data.kinderschutz],
        overdue=[_item(i) for i in data.overdue],
        due_soon=[_item(i) for i in data.due_soon],
        new=[_item(i) for i in data.new],
        without_contact=[_item(i) for i in data.without_contact],
        absences=[
            mails.DigestAbsence(
                a.name,
                a.start.date(),
                a.end.date(),
                [
                    mails.OfficeHoursSlot(s.date(), s.time(), e.time())
                    for s, e in office_hours_on(today, calendar, settings.office.office_hours)
                    if s < a.end.replace(tzinfo=s.tzinfo) and e > a.start.replace(tzinfo=s.tzinfo)
                ],
            )
            for a in data.absences_today
        ],
        next_dialog=mails.DialogInfo(due, organiser),
        since=since,
        problems=shown[:20],
        unsent=([_unsent(u, calendar.tz) for u in unsent] + _undelivered(state, app.now))[:20],
        appointments=[conflict_line(c) for c in clashes][:20],
    )
    if to is not None:
        recipients, key = [to], f"digest|{today.isoformat()}|{to}|{app.now.isoformat()}"
    else:
        recipients, key = (
            [m.email for m in Staff(snapshot.staff).leaders()],
            daily_key,
        )
    queued = outbox.queue(key, mail, recipients)
    if not dry_run and queued and to is None:
        state.put(LAST_DIGEST, app.now.isoformat())
        state.mark_unaddressed_in_digest([u.key for u in unsent], app.now)
    if mailbox is not None:
        outbox.flush(mailbox)
    if not queued:
        return DigestReport(
            outbox,
            "nicht versandt: kein Empfänger – bitte im Blatt Mitarbeitende Teamleitungen und "
            "die Sachgebietsleitung (Aktiv = Ja, Adresse in [mail] internal_domains) eintragen",
        )
    return DigestReport(outbox)


def _already(entry: tuple[datetime, datetime | None] | None, calendar: WorkCalendar) -> str:
    if entry is None or entry[1] is None:
        return (
            "heute schon vorgemerkt, aber noch nicht gesendet – das Postfach war nicht "
            "erreichbar; der Dienst sendet sie beim nächsten Lauf"
        )
    return f"heute schon versandt ({entry[1].astimezone(calendar.tz):%H:%M} Uhr)"


def _unsent(entry: Unaddressed, zone: tzinfo) -> str:
    return (
        f"{entry.recorded_at.astimezone(zone):%d.%m.%Y %H:%M}: „{entry.subject}“ – {entry.reason}"
    )


def _undelivered(state: StateDB, now: datetime) -> list[str]:
    return [mail.line() for mail in undelivered_mail(state, now)]


def _item(item: DigestItem) -> mails.DigestItem:
    return mails.DigestItem(
        nr=item.nr or "–",
        kind=item.kind or "",
        label=item.label,
        due=item.due,
        responsible=item.responsible,
        days_overdue=item.days_overdue,
    )
