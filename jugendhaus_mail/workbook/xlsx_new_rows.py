"""How a new row of the request table is written: the style of each column taken from the
last filled row (or the column), and the row's XML, fast for many rows that are not there yet
(`row_renderer`) and cell by cell into a styled empty row that is (`render_new_row`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jugendhaus_mail.workbook.model import CellValue
from jugendhaus_mail.workbook.xlsx_cells import cell_xml, xml_escape
from jugendhaus_mail.workbook.xlsx_context import ColumnWriter, WriteContext
from jugendhaus_mail.workbook.xlsx_grow import calculated_formula
from jugendhaus_mail.workbook.xlsx_sheet import RowXml, col_letters, render_row


def template_styles(context: WriteContext, above: RowXml | None) -> dict[int, str]:
    """The style of each table column for new rows: the last filled row's, else the column's
    default style."""
    area = context.table.area
    styles = {}
    for col in range(area.first_col, area.last_col + 1):
        cell = above.cell(col) if above and above.number > area.first_row else None
        style = cell.attrs.get("s") if cell else None
        style = style or context.sheet.column_style(col)
        if style is not None:
            styles[col] = style
    return styles


def row_renderer(
    context: WriteContext, template: dict[int, str]
) -> Callable[[int, dict[int, CellValue]], bytes]:
    """`render_new_row` for rows that are not there yet, with everything that is the same
    for every new row worked out once per write.

    A new row is its number's text between pieces (`_RowPlan`): every cell holds the number
    once, in its reference. For each set of columns given values, the pieces are worked out
    once; a row then adds the rest of each cell with a value (or a calculated formula) to the
    piece after it."""
    area = context.table.area
    formulas = dict(context.table.formulas)
    first_data = area.first_row + context.table.header_rows
    columns = [
        (col, ColumnWriter(context, col, template.get(col)), template.get(col))
        for col in range(area.first_col, area.last_col + 1)
    ]
    plans: dict[frozenset[int], _RowPlan] = {}

    def plan(given: frozenset[int]) -> _RowPlan:
        pieces: list[bytes] = [b'<row r="']
        filled: list[tuple[int, int, ColumnWriter]] = []
        calculated: list[tuple[int, str, str]] = []
        piece = b'">'  # what follows the last number so far
        for col, writer, style in columns:
            if col in given:
                pieces.append(piece + writer.head)
                filled.append((len(pieces), col, writer))
                piece = b""  # the cell's rest comes first: it depends on the value
            elif col in formulas:  # a calculated column: Excel fills it into every new row
                pieces.append(piece + writer.head)
                attribute = f' s="{xml_escape(style)}"' if style is not None else ""
                calculated.append((len(pieces), formulas[col], attribute))
                piece = b""
            elif style is not None:  # a styled empty cell: <c r="B" + row + "" s="3"/>
                pieces.append(piece + writer.head)
                piece = writer.learn(None)
        pieces.append(piece + b"</row>")
        return _RowPlan(pieces, filled, calculated)

    def render(number: int, values: dict[int, CellValue]) -> bytes:
        given = frozenset(values)
        row = plans.get(given) or plans.setdefault(given, plan(given))
        pieces = row.pieces.copy()
        for index, col, writer in row.filled:  # ColumnWriter.cell, inlined
            value = values[col]
            rest = writer.known.get((type(value), value)) or writer.learn(value)
            pieces[index] = rest + pieces[index]
        for index, formula, attribute in row.calculated:
            text = xml_escape(calculated_formula(formula, first_data, number))
            pieces[index] = f'"{attribute}><f>{text}</f></c>'.encode() + pieces[index]
        return (b"%d" % number).join(pieces)

    return render


@dataclass(frozen=True)
class _RowPlan:
    """A new row with values in some columns: the pieces of its XML between the copies of
    its number; `filled` and `calculated` name the pieces that start with the rest of a cell
    holding a value, or a calculated formula, as (index, column, writer) or (index, formula,
    style attribute)."""

    pieces: list[bytes]
    filled: list[tuple[int, int, ColumnWriter]]
    calculated: list[tuple[int, str, str]]


def render_new_row(
    context: WriteContext,
    number: int,
    values: dict[int, CellValue],
    template: dict[int, str],
    existing: RowXml | None,
) -> bytes:
    area = context.table.area
    old = {cell.col: cell for cell in existing.cells} if existing else {}
    formulas = dict(context.table.formulas)
    first_data = area.first_row + context.table.header_rows
    cells = []
    for col in sorted(old.keys() | range(area.first_col, area.last_col + 1)):
        cell = old.get(col)
        if not area.first_col <= col <= area.last_col:
            cells.append(cell.raw if cell else b"")
            continue
        style = (cell.attrs.get("s") if cell else None) or template.get(col)
        ref = f"{col_letters(col)}{number}"
        if col in values:
            cells.append(context.cell(ref, style, values[col]))
        elif cell is not None and cell.has_content:
            cells.append(cell.raw)
        elif col in formulas:  # a calculated column: Excel fills it into every new row
            formula = calculated_formula(formulas[col], first_data, number)
            style_attr = f' s="{xml_escape(style)}"' if style is not None else ""
            cells.append(f'<c r="{ref}"{style_attr}><f>{xml_escape(formula)}</f></c>'.encode())
        elif cell is not None:
            cells.append(cell.raw)
        elif style is not None:
            cells.append(cell_xml(ref, style, None, False))
    attrs = existing.attrs if existing else {}
    trailer = existing.trailer if existing else b""
    return render_row(number, attrs, cells, trailer)
