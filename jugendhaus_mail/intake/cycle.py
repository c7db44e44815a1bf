"""One intake cycle: team inbox → state database → request-list workbook.

Order of durable steps, chosen so that a crash at any instant loses nothing and doubles nothing:

1. read the workbook once (fast reader): staff, existing case numbers, keys already written;
2. per mail, in order of receipt (so numbers follow `Eingang`): parse, classify, decide (the
   case number counted in memory under the instance lock); per group of mails (`batch.py`)
   record every outcome, the numbers and the acknowledgements in the state database in one
   transaction; only then file the group into `Erfasst`/`Nicht erfasst`. A mail seen again
   (crash before the move) is recognised by its key (Message-ID and content digest, see
   `ledger`) and only filed; a mail already handled in this run is a duplicate, never
   "recovered";
3. write every pending row in one workbook save. A row whose key is already in the workbook
   (crash after the save) is not written again; the database is then brought up to date.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import WorkbookChanged, WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.failpoints import failpoint
from jugendhaus_mail.intake import appointments
from jugendhaus_mail.intake.batch import Batch
from jugendhaus_mail.intake.classify import (
    extract_fields,
    person_name,
    rechtskreis_for,
    request_kind,
)
from jugendhaus_mail.intake.ledger import Incoming, implausible_receipt, read_batch
from jugendhaus_mail.intake.notices import queue_intake_notices
from jugendhaus_mail.intake.parse import ParsedMail
from jugendhaus_mail.jobs.staff import Staff
from jugendhaus_mail.mailbox.base import Folder, Mailbox
from jugendhaus_mail.notify.outbox import Outbox, PlannedMail
from jugendhaus_mail.rules.cases import contact_person_due
from jugendhaus_mail.state import FEEDBACK, Record, SeenMessage, StateDB
from jugendhaus_mail.workbook.model import CellUpdate, Changes, NewRow, Row, Snapshot
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workdays import WorkCalendar

log = logging.getLogger(__name__)

_CASE_NUMBER = re.compile(r"^(\d{4})-(\d{4,6})$")
_CASE_IN_SUBJECT = re.compile(r"\[(\d{4}-\d{4,6})\]")

OUTCOME_LABELS = {
    "request": "erfasst",
    "set_aside": "nicht erfasst",
    "duplicate": "doppelt, nicht erfasst",
    "recovered": "erfasst (nachgeholt)",
    "reply": "Antwort zu bestehender Anfrage",
}


@dataclass(frozen=True)
class MailResult:
    received: datetime
    outcome: str  # request | set_aside | duplicate | recovered
    nr: str | None = None
    kind: str | None = None
    rechtskreis: str | None = None
    reason: str | None = None


@dataclass
class IntakeReport:
    mails: list[MailResult] = field(default_factory=list)
    written: int = 0
    pending: int = 0
    waiting_reason: str | None = None
    planned: list[PlannedMail] = field(default_factory=list)  # mail sent (or planned) meanwhile


@dataclass(frozen=True)
class IntakeContext:
    settings: Settings
    calendar: WorkCalendar
    state: StateDB
    store: WorkbookStore
    now: datetime
    outbox: Outbox | None = None  # acknowledgements and Kinderschutz alerts; None sends nothing


def run_intake(ctx: IntakeContext, mailbox: Mailbox, *, dry_run: bool = False) -> IntakeReport:
    """Take in what the mailbox lists, in order of receipt. A dry run decides every mail exactly
    as the real run would (numbers, replies within the batch, duplicates) and changes nothing."""
    snapshot = ctx.store.read()
    report = IntakeReport()
    run = _Run(CaseIndex(snapshot), Staff(snapshot.staff), _highest_numbers(snapshot), dry_run)
    in_workbook = {str(r["service_key"]) for r in snapshot.requests if r.get("service_key")}
    del snapshot  # a large list stays out of memory while the workbook is written
    batch = None if dry_run else Batch(ctx.state, mailbox, ctx.outbox, ctx.now)
    try:
        for mail in read_batch(mailbox.list_new()):
            result = _take_in(ctx, batch, mail, run)
            report.mails.append(result)
            if batch is not None:
                batch.mail_done()
                log.info(
                    "Mail %s: %s%s",
                    result.nr or "-",
                    OUTCOME_LABELS[result.outcome],
                    f" ({result.reason})" if result.reason else "",
                )
        if batch is not None:
            batch.commit()
    finally:
        if batch is not None:  # a group cut off by an error was never recorded nor filed
            batch.close()
    if not dry_run:
        _write_pending(ctx, in_workbook, run.cases, report)
        report.waiting_reason = appointments.write_pending(ctx) or report.waiting_reason
    return report


@dataclass
class _Run:
    """What one run knows beyond the state database: the mail it has handled (key -> Nr.),
    and, in a dry run, the numbers it would have handed out."""

    cases: CaseIndex
    staff: Staff
    year_max: dict[int, int]
    dry_run: bool
    handled: dict[str, str | None] = field(default_factory=dict)
    planned: dict[int, int] = field(default_factory=dict)

    def next_number(self, ctx: IntakeContext, year: int) -> str:
        """The next case number of `year`, counted here (this process holds the instance
        lock); the batch stores the counter with the mails that took the numbers."""
        last = self.planned.get(year, ctx.state.last_number(year))
        self.planned[year] = max(last, self.year_max.get(year, 0)) + 1
        return f"{year}-{self.planned[year]:04d}"


def _take_in(ctx: IntakeContext, batch: Batch | None, mail: Incoming, run: _Run) -> MailResult:
    """Decide one mail; what changes goes into `batch` (None: a dry run changes nothing)."""
    parsed, received, cases = mail.parsed, mail.received, run.cases
    known = _known(ctx, mail, run)
    if known is not None:
        seen, stored_key = known
        recovered = not seen.filed and stored_key not in run.handled
        if stored_key == mail.key:  # a digest key: the very same mail
            recovered = recovered and seen.received == received
        run.handled[mail.key] = seen.nr
        run.handled[stored_key] = seen.nr
        if not recovered:
            result = MailResult(
                received,
                "duplicate",
                seen.nr,
                reason=f"bereits erfasst als {seen.nr}" if seen.nr else "bereits bearbeitet",
            )
            folder = Folder.NICHT_ERFASST
        else:
            result = MailResult(received, "recovered", seen.nr, reason=seen.reason)
            folder = (
                Folder.ERFASST if seen.outcome in ("request", "reply") else Folder.NICHT_ERFASST
            )
            if seen.outcome == "request" and seen.nr:
                row = request_row(ctx, parsed, received, cases.staff_rechtskreis, cases.staff_names)
                cases.add(seen.nr, row, parsed.message_id)
                _announce(ctx, seen.nr, row, received, run.staff)
        if batch is not None:
            batch.file(mail.handle, folder, stored_key)
        return result

    run.handled[mail.key] = None
    reason = implausible_receipt(received, ctx.now, ctx.calendar.tz)
    try:
        reason = reason or parsed.automated_reason
        replied = None if reason else cases.replied_case(parsed, ctx.state)
        dates = (
            None
            if reason
            else appointments.read_mail(
                mail.calendar, parsed.body_text, ctx.calendar.tz, ctx.calendar.local_date(ctx.now)
            )
        )
        side = None if dates is None else appointments.sender_side(ctx, parsed, cases)
        reason = reason or appointments.set_aside_reason(dates, replied, side)
        row = (
            {}
            if reason
            else request_row(ctx, parsed, received, cases.staff_rechtskreis, cases.staff_names)
        )
    except Exception as exc:  # a mail must never block the inbox: set it aside, say why
        log.error("Mail %s nicht verarbeitbar: %s", parsed.key[:24], type(exc).__name__)
        reason = f"Verarbeitungsfehler ({type(exc).__name__}) – bitte die Mail ansehen"
    if reason is not None:
        result = MailResult(received, "set_aside", reason=reason)
        if batch is not None:
            batch.record(Record(mail.key, "set_aside", received, reason=reason))
            batch.file(mail.handle, Folder.NICHT_ERFASST, mail.key)
        return result

    if replied is not None:
        # feedback is recorded durably with the reply and written with the next workbook save
        feedback = FEEDBACK if cases.is_participant(replied, parsed.sender_address) else None
        run.handled[mail.key] = replied
        cases.note_message(parsed.message_id, replied)
        if batch is not None:
            if dates is not None and side is not None:  # Termine, written with the next save
                appointments.record(ctx, mail.key, replied, dates, side, parsed, received)
            batch.record(Record(mail.key, "reply", received, nr=replied, reason=feedback))
            batch.file(mail.handle, Folder.ERFASST, mail.key)
        return MailResult(received, "reply", replied, reason=feedback)

    year = ctx.calendar.local_date(received).year
    nr = run.next_number(ctx, year)
    run.handled[mail.key] = nr
    cases.add(nr, row, parsed.message_id)
    # queued with the record (one transaction for the batch), before the mail is filed: a
    # crash after the record files the mail only; no acknowledgement or alert is ever lost
    _announce(ctx, nr, row, received, run.staff)
    if batch is not None:
        batch.record(Record(mail.key, "request", received, nr=nr, row=row))
        batch.number_taken(year, run.planned[year])
        batch.file(mail.handle, Folder.ERFASST, mail.key)
    return MailResult(received, "request", nr, row["kind"], row["rechtskreis"])  # type: ignore[arg-type]


def _known(ctx: IntakeContext, mail: Incoming, run: _Run) -> tuple[SeenMessage, str] | None:
    """The earlier record of this mail and the key it is stored under: this run (the same
    mail twice), its own key, or, in a database from before the content digest, its bare
    Message-ID key, unless another mail of this run has claimed that one already."""
    if mail.key in run.handled:
        nr = run.handled[mail.key]
        return SeenMessage(mail.key, "duplicate", nr, None, True, mail.received), mail.key
    seen = ctx.state.seen(mail.key)
    if seen is not None:
        return seen, mail.key
    legacy = mail.legacy_key
    if legacy is None or legacy in run.handled:
        return None
    seen = ctx.state.seen(legacy)
    return None if seen is None else (seen, legacy)


def _announce(ctx: IntakeContext, nr: str, row: Row, received: datetime, staff: Staff) -> None:
    if ctx.outbox is not None:
        queue_intake_notices(ctx.outbox, nr, row, received, staff, ctx.calendar)


def request_row(
    ctx: IntakeContext,
    parsed: ParsedMail,
    received: datetime,
    staff_rechtskreis: dict[str, str],
    staff_names: dict[str, str] | None = None,
) -> Row:
    """The workbook row for a new request (without Nr., which the state database allocates)."""
    calendar = ctx.calendar
    deadlines = ctx.settings.deadlines
    kind = request_kind(parsed.subject)
    fields = extract_fields(parsed.body_text, today=calendar.local_date(ctx.now))
    row: Row = {
        "received": received.astimezone(calendar.tz).replace(tzinfo=None, microsecond=0),
        "channel": "Teampostfach",
        "kind": kind,
        "subject": parsed.subject,
        "requester_name": person_name(parsed.sender_name, parsed.sender_address, staff_names),
        "requester_email": parsed.sender_address,
        "rechtskreis": rechtskreis_for(
            parsed.sender_address, ctx.settings.intake.rechtskreis_domains, staff_rechtskreis
        ),
        "client_name": fields.client_name,
        "customer_number": fields.customer_number,
        "birth_date": fields.birth_date,
        "address": fields.address,
        "attachments": parsed.attachment_count,
        "contact_due": contact_person_due(
            kind, received, calendar, deadlines, ctx.settings.office.office_hours
        ),
        "status": "Neu",
    }
    if kind == "Hausbesuch":
        row["home_visit_due"] = calendar.due_after_receipt(received, deadlines.home_visit_days)
    return row


def _write_pending(
    ctx: IntakeContext, in_workbook: set[str], cases: CaseIndex, report: IntakeReport
) -> None:
    pending = ctx.state.pending_rows()
    already = [p.key for p in pending if p.key in in_workbook]
    if already:
        ctx.state.mark_written(already, ctx.now)
    to_write = [p for p in pending if p.key not in in_workbook]
    updates, feedback_keys = cases.feedback_updates(ctx.state.pending_feedback(), ctx.calendar)
    if not updates and feedback_keys:
        ctx.state.mark_written(feedback_keys, ctx.now)  # nothing newer to write
    if not to_write and not updates:
        return
    changes = Changes(appends=tuple(NewRow(p.key, p.row) for p in to_write), updates=tuple(updates))
    try:
        result = ctx.store.commit(changes, now=ctx.now)
    except (WorkbookLocked, WorkbookUnsafe, WorkbookChanged) as exc:
        report.pending = len(to_write)
        report.waiting_reason = str(exc)
        log.warning("%d Anfrage(n) warten auf die Anfrageliste: %s", len(to_write), exc)
        return
    failpoint("after_workbook_save")
    ctx.state.mark_written([*result.appended_keys, *feedback_keys], ctx.now)
    report.written = len(to_write)
    report.pending = len(to_write) - len(set(result.appended_keys) & {p.key for p in to_write})


class CaseIndex:
    """What intake needs to know about existing requests: who takes part in which case,
    and which mails started them, so that a reply is recognised as feedback."""

    def __init__(self, snapshot: Snapshot) -> None:
        by_role = {"IFK SGB II": "SGB II", "IFK SGB III": "SGB III", "JSB": "SGB VIII"}
        self.staff_rechtskreis: dict[str, str] = {}
        self.staff_names: dict[str, str] = {}  # e-mail -> Name in Mitarbeitende
        email_by_name: dict[str, str] = {}
        for person in snapshot.staff:
            email = str(person.get("email") or "").strip().lower()
            role = str(person.get("role") or "")
            rechtskreis = str(person.get("rechtskreis") or "").strip() or by_role.get(role, "")
            if email and rechtskreis:
                self.staff_rechtskreis[email] = rechtskreis
            if email and person.get("name"):
                self.staff_names.setdefault(email, str(person["name"]))
                email_by_name[str(person["name"]).strip().casefold()] = email
        self.email_by_name = email_by_name
        self.rows: dict[str, Row] = {}
        self.message_nrs: dict[str, str] = {}
        self.participants: dict[str, set[str]] = {}
        for row in snapshot.requests:
            if row.get("nr"):
                self.add(str(row["nr"]).strip(), row)

    def add(self, nr: str, row: Row, message_id: str | None = None) -> None:
        """Know a request, also one taken in during this cycle (a reply may follow at once)."""
        self.rows[nr] = {"last_feedback": row.get("last_feedback")}  # all intake reads of it
        self.note_message(message_id, nr)
        people = {str(row.get("requester_email") or "").strip().lower()}
        for name_key in ("contact_person", "sgb2_contact"):
            people.add(self.email_by_name.get(str(row.get(name_key) or "").strip().casefold(), ""))
        self.participants[nr] = people - {""}

    def replied_case(self, parsed: ParsedMail, state: StateDB) -> str | None:
        for nr in _CASE_IN_SUBJECT.findall(parsed.subject):
            if nr in self.rows or state.request_known(nr):
                return str(nr)
        for reference in parsed.references:
            if reference in self.message_nrs:
                return self.message_nrs[reference]
            seen = state.seen_message_id(reference)
            if seen is not None and seen.nr:
                return seen.nr
        return None

    def note_message(self, message_id: str | None, nr: str) -> None:
        """A mail of this run belongs to case `nr`: a reply to it in the same run (also in a
        dry run, which records nothing) is a reply, not a new request."""
        if message_id:
            self.message_nrs.setdefault(message_id, nr)

    def is_participant(self, nr: str, sender: str | None) -> bool:
        return bool(sender) and sender in self.participants.get(nr, set())

    def feedback_updates(
        self, pending: list[tuple[str, str, datetime]], calendar: WorkCalendar
    ) -> tuple[list[CellUpdate], list[str]]:
        """`Letzte Rückmeldung` moves forward to the newest feedback; returns the updates and
        the keys of the replies that are then accounted for."""
        newest: dict[str, date] = {}
        for _key, nr, received in pending:
            day = calendar.local_date(received)
            newest[nr] = max(day, newest.get(nr, day))
        updates = []
        for nr, day in newest.items():
            current = self.rows[nr].get("last_feedback") if nr in self.rows else None
            current_day = current.date() if isinstance(current, datetime) else current
            if not isinstance(current_day, date) or day > current_day:
                updates.append(CellUpdate(nr, "last_feedback", day))
        return updates, [key for key, nr, _ in pending if nr in self.rows]


def _highest_numbers(snapshot: Snapshot) -> dict[int, int]:
    highest: dict[int, int] = {}
    for row in snapshot.requests:
        match = _CASE_NUMBER.match(str(row.get("nr") or "").strip())
        if match:
            year, number = int(match[1]), int(match[2])
            highest[year] = max(highest.get(year, 0), number)
    return highest
