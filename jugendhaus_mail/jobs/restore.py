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
from dataclasses import dataclass, field
from datetime import date, datetime

from jugendhaus_mail.app import App
from jugendhaus_mail.intake.cycle import highest_numbers
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.notify.render import RenumberedMail, RowsRestoredMail
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.state import StateDB, encode_row
from jugendhaus_mail.workbook.deleted import deleted_numbers
from jugendhaus_mail.workbook.model import Row, Snapshot
from jugendhaus_mail.workbook.reader import ROW_KEY, read_file

log = logging.getLogger(__name__)

_CASE_NUMBER = re.compile(r"^(\d{4})-(\d{4,6})$")


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
    _restore_vanished(app, state, snapshot, report)
    state.set_checked_workbook(snapshot.fingerprint.sha256)
    _renumber_taken(app, state, snapshot, outbox, report)
    if report.restored and outbox is not None:
        _tell_staff(app, outbox, snapshot, report.restored, store.path.name)
    return report


def _restore_vanished(app: App, state: StateDB, snapshot: Snapshot, report: RestoreReport) -> None:
    ledger = state.ledger()
    in_workbook: dict[str, Row] = {}
    keyless: dict[str, list[Row]] = {}
    for row in snapshot.requests:
        key = str(row.get("service_key") or "").strip()
        if key:
            in_workbook[key] = row
        elif row.get("nr"):
            keyless.setdefault(str(row["nr"]).strip(), []).append(row)
    # staff edits are part of what a restore must bring back: keep the newest version seen
    seen = {}
    for key, row in in_workbook.items():
        if key in ledger or state.request_written(key):
            clean: Row = {k: v for k, v in row.items() if k != ROW_KEY and v is not None}
            encoded = encode_row(clean)
            if ledger.get(key, ("", ""))[1] != encoded:
                seen[key] = (str(row.get("nr") or ledger.get(key, ("", ""))[0]), encoded)
    if seen:
        state.refresh_written(seen, app.now)
    vanished = [key for key in ledger if key not in in_workbook]
    if not vanished:
        return
    pending = {p.key for p in state.pending_rows()}
    deleted = deleted_numbers(read_file(app.store().path)[0]) or set()
    forget = set()
    today = app.calendar.local_date(app.now)
    for key in vanished:
        nr, encoded = ledger[key]
        if key in pending:
            continue
        if nr in deleted:
            forget.add(nr)
            report.deleted.append(nr)
            continue
        row = state.decode(encoded)
        if any(r.get("received") == row.get("received") for r in keyless.get(nr, [])):
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
    app: App, state: StateDB, snapshot: Snapshot, outbox: Outbox | None, report: RestoreReport
) -> None:
    holders: dict[str, set[str]] = {}
    for row in snapshot.requests:
        nr = str(row.get("nr") or "").strip()
        holders.setdefault(nr, set()).add(str(row.get("service_key") or ""))
    highest = highest_numbers(snapshot)
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
