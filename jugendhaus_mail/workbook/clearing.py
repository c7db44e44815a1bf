"""Emptying personal cells of old cases: the one deliberate exception to "the service writes
only its own columns" (retention, see `retention.py`).

`clear_personal` has the writer signature of `WorkbookStore`, so a clearing goes through the
same safe commit as every other change: refused while the workbook is open, verified, backed
up, atomically replaced. It accepts nothing but `CellUpdate(nr, column, None)` for the columns
in `PERSONAL_COLUMNS`; the regular writer keeps refusing staff columns.

A cell keeps its formatting and loses its value. Excel stores typed text in the shared-string
table, not in the cell, so an emptied cell would leave the name in the file: strings that no
cell refers to any more are blanked too (their slots stay, so other cells' indices stay valid).
Cells with a formula are left alone and reported.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from jugendhaus_mail.workbook.migrate import header_columns
from jugendhaus_mail.workbook.model import Changes, CommitResult, header_key
from jugendhaus_mail.workbook.schema import Schema
from jugendhaus_mail.workbook.xlsx_cells import cell_xml, shared_index, shared_strings, value_text
from jugendhaus_mail.workbook.xlsx_sheet import Edit, SheetText, col_letters, render_row
from jugendhaus_mail.workbook.xlsx_zip import Chunks, ZipPackage, locate_parts, read_relationships

log = logging.getLogger(__name__)

# The young person's data and free text; case number, dates, kinds, Rechtskreis, status and
# staff names stay for statistics and the half-year report.
PERSONAL_COLUMNS = (
    "subject",
    "requester_name",
    "requester_email",
    "client_name",
    "customer_number",
    "birth_date",
    "address",
    "notes",
)
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_SHARED_TYPE = re.compile(rb"""\bt\s*=\s*["']s["']""")
_VALUE = re.compile(rb"<v>\s*(\d+)\s*</v>")
_SI_START = re.compile(rb"<si[\s>/]")
EMPTY_STRING = b"<si><t></t></si>"


def clear_personal(data: bytes, schema: Schema, changes: Changes) -> tuple[bytes, CommitResult]:
    for update in changes.updates:
        if update.column not in PERSONAL_COLUMNS or update.value is not None or changes.appends:
            raise ValueError(f"clear_personal only empties personal columns, not {update!r}")
    package = ZipPackage(data)
    parts = locate_parts(package, schema.requests)
    shared = package.read(parts.shared) if parts.shared else None
    sheet = SheetText(package.read(parts.sheet), schema.requests.name)
    found = header_columns(sheet, parts, shared)
    columns = {
        c.key: found[header_key(c.header)]
        for c in schema.requests.columns
        if header_key(c.header) in found
    }
    if "nr" not in columns:
        return data, CommitResult((), 0)
    rows_by_nr = _rows_by_nr(sheet, parts.table.area.first_row, shared, columns["nr"])
    targets: dict[int, set[int]] = {}
    found_cells: list[list[tuple[int, int]]] = []
    for update in changes.updates:
        rows, col = rows_by_nr.get(update.nr.strip(), []), columns.get(update.column)
        if rows and col is not None:
            found_cells.append([(row, col) for row in rows])
            for row in rows:
                targets.setdefault(row, set()).add(col)
    edits, dropped, kept = _clear_cells(sheet, targets)
    # an update whose cell holds a formula is declined, not applied
    updated = sum(1 for cells in found_cells if not kept.intersection(cells))
    if not edits:
        return data, CommitResult((), updated)
    new_sheet = b"".join(bytes(piece) for piece in sheet.splice(edits))
    replacements: dict[str, Chunks] = {parts.sheet: [new_sheet]}
    if parts.shared and shared and dropped:
        still = _shared_references(package, exclude=parts.sheet) + _count_refs(new_sheet)
        orphans = {index for index in dropped if still[index] == 0}
        if orphans:
            replacements[parts.shared] = [_blank_strings(shared, orphans)]
    return package.rebuild(replacements), CommitResult((), updated)


def _rows_by_nr(
    sheet: SheetText, header_row: int, shared: bytes | None, col: int
) -> dict[str, list[int]]:
    cells = [
        (row, kind, inner) for row, kind, inner in sheet.column_values(col) if row > header_row
    ]
    wanted = {i for _, kind, inner in cells if (i := shared_index(kind, inner)) is not None}
    strings = shared_strings(shared, wanted)
    rows: dict[str, list[int]] = {}
    for row, kind, inner in cells:
        text = value_text(kind, inner, strings)
        if text and text.strip():
            rows.setdefault(text.strip(), []).append(row)
    return rows


def _clear_cells(
    sheet: SheetText, targets: dict[int, set[int]]
) -> tuple[list[Edit], set[int], set[tuple[int, int]]]:
    """Edits that empty the target cells, the shared-string indices they referred to, and the
    (row, column) of formula cells left alone."""
    edits: list[Edit] = []
    dropped: set[int] = set()
    kept: set[tuple[int, int]] = set()
    for row in sheet.rows_at(sorted(targets)):
        cells, changed = [], False
        for cell in row.cells:
            if cell.col not in targets[row.number] or not cell.has_content:
                cells.append(cell.raw)
                continue
            ref = f"{col_letters(cell.col)}{row.number}"
            if cell.has_formula:
                log.warning("Zelle %s enthält eine Formel und wird nicht geleert", ref)
                kept.add((row.number, cell.col))
                cells.append(cell.raw)
                continue
            index = shared_index(cell.attrs.get("t", "n"), cell.inner)
            if index is not None:
                dropped.add(index)
            cells.append(cell_xml(ref, cell.attrs.get("s"), None, False))
            changed = True
        if changed:
            edits.append(
                (row.start, row.end, render_row(row.number, row.attrs, cells, row.trailer))
            )
    return edits, dropped, kept


def _shared_references(package: ZipPackage, *, exclude: str) -> Counter[int]:
    """How often each shared string is used by the cells of all other worksheets."""
    counts: Counter[int] = Counter()
    office = [r for r in read_relationships(package, "") if r.type.endswith("/officeDocument")]
    for rel in read_relationships(package, office[0].target) if office else []:
        if rel.type.endswith("/worksheet") and rel.target != exclude and package.find(rel.target):
            counts += _count_refs(package.read(rel.target))
    return counts


def _count_refs(xml: bytes) -> Counter[int]:
    counts: Counter[int] = Counter()
    for match in _CELL.finditer(xml):
        if match.group(2) and _SHARED_TYPE.search(match.group(1)):
            value = _VALUE.search(match.group(2))
            if value:
                counts[int(value.group(1))] += 1
    return counts


def _blank_strings(sst: bytes, indices: set[int]) -> bytes:
    pieces, position, last = [], 0, max(indices)
    for index, match in enumerate(_SI_START.finditer(sst)):
        if index in indices:
            tag_end = sst.index(b">", match.start())
            end = tag_end + 1 if sst[tag_end - 1] == 0x2F else sst.index(b"</si>", tag_end) + 5
            pieces += [sst[position : match.start()], EMPTY_STRING]
            position = end
        if index >= last:
            break
    pieces.append(sst[position:])
    return b"".join(pieces)
