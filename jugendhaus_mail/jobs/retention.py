"""Retention (SGB X, GDPR): personal data of closed cases is cleared after a set period.

`[retention] months` after `Fallende am` (0 = off), the columns in `clearing.PERSONAL_COLUMNS`
of that row are emptied in the workbook (see `clearing.py`); the case number, dates, kinds,
Rechtskreis, status and staff names stay for statistics. In the state database the matching
data is purged too: mail still queued about the case is dropped (nothing about a case closed
years ago is worth sending) and any row data is removed. A row counts from its `Fallende am`
only; a finished case without that date is never cleared (the dry run lists rows without Nr.,
which cannot be addressed). Backups in the state folder still hold the data until they are
rotated away (`[workbook] backups`); mail in the mailbox's folders falls under the mail
server's own retention rules.
"""

from __future__ import annotations

import calendar as month_calendar
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from jugendhaus_mail.app import App
from jugendhaus_mail.state import StateDB, drop_unused_patterns
from jugendhaus_mail.workbook.clearing import PERSONAL_COLUMNS, clear_personal
from jugendhaus_mail.workbook.model import CellUpdate, Changes, Snapshot
from jugendhaus_mail.workbook.schema import load_schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clearing:
    nr: str
    case_end: date
    columns: tuple[str, ...]  # column keys that still hold something


@dataclass
class RetentionReport:
    months: int
    cutoff: date | None  # cases that ended on or before this day are due
    dry_run: bool
    clearings: list[Clearing] = field(default_factory=list)
    rows_without_nr: list[int] = field(default_factory=list)
    ambiguous: list[tuple[int, str]] = field(default_factory=list)  # (row, Nr.) not cleared
    dropped_mails: int = 0

    def summary(self) -> str:
        if self.cutoff is None:
            return "ausgeschaltet ([retention] months = 0)"
        verb = "würden geleert" if self.dry_run else "geleert"
        return f"{len(self.clearings)} Fall/Fälle {verb} (Fallende bis {self.cutoff:%d.%m.%Y})"

    def lines(self) -> list[str]:
        """What was (or would be) cleared: case numbers and column headers only."""
        if self.cutoff is None:
            return [
                "Löschfrist ist ausgeschaltet ([retention] months = 0). Zum Einschalten z. B. "
                "months = 24 eintragen; vorher mit --dry-run ansehen."
            ]
        headers = {c.key: c.header for c in load_schema().requests.columns}
        lines = [
            f"Löschfrist {self.months} Monate: Fälle mit Fallende am {self.cutoff:%d.%m.%Y} "
            f"oder früher – {self.summary()}."
        ]
        for item in self.clearings:
            columns = ", ".join(headers[key] for key in item.columns)
            lines.append(f"  {item.nr} (Fallende {item.case_end:%d.%m.%Y}): {columns}")
        for row in self.rows_without_nr:
            lines.append(
                f"  Zeile {row}: Fallende abgelaufen, aber ohne Nr. – bitte von Hand leeren"
            )
        for row, nr in self.ambiguous:
            lines.append(
                f"  Zeile {row} ({nr}): Nr. steht mehrfach in der Liste – nicht geleert. Bitte "
                "die doppelte Nr. korrigieren; danach wird der Fall beim nächsten Lauf geleert"
            )
        if self.dropped_mails:
            lines.append(
                f"  {self.dropped_mails} nicht versandte Mail(s) zu diesen Fällen verworfen"
            )
        if self.dry_run:
            lines.append("Probelauf: nichts wurde verändert.")
        return lines


def cutoff_date(today: date, months: int) -> date:
    """`months` calendar months before `today` (the 31st becomes the month's last day)."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    last = month_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(today.day, last))


def plan(
    snapshot: Snapshot, cutoff: date
) -> tuple[list[Clearing], list[int], list[tuple[int, str]]]:
    """Due rows, rows without Nr., and rows whose Nr. another row carries too (clearing is
    addressed by Nr., so it would empty the other case as well: refused)."""
    clearings, without_nr, ambiguous = [], [], []
    counts = Counter(str(row.get("nr") or "").strip() for row in snapshot.requests)
    for row in snapshot.requests:
        end = row.get("case_end")
        end_day = end.date() if isinstance(end, datetime) else end
        if not isinstance(end_day, date) or end_day > cutoff:
            continue
        filled = tuple(k for k in PERSONAL_COLUMNS if row.get(k) not in (None, ""))
        if not filled:
            continue
        nr = str(row.get("nr") or "").strip()
        row_number = row.get("_row")
        number = row_number if isinstance(row_number, int) else 0
        if nr and counts[nr] > 1:
            ambiguous.append((number, nr))
        elif nr:
            clearings.append(Clearing(nr, end_day, filled))
        else:
            without_nr.append(number)
    return clearings, without_nr, ambiguous


def apply_retention(app: App, *, dry_run: bool) -> RetentionReport:
    months = app.settings.retention.months
    if months == 0:
        return RetentionReport(0, None, dry_run)
    report = RetentionReport(months, cutoff_date(app.calendar.local_date(app.now), months), dry_run)
    assert report.cutoff is not None
    store = app.new_store(clear_personal)
    report.clearings, report.rows_without_nr, report.ambiguous = plan(store.read(), report.cutoff)
    if dry_run or not report.clearings:
        return report
    updates = tuple(CellUpdate(c.nr, key, None) for c in report.clearings for key in c.columns)
    store.commit(Changes(updates=updates), now=app.now)
    with app.state() as state:
        report.dropped_mails = purge_state(state, [c.nr for c in report.clearings], app.now)
    log.info("Löschfrist: %s", report.summary())
    return report


def purge_state(state: StateDB, numbers: list[str], now: datetime) -> int:
    """Drop queued mail about these cases and any row data kept for them; returns how many
    unsent mails were dropped."""
    dropped = 0
    with state.transaction() as tx:
        for nr in numbers:
            prefix = nr + "|"
            cursor = tx.execute(
                "UPDATE outbox SET message = NULL, sent_at = COALESCE(sent_at, ?) "
                "WHERE substr(key, 1, ?) = ? AND message IS NOT NULL",
                (now.isoformat(), len(prefix), prefix),
            )
            dropped += cursor.rowcount
            tx.execute(
                "UPDATE messages SET row_json = NULL WHERE nr = ? AND written_at IS NOT NULL", (nr,)
            )
            tx.execute("DELETE FROM written_rows WHERE nr = ?", (nr,))  # the restore copy
        drop_unused_patterns(tx)
    return dropped
