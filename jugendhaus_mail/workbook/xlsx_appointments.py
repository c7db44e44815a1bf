"""Write appointments from mail into sheet `Termine`, with the same splicing writer as
`Anfragen`: new rows below the table (idempotent through the hidden key column), and two kinds
of cell updates on existing rows, found by key (or by Nr. and time for a cancellation), never by
position: a moved appointment gets its new `Termin`, a cancelled one a date in `Abgesagt am`.

It runs through `WorkbookStore` like every write (locks, temp file, backup, replace), as a
writer of its own; the store checks that nothing of `Anfragen` changed, this module checks
`Termine`: no row lost, each new key there once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.model import CellValue, Changes, CommitResult, NewRow
from jugendhaus_mail.workbook.reader import read_appointments
from jugendhaus_mail.workbook.schema import Schema, Sheet
from jugendhaus_mail.workbook.xlsx_context import open_context
from jugendhaus_mail.workbook.xlsx_updates import Skipped, update_rows
from jugendhaus_mail.workbook.xlsx_writer import plan_changes
from jugendhaus_mail.workbook.xlsx_zip import Chunks, ZipPackage

SHEET = "Termine"


@dataclass(frozen=True)
class AppointmentChanges(Changes):
    """Changes to `Termine`; the inherited `Anfragen` fields stay empty."""

    rows: tuple[NewRow, ...] = ()
    moves: tuple[tuple[str, datetime], ...] = ()  # (key, new Termin)
    cancels: tuple[tuple[str, str, datetime, date], ...] = ()  # (key, Nr., Termin, day)

    def __bool__(self) -> bool:
        return bool(self.rows or self.moves or self.cancels)


def write_appointments(data: bytes, schema: Schema, changes: Changes) -> tuple[bytes, CommitResult]:
    if not isinstance(changes, AppointmentChanges) or changes.appends or changes.updates:
        raise ValueError("write_appointments takes AppointmentChanges for Termine only")
    sheet = schema.sheet(SHEET)
    before = read_appointments(data, schema)
    keys = tuple(dict.fromkeys(row.service_key for row in changes.rows))
    if changes.rows:
        package = ZipPackage(data)
        replacements, _, _ = plan_changes(package, sheet, Changes(appends=changes.rows))
        if replacements:
            data = package.rebuild(replacements)
    present = {row.get("service_key") for row in before}
    moved = [(r.service_key, r.values["start"]) for r in changes.rows if r.service_key in present]
    moves = (*changes.moves, *((k, v) for k, v in moved if isinstance(v, datetime)))
    changes = AppointmentChanges(rows=changes.rows, moves=moves, cancels=changes.cancels)
    updated, skipped = 0, list[Skipped]()
    if changes.moves or changes.cancels:
        data, updated, skipped = _update(data, schema, sheet, changes)
    _verify(read_appointments(data, schema), before, keys)
    # appended_keys name rows of Anfragen to the store's check; ours are checked above
    return data, CommitResult((), updated, skipped=tuple(map(str, skipped)))


def _targets(
    rows: list[dict[str, CellValue]], changes: AppointmentChanges
) -> dict[int, dict[str, CellValue]]:
    by_row: dict[int, dict[str, CellValue]] = {}
    for key, start in changes.moves:
        for row in rows:
            if row.get("service_key") == key and isinstance(row.get("_row"), int):
                by_row.setdefault(int(row["_row"]), {})["start"] = start  # type: ignore[arg-type]
    for key, nr, start, day in changes.cancels:
        for row in rows:
            number = row.get("_row")
            same_time = str(row.get("nr") or "").strip() == nr and row.get("start") == start
            if isinstance(number, int) and (row.get("service_key") == key or same_time):
                by_row.setdefault(number, {})["cancelled"] = day
    return by_row


def _update(
    data: bytes, schema: Schema, sheet: Sheet, changes: AppointmentChanges
) -> tuple[bytes, int, list[Skipped]]:
    targets = _targets(read_appointments(data, schema), changes)
    if not targets:
        return data, 0, []
    package = ZipPackage(data)
    context = open_context(package, sheet)
    parts = context.parts
    by_row = {
        number: {context.columns[k]: v for k, v in values.items() if k in context.columns}
        for number, values in targets.items()
    }
    skipped: list[Skipped] = []
    edits = update_rows(context, by_row, skipped)
    if not edits:
        return data, 0, skipped
    replacements: dict[str, Chunks] = {parts.sheet: context.sheet.splice(edits)}
    if context.styles is not None and context.styles.changed and parts.styles:
        replacements[parts.styles] = [context.styles.xml()]
    changed = sum(len(values) for values in by_row.values())
    return package.rebuild(replacements), changed - len(skipped), skipped


def _verify(
    after: list[dict[str, CellValue]], before: list[dict[str, CellValue]], keys: tuple[str, ...]
) -> None:
    found = [row.get("service_key") for row in after]
    lost = len(after) < len(before)
    doubled = [key for key in keys if found.count(key) != 1]
    if lost or doubled:
        raise WorkbookUnsafe(
            "Prüfung vor dem Speichern fehlgeschlagen: im Blatt Termine "
            + ("fehlen Zeilen" if lost else "steht ein neuer Termin nicht genau einmal")
            + ". Die Arbeitsmappe bleibt unverändert; bitte den Fehler melden."
        )
