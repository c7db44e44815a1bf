"""Erasure per young person (Art. 17 DSGVO, § 84 SGB X) across every store the service writes.

The case number stays (numbering, statistics, the transmission log) with a deletion record
that names what was erased, when and on whose command, never the data. What cannot be reached
now (the workbook open in Excel, the mailbox down) is recorded and finished by a later run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import MailboxError, WorkbookError, WorkbookLocked
from jugendhaus_mail.mailbox.base import Folder, Mailbox
from jugendhaus_mail.privacy import records
from jugendhaus_mail.privacy.files import delete_files, holds, scrub_backups
from jugendhaus_mail.privacy.person import Person
from jugendhaus_mail.state import StateDB, drop_unused_patterns, encode_row
from jugendhaus_mail.workbook.clearing import PERSONAL_COLUMNS, clear_personal
from jugendhaus_mail.workbook.model import CellUpdate, Changes, Row

log = logging.getLogger(__name__)
WAIT_ATTEMPTS = 3  # a workbook open in Excel: tried again this often, as intake waits
WAIT_SECONDS = 20.0


@dataclass
class EraseReport:
    numbers: list[str]
    dry_run: bool
    done: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "würde gelöscht" if self.dry_run else "gelöscht"
        head = f"Löschung für Nr. {', '.join(self.numbers)}"
        lines = [f"{head} ({'Probelauf' if self.dry_run else 'ausgeführt'}):"]
        lines += [f"  {verb}: {line}" for line in self.done] or [f"  nichts mehr {verb}"]
        lines += [f"  NICHT erreicht: {line}" for line in self.left]
        if self.left and not self.dry_run:
            lines.append(
                "Der Rest wird beim nächsten Lauf der Löschfristen nachgeholt oder mit demselben "
                "Befehl noch einmal; Nr. und Löschvermerk bleiben."
            )
        if self.dry_run:
            lines.append("Probelauf: nichts wurde verändert.")
        return lines


def erase_person(
    app: App,
    person: Person,
    *,
    dry_run: bool,
    by: str,
    open_mailbox: Callable[[], Mailbox] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> EraseReport:
    report = EraseReport(person.numbers, dry_run)
    terms = person.terms()
    workbook_ok = _erase_workbook(app, person, report, sleep)
    scrub = scrub_backups(
        app.settings.state_dir / "backups", person.numbers, terms, dry_run=dry_run
    )
    if scrub.rewritten:
        report.done.append(f"{len(scrub.rewritten)} Sicherung(en) der Anfrageliste bereinigt")
    if scrub.deleted:
        report.done.append(f"{len(scrub.deleted)} Sicherung(en) der Anfrageliste entfernt")
    mailbox_ok = _erase_mail(app, person, report, open_mailbox)
    with app.state() as state:
        letter_files = [p for nr in person.numbers for p in records.letters(state, nr=nr)]
        if letter_files:
            there = [p for p in letter_files if p.exists()]
            report.done.append(f"{len(there)} Brief-Datei(en)")
            if not dry_run:
                delete_files(letter_files)
                records.forget_letters(state, letter_files)
        rows = _erase_state(state, person, app.now, dry_run=dry_run)
        if rows:
            report.done.append(f"Zustandsdatenbank: {rows} Eintrag/Einträge")
        if dry_run:
            return report
        for nr in person.numbers:
            for store, ok, why in (
                ("workbook", workbook_ok, "Anfrageliste"),
                ("mailbox", mailbox_ok, "Postfach"),
            ):
                if ok:
                    records.clear_pending(state, nr, store)
                else:
                    traces = person.traced().dumps()
                    records.note_pending(state, nr, store, why, app.now, traces)
            what = "; ".join(report.done) or "nichts mehr vorhanden"
            if report.left:
                what += "; offen: " + "; ".join(report.left)
            records.record_deletion(state, nr, what, app.now, by)
        records.compact(state)
    log.info("Löschung für %s: %d Speicher, %d offen", person.numbers, len(report.done),
             len(report.left))  # fmt: skip
    return report


def _erase_workbook(
    app: App, person: Person, report: EraseReport, sleep: Callable[[float], None]
) -> bool:
    updates = tuple(
        CellUpdate(str(row["nr"]).strip(), key, None)
        for row in person.rows
        if row.get("nr") and "_row" in row
        for key in PERSONAL_COLUMNS
        if row.get(key) not in (None, "")
    )
    if not updates:
        return True
    report.done.append(f"Anfrageliste: {len(updates)} Zelle(n) mit Personendaten")
    if report.dry_run:
        return True
    store = app.new_store(clear_personal)
    for attempt in range(WAIT_ATTEMPTS):
        try:
            store.commit(Changes(updates=updates), now=app.now)
            if holds(app.settings.workbook.path, person.terms()):
                report.left.append(
                    "Anfrageliste: Daten der Person stehen noch in anderen Zellen oder Blättern "
                    "(von Fachkräften eingetragen) – bitte dort von Hand entfernen"
                )
            return True
        except WorkbookLocked as exc:
            if attempt + 1 < WAIT_ATTEMPTS:
                sleep(WAIT_SECONDS)
                continue
            reason = str(exc)
        except WorkbookError as exc:
            reason = str(exc)
        report.done.pop()
        report.left.append(f"Anfrageliste ({reason})")
        return False
    return False


def _erase_mail(
    app: App, person: Person, report: EraseReport, open_mailbox: Callable[[], Mailbox] | None
) -> bool:
    if open_mailbox is None:
        from jugendhaus_mail.mailbox import open_mailbox as open_configured

        def open_mailbox() -> Mailbox:
            return open_configured(app.settings)

    try:
        with open_mailbox() as box:
            for folder in Folder:
                found = [m.handle for m in box.list_folder(folder) if person.concerns(m.raw)]
                if found:
                    report.done.append(f"{len(found)} Mail(s) im Ordner „{folder.value}“")
                    if not report.dry_run:
                        box.delete(folder, found)
    except MailboxError as exc:
        report.left.append(f"Postfach ({exc})")
        return False
    return True


def blank(row: Row) -> Row:
    return {k: (None if k in PERSONAL_COLUMNS else v) for k, v in row.items()}


def _erase_state(state: StateDB, person: Person, now: datetime, *, dry_run: bool) -> int:
    """Queued rows keep their Nr. without personal cells (they are still written to the
    workbook, blank); the restore copy, unsent mail and set-aside data go."""
    count = 0
    pending = {p.key: p.row for p in state.pending_rows() if p.nr in person.numbers}
    for nr in person.numbers:
        prefix = nr + "|"
        count += state.conn.execute(
            "SELECT (SELECT COUNT(*) FROM messages WHERE nr = ? AND row_json IS NOT NULL) + "
            "(SELECT COUNT(*) FROM written_rows WHERE nr = ?) + "
            "(SELECT COUNT(*) FROM outbox WHERE substr(key, 1, ?) = ? AND message IS NOT NULL)",
            (nr, nr, len(prefix), prefix),
        ).fetchone()[0]
    if dry_run or not count:
        return count
    with state.transaction() as tx:
        for key, row in pending.items():
            tx.execute(
                "UPDATE messages SET row_json = ? WHERE key = ?", (encode_row(blank(row)), key)
            )
        for nr in person.numbers:
            prefix = nr + "|"
            tx.execute(
                "UPDATE messages SET row_json = NULL WHERE nr = ? AND written_at IS NOT NULL", (nr,)
            )
            tx.execute("DELETE FROM written_rows WHERE nr = ?", (nr,))
            tx.execute(
                "UPDATE outbox SET message = NULL, sent_at = COALESCE(sent_at, ?) "
                "WHERE substr(key, 1, ?) = ? AND message IS NOT NULL",
                (now.isoformat(), len(prefix), prefix),
            )
        drop_unused_patterns(tx)
    return count
