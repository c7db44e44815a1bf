"""Letters the reminder job sends to staff by itself, each once, to print and post.

- Ankündigung Hausbesuch: `Hausbesuch geplant am` is filled, `Ankündigung versandt am` is empty,
  `Hausbesuch durchgeführt am` is empty and the planned time has not passed. The letter goes
  to the visiting staff and the day is written into `Ankündigung versandt am`.
- Nicht angetroffen: `Ergebnis Hausbesuch` is „Nicht angetroffen“ and the visit was at most
  LETTERBOX_MAX_AGE_DAYS ago (so the first run on an old workbook does not send a pile of
  letters for visits long past).

Each letter is queued through the outbox under a key per case, letter and visit, so it is sent
once however often the job runs. The mail carries only the .docx (no PDF): staff check and
may edit it before printing, and the job does not depend on LibreOffice or wait for it.
A row that lacks a value gets a log warning naming the column in every cycle until it is
filled; nothing is sent for it. Letter content never goes into a log.
"""

from __future__ import annotations

import logging
from datetime import date

from jugendhaus_mail.app import App
from jugendhaus_mail.jobs.appointments import visit_calendar
from jugendhaus_mail.letters import TITLES
from jugendhaus_mail.letters.data import LetterError, build_letter, planned_visit, visit_day
from jugendhaus_mail.letters.render import DOCX_MIME, render_letter
from jugendhaus_mail.letters.wording import join_german, split_names
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.notify.render import LetterCoverMail
from jugendhaus_mail.rules.model import FINISHED_STATUSES, filled, numbered, status_is, text_in
from jugendhaus_mail.rules.staff import Member, Staff
from jugendhaus_mail.workbook.model import CellUpdate, Row, Snapshot

log = logging.getLogger(__name__)

NOT_MET = "Nicht angetroffen"
LETTERBOX_MAX_AGE_DAYS = 14
JSB_ROLE = "JSB"


def letter_triggers(app: App, outbox: Outbox, snapshot: Snapshot, today: date) -> list[CellUpdate]:
    """Queue due letters; return `Ankündigung versandt am` for each announcement queued."""
    staff = Staff(snapshot.staff)
    rows, _ = numbered(snapshot.requests)
    updates: list[CellUpdate] = []
    for nr, row in rows:
        if status_is(row, *FINISHED_STATUSES):
            continue
        if filled(row, "home_visit_planned") and not filled(row, "announcement_sent"):
            updates.extend(_announcement(app, outbox, snapshot, staff, nr, row, today))
        if text_in(row, "home_visit_result").casefold() == NOT_MET.casefold():
            _letterbox(app, outbox, snapshot, staff, nr, row, today)
    return updates


def _announcement(
    app: App, outbox: Outbox, snapshot: Snapshot, staff: Staff, nr: str, row: Row, today: date
) -> list[CellUpdate]:
    if filled(row, "home_visit_done"):
        return []
    try:
        planned = planned_visit(nr, row)
    except LetterError as exc:
        log.warning("Ankündigung Hausbesuch nicht erstellt: %s", exc)
        return []
    local = planned if planned.tzinfo else planned.replace(tzinfo=app.calendar.tz)
    if local <= app.now:
        log.info("%s: „Hausbesuch geplant am“ liegt in der Vergangenheit; keine Ankündigung", nr)
        return []
    key = f"{nr}|letter|hausbesuch|{planned:%Y-%m-%dT%H:%M}"
    # queued before (the sheet could not be updated then) or queued now: note the day
    sent = outbox.state.already_queued(key) or _queue(
        app, outbox, snapshot, staff, "hausbesuch", key, row
    )
    if sent and "announcement_sent" in row:  # a deleted column gets no update
        return [CellUpdate(nr, "announcement_sent", today)]
    return []


def _letterbox(
    app: App, outbox: Outbox, snapshot: Snapshot, staff: Staff, nr: str, row: Row, today: date
) -> None:
    try:
        day = visit_day(nr, row)
    except LetterError as exc:
        log.warning("Brief „Nicht angetroffen“ nicht erstellt: %s", exc)
        return
    if day > today:
        log.warning(
            "%s: „Ergebnis Hausbesuch“ ist „Nicht angetroffen“, der Hausbesuch liegt aber in der "
            "Zukunft; bitte „Hausbesuch durchgeführt am“ prüfen",
            nr,
        )
        return
    if (today - day).days > LETTERBOX_MAX_AGE_DAYS:
        return
    key = f"{nr}|letter|nicht-angetroffen|{day.isoformat()}"
    if not outbox.state.already_queued(key):
        _queue(app, outbox, snapshot, staff, "nicht-angetroffen", key, row)


def _queue(
    app: App, outbox: Outbox, snapshot: Snapshot, staff: Staff, kind: str, key: str, row: Row
) -> bool:
    """Render letter `kind` and queue it to the responsible staff; False when it could not."""
    try:
        letter = build_letter(kind, row, snapshot.staff, app.settings, app.calendar, app.now)
        data = render_letter(letter, app.settings.templates_dir)
    except LetterError as exc:
        log.warning("Brief „%s“ nicht erstellt: %s", TITLES[kind], exc)
        return False
    except Exception as exc:  # a broken office template must not stop the reminders
        # only the type: a parser's message may quote the filled-in letter
        nr = text_in(row, "nr")
        log.warning(
            "%s: Brief „%s“ nicht erstellt (%s); bitte die Brief-Vorlage mit "
            "`jugendhaus-mail letter %s %s --out probe.docx` prüfen",
            *(nr, TITLES[kind], type(exc).__name__, nr, kind),
        )
        return False
    people = responsible_staff(row, staff)
    mail = LetterCoverMail(
        nr=letter.nr,
        letter_title=letter.title,
        filename=letter.filename,
        recipient_name=join_german([p.name for p in people]) if len(people) <= 3 else "",
        warning=letter.warning,
    )
    attachments = [(letter.filename, data, DOCX_MIME)]
    if kind == "hausbesuch":  # the announced visit for Outlook (jobs/appointments.py)
        planned = planned_visit(letter.nr, row)
        attachments.append(visit_calendar(letter.nr, planned, app.now, app.calendar.tz))
    return outbox.queue(key, mail, [p.email for p in people], attachments=tuple(attachments))


def responsible_staff(row: Row, staff: Staff) -> list[Member]:
    """Who prints and posts the letter: the people in `Hausbesuch durch`, else the
    `Ansprechpartner JSB`, else every active member of the JSB."""
    visitors = [staff.by_name(name) for name in split_names(text_in(row, "home_visit_staff"))]
    found = [person for person in visitors if person is not None]
    if found:
        return found
    contact = staff.by_name(text_in(row, "contact_person"))
    if contact is not None:
        return [contact]
    return staff.by_role(JSB_ROLE)
