"""Retention across every store (`[retention]`): besides the workbook's personal columns
(`jobs/retention.py`), mail in the service's folders, workbook backups, letters and the
copies of written rows in the state database are deleted or reduced after their period, and
erasures that could not reach a store are finished. Each key is off (0) until configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import MailboxError
from jugendhaus_mail.jobs.retention import apply_retention, cutoff_date
from jugendhaus_mail.mailbox.base import Folder
from jugendhaus_mail.privacy import records
from jugendhaus_mail.privacy.erase import blank, erase_person
from jugendhaus_mail.privacy.files import delete_files, old_backups, scrub_backups
from jugendhaus_mail.privacy.person import SelectionError, Traces, case_rows, parse, select
from jugendhaus_mail.state import StateDB, encode_row

log = logging.getLogger(__name__)


@dataclass
class StoresReport:
    dry_run: bool
    lines: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, count: int, text: str) -> None:
        if count:
            self.count += count
            verb = "würden gelöscht" if self.dry_run else "gelöscht"
            self.lines.append(f"  {text}: {count} {verb}")


def run_retention(app: App, *, dry_run: bool) -> tuple[list[str], str]:
    """Every store's retention; the lines to show and a one-line summary."""
    settings = app.settings.retention
    if not settings.enabled:
        return apply_retention(app, dry_run=dry_run).lines(), "ausgeschaltet"
    lines: list[str] = []
    summary = []
    if settings.months:
        cases = apply_retention(app, dry_run=dry_run)
        lines += [line for line in cases.lines() if not line.startswith("Probelauf")]
        summary.append(cases.summary())
        numbers = [c.nr for c in cases.clearings]
        if numbers:  # no backup keeps what the workbook no longer holds
            scrub = scrub_backups(app.settings.state_dir / "backups", numbers, [], dry_run=dry_run)
            if scrub.rewritten:
                verb = "würden" if dry_run else "wurden"
                lines.append(f"  {len(scrub.rewritten)} Sicherung(en) {verb} mit geleert")
    stores = apply_stores(app, dry_run=dry_run)
    lines += ["Weitere Speicher:", *stores.lines] if stores.lines else []
    summary.append(f"{stores.count} Einträge in weiteren Speichern")
    if dry_run:
        lines.append("Probelauf: nichts wurde verändert.")
    return lines, "; ".join(summary)


def apply_stores(app: App, *, dry_run: bool) -> StoresReport:
    settings, report = app.settings.retention, StoresReport(dry_run)
    if settings.mail_months or settings.sent_months:
        _mail(app, report)
    if settings.backup_days:
        before = app.now - timedelta(days=settings.backup_days)
        old = old_backups(app.settings.state_dir / "backups", before, app.settings.office.timezone)
        report.add(len(old), f"Sicherungen der Anfrageliste älter als {before:%d.%m.%Y}")
        for path in [] if dry_run else old:
            path.unlink(missing_ok=True)
    with app.state() as state:
        if settings.letters_days:
            before = app.now - timedelta(days=settings.letters_days)
            letters = records.letters(state, before=before)
            report.add(len(letters), f"Briefe geschrieben vor {before:%d.%m.%Y}")
            if not dry_run and letters:
                delete_files(letters)
                records.forget_letters(state, letters)
        if settings.state_days:
            reduced = _reduce_written(state, app.now - timedelta(days=settings.state_days), dry_run)
            report.add(reduced, "Kopien geschriebener Zeilen (auf Schlüssel reduziert)")
        waiting = sorted({nr for nr, *_ in records.pending(state)})
        if not dry_run and report.count:
            records.compact(state)
    report.add(len(waiting), "offene Löschungen nachgeholt")
    if not dry_run:
        for nr in waiting:
            _finish_erasure(app, nr)
    return report


def _mail(app: App, report: StoresReport) -> None:
    from jugendhaus_mail.mailbox import open_mailbox

    settings, team = app.settings.retention, app.settings.mail.team_address.casefold()
    plan: list[tuple[Folder, int]] = []
    if settings.mail_months:
        plan += [
            (Folder.ERFASST, settings.mail_months),
            (Folder.NICHT_ERFASST, settings.mail_months),
        ]
    if settings.sent_months:
        plan.append((Folder.POSTAUSGANG, settings.sent_months))
    try:
        with open_mailbox(app.settings) as box:
            for folder, months in plan:
                day = cutoff_date(app.calendar.local_date(app.now), months)
                before = datetime.combine(day, datetime.min.time(), app.now.tzinfo)
                sent = folder is Folder.POSTAUSGANG
                found = [
                    m.handle
                    for m in box.list_folder(folder, before=before, content=sent)
                    if not sent or _sent_by_service(m.raw, team)
                ]
                report.add(len(found), f"Mails im Ordner „{folder.value}“ vor {day:%d.%m.%Y}")
                if found and not report.dry_run:
                    box.delete(folder, found)
    except MailboxError as exc:
        report.lines.append(f"  Postfach nicht erreichbar, Mails beim nächsten Lauf: {exc}")


def _sent_by_service(raw: bytes, team: str) -> bool:
    """Only what the service sent: people sending from the team mailbox keep their mail."""
    message = parse(raw)
    automatic = str(message.get("Auto-Submitted", "")).strip().lower() == "auto-generated"
    return automatic and parseaddr(str(message.get("From", "")))[1].casefold() == team


def _reduce_written(state: StateDB, before: datetime, dry_run: bool) -> int:
    rows = state.conn.execute(
        "SELECT key, row_json FROM written_rows WHERE written_at < ?", (before.isoformat(),)
    ).fetchall()
    reduced = [(encode_row(blank(state.decode(data))), key, data) for key, data in rows]
    changed = [(new, key) for new, key, data in reduced if new != data]
    if changed and not dry_run:
        with state.transaction() as tx:
            tx.executemany("UPDATE written_rows SET row_json = ? WHERE key = ?", changed)
    return len(changed)


def _finish_erasure(app: App, nr: str) -> None:
    with app.state() as state:
        try:
            rows = case_rows(app.store().read().requests, state)
            person = select(rows, state, nr=nr)
            person.traces = Traces.loads(records.pending_traces(state, nr))
        except SelectionError:
            person = None
    if person is None:
        with app.state() as state:
            for store in ("workbook", "mailbox"):
                records.clear_pending(state, nr, store)
        return
    result = erase_person(
        app, person, dry_run=False, by="Löschfrist (nachgeholt)", sleep=lambda _: None
    )
    log.info("Löschung %s nachgeholt, offen: %d", nr, len(result.left))
