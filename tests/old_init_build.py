"""`init` as it was before the new look (commit 2053fe4, jugendhaus_mail/workbook/build.py,
unchanged apart from this docstring): the workbooks staff already have were made by it.

Old module docstring:

Decisions worth knowing when you touch the file later:

- Every data sheet holds one Excel table (header row + one empty data row, because Excel
  rejects a table without a data row). The service's writer fills that empty row first.
- Dropdowns, number formats and conditional formatting cover whole columns from row 2 down
  to the last sheet row. Rows staff type anywhere get them, and rows the service appends need
  no range to be extended: there is no bound the sheet can outgrow.
- Dropdowns point to defined names (`Liste_Status`, ...) instead of other sheets directly;
  Excel then stores them as classic validations that every reader and writer keeps.
- The deadline colours use `WORKDAY(TODAY(),2)`, which ignores public holidays: a due date
  right after a holiday turns amber one working day early. That errs on the safe side.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.schema import STAFF_LIST, Column, Schema, Sheet

LISTS_SHEET = "Listen"
STAFF_NAMES = "Liste_Mitarbeitende"
FIRST_DATA_ROW = 2
LAST_ROW = 1_048_576  # the last row of an .xlsx sheet
STAFF_NAME_ROWS = 2_000  # how far down Mitarbeitende the staff dropdown counts names

NUMBER_FORMATS = {
    "date": "DD.MM.YYYY",
    "datetime": "DD.MM.YYYY hh:mm",
    "int": "0",
    "text": "@",  # keeps e.g. leading zeros of a Kundennummer typed by hand
}
TABLE_STYLE = "TableStyleMedium2"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
HEADER_HEIGHT = 45  # three lines of wrapped header text
OVERDUE = DifferentialStyle(
    font=Font(color="9C0006"), fill=PatternFill(bgColor="FFC7CE", fill_type="solid")
)
DUE_SOON = DifferentialStyle(
    font=Font(color="9C5700"), fill=PatternFill(bgColor="FFEB9C", fill_type="solid")
)
DOCUMENT_TITLE = "Anfrageliste"
DOCUMENT_CREATOR = "jugendhaus-mail"


def build_workbook(path: Path, schema: Schema) -> None:
    """Create a new workbook at `path`; never overwrites an existing file."""
    if path.exists():
        raise WorkbookError(
            f"Die Arbeitsmappe {path} gibt es schon; sie wird nicht überschrieben. "
            "Bitte einen anderen Pfad unter [workbook] path eintragen oder die alte Datei "
            "erst selbst umbenennen."
        )
    workbook = _new_workbook(schema)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _write_new_file(path, buffer.getvalue())


def list_name(list_key: str) -> str:
    """The defined name of a dropdown list, e.g. `Liste_Status`."""
    if list_key == STAFF_LIST:
        return STAFF_NAMES
    return "Liste_" + re.sub(r"\W", "_", list_key)


def column_range(column_index: int, first_row: int = FIRST_DATA_ROW) -> str:
    """`C2:C1048576` for the third column: the data area of a whole column."""
    letter = get_column_letter(column_index)
    return f"{letter}{first_row}:{letter}{LAST_ROW}"


def _new_workbook(schema: Schema) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in schema.sheets:
        _add_data_sheet(workbook, sheet)
    _add_lists_sheet(workbook, schema)
    _add_staff_names(workbook, schema)
    _add_deadline_colours(workbook[schema.requests.name], schema.requests)
    workbook.properties.title = DOCUMENT_TITLE
    workbook.properties.creator = DOCUMENT_CREATOR
    workbook.properties.lastModifiedBy = DOCUMENT_CREATOR
    return workbook


def _add_data_sheet(workbook: Workbook, sheet: Sheet) -> None:
    ws: Worksheet = workbook.create_sheet(sheet.name)
    for index, column in enumerate(sheet.columns, start=1):
        _write_header(ws, index, column.header)
        _format_column(ws, index, column)
        if column.list is not None:
            _add_dropdown(ws, index, column.list)
    last = get_column_letter(len(sheet.columns))
    table = Table(displayName=sheet.table, ref=f"A1:{last}{FIRST_DATA_ROW}")
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.row_dimensions[1].height = HEADER_HEIGHT
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"


def _write_header(ws: Worksheet, index: int, text: str) -> None:
    cell = ws.cell(row=1, column=index, value=text)
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = HEADER_ALIGNMENT


def _format_column(ws: Worksheet, index: int, column: Column) -> None:
    """Width, visibility and the number format, both as the column's default style (rows
    staff type later) and on the empty first data row (which belongs to the table)."""
    number_format = NUMBER_FORMATS[column.type]
    dimension = ws.column_dimensions[get_column_letter(index)]
    dimension.width = column.width
    dimension.hidden = column.hidden
    dimension.number_format = number_format
    ws.cell(row=FIRST_DATA_ROW, column=index).number_format = number_format


def _add_dropdown(ws: Worksheet, index: int, list_key: str) -> None:
    # A staff member who is not yet in Mitarbeitende must still be enterable: warn only.
    strict = list_key != STAFF_LIST
    validation = DataValidation(
        type="list",
        formula1=list_name(list_key),
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop" if strict else "warning",
        errorTitle="Wert nicht in der Liste",
        error=(
            "Bitte einen Eintrag aus der Auswahlliste wählen."
            if strict
            else "Diese Person steht nicht im Blatt Mitarbeitende. Trotzdem übernehmen?"
        ),
    )
    validation.add(column_range(index))
    ws.add_data_validation(validation)


def _add_lists_sheet(workbook: Workbook, schema: Schema) -> None:
    """One column per list; each list is reachable through its defined name."""
    ws: Worksheet = workbook.create_sheet(LISTS_SHEET)
    sheet_ref = quote_sheetname(LISTS_SHEET)
    for index, (key, values) in enumerate(schema.lists.items(), start=1):
        _write_header(ws, index, key)
        ws.column_dimensions[get_column_letter(index)].width = max(
            14, max((len(v) for v in values), default=0) + 2
        )
        for row, value in enumerate(values, start=FIRST_DATA_ROW):
            ws.cell(row=row, column=index, value=value).data_type = "s"
        letter = get_column_letter(index)
        last_row = FIRST_DATA_ROW + max(len(values), 1) - 1
        target = f"{sheet_ref}!${letter}${FIRST_DATA_ROW}:${letter}${last_row}"
        _define_name(workbook, list_name(key), target)
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.row_dimensions[1].height = HEADER_HEIGHT
    # Protected without a password: guards against slips, staff can lift it in the menu.
    ws.protection.sheet = True


def _add_staff_names(workbook: Workbook, schema: Schema) -> None:
    """`Liste_Mitarbeitende`: the names in Mitarbeitende, as long as the list is.

    OFFSET/COUNTA keeps the dropdown free of blank lines; it assumes the names stand in
    consecutive rows from row 2, which the table and sorting keep true.
    """
    staff = schema.staff
    index = next(i for i, c in enumerate(staff.columns, start=1) if c.key == "name")
    letter = get_column_letter(index)
    sheet_ref = quote_sheetname(staff.name)
    first = f"{sheet_ref}!${letter}${FIRST_DATA_ROW}"
    counted = f"{sheet_ref}!${letter}${FIRST_DATA_ROW}:${letter}${STAFF_NAME_ROWS}"
    _define_name(workbook, STAFF_NAMES, f"OFFSET({first},0,0,MAX(1,COUNTA({counted})),1)")


def _define_name(workbook: Workbook, name: str, target: str) -> None:
    workbook.defined_names[name] = DefinedName(name, attr_text=target)


def _add_deadline_colours(ws: Worksheet, sheet: Sheet) -> None:
    """Overdue red, due within the next two working days amber; nothing for empty cells,
    text or finished requests."""
    letters = {c.key: get_column_letter(i) for i, c in enumerate(sheet.columns, start=1)}
    status = letters.get("status")
    finished = sheet.finished_statuses if status else ()
    open_request = [f'${status}{FIRST_DATA_ROW}<>"{value}"' for value in finished]
    for key in sheet.deadline_columns:
        cell = f"${letters[key]}{FIRST_DATA_ROW}"
        is_date = f"ISNUMBER({cell})"
        overdue = ",".join([is_date, f"{cell}<TODAY()", *open_request])
        soon = ",".join([is_date, f"{cell}>=TODAY()", f"{cell}<=WORKDAY(TODAY(),2)", *open_request])
        area = f"{letters[key]}{FIRST_DATA_ROW}:{letters[key]}{LAST_ROW}"
        for formula, style in ((overdue, OVERDUE), (soon, DUE_SOON)):
            rule = Rule(type="expression", dxf=style, stopIfTrue=True)
            rule.formula = [f"AND({formula})"]
            ws.conditional_formatting.add(area, rule)


def _write_new_file(path: Path, data: bytes) -> None:
    """Create the file exclusively: if it appeared since the check, it stays untouched."""
    try:
        fh = path.open("xb")
    except FileExistsError as exc:
        raise WorkbookError(
            f"Die Arbeitsmappe {path} ist eben entstanden; sie wird nicht überschrieben."
        ) from exc
    except FileNotFoundError as exc:
        raise WorkbookError(
            f"Der Ordner {path.parent} fehlt. Bitte anlegen oder [workbook] path korrigieren."
        ) from exc
    except PermissionError as exc:
        raise WorkbookError(
            f"Keine Schreibrechte im Ordner {path.parent}. Bitte die Rechte prüfen "
            "oder einen anderen Pfad unter [workbook] path eintragen."
        ) from exc
    try:
        with fh:
            fh.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)  # our own half-written file, created just now
        raise WorkbookError(
            f"Die Arbeitsmappe {path} konnte nicht geschrieben werden: {exc}"
        ) from exc
