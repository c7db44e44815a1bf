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

import gc
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from jugendhaus_mail.errors import WorkbookChanged, WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.failpoints import failpoint
from jugendhaus_mail.intake import appointments
from jugendhaus_mail.intake.batch import Batch
from jugendhaus_mail.intake.classify import SenderLookup, extract_fields, request_kind
from jugendhaus_mail.intake.context import (
    OUTCOME_LABELS,
    CaseIndex,
    IntakeContext,
    IntakeReport,
    MailResult,
    Outcome,
    highest_numbers,
)
from jugendhaus_mail.intake.ledger import Incoming, implausible_receipt, read_batch
from jugendhaus_mail.intake.notices import queue_intake_notices
from jugendhaus_mail.intake.parse import ParsedMail
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage, Mailbox
from jugendhaus_mail.rules.cases import contact_person_due
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.state import FEEDBACK, Record, SeenMessage
from jugendhaus_mail.workbook.model import Changes, NewRow, Row

log = logging.getLogger(__name__)


def run_intake(ctx: IntakeContext, mailbox: Mailbox, *, dry_run: bool = False) -> IntakeReport:
    """Take in what the mailbox lists, in order of receipt. A dry run decides every mail exactly
    as the real run would (numbers, replies within the batch, duplicates) and changes nothing."""
    listing = mailbox.list_new()
    first = next(listing, None)  # whether mail waits: only then is a save likely to follow
    prepare = first is not None and not dry_run
    report = IntakeReport()
    with _collector_for_the_cycle() as settled:
        snapshot = ctx.store.read(columns=CaseIndex.COLUMNS, prepare_write=prepare)
        run = _Run(CaseIndex(snapshot), Staff(snapshot.staff), highest_numbers(snapshot), dry_run)
        in_workbook = {str(r["service_key"]) for r in snapshot.requests if r.get("service_key")}
        del snapshot  # a large list stays out of memory while the workbook is written
        settled()
        listed = chain((first,) if first is not None else (), listing)
        _take_in_all(ctx, mailbox, listed, run, report)
        if not dry_run:
            _write_pending(ctx, in_workbook, run.cases, report)
            report.waiting_reason = appointments.write_pending(ctx) or report.waiting_reason
    return report


@contextmanager
def _collector_for_the_cycle() -> Iterator[Callable[[], None]]:
    """No garbage collection while the workbook is read and the case index built: tens of
    thousands of objects that all stay alive, which each pass would walk for nothing. Once
    they exist (`settled()`), they are left out of the passes until the cycle ends (on a
    poll of 1,000 mails at 10,000 rows, a full pass of ~11 ms in about every second poll)."""
    was_enabled = gc.isenabled()
    gc.disable()

    def settled() -> None:
        gc.freeze()
        if was_enabled:
            gc.enable()

    try:
        yield settled
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _take_in_all(
    ctx: IntakeContext,
    mailbox: Mailbox,
    listed: Iterable[IncomingMessage],
    run: _Run,
    report: IntakeReport,
) -> None:
    """Every listed mail, in order of receipt, recorded and filed group by group."""
    batch = None if run.dry_run else Batch(ctx.state, mailbox, ctx.outbox, ctx.now)
    try:
        mails = read_batch(listed)
        run.recorded = _recorded(ctx, mails)
        for mail in mails:
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
    recorded: dict[str, SeenMessage] = field(default_factory=dict)  # see _recorded

    def next_number(self, ctx: IntakeContext, year: int) -> str:
        """The next case number of `year`, counted here (this process holds the instance
        lock); the batch stores the counter with the mails that took the numbers."""
        last = self.planned.get(year)
        if last is None:
            last = ctx.state.last_number(year)
        self.planned[year] = max(last, self.year_max.get(year, 0)) + 1
        return f"{year}-{self.planned[year]:04d}"


def _take_in(ctx: IntakeContext, batch: Batch | None, mail: Incoming, run: _Run) -> MailResult:
    """Decide one mail and hand it to the handler of its outcome; what changes goes into
    `batch` (None: a dry run changes nothing)."""
    known = _known(mail, run)
    if known is not None:
        return _seen_before(ctx, batch, mail, run, *known)
    run.handled[mail.key] = None
    decision = _decide(ctx, mail, run.cases)
    if decision.reason is not None:
        return _set_aside(batch, mail, decision.reason)
    if decision.replied is not None:
        return _reply(ctx, batch, mail, run, decision)
    return _request(ctx, batch, mail, run, decision.row)


