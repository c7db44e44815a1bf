"""Which cells of existing rows the writer declines to update, and how it says so.

An update is one cell; declining it never holds back the rest of the save (new requests
included). Declined: a formula (staff put it there on purpose), a merged cell or array formula,
and in a column the service shares with staff (`owner = "shared"`) anything but an empty cell
or a date: a note typed there is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from jugendhaus_mail.workbook.model import CellValue
from jugendhaus_mail.workbook.reader import normalise
from jugendhaus_mail.workbook.schema import Column
from jugendhaus_mail.workbook.xlsx_cells import holds
from jugendhaus_mail.workbook.xlsx_context import WriteContext, shared_for
from jugendhaus_mail.workbook.xlsx_sheet import (
    Area,
    Cell,
    Edit,
    RowXml,
    cell_text,
    col_letters,
    render_row,
)

_QUOTE_LIMIT = 60  # characters of staff text repeated in a message


@dataclass(frozen=True)
class Skipped:
    nr: str
    column: str  # schema key
    header: str
    ref: str
    value: CellValue
    why: str

    def __str__(self) -> str:
        return (
            f"Anfrage {self.nr or '?'}, Spalte {self.header!r} (Zelle {self.ref}): {self.why}. "
            f"Der Dienst hätte {_shown(self.value)} eingetragen und lässt die Zelle, wie sie ist."
        )


def declined(
    cell: Cell | None,
    column: Column,
    area: Area,
    blocked: list[tuple[Area, str]],
    shared: dict[int, str],
) -> str | None:
    """Why the cell must keep its content, or None when the service may write it."""
    for where, kind in blocked:
        if where.overlaps(area):
            return f"sie gehört zu {kind} ({where})"
    if cell is None or not cell.has_content:
        return None
    if cell.has_formula:
        return "dort steht eine Formel; bitte die Formel aus dieser Dienst-Spalte entfernen"
    if column.owner != "shared":
        return None
    kind = cell.attrs.get("t", "n")
    if kind in ("n", "d"):
        return None  # a date (a number in a date column) the service may move forward
    text = (cell_text(cell, shared) or "").strip()
    if kind in ("s", "inlineStr", "str") and isinstance(normalise(text, "date"), date):
        return None  # a date typed as text
    shown = text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1] + "…"
    return f"dort steht Text von Hand („{shown}“)"


def _shown(value: CellValue) -> str:
    if isinstance(value, datetime):
        return f"{value:%d.%m.%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return "nichts" if value is None else f"„{value}“"


def update_rows(
    context: WriteContext, by_row: dict[int, dict[int, CellValue]], skipped: list[Skipped]
) -> list[Edit]:
    """Rewrite the rows whose cells change; a cell that must not be written (a formula, a
    merged cell, staff's text in a shared column) is left as it is and reported."""
    edits: list[Edit] = []
    by_col = {col: key for key, col in context.columns.items()}
    blocked = context.sheet.blocked_areas()
    nr_col = context.columns.get("nr")
    rows = [
        (row, _changed(context, row, by_row[row.number]))
        for row in context.sheet.rows_at(sorted(by_row))
    ]
    looked_at = (row.cell(col) for row, values in rows for col in (nr_col or 0, *values))
    shared = shared_for(context, (cell for cell in looked_at if cell is not None))
    for row, values in rows:
        number = row.number
        nr_cell = row.cell(nr_col) if nr_col else None
        nr = (cell_text(nr_cell, shared) or "").strip() if nr_cell else ""
        for col in list(values):
            column = context.schema.column(by_col[col])
            why = declined(row.cell(col), column, Area(col, number, col, number), blocked, shared)
            if why is not None:
                skipped.append(
                    Skipped(
                        nr,
                        column.key,
                        column.header,
                        f"{col_letters(col)}{number}",
                        values.pop(col),
                        why,
                    )
                )
        if not values:
            continue
        cells = []
        for col in sorted({c.col for c in row.cells} | set(values)):
            cell = row.cell(col)
            if col not in values:
                cells.append(cell.raw if cell else b"")
                continue
            style = (cell.attrs.get("s") if cell else None) or context.sheet.column_style(col)
            cells.append(context.cell(f"{col_letters(col)}{number}", style, values[col]))
        edits.append((row.start, row.end, render_row(number, row.attrs, cells, row.trailer)))
    return edits


def _changed(
    context: WriteContext, row: RowXml, values: dict[int, CellValue]
) -> dict[int, CellValue]:
    """The values that differ from what the row shows: an unchanged cell is not rewritten."""
    changed = {}
    for col, value in values.items():
        cell = row.cell(col)
        kind, inner = (cell.attrs.get("t", "n"), cell.inner) if cell else ("n", None)
        if not holds(kind, inner, value, context.date1904):
            changed[col] = value
    return changed
