"""Nothing the service wrote is lost to a restored older workbook, and no Nr. is doubled.

Runs at the start of every intake cycle, before new mail is taken in:

1. The ledger (state table `written_rows`) holds every row the service wrote, refreshed each
   cycle with the row as it stands in the workbook (staff edits included). A row whose key is
   no longer in `Anfragen` is queued to be written again — the latest version the service saw,
   `Bemerkungen` marked "wiederhergestellt am …" — unless its Nr. stands in the sheet
   `Gelöscht` (a deliberate deletion: the copy is then forgotten). The JSB, with the admin in
   copy, get one mail per restore listing the numbers; `check` lists them too.
2. A waiting row whose Nr. staff meanwhile typed for another row (a warm handover) gets the
   next free number; the requester is told the corrected number and both are logged.

Without the key column nothing is compared (every row would look vanished); the upgrade step
and `check` say how to bring the column back.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from jugendhaus_mail.app import App
from jugendhaus_mail.intake.cycle import highest_of
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.notify.render import RenumberedMail, RowsRestoredMail
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.state import StateDB, encode_row
from jugendhaus_mail.workbook.deleted import deleted_numbers
from jugendhaus_mail.workbook.model import Row, Snapshot
from jugendhaus_mail.workbook.reader import ROW_KEY, read_file

log = logging.getLogger(__name__)

_CASE_NUMBER = re.compile(r"^(\d{4})-(\d{4,6})$")
COMPARE_CHUNK = 500  # rows compared with their copies per database query


@dataclass
class RestoreReport:
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    renumbered: list[tuple[str, str]] = field(default_factory=list)
    skipped: str | None = None


def reconcile_workbook(app: App, state: StateDB, outbox: Outbox | None) -> RestoreReport:
    """Compare the workbook with the ledger; skipped (without reading the rows) when nothing
    was ever taken in, or when the file is byte for byte the version compared last."""
    report = RestoreReport()
    store = app.store()
    checked, now_sha256 = state.checked_workbook(), store.fingerprint().sha256
    if checked == now_sha256:
        return report
    if not state.has_requests():  # nothing the service wrote could be missing
        state.set_checked_workbook(now_sha256)
        return report
    snapshot = store.read()
    key_header = store.schema.requests.column("service_key").header
    if key_header in snapshot.missing_headers.get(store.schema.requests.name, ()):
        report.skipped = f"Spalte „{key_header}“ fehlt"
        return report
    known = state.ledger_numbers()
    seen = _compare_rows(app, state, snapshot.requests, known)
    _restore_vanished(app, state, seen, known, report)
    state.set_checked_workbook(snapshot.fingerprint.sha256)
    _renumber_taken(app, state, seen.holders, outbox, report)
    if report.restored and outbox is not None:
        _tell_staff(app, outbox, snapshot, report.restored, store.path.name)
    return report


@dataclass
class _Seen:
    """What one pass over `Anfragen` leaves for the steps after it (small even on 50,000 rows:
    no row is kept)."""

    keys: set[str] = field(default_factory=set)
    holders: dict[str, set[str]] = field(default_factory=dict)  # Nr. -> keys in rows with it
    keyless: dict[str, list[object]] = field(default_factory=dict)  # Nr. -> Eingang, key empty


def _compare_rows(app: App, state: StateDB, rows: Iterable[Row], known: dict[str, str]) -> _Seen:
    """One pass over the rows: the ledger's copies take staff edits (the newest version seen
    is what a restore must bring back), compared a chunk of rows at a time."""
    seen = _Seen()
    chunk: dict[str, Row] = {}
    for row in rows:
        key = str(row.get("service_key") or "").strip()
        nr = str(row.get("nr") or "").strip()
        seen.holders.setdefault(nr, set()).add(str(row.get("service_key") or ""))
        if key:
            seen.keys.add(key)
            chunk[key] = row
            if len(chunk) >= COMPARE_CHUNK:
                _refresh_copies(app, state, chunk, known)
                chunk = {}
        elif nr:
            seen.keyless.setdefault(nr, []).append(row.get("received"))
    _refresh_copies(app, state, chunk, known)
    return seen


def _refresh_copies(app: App, state: StateDB, rows: dict[str, Row], known: dict[str, str]) -> None:
    written = {key for key in rows if key in known}
    written |= state.written_requests([key for key in rows if key not in known])
    copies = state.ledger_copies(written)
    changed = {}
    for key in written:
        row = rows[key]
        encoded = encode_row({k: v for k, v in row.items() if k != ROW_KEY and v is not None})
        nr, copy = copies.get(key, ("", ""))
        if copy != encoded:
            changed[key] = (str(row.get("nr") or nr), encoded)
    if changed:
        state.refresh_written(changed, app.now)


def _restore_vanished(
    app: App, state: StateDB, seen: _Seen, known: dict[str, str], report: RestoreReport
) -> None:
    """Queue the rows the ledger has and the workbook lost; rows deleted on purpose (listed in
    `Gelöscht`) are forgotten instead."""
    vanished = [key for key in known if key not in seen.keys]
    if not vanished:
        return
    pending = {p.key for p in state.pending_rows()}
    deleted = deleted_numbers(read_file(app.store().path)[0]) or set()
    copies = state.ledger_copies(vanished)
    forget = set()
    today = app.calendar.local_date(app.now)
    for key in vanished:
        if key in pending or key not in copies:
            continue
        nr, encoded = copies[key]
        if nr in deleted:
            forget.add(nr)
            report.deleted.append(nr)
            continue
        row = state.decode(encoded)
        if row.get("received") in seen.keyless.get(nr, ()):
            continue  # the row is there, only its key cell was emptied
        state.requeue_written(key, _marked(row, today), app.now)
        report.restored.append(nr)
        log.warning("Anfrage %s fehlte in der Anfrageliste und wird wieder eingetragen", nr)
    if forget:
        state.forget_written(forget)
        log.info("Bewusst gelöscht (Blatt Gelöscht): %s", ", ".join(sorted(forget)))


def _marked(row: Row, today: date) -> Row:
    note = f"wiederhergestellt am {today:%d.%m.%Y}"
    old = str(row.get("notes") or "").strip()
    values = {k: v for k, v in row.items() if k not in ("service_key", ROW_KEY)}
    values["notes"] = f"{old} – {note}" if old and note not in old else (old or note)
    return values


def _renumber_taken(
    app: App,
    state: StateDB,
    holders: dict[str, set[str]],
    outbox: Outbox | None,
    report: RestoreReport,
) -> None:
    highest = highest_of(holders)
    for pending in state.pending_rows():
        others = holders.get(pending.nr, set()) - {pending.key}
        if not others or pending.key in holders.get(pending.nr, set()):
            continue
        match = _CASE_NUMBER.match(pending.nr)
        year = int(match[1]) if match else app.calendar.local_date(app.now).year
        new = state.renumber(pending.key, pending.nr, year, highest.get(year, 0), pending.row)
        highest[year] = max(highest.get(year, 0), int(new.rpartition("-")[2]))
        report.renumbered.append((pending.nr, new))
        log.warning(
            "Nr. %s wurde inzwischen in der Anfrageliste von Hand vergeben; die wartende "
            "Anfrage bekommt %s (anfragende Person wird informiert)",
            pending.nr,
            new,
        )
        requester = str(pending.row.get("requester_email") or "")
        received = pending.row.get("received")
        if outbox is not None and requester and isinstance(received, datetime):
            name = str(pending.row.get("requester_name") or "")
            when = received if received.tzinfo else received.replace(tzinfo=app.calendar.tz)
            mail = RenumberedMail(new, pending.nr, name, when)
            outbox.queue(f"{new}|renumbered|{pending.nr}", mail, [requester])


def _tell_staff(
    app: App, outbox: Outbox, snapshot: Snapshot, numbers: list[str], file_name: str
) -> None:
    jsb = [m.email for m in Staff(snapshot.staff).by_role("JSB")]
    admin = [app.settings.mail.admin_address] if app.settings.mail.admin_address else []
    digest = hashlib.sha256("|".join(sorted(numbers)).encode()).hexdigest()[:16]
    mail = RowsRestoredMail(tuple(sorted(numbers)), file_name, app.now)
    outbox.queue(f"restored|{app.now:%Y-%m-%d}|{digest}", mail, jsb or admin, admin if jsb else [])