@dataclass(frozen=True)
class _Decision:
    """What a new mail is: set aside (`reason`), a reply to case `replied` (perhaps with an
    appointment: `dates`, `side`), or else a new request with `row`."""

    reason: str | None = None
    replied: str | None = None
    dates: appointments.Reading | None = None
    side: str | None = None
    row: Row = field(default_factory=dict)


def _decide(ctx: IntakeContext, mail: Incoming, cases: CaseIndex) -> _Decision:
    parsed = mail.parsed
    reason = implausible_receipt(mail.received, ctx.now, ctx.calendar.tz) or parsed.automated_reason
    if reason is not None:
        return _Decision(reason)
    try:
        replied = cases.replied_case(parsed, ctx.state)
        today = ctx.calendar.local_date(ctx.now)
        dates = appointments.read_mail(mail.calendar, parsed.body_text, ctx.calendar.tz, today)
        side = None if dates is None else appointments.sender_side(ctx, parsed, cases)
        reason = appointments.set_aside_reason(dates, replied, side)
        if reason is not None:
            return _Decision(reason)
        if replied is not None:
            return _Decision(replied=replied, dates=dates, side=side)
        row = request_row(
            ctx,
            parsed,
            mail.received,
            cases.staff_rechtskreis,
            cases.staff_names,
            senders=cases.senders(ctx),
        )
    except Exception as exc:  # a mail must never block the inbox: set it aside, say why
        log.error("Mail %s nicht verarbeitbar: %s", parsed.key[:24], type(exc).__name__)
        return _Decision(f"Verarbeitungsfehler ({type(exc).__name__}) – bitte die Mail ansehen")
    return _Decision(row=row)


def _seen_before(
    ctx: IntakeContext,
    batch: Batch | None,
    mail: Incoming,
    run: _Run,
    seen: SeenMessage,
    stored_key: str,
) -> MailResult:
    """A mail recorded before: filed once more after a crash (recovered), else a duplicate."""
    recovered = not seen.filed and stored_key not in run.handled
    if stored_key == mail.key:  # a digest key: the very same mail
        recovered = recovered and seen.received == mail.received
    run.handled[mail.key] = seen.nr
    run.handled[stored_key] = seen.nr
    if not recovered:
        already = f"bereits erfasst als {seen.nr}" if seen.nr else "bereits bearbeitet"
        result = MailResult(mail.received, Outcome.DUPLICATE, seen.nr, reason=already)
        folder = Folder.NICHT_ERFASST
    else:
        result = MailResult(mail.received, Outcome.RECOVERED, seen.nr, reason=seen.reason)
        taken = seen.outcome in (Outcome.REQUEST, Outcome.REPLY)
        folder = Folder.ERFASST if taken else Folder.NICHT_ERFASST
        if seen.outcome == Outcome.REQUEST and seen.nr:
            cases = run.cases
            row = request_row(
                ctx,
                mail.parsed,
                mail.received,
                cases.staff_rechtskreis,
                cases.staff_names,
                senders=cases.senders(ctx),
            )
            cases.add(seen.nr, row, mail.parsed.message_id)
            _announce(ctx, seen.nr, row, mail.received, run.staff)
    if batch is not None:
        batch.file(mail.handle, folder, stored_key)
    return result


def _set_aside(batch: Batch | None, mail: Incoming, reason: str) -> MailResult:
    if batch is not None:
        batch.record(Record(mail.key, Outcome.SET_ASIDE, mail.received, reason=reason))
        batch.file(mail.handle, Folder.NICHT_ERFASST, mail.key)
    return MailResult(mail.received, Outcome.SET_ASIDE, reason=reason)


def _reply(
    ctx: IntakeContext, batch: Batch | None, mail: Incoming, run: _Run, decision: _Decision
) -> MailResult:
    """Feedback is recorded durably with the reply and written with the next workbook save."""
    replied, parsed = decision.replied, mail.parsed
    assert replied is not None
    feedback = FEEDBACK if run.cases.is_participant(replied, parsed.sender_address) else None
    run.handled[mail.key] = replied
    run.cases.note_message(parsed.message_id, replied)
    if batch is not None:
        if decision.dates is not None and decision.side is not None:  # Termine, next save
            appointments.record(
                ctx, mail.key, replied, decision.dates, decision.side, parsed, mail.received
            )
        batch.record(Record(mail.key, Outcome.REPLY, mail.received, nr=replied, reason=feedback))
        batch.file(mail.handle, Folder.ERFASST, mail.key)
    return MailResult(mail.received, Outcome.REPLY, replied, reason=feedback)


