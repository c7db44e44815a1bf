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
from jugendhaus_mail.intake.context import highest_of
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.notify.render import RenumberedMail, RowsRestoredMail
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.state import StateDB, encode_row
from jugendhaus_mail.workbook.deleted import deleted_numbers
from jugendhaus_mail.workbook.model import CellValue, FileFingerprint, Row
from jugendhaus_mail.workbook.reader import ROW_KEY, read_file, read_snapshot

log = logging.getLogger(__name__)

_CASE_NUMBER = re.compile(r"^(\d{4})-(\d{4,6})$")
COMPARE_CHUNK = 500  # copies read per database query
COLUMN_GROUP = 6  # request columns read at a time when rows are compared with their copies
DIGEST = 16  # bytes of a group digest


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
    # numbers, keys, Eingang (and staff for the mail); not through the store, whose cache
    # would keep these rows while the column groups are read
    base = read_snapshot(store.path, store.schema, columns=("received",))
    key_header = store.schema.requests.column("service_key").header
    if key_header in base.missing_headers.get(store.schema.requests.name, ()):
        report.skipped = f"Spalte „{key_header}“ fehlt"
        return report
    known = state.ledger_numbers()
    seen = _scan(base.requests)
    staff, version = Staff(base.staff), base.fingerprint
    del base  # on 50,000 rows every megabyte counts while the column groups are read
    if not _refresh_copies(app, state, seen, known, version):
        report.skipped = "Arbeitsmappe während des Vergleichs geändert"
        log.info("Die Anfrageliste wurde während des Abgleichs gespeichert; er folgt erneut.")
        return report  # compared again next time, on one version
    _restore_vanished(app, state, seen, known, report)
    state.set_checked_workbook(version.sha256)
    _renumber_taken(app, state, seen.holders, outbox, report)
    if report.restored and outbox is not None:
        _tell_staff(app, outbox, staff, report.restored, store.path.name)
    return report


@dataclass
class _Seen:
    """What the pass over numbers and keys of `Anfragen` leaves for the steps after it."""

    keys: set[str] = field(default_factory=set)
    holders: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Nr. -> keys of its rows
    keyless: dict[str, list[object]] = field(default_factory=dict)  # Nr. -> Eingang, key empty


def _scan(rows: Iterable[Row]) -> _Seen:
    seen = _Seen()
    for row in rows:
        key = str(row.get("service_key") or "").strip()
        nr = str(row.get("nr") or "").strip()
        seen.holders[nr] = (*seen.holders.get(nr, ()), str(row.get("service_key") or ""))
        if key:
            seen.keys.add(key)
        elif nr:
            seen.keyless.setdefault(nr, []).append(row.get("received"))
    return seen


def _refresh_copies(
    app: App, state: StateDB, seen: _Seen, known: dict[str, str], version: FileFingerprint
) -> bool:
    """The ledger's copies take staff edits (the newest version seen is what a restore must
    bring back). Every column of 50,000 rows at once would cost hundreds of MiB, so the rows
    are read a group of columns at a time and compared with the copies by a digest per group;
    only the groups that differ are kept, the rest of a changed row comes from its copy.
    False when the file changed between the reads; the groups refreshed until then came from
    one real version, and the next poll compares again."""
    store = app.store()
    columns = [column.key for column in store.schema.requests.columns]
    # every n-th column into one group, not neighbours: the columns with a different text in
    # each row (name, address, Kundennummer) stand side by side, and their shared strings in
    # one group would make that group's read the largest (50,000 rows: +10 MiB at the peak)
    count = -(-len(columns) // COLUMN_GROUP)
    groups = [columns[i::count] for i in range(count)]
    written = {key for key in seen.keys if key in known}
    written |= state.written_requests([key for key in seen.keys if key not in known])
    digests = _copy_digests(state, written, groups)
    for index, group in enumerate(groups):
        # not through the store: its cache would hold a second copy of each group's rows
        snapshot = read_snapshot(store.path, store.schema, columns=group)
        if snapshot.fingerprint != version:
            return False
        changed: dict[str, dict[str, CellValue]] = {}
        for row in snapshot.requests:
            key = str(row.get("service_key") or "").strip()
            digest = digests.get(key, b"")[index * DIGEST : (index + 1) * DIGEST]
            if key in written and _group_digest(row, group) != digest:
                changed[key] = {column: row.get(column) for column in group}
        del snapshot
        keys = list(changed)
        for start in range(0, len(keys), COMPARE_CHUNK):
            part = {key: changed[key] for key in keys[start : start + COMPARE_CHUNK]}
            state.refresh_written(_new_copies(state, part, known), app.now)
    return True


def _group_digest(row: Row, group: list[str]) -> bytes:
    text = repr([row.get(column) for column in group])  # types show: '1' is not 1
    return hashlib.blake2b(text.encode(), digest_size=DIGEST).digest()


def _copy_digests(state: StateDB, keys: set[str], groups: list[list[str]]) -> dict[str, bytes]:
    """key -> the digests of its copy, group by group (a few bytes a row, not the row)."""
    digests = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), COMPARE_CHUNK):
        part = ordered[start : start + COMPARE_CHUNK]
        copies = state.ledger_copies(part)
        for key in part:  # keyed by the strings already held, not the database's copies
            if key in copies:
                copy = state.decode(copies[key][1])
                digests[key] = b"".join(_group_digest(copy, group) for group in groups)
    return digests


def _new_copies(
    state: StateDB, changed: dict[str, dict[str, CellValue]], known: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """key -> (Nr., row JSON): the copy with the columns given taken from the workbook (a row
    written before the ledger existed: only what the workbook holds)."""
    copies = state.ledger_copies(list(changed))
    fresh = {}
    for key, values in changed.items():
        old_nr, data = copies.get(key, (known.get(key, ""), ""))
        row = state.decode(data) if data else {}
        for column, value in values.items():
            row.pop(column, None)
            if value is not None:
                row[column] = value
        fresh[key] = (str(row.get("nr") or old_nr), encode_row(row))
    return fresh


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
    holders: dict[str, tuple[str, ...]],
    outbox: Outbox | None,
    report: RestoreReport,
) -> None:
    highest = highest_of(holders)
    for pending in state.pending_rows():
        others = set(holders.get(pending.nr, ())) - {pending.key}
        if not others or pending.key in holders.get(pending.nr, ()):
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


def _tell_staff(app: App, outbox: Outbox, staff: Staff, numbers: list[str], file_name: str) -> None:
    jsb = [m.email for m in staff.by_role("JSB")]
    admin = [app.settings.mail.admin_address] if app.settings.mail.admin_address else []
    digest = hashlib.sha256("|".join(sorted(numbers)).encode()).hexdigest()[:16]
    mail = RowsRestoredMail(tuple(sorted(numbers)), file_name, app.now)
    outbox.queue(f"restored|{app.now:%Y-%m-%d}|{digest}", mail, jsb or admin, admin if jsb else [])
