"""Mail that intake sends at once: the acknowledgement to the requester and, for Kinderschutz,
the immediate alert to the SGB VIII leads and the JSB (never waiting for the digest).

A request taken in late (an old inbox, a long outage) gets a short "nachträglich erfasst" note
instead of the acknowledgement, under the same outbox key: never a promise of a past date, and
never both."""

from __future__ import annotations

from datetime import date, datetime

from jugendhaus_mail.notify import render as mails
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.rules import next_office_hour
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar


def queue_intake_notices(
    outbox: Outbox, nr: str, row: Row, received: datetime, staff: Staff, calendar: WorkCalendar
) -> None:
    requester = str(row.get("requester_email") or "")
    due = row.get("contact_due")
    if requester and isinstance(due, date) and is_taken_in_late(outbox, received, due, calendar):
        # the promised date would be past or nearly so: say it was recorded, promise nothing
        late = mails.LateAcknowledgementMail(
            nr=nr,
            requester_name=str(row.get("requester_name") or ""),
            kind=str(row.get("kind") or ""),
            received=received,
            taken_in=calendar.local_date(outbox.now),
        )
        outbox.queue(f"{nr}|acknowledgement", late, [requester])
    elif requester and isinstance(due, date):
        slot = _next_office_hour(outbox, calendar)
        acknowledgement = mails.AcknowledgementMail(
            nr=nr,
            requester_name=str(row.get("requester_name") or ""),
            kind=str(row.get("kind") or ""),
            received=received,
            contact_person_due=due,
            next_office_hours=mails.OfficeHoursSlot(slot[0].date(), slot[0].time(), slot[1].time())
            if slot
            else None,
        )
        outbox.queue(f"{nr}|acknowledgement", acknowledgement, [requester])
    if row.get("kind") == "Kinderschutz":
        alert = mails.KinderschutzMail(
            nr=nr,
            requester_name=str(row.get("requester_name") or ""),
            requester_email=requester,
            received=received,
        )
        leads = [m.email for m in staff.by_role("Sachgebietsleitung")]
        leads += [m.email for m in staff.by_role("Teamleitung") if m.rechtskreis == "SGB VIII"]
        jsb = [m.email for m in staff.by_role("JSB")]
        outbox.queue(f"{nr}|kinderschutz", alert, leads + jsb)


def _next_office_hour(outbox: Outbox, calendar: WorkCalendar) -> tuple[datetime, datetime] | None:
    """`next_office_hour` after `outbox.now`, worked out once per cycle."""
    key = (calendar, outbox.now)
    if key not in outbox.office_slots:
        hours = outbox.settings.office.office_hours
        outbox.office_slots[key] = next_office_hour(outbox.now, calendar, hours)
    return outbox.office_slots[key]


def is_taken_in_late(outbox: Outbox, received: datetime, due: date, calendar: WorkCalendar) -> bool:
    """True when the mail is taken in more than `[mail] acknowledge_max_age_working_days`
    working days after its receipt, or after its contact-person deadline."""
    today = calendar.local_date(outbox.now)
    max_age = outbox.settings.mail.acknowledge_max_age_working_days
    return due < today or today > calendar.due_after_receipt(received, max_age)