def _request(
    ctx: IntakeContext, batch: Batch | None, mail: Incoming, run: _Run, row: Row
) -> MailResult:
    year = ctx.calendar.local_date(mail.received).year
    nr = run.next_number(ctx, year)
    run.handled[mail.key] = nr
    run.cases.add(nr, row, mail.parsed.message_id)
    # queued with the record (one transaction for the batch), before the mail is filed: a
    # crash after the record files the mail only; no acknowledgement or alert is ever lost
    _announce(ctx, nr, row, mail.received, run.staff)
    if batch is not None:
        batch.record(Record(mail.key, Outcome.REQUEST, mail.received, nr=nr, row=row))
        batch.number_taken(year, run.planned[year])
        batch.file(mail.handle, Folder.ERFASST, mail.key)
    kind, rechtskreis = str(row["kind"]), str(row["rechtskreis"])
    return MailResult(mail.received, Outcome.REQUEST, nr, kind, rechtskreis)


def _recorded(ctx: IntakeContext, mails: list[Incoming]) -> dict[str, SeenMessage]:
    """What the state database held under the keys of this run's mails before the run, read
    in one go. Enough for `_known`: the run records mails only under their own keys, which
    `_Run.handled` answers for first, and never under a bare Message-ID key."""
    keys = [mail.key for mail in mails]
    keys += [mail.legacy_key for mail in mails if mail.legacy_key is not None]
    return ctx.state.seen_many(keys)


def _known(mail: Incoming, run: _Run) -> tuple[SeenMessage, str] | None:
    """The earlier record of this mail and the key it is stored under: this run (the same
    mail twice), its own key, or, in a database from before the content digest, its bare
    Message-ID key, unless another mail of this run has claimed that one already."""
    if mail.key in run.handled:
        nr = run.handled[mail.key]
        return SeenMessage(mail.key, "duplicate", nr, None, True, mail.received), mail.key
    seen = run.recorded.get(mail.key)
    if seen is not None:
        return seen, mail.key
    legacy = mail.legacy_key
    if legacy is None or legacy in run.handled:
        return None
    seen = run.recorded.get(legacy)
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
    senders: SenderLookup | None = None,
) -> Row:
    """The workbook row for a new request (without Nr., which the state database allocates).
    `senders`: the staff maps and the domain map as `SenderLookup` folded them (per run)."""
    if senders is None:
        domains = ctx.settings.intake.rechtskreis_domains
        senders = SenderLookup(domains, staff_rechtskreis, staff_names)
    calendar = ctx.calendar
    deadlines = ctx.settings.deadlines
    kind = request_kind(parsed.subject)
    fields = extract_fields(parsed.body_text, today=calendar.local_date(ctx.now))
    row: Row = {
        "received": received.astimezone(calendar.tz).replace(tzinfo=None, microsecond=0),
        "channel": "Teampostfach",
        "kind": kind,
        "subject": parsed.subject,
        "requester_name": senders.person_name(parsed.sender_name, parsed.sender_address),
        "requester_email": parsed.sender_address,
        "rechtskreis": senders.rechtskreis(parsed.sender_address),
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
    checked = ctx.state.checked_workbook()
    if checked:  # a crash after the save must not leave the version before it marked checked
        ctx.state.set_checked_workbook(None)
    try:
        result = ctx.store.commit(changes, now=ctx.now)
    except (WorkbookLocked, WorkbookUnsafe, WorkbookChanged) as exc:
        if checked and not isinstance(exc, WorkbookChanged):  # nothing was written
            ctx.state.set_checked_workbook(checked)
        report.pending = len(to_write)
        report.waiting_reason = str(exc)
        log.warning("%d Anfrage(n) warten auf die Anfrageliste: %s", len(to_write), exc)
        return
    failpoint("after_workbook_save")
    ctx.state.mark_written([*result.appended_keys, *feedback_keys], ctx.now)
    if checked and result.read_sha256 == checked and not changes.updates:
        # only rows the ledger now holds as written were added: the new version needs no
        # restore check (updated rows would leave stale copies in the ledger: check again)
        ctx.state.set_checked_workbook(result.landed_sha256)
    report.written = len(to_write)
    report.pending = len(to_write) - len(set(result.appended_keys) & {p.key for p in to_write})
