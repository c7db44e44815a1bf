"""What growing the request table touches besides its own range: the rows it takes must be
free (no other table, pivot table, filter range or hidden row), calculated columns are filled
into new rows, and defined names (the print area among them) that ended at the table's last
row grow with it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from jugendhaus_mail.workbook.xlsx_sheet import Area, RowXml, SheetText, attributes, col_letters
from jugendhaus_mail.workbook.xlsx_zip import WorkbookParts

_SHEET_FILTER = re.compile(rb"<(?:\w+:)?autoFilter\b([^>]*?)/?>")
_DEFINED_NAME = re.compile(rb"(<(?:\w+:)?definedName\b[^>]*>)(.*?)(</(?:\w+:)?definedName>)", re.S)
_SHEET_REF = re.compile(
    r"(?P<sheet>'(?:[^']|'')+'|[^\s'!:=(),;+\-*/&<>^]+)!"
    r"(?P<c1>\$?)(?P<col1>[A-Za-z]{1,3})(?P<r1>\$?)(?P<row1>\d+)"
    r"(?::(?P<c2>\$?)(?P<col2>[A-Za-z]{1,3})(?P<r2>\$?)(?P<row2>\d+))?"
)
# An A1 reference in a formula; group "row" is the row number, "fixed" its "$" if any
_A1 = re.compile(r"(?<![\w.$\]])(\$?[A-Za-z]{1,3})(?P<fixed>\$?)(?P<row>\d+)(?![\w(!])")
_SKIP = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'!|\[(?:[^\[\]]|\[[^\]]*\])*\]')


def in_the_way(
    parts: WorkbookParts, sheet: SheetText, target: Area, rows: Iterable[RowXml]
) -> str | None:
    """What occupies the rows the table would grow into, in words; None when they are free."""
    for table in parts.other_tables:
        if table.area.overlaps(target):
            return f"die Tabelle {table.name!r} ({table.area})"
    for name, location in parts.pivots:
        if location.overlaps(target):
            return f"die PivotTable {name!r} ({location})"
    for match in _SHEET_FILTER.finditer(sheet.tail):
        area = Area.parse(attributes(match.group(1)).get("ref", ""))
        if area is not None and area.overlaps(target):
            return f"ein Filterbereich ({area})"
    hidden = [
        row.number
        for row in rows
        if target.first_row <= row.number <= target.last_row
        and row.attrs.get("hidden") in ("1", "true")
    ]
    if hidden:
        listed = ", ".join(str(n) for n in hidden[:5]) + (" …" if len(hidden) > 5 else "")
        return f"ausgeblendete Zeilen ({listed}; Filter oder zugeklappte Gliederung)"
    return None


def calculated_formula(formula: str, first_data_row: int, row: int) -> str:
    """The formula of a calculated column for `row`: Excel states it for the first data row,
    so relative A1 references move down; structured references ([@Spalte]) stay as they are."""
    shift = row - first_data_row
    if not shift:
        return formula
    out, position = [], 0
    for skip in [*_SKIP.finditer(formula), None]:
        end = skip.start() if skip else len(formula)
        out.append(_A1.sub(lambda m: _moved(m, shift), formula[position:end]))
        if skip:
            out.append(skip.group(0))
            position = skip.end()
    return "".join(out)


def _moved(match: re.Match[str], shift: int) -> str:
    if match.group("fixed"):
        return match.group(0)
    return f"{match.group(1)}{int(match.group('row')) + shift}"


def grow_defined_names(xml: bytes, sheet_name: str, table: Area, new_last: int) -> bytes:
    """workbook.xml with every range on the sheet that ended at the table's last row (print
    area, names staff defined) reaching `new_last`; the very same bytes when none did."""

    def grow_ref(match: re.Match[str]) -> str:
        sheet = match.group("sheet")
        bare = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
        if bare.casefold() != sheet_name.casefold():
            return match.group(0)
        first_col, first_row = match.group("col1"), int(match.group("row1"))
        last_col = match.group("col2") or first_col
        last_row = int(match.group("row2") or first_row)
        area = Area.parse(f"{first_col}{first_row}:{last_col}{last_row}")
        if area is None or area.last_row != table.last_row or not area.overlaps(table):
            return match.group(0)
        if match.group("row2") is None:  # a single cell stays a single cell
            return match.group(0)
        head = match.group(0)[: match.start("c2") - match.start(0)]
        tail = f"{match.group('c2')}{last_col}{match.group('r2')}{new_last}"
        return head + tail

    def grow(match: re.Match[bytes]) -> bytes:
        text = html.unescape(match.group(2).decode("utf-8"))
        grown = _SHEET_REF.sub(grow_ref, text)
        if grown == text:
            return match.group(0)
        escaped = grown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return match.group(1) + escaped.encode() + match.group(3)

    return _DEFINED_NAME.sub(grow, xml)


def column_ref(col: int, row: int) -> str:
    return f"{col_letters(col)}{row}"
