"""Write the service's changes into the workbook without touching anything else.

`apply_changes` is a pure bytes -> bytes transform of the .xlsx/.xlsm package: it rewrites only
the worksheet XML of `Anfragen` and its table part; every other zip member is copied as the
very same bytes. The sheet is never loaded as a whole document: the writer splices the XML
text, reading only the header row, two columns (key and Nr.) and the rows it changes, so a
cycle stays cheap on sheets of 50,000 rows.

A caller that has just read the service keys from the very same bytes (the store does, for its
checks) passes them as `PresentKeys`; the writer then skips its own pass over the key column.
They are bound to the bytes by their SHA-256: keys read from any other version are ignored and
the writer looks the keys up itself, so a stale read can never make it write a row twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.model import CellValue, Changes, CommitResult, NewRow
from jugendhaus_mail.workbook.schema import Schema, Sheet
from jugendhaus_mail.workbook.xlsx_context import (
    WriteContext,
    column_texts,
    open_context,
)
from jugendhaus_mail.workbook.xlsx_grow import grow_defined_names, in_the_way
from jugendhaus_mail.workbook.xlsx_new_rows import render_new_row, row_renderer, template_styles
from jugendhaus_mail.workbook.xlsx_pass import SheetPass
from jugendhaus_mail.workbook.xlsx_sheet import (
    MAX_ROW,
    Area,
    Edit,
    RowXml,
)
from jugendhaus_mail.workbook.xlsx_stream import StreamSheet
from jugendhaus_mail.workbook.xlsx_updates import Skipped, update_rows
from jugendhaus_mail.workbook.xlsx_zip import CHUNK, Chunks, ZipPackage


@dataclass(frozen=True)
class PresentKeys:
    """The service keys (stripped, non-empty) of the request rows in the bytes whose SHA-256
    is `sha256`, as a reader found them."""

    sha256: str
    keys: frozenset[str]
    sheet: SheetPass | None = None  # the full pass over the request sheet (xlsx_pass), if made


def apply_changes(
    data: bytes,
    schema: Schema,
    changes: Changes,
    *,
    chunk_size: int = CHUNK,
    present: PresentKeys | None = None,
) -> tuple[bytes, CommitResult]:
    """Append new requests and update service cells; return the new bytes and what happened.

    `present`: the keys already in `data`, if the caller knows them (module docstring).
    Raises WorkbookUnsafe (nothing written) where writing would risk staff content, and
    ValueError for changes that name columns the service may not write (a programming error).
    """
    sheet_schema = schema.requests
    _check_changes(sheet_schema, changes)
    keys = tuple(dict.fromkeys(row.service_key for row in changes.appends))
    if not changes:
        return data, CommitResult(keys, 0)
    known = prepared = None
    if (
        present is not None
        and changes.appends
        and hashlib.sha256(data).hexdigest() == present.sha256
    ):
        known, prepared = present.keys, present.sheet
    package = ZipPackage(data)
    replacements, updated, skipped = plan_changes(
        package, sheet_schema, changes, chunk_size, known_keys=known, prepared=prepared
    )
    declined = len({(s.nr, s.column) for s in skipped})
    result = CommitResult(keys, updated - declined, skipped=tuple(map(str, skipped)))
    if not replacements:
        return data, result
    return package.rebuild(replacements), result


def plan_changes(
    package: ZipPackage,
    sheet_schema: Sheet,
    changes: Changes,
    chunk_size: int = CHUNK,
    *,
    known_keys: frozenset[str] | None = None,
    prepared: SheetPass | None = None,
) -> tuple[dict[str, Chunks], int, list[Skipped]]:
    """The new content of the parts that change (nothing when there is nothing to write), how
    many updates found their row, and the updates declined. The new sheet part is a generator
    that streams the old one with the edits applied. `known_keys`: the service keys the sheet
    holds, proved to be read from this package (None: look them up); `prepared`: the full
    pass over its sheet part, made by that same read (see xlsx_context.open_context)."""
    look_keys = bool(changes.appends) and known_keys is None
    lookups = ("service_key",) * look_keys + ("nr",) * bool(changes.updates)
    context = open_context(package, sheet_schema, chunk_size, lookups, prepared)
    parts = context.parts
    new_rows = _new_rows(context, changes.appends, known_keys)
    updated, row_updates = _route_updates(context, changes, new_rows)
    skipped: list[Skipped] = []
    edits = update_rows(context, row_updates, skipped)
    context.shared = None  # read for the last time: free it before the sheet is rebuilt
    if not new_rows and not edits:
        return {}, updated, skipped  # every cell already held its new value, or was declined
    table_xml = context.table.xml
    replacements: dict[str, Chunks] = {}
    if new_rows:
        new_last = _append(context, new_rows, edits)
        if new_last > context.table.area.last_row:
            table_xml = context.table.extended_xml(new_last)
            edits += context.sheet.extend_ranges(context.table.area, new_last)
            workbook = package.read(parts.workbook)
            names = grow_defined_names(workbook, sheet_schema.name, context.table.area, new_last)
            if names != workbook:
                replacements[parts.workbook] = [names]
        edits += context.sheet.extend_dimension(context.table.area, new_last)
    sheet = context.sheet
    replacements[parts.sheet] = (
        sheet.new_part(edits) if isinstance(sheet, StreamSheet) else sheet.splice(edits)
    )
    if table_xml != context.table.xml:
        replacements[parts.table_part] = [table_xml]
    if context.styles is not None and context.styles.changed and parts.styles:
        replacements[parts.styles] = [context.styles.xml()]
    return replacements, updated, skipped


def _check_changes(sheet: Sheet, changes: Changes) -> None:
    known = {column.key: column for column in sheet.columns}
    for row in changes.appends:
        unknown = set(row.values) - set(known)
        if unknown:
            raise ValueError(f"NewRow names unknown columns: {sorted(unknown)}")
    for update in changes.updates:
        column = known.get(update.column)
        if column is None:
            raise ValueError(f"CellUpdate names unknown column {update.column!r}")
        if not column.service_writes_later:
            raise ValueError(f"column {update.column!r} belongs to {column.owner}, not the service")


def _new_rows(
    context: WriteContext, appends: tuple[NewRow, ...], known_keys: frozenset[str] | None
) -> list[dict[str, CellValue]]:
    if not appends:
        return []
    if known_keys is None:
        known_keys = frozenset(text for _, text in column_texts(context, "service_key"))
    added: set[str] = set()  # the known keys are not copied (50,000 of them on long lists)
    rows: list[dict[str, CellValue]] = []
    for new in appends:
        key = new.service_key.strip()
        if key in known_keys or key in added:
            continue
        added.add(key)
        rows.append({**new.values, "service_key": key})
    return rows


def _route_updates(
    context: WriteContext, changes: Changes, new_rows: list[dict[str, CellValue]]
) -> tuple[int, dict[int, dict[int, CellValue]]]:
    """Apply updates to rows being appended; group the rest by sheet row. Returns the count of
    updates that found their row, and {row: {column: value}}."""
    if not changes.updates:
        return 0, {}
    if "nr" not in context.columns:
        header = context.schema.column("nr").header
        raise WorkbookUnsafe(
            f"In der Tabelle {context.table.name!r} fehlt die Spalte {header!r}; der Dienst "
            "findet die Anfragen nur über ihre Nummer. Bitte die Spalte wiederherstellen."
        )
    rows_by_nr: dict[str, list[int]] = {}
    for row, text in column_texts(context, "nr"):
        rows_by_nr.setdefault(text, []).append(row)
    new_by_nr = {str(values.get("nr", "")).strip(): values for values in new_rows}
    updated = 0
    by_row: dict[int, dict[int, CellValue]] = {}
    for update in changes.updates:
        nr = update.nr.strip()
        target = new_by_nr.get(nr) if nr else None
        rows = rows_by_nr.get(nr, [])
        if target is not None:
            target[update.column] = update.value
        col = context.columns.get(update.column)
        if col is not None:
            for row in rows:
                by_row.setdefault(row, {})[col] = update.value
        if target is not None or (rows and col is not None):
            updated += 1
    return updated, by_row


# --- appending ------------------------------------------------------------------------------


def _append(context: WriteContext, new_rows: list[dict[str, CellValue]], edits: list[Edit]) -> int:
    """Queue the edits that write `new_rows` below the last filled table row; return the
    table's new last row."""
    sheet, table = context.sheet, context.table
    area = table.area
    if table.totals_rows:
        raise WorkbookUnsafe(
            f"Die Tabelle {table.name!r} hat eine Ergebniszeile; darüber fügt der Dienst keine "
            "Zeilen ein. Bitte in Excel unter Tabellenentwurf die Ergebniszeile ausschalten "
            "(Summen lassen sich oberhalb oder auf einem eigenen Blatt bilden)."
        )
    last_filled, trailing = _last_filled_row(context)
    first = last_filled + 1
    last = last_filled + len(new_rows)
    if last > MAX_ROW:
        raise WorkbookUnsafe(
            f"Das Blatt {context.schema.name!r} ist voll (Excel erlaubt {MAX_ROW:,} Zeilen). "
            "Bitte abgeschlossene Anfragen in eine Archiv-Arbeitsmappe verschieben."
        )
    target = Area(area.first_col, first, area.last_col, last)
    _refuse_blocked(context, target, "neue Zeilen")
    occupied = in_the_way(context.parts, sheet, target, trailing.values())
    if occupied:
        raise WorkbookUnsafe(
            f"Die Tabelle {table.name!r} müsste für neue Anfragen bis Zeile {last} reichen; "
            f"dort liegt {occupied}. Der Dienst schreibt nichts, damit nichts verdeckt oder "
            "zerstört wird. Bitte das Hindernis weiter nach unten oder auf ein eigenes Blatt "
            "verschieben (ausgeblendete Zeilen einblenden, Filter aufheben); die neuen "
            "Anfragen bleiben so lange vorgemerkt."
        )
    template = template_styles(context, trailing.get(last_filled))
    render = row_renderer(context, template)
    rendered = []
    for number, values in enumerate(new_rows, start=first):
        by_col = {context.columns[k]: v for k, v in values.items() if k in context.columns}
        existing = trailing.get(number)
        if existing is None:
            rendered.append(render(number, by_col))
        else:  # a styled row already there: its cells are kept where no value goes
            rendered.append(render_new_row(context, number, by_col, template, existing))
    later = [row for number, row in sorted(trailing.items()) if number > last]
    replaced = [row for number, row in sorted(trailing.items()) if first <= number <= last]
    end = later[0].start if later else sheet.data_end
    start = replaced[0].start if replaced else end
    edits.append((start, end, b"".join(rendered)))
    return max(area.last_row, last)


