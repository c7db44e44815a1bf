"""The workbook as staff really shape it: a title row above the table, tables they formatted
themselves, calculated columns, sort orders, print areas, and other things below the table.

Every workbook is built with openpyxl the way staff leave it, written by the service, and
opened again with openpyxl (and LibreOffice where it matters)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.filters import SortCondition, SortState
from openpyxl.worksheet.table import Table, TableColumn, TableFormula
from openpyxl.worksheet.worksheet import Worksheet
from xlsx_fixtures import TABLE, edit_part, members, reopen, request, run_libreoffice

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.migrate import migrate_bytes, migrate_workbook
from jugendhaus_mail.workbook.model import CellUpdate, Changes
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workbook.xlsx_writer import apply_changes

SCHEMA = load_schema()
HEADERS = [c.header for c in SCHEMA.requests.columns]
LAST = get_column_letter(len(HEADERS))
NOW = datetime(2026, 4, 3, 10, 15)


def staff_sheet(
    *,
    title_rows: int = 0,
    rows: int = 2,
    headers: list[str] | None = None,
    table_rows: int | None = None,
) -> tuple[openpyxl.Workbook, Worksheet, Table]:
    """`Anfragen` as staff make it by hand: optional title rows, a plain header row formatted
    as a table (no number formats anywhere), `rows` requests typed in."""
    headers = headers or HEADERS
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Anfragen"
    if title_rows:
        ws["A1"] = "Anfrageliste 2026 – Berufliche Jugendsozialberatung"
        ws["A1"].font = Font(bold=True, size=14)
    header_row = title_rows + 1
    for col, header in enumerate(headers, start=1):
        ws.cell(header_row, col, header)
    for n in range(1, rows + 1):
        values = {"Nr.": f"2026-{n:04d}", "Betreff": f"von Hand {n}"}
        values["Dienst-Schlüssel"] = f"hand-{n}"
        for header, value in values.items():
            if header in headers:
                ws.cell(header_row + n, headers.index(header) + 1, value)
    last_row = header_row + (table_rows if table_rows is not None else max(rows, 1))
    last_col = get_column_letter(len(headers))
    table = Table(displayName="Anfragen", ref=f"A{header_row}:{last_col}{last_row}")
    ws.add_table(table)
    return workbook, ws, table


def saved(workbook: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def column(ws: Worksheet, header: str, header_row: int = 1) -> int:
    return next(c.column for c in ws[header_row] if c.value == header)


# --- 14: a title row above the table ----------------------------------------------------------


def test_a_title_row_above_the_table_is_read_written_and_migrated(tmp_path: Path) -> None:
    workbook, _ws, _table = staff_sheet(title_rows=2, rows=2)
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(saved(workbook))

    snapshot = read_snapshot(path, SCHEMA)
    assert [(r["nr"], r["_row"]) for r in snapshot.requests] == [("2026-0001", 4), ("2026-0002", 5)]
    assert snapshot.missing_headers.get("Anfragen", ()) == ()

    store = WorkbookStore(path, SCHEMA, writer=apply_changes, backup_dir=tmp_path / "backups")
    result = store.commit(Changes(appends=(request(3),)), now=NOW)

    assert result.appended_keys == (request(3).service_key,)
    ws = reopen(path.read_bytes())
    assert ws["A1"].value.startswith("Anfrageliste 2026")
    assert ws.cell(6, column(ws, "Nr.", 3)).value == "2026-0003"
    assert ws.tables["Anfragen"].ref == f"A3:{LAST}6"
    assert [r["nr"] for r in read_snapshot(path, SCHEMA).requests][-1] == "2026-0003"


def test_the_upgrade_finds_the_header_row_below_a_title(tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h != "Bemerkungen"]
    workbook, _ws, _table = staff_sheet(title_rows=1, rows=1, headers=headers)
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(saved(workbook))

    migration = migrate_workbook(path, SCHEMA, backup_dir=tmp_path / "b", now=NOW)

    assert migration.added == (("Anfragen", "Bemerkungen"),)
    ws = reopen(path.read_bytes())
    assert ws.cell(2, len(HEADERS)).value == "Bemerkungen"
    assert ws.cell(1, len(HEADERS)).value is None  # the title row is left alone
    assert migrate_bytes(path.read_bytes(), SCHEMA)[1] == []


# --- 19: dates look like dates in a table staff formatted themselves --------------------------


def test_dates_get_a_date_format_where_no_row_gives_one() -> None:
    workbook, ws, _table = staff_sheet(rows=0, table_rows=1)
    eingang = get_column_letter(HEADERS.index("Eingang") + 1)
    ws.column_dimensions[eingang].font = Font(bold=True)  # a column style without a format
    data = saved(workbook)
    received = datetime(2026, 10, 26, 9, 0)

    out = apply_changes(
        data,
        SCHEMA,
        Changes(
            appends=(request(1, received=received, contact_due=date(2026, 11, 2), attachments=2),)
        ),
    )[0]

    ws = reopen(out)
    cell = ws.cell(2, column(ws, "Eingang"))
    assert cell.value == received and cell.is_date
    assert cell.number_format == "DD.MM.YYYY hh:mm"
    due = ws.cell(2, column(ws, "Frist Ansprechpartner"))
    assert due.value == datetime(2026, 11, 2) and due.number_format == "DD.MM.YYYY"
    assert ws.cell(2, column(ws, "Anhänge")).number_format == "General"


def test_an_updated_deadline_gets_a_date_format_too() -> None:
    workbook, _ws, _table = staff_sheet(rows=1)
    out = apply_changes(
        saved(workbook),
        SCHEMA,
        Changes(updates=(CellUpdate("2026-0001", "contact_due", date(2026, 4, 9)),)),
    )[0]
    ws = reopen(out)
    due = ws.cell(2, column(ws, "Frist Ansprechpartner"))
    assert due.value == datetime(2026, 4, 9) and due.number_format == "DD.MM.YYYY"


def test_a_date_format_staff_chose_is_kept() -> None:
    workbook, ws, _table = staff_sheet(rows=1)
    col = HEADERS.index("Eingang") + 1
    ws.cell(2, col, datetime(2026, 1, 5, 8, 0)).number_format = "D. MMMM YYYY"
    data = saved(workbook)

    out = apply_changes(
        data, SCHEMA, Changes(appends=(request(2, received=datetime(2026, 1, 6, 9, 30)),))
    )[0]

    assert reopen(out).cell(3, col).number_format == "D. MMMM YYYY"


# --- 15: Excel table features grow with new rows ----------------------------------------------

FORMULA = "YEAR(Anfragen[[#This Row],[Eingang]])"


def table_with_features() -> bytes:
    headers = [*HEADERS, "Jahr"]
    workbook, ws, table = staff_sheet(rows=2, headers=headers)
    eingang, jahr = HEADERS.index("Eingang") + 1, len(headers)
    for row in (2, 3):
        ws.cell(row, eingang, datetime(2025, 12, 30 + row - 2, 9, 0)).number_format = "DD.MM.YYYY"
        ws.cell(row, jahr, "=" + FORMULA)
    table.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(headers[:-1], 1)]
    table.tableColumns.append(
        TableColumn(
            id=len(headers), name="Jahr", calculatedColumnFormula=TableFormula(attr_text=FORMULA)
        )
    )
    last = get_column_letter(len(headers))
    table.sortState = SortState(
        ref=f"A2:{last}3", sortCondition=[SortCondition(ref="B2:B3", descending=True)]
    )
    ws.print_area = f"A1:{last}3"
    workbook.defined_names["Offene_Nummern"] = DefinedName(
        "Offene_Nummern", attr_text="Anfragen!$A$2:$A$3"
    )
    workbook.defined_names["Kopf"] = DefinedName("Kopf", attr_text="Anfragen!$A$1:$C$1")
    return saved(workbook)


def test_calculated_columns_sort_ranges_print_area_and_names_grow() -> None:
    data = table_with_features()

    out = apply_changes(
        data,
        SCHEMA,
        Changes(appends=(request(3, received=datetime(2027, 1, 4, 8, 0)), request(4))),
    )[0]

    ws = reopen(out)
    jahr = column(ws, "Jahr")
    assert [ws.cell(r, jahr).value for r in (4, 5)] == ["=" + FORMULA] * 2
    table_xml = members(out)[TABLE].decode()
    last = get_column_letter(jahr)
    assert f'<sortState ref="A2:{last}5"' in table_xml
    assert '<sortCondition descending="1" ref="B2:B5"' in table_xml
    workbook = openpyxl.load_workbook(io.BytesIO(out))
    assert workbook["Anfragen"].print_area == f"'Anfragen'!$A$1:${last}$5"
    assert workbook.defined_names["Offene_Nummern"].attr_text == "Anfragen!$A$2:$A$5"
    assert workbook.defined_names["Kopf"].attr_text == "Anfragen!$A$1:$C$1"


@pytest.mark.libreoffice
def test_libreoffice_computes_the_calculated_column_of_new_rows(
    tmp_path: Path, soffice: str
) -> None:
    out = apply_changes(
        table_with_features(),
        SCHEMA,
        Changes(appends=(request(3, received=datetime(2027, 1, 4, 8, 0)),)),
    )[0]
    path = tmp_path / "features.xlsx"
    path.write_bytes(out)

    converted = run_libreoffice(path, "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path)
    rows = list(csv.reader(io.StringIO(converted.read_text(encoding="utf-8"))))
    jahr = rows[0].index("Jahr")
    assert rows[3][jahr] == "2027"


# --- 18: the table grows only into free rows --------------------------------------------------


def test_another_table_in_the_way_is_named_and_nothing_is_written() -> None:
    workbook, ws, _table = staff_sheet(rows=2)
    far = len(HEADERS) + 2
    first = get_column_letter(len(HEADERS) - 1)  # its range starts inside the request columns
    ws.cell(6, far - 1, "Termin")
    ws.cell(6, far, "Wer")
    ws.cell(7, far - 1, "Mo")
    ws.add_table(Table(displayName="Dienstplan", ref=f"{first}6:{get_column_letter(far)}7"))
    data = saved(workbook)

    assert apply_changes(data, SCHEMA, Changes(appends=(request(3), request(4))))[0] != data
    with pytest.raises(WorkbookUnsafe, match="Dienstplan"):
        apply_changes(data, SCHEMA, Changes(appends=tuple(request(n) for n in range(3, 7))))


def test_a_staff_table_right_below_is_named() -> None:
    workbook, ws, _table = staff_sheet(rows=2)
    ws["A6"], ws["B6"], ws["A7"] = "Termin", "Wer", "Mo"
    ws.add_table(Table(displayName="Dienstplan", ref="A6:B7"))
    data = saved(workbook)

    with pytest.raises(WorkbookUnsafe, match="liegt die Tabelle 'Dienstplan' \\(A6:B7\\)"):
        apply_changes(data, SCHEMA, Changes(appends=(request(3),)))


def test_hidden_rows_are_not_filled_and_stay_hidden() -> None:
    workbook, ws, _table = staff_sheet(rows=2, table_rows=4)  # rows 4 and 5 empty, filtered out
    ws.row_dimensions[4].hidden = True
    ws.row_dimensions[5].hidden = True
    data = saved(workbook)

    with pytest.raises(WorkbookUnsafe, match="ausgeblendet") as refused:
        apply_changes(data, SCHEMA, Changes(appends=(request(3),)))
    assert "4" in str(refused.value)


def test_a_collapsed_outline_below_the_table_is_refused() -> None:
    workbook, ws, _table = staff_sheet(rows=2)
    for row in (4, 5):
        ws.row_dimensions[row].outlineLevel = 1
        ws.row_dimensions[row].hidden = True
    data = saved(workbook)

    with pytest.raises(WorkbookUnsafe, match="ausgeblendet"):
        apply_changes(data, SCHEMA, Changes(appends=(request(3),)))


def test_a_filter_range_and_a_pivot_table_in_the_way_are_named() -> None:
    workbook, _ws, _table = staff_sheet(rows=2)
    data = saved(workbook)
    sheet = "xl/worksheets/sheet1.xml"
    filtered = edit_part(data, sheet, "</sheetData>", '</sheetData><autoFilter ref="C5:D9"/>')
    with pytest.raises(WorkbookUnsafe, match="Filter") as refused:
        apply_changes(filtered, SCHEMA, Changes(appends=(request(3), request(4), request(5))))
    assert "C5:D9" in str(refused.value)
    assert len(members(apply_changes(filtered, SCHEMA, Changes(appends=(request(3),)))[0]))

    pivot = pivot_at(data, "B6:C9")
    with pytest.raises(WorkbookUnsafe, match="Pivot"):
        apply_changes(pivot, SCHEMA, Changes(appends=tuple(request(n) for n in range(3, 8))))


def pivot_at(data: bytes, ref: str) -> bytes:
    from xlsx_fixtures import MAIN_NS, add_relationship, rewrite

    part = (
        f'<?xml version="1.0" encoding="UTF-8"?><pivotTableDefinition xmlns="{MAIN_NS}" '
        'name="Auswertung" cacheId="1" dataCaption="Werte">'
        f'<location ref="{ref}" firstHeaderRow="1" firstDataRow="1" firstDataCol="1"/>'
        "</pivotTableDefinition>"
    )
    data = rewrite(data, {"xl/pivotTables/pivotTable1.xml": part.encode()})
    return add_relationship(
        data, "xl/worksheets/sheet1.xml", "pivotTable", "../pivotTables/pivotTable1.xml"
    )


def test_a_title_row_workbook_made_by_init_code_keeps_working(tmp_path: Path) -> None:
    """The common case still takes the fast path: a table with an empty styled row."""
    from xlsx_fixtures import new_workbook

    data = new_workbook(tmp_path, SCHEMA)
    out = apply_changes(data, SCHEMA, Changes(appends=(request(1, received=NOW),)))[0]
    ws = reopen(out)
    assert ws.cell(2, column(ws, "Eingang")).number_format == "DD.MM.YYYY hh:mm"
    assert TABLE in members(out)


@pytest.mark.libreoffice
def test_libreoffice_shows_the_dates_of_a_staff_formatted_table_as_dates(
    tmp_path: Path, soffice: str
) -> None:
    workbook, _ws, _table = staff_sheet(rows=0, table_rows=1)
    received = datetime(2026, 10, 26, 9, 0)
    out = apply_changes(
        saved(workbook),
        SCHEMA,
        Changes(appends=(request(1, received=received, contact_due=date(2026, 11, 2)),)),
    )[0]
    path = tmp_path / "staff.xlsx"
    path.write_bytes(out)

    shown = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,false,true"  # as shown on screen
    converted = run_libreoffice(path, shown, tmp_path / "csv")
    rows = list(csv.reader(io.StringIO(converted.read_text(encoding="utf-8"))))
    assert rows[1][HEADERS.index("Eingang")] == "26.10.2026 09:00"
    assert rows[1][HEADERS.index("Frist Ansprechpartner")] == "02.11.2026"


@pytest.mark.parametrize(
    ("formula", "row", "expected"),
    [
        (FORMULA, 9, FORMULA),  # structured references name the row themselves
        ("B2*2", 2, "B2*2"),
        ("B2*2+$C$2+C$2+$D2", 5, "B5*2+$C$2+C$2+$D5"),
        ("IF(B2=\"A2\";Listen!A2;'Meine Liste'!B2)", 4, "IF(B4=\"A2\";Listen!A4;'Meine Liste'!B4)"),
        ("LOG10(B2)+SUM(A2:A3)", 3, "LOG10(B3)+SUM(A3:A4)"),
    ],
)
def test_calculated_column_formulas_move_with_the_row(
    formula: str, row: int, expected: str
) -> None:
    from jugendhaus_mail.workbook.xlsx_grow import calculated_formula

    assert calculated_formula(formula, 2, row) == expected


def test_defined_names_on_other_sheets_or_ending_elsewhere_stay() -> None:
    from jugendhaus_mail.workbook.xlsx_grow import grow_defined_names
    from jugendhaus_mail.workbook.xlsx_sheet import Area

    xml = (
        b"<definedNames>"
        b"<definedName name=\"a\">'Anfragen'!$A$1:$C$3,Anfragen!$E$2:$E$3</definedName>"
        b'<definedName name="b">Listen!$A$1:$A$3</definedName>'
        b'<definedName name="c">Anfragen!$A$1:$A$9</definedName>'
        b'<definedName name="d">Anfragen!$B$3</definedName>'
        b"</definedNames>"
    )
    grown = grow_defined_names(xml, "Anfragen", Area(1, 1, 10, 3), 7).decode()
    assert "'Anfragen'!$A$1:$C$7,Anfragen!$E$2:$E$7" in grown
    assert "Listen!$A$1:$A$3" in grown and "Anfragen!$A$1:$A$9" in grown
    assert "Anfragen!$B$3<" in grown