def _last_filled_row(context: WriteContext) -> tuple[int, dict[int, RowXml]]:
    """The last table row with content, and every row after it (empty or styled only).

    Raises WorkbookUnsafe when a row below the table has content in the table's columns."""
    area = context.table.area
    rows: dict[int, RowXml] = {}
    for row in context.sheet.rows_backward():
        filled = any(c.has_content for c in row.cells if area.first_col <= c.col <= area.last_col)
        if filled and row.number > area.last_row:
            line = Area(area.first_col, row.number, area.last_col, row.number)
            what = in_the_way(context.parts, context.sheet, line, ())
            if what:
                raise WorkbookUnsafe(
                    f"Unter der Tabelle {context.table.name!r} liegt {what}; dorthin müsste sie "
                    "für neue Anfragen wachsen. Bitte das weiter nach unten oder auf ein eigenes "
                    "Blatt verschieben; die Änderungen bleiben so lange vorgemerkt."
                )
            raise WorkbookUnsafe(
                f"Unter der Tabelle {context.table.name!r} steht in Zeile {row.number} etwas, "
                "das nicht zur Tabelle gehört. Der Dienst hängt neue Anfragen erst an, wenn "
                "diese Zeilen in die Tabelle aufgenommen (Tabelle erweitern) oder verschoben "
                "sind. Die Änderungen bleiben so lange vorgemerkt."
            )
        rows[row.number] = row
        if filled or row.number <= area.first_row:
            return max(row.number, area.first_row), rows
    return area.first_row, rows


def _refuse_blocked(context: WriteContext, target: Area, what: str) -> None:
    for blocked, kind in context.sheet.blocked_areas():
        if blocked.overlaps(target):
            raise WorkbookUnsafe(
                f"Im Bereich {target} (für {what}) liegt {kind} ({blocked}). Der Dienst "
                "schreibt dort nicht, damit nichts zerstört wird. Bitte die Zellen im Blatt "
                f"{context.schema.name!r} auflösen; die Änderungen bleiben so lange vorgemerkt."
            )
