"""apply_changes on real workbooks, reopened with openpyxl (and LibreOffice where installed)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsx_fixtures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook
from xlsx_fixtures import (
    SHEET,
    TABLE,
    WORKBOOK,
    edit_part,
    libreoffice_raw_csv,
    libreoffice_resave,
    members,
    new_workbook,
    raw_entries,
    reopen,
    staff_rows,
    to_shared_strings,
)

from jugendhaus_mail.errors import WorkbookError, WorkbookUnsafe
from jugendhaus_mail.workbook.model import CellUpdate, CellValue, Changes, NewRow
from jugendhaus_mail.workbook.schema import Schema, load_schema
from jugendhaus_mail.workbook.xlsx_writer import apply_changes

INJECTIONS = (
    '=HYPERLINK("http://x","klick")',
    "=1+1",
    "+49 381 123",
    "-1",
    "@SUM(A1)",
    "#N/A",
    "=cmd|' /C calc'!A0",
)
COLUMNS = [column.key for column in load_schema().requests.columns]
LAST = str(get_column_letter(len(COLUMNS)))  # the table's last column in a workbook made by init
OUTSIDE = str(get_column_letter(len(COLUMNS) + 4))  # a column right of the table


def letter(key: str) -> str:
    """The column letter of a schema column in a workbook made by init."""
    return str(get_column_letter(COLUMNS.index(key) + 1))


needs_libreoffice = pytest.mark.usefixtures("soffice")


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture
def empty(tmp_path: Path, schema: Schema) -> bytes:
    return new_workbook(tmp_path, schema)


def request(n: int, **values: CellValue) -> NewRow:
    return xlsx_fixtures.request(n, year=2025, **values)


def columns(ws: Worksheet) -> dict[str, int]:
    return {str(cell.value): cell.column for cell in ws[1] if cell.value is not None}


def column_values(ws: Worksheet, header: str) -> list[object]:
    col = columns(ws)[header]
    return [ws.cell(row, col).value for row in range(2, ws.max_row + 1)]


def sheet_xml(data: bytes) -> str:
    return members(data)[SHEET].decode()


def append(data: bytes, schema: Schema, *rows: NewRow) -> bytes:
    return apply_changes(data, schema, Changes(appends=rows))[0]


# --- appending --------------------------------------------------------------------------------


def test_new_rows_fill_the_empty_table_row_then_extend_the_table(
    empty: bytes, schema: Schema
) -> None:
    received = datetime(2025, 3, 4, 10, 31, 17)
    rows = [
        request(
            1, received=received, birth_date=date(2004, 2, 29), attachments=2, kind="Hausbesuch"
        ),
        request(2, subject='Rückruf <dringend> & bitte "heute"', contact_due=date(2025, 3, 11)),
        request(3, received=datetime(1900, 1, 1, 6, 0), birth_date=date(1900, 3, 1)),
    ]
    out, result = apply_changes(empty, schema, Changes(appends=tuple(rows)))

    assert result.appended_keys == tuple(r.service_key for r in rows)
    ws = reopen(out)
    col = columns(ws)
    table = ws.tables["Anfragen"]
    assert table.ref == f"A1:{LAST}4"  # row 2, the table's empty row, was filled first
    assert table.autoFilter.ref == f"A1:{LAST}4"
    assert ws.max_row == 4
    assert [ws.cell(r, col["Nr."]).value for r in (2, 3, 4)] == [
        "2025-0001",
        "2025-0002",
        "2025-0003",
    ]
    eingang = ws.cell(2, col["Eingang"])
    assert eingang.value == received and eingang.is_date
    assert eingang.number_format == "DD.MM.YYYY hh:mm"
    birth = ws.cell(2, col["Geburtsdatum"])
    assert birth.value == datetime(2004, 2, 29) and birth.number_format == "DD.MM.YYYY"
    assert ws.cell(4, col["Eingang"]).value == datetime(1900, 1, 1, 6, 0)
    assert ws.cell(4, col["Geburtsdatum"]).value == datetime(1900, 3, 1)
    attachments = ws.cell(2, col["Anhänge"])
    assert attachments.value == 2 and attachments.data_type == "n"
    assert ws.cell(3, col["Betreff"]).value == 'Rückruf <dringend> & bitte "heute"'
    assert ws.cell(3, col["Frist Ansprechpartner"]).value == datetime(2025, 3, 11)
    assert ws.cell(2, col["Dienst-Schlüssel"]).value == rows[0].service_key
    for header in ("Frist Ansprechpartner", "Letzte Rückmeldung", "Status", "Anhänge"):
        styles = {ws.cell(r, col[header]).style_id for r in (2, 3, 4)}
        assert len(styles) == 1, f"{header}: new rows must carry the table row's style"
    assert ws.cell(4, col["Letzte Rückmeldung"]).number_format == "DD.MM.YYYY"
    assert ws.column_dimensions[letter("service_key")].hidden  # the key column stays hidden
    assert f'<dimension ref="A1:{LAST}4"/>' in sheet_xml(out)


def test_new_row_takes_the_style_of_the_last_row(empty: bytes, schema: Schema) -> None:
    data = staff_rows(
        empty, [{"Nr.": "2025-0001", "Betreff": "von Hand", "Dienst-Schlüssel": "k1"}]
    )
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    ws = workbook["Anfragen"]
    ws[f"{letter('subject')}2"].font = Font(bold=True)
    ws[f"{letter('subject')}2"].fill = PatternFill("solid", fgColor="FFFF00")
    buffer = io.BytesIO()
    workbook.save(buffer)

    out = append(buffer.getvalue(), schema, request(2))

    new = reopen(out)[f"{letter('subject')}3"]
    assert new.value == "Anfrage 2"
    assert new.font.bold and new.fill.fgColor.rgb == "00FFFF00"


def test_empty_table_uses_the_column_default_styles(empty: bytes, schema: Schema) -> None:
    row2 = re.search(r'<row r="2".*?</row>', sheet_xml(empty))
    assert row2 is not None
    data = edit_part(empty, SHEET, row2.group(0), "")  # staff cleared row 2 completely

    out = append(data, schema, request(1, received=datetime(2025, 1, 2, 8, 0), attachments=1))

    ws = reopen(out)
    col = columns(ws)
    assert ws.cell(2, col["Eingang"]).number_format == "DD.MM.YYYY hh:mm"
    assert ws.cell(2, col["Anhänge"]).number_format == "0"
    assert ws.cell(2, col["Hausbesuch fällig bis"]).number_format == "DD.MM.YYYY"
    assert ws.tables["Anfragen"].ref == f"A1:{LAST}2"


def test_empty_rows_inside_the_table_are_filled_before_it_grows(
    empty: bytes, schema: Schema
) -> None:
    data = staff_rows(empty, [{"Nr.": "2025-0001", "Dienst-Schlüssel": "k1"}])
    data = edit_part(data, TABLE, f'ref="A1:{LAST}2"', f'ref="A1:{LAST}4"')

    out = append(data, schema, request(2), request(3), request(4))

    ws = reopen(out)
    assert column_values(ws, "Nr.") == ["2025-0001", "2025-0002", "2025-0003", "2025-0004"]
    assert ws.tables["Anfragen"].ref == f"A1:{LAST}5"


def test_ranges_ending_at_the_table_end_grow_with_it(empty: bytes, schema: Schema) -> None:
    data = staff_rows(empty, [{"Nr.": f"2025-000{i}", "Dienst-Schlüssel": f"k{i}"} for i in (1, 2)])
    dv = (
        '<dataValidation type="list" sqref="C2:C3"><formula1>"a,b"</formula1></dataValidation>'
        f'<dataValidation type="list" sqref="{OUTSIDE}2:{OUTSIDE}3 E2:E10"><formula1>"a"</formula1>'
        "</dataValidation>"
    )
    cf = (
        '<conditionalFormatting sqref="N2:N3 Z2:Z3"><cfRule type="expression" priority="99" '
        'dxfId="0"><formula>N2&lt;TODAY()</formula></cfRule></conditionalFormatting>'
    )
    x14 = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<x14:dataValidation type="list"><x14:formula1><xm:f>Listen!$A$2:$A$7</xm:f></x14:formula1>'
        "<xm:sqref>D2:D3</xm:sqref></x14:dataValidation></x14:dataValidations></ext>"
        '<ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:sparklineGroups xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        "<x14:sparklineGroup><x14:sparklines><x14:sparkline><xm:f>Anfragen!M2:M3</xm:f>"
        "<xm:sqref>AS3</xm:sqref></x14:sparkline></x14:sparklines></x14:sparklineGroup>"
        "</x14:sparklineGroups></ext></extLst>"
    )
    data = edit_part(data, SHEET, "<dataValidations", cf + "<dataValidations")
    data = edit_part(data, SHEET, "</dataValidations>", dv + "</dataValidations>")
    data = edit_part(data, SHEET, "</worksheet>", x14 + "</worksheet>")

    xml = sheet_xml(append(data, schema, request(3), request(4)))

    assert 'sqref="C2:C5"' in xml
    assert f'sqref="{OUTSIDE}2:{OUTSIDE}3 E2:E10"' in xml  # outside the table / ending elsewhere
    assert 'sqref="N2:N5 Z2:Z5"' in xml
    assert "<xm:sqref>D2:D5</xm:sqref>" in xml
    assert "<xm:sqref>AS3</xm:sqref>" in xml  # a sparkline's place is not a range to grow
    status = letter("status")
    assert f'sqref="{status}2:{status}1048576"' in xml  # init's whole-column ranges stay


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_request_is_appended_once(empty: bytes, schema: Schema) -> None:
    row = request(1)
    once, first = apply_changes(empty, schema, Changes(appends=(row, row)))
    twice, second = apply_changes(once, schema, Changes(appends=(row,)))

    assert column_values(reopen(once), "Nr.") == ["2025-0001"]
    assert first.appended_keys == second.appended_keys == (row.service_key,)
    assert twice == once  # nothing to do: the very same bytes come back

    excel_saved = to_shared_strings(once)  # the key now lives in sharedStrings.xml
    again, third = apply_changes(excel_saved, schema, Changes(appends=(row, request(2))))
    assert third.appended_keys == (row.service_key, request(2).service_key)
    assert column_values(reopen(again), "Nr.") == ["2025-0001", "2025-0002"]


def test_no_changes_return_the_input(empty: bytes, schema: Schema) -> None:
    out, result = apply_changes(empty, schema, Changes())
    assert out is empty and result.updated == 0 and result.appended_keys == ()


# --- columns found by header ------------------------------------------------------------------


def reordered_workbook(schema: Schema) -> bytes:
    """Staff reordered the columns, added their own, wrote a header in other case and spacing,
    and deleted `Anschrift`."""
    headers = [c.header for c in reversed(schema.requests.columns) if c.key != "address"]
    headers.insert(5, "Notiz Team")
    headers = [
        {
            "Betreff": "  betreff ",
            "Nr.": "NR.",
            "Frist Ansprechpartner": "Frist\nAnsprechpartner",
        }.get(h, h)
        for h in headers
    ]
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Anfragen"
    ws.append(headers)
    ws.append([None] * len(headers))
    for index, header in enumerate(headers, start=1):  # what Excel carries along when moving
        if header in ("Eingang", "Frist\nAnsprechpartner"):
            letter = openpyxl.utils.get_column_letter(index)
            ws.column_dimensions[letter].number_format = "DD.MM.YYYY hh:mm"
    last = openpyxl.utils.get_column_letter(len(headers))
    ws.add_table(Table(displayName="Anfragen", ref=f"A1:{last}2"))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_columns_are_found_by_header_text(schema: Schema) -> None:
    data = reordered_workbook(schema)
    received = datetime(2025, 5, 6, 7, 8)
    row = request(
        7, received=received, address="Am Strande 1", kind="Sonstiges", contact_due=date(2025, 5, 9)
    )

    ws = reopen(append(data, schema, row))

    values = {str(ws.cell(1, c).value): ws.cell(2, c).value for c in range(1, ws.max_column + 1)}
    assert values["NR."] == "2025-0007"
    assert values["  betreff "] == "Anfrage 7"
    assert values["Eingang"] == received
    assert values["Frist\nAnsprechpartner"] == datetime(2025, 5, 9)
    assert values["Anfrageart"] == "Sonstiges"
    assert values["Dienst-Schlüssel"] == row.service_key
    assert values["Notiz Team"] is None
    assert "Am Strande 1" not in values.values()  # its column is gone; nothing lands elsewhere


def test_missing_key_column_is_refused(empty: bytes, schema: Schema) -> None:
    data = edit_part(empty, SHEET, "<t>Dienst-Schl&#252;ssel</t>", "<t>Schlüssel alt</t>")
    with pytest.raises(WorkbookUnsafe, match="Dienst-Schlüssel"):
        append(data, schema, request(1))


# --- updates ----------------------------------------------------------------------------------


def sorted_by_staff(empty: bytes) -> bytes:
    rows = [
        {"Nr.": f"2025-000{n}", "Betreff": f"Fall {n}", "Dienst-Schlüssel": f"k{n}"}
        for n in (3, 1, 2)
    ]
    return to_shared_strings(staff_rows(empty, rows))


def test_updates_find_their_row_by_nr(empty: bytes, schema: Schema) -> None:
    data = sorted_by_staff(empty)
    updates = (
        CellUpdate("2025-0001", "contact_due", date(2025, 3, 11)),
        CellUpdate("2025-0002", "last_feedback", date(2025, 4, 1)),
        CellUpdate("2025-0003", "contact_due", date(2025, 3, 12)),
        CellUpdate("2025-9999", "contact_due", date(2025, 3, 13)),  # not in the sheet
    )

    out, result = apply_changes(data, schema, Changes(updates=updates))

    assert result.updated == 3
    ws = reopen(out)
    col = columns(ws)
    by_nr = {ws.cell(r, col["Nr."]).value: r for r in range(2, 5)}
    assert by_nr == {"2025-0003": 2, "2025-0001": 3, "2025-0002": 4}
    due = ws.cell(by_nr["2025-0001"], col["Frist Ansprechpartner"])
    assert due.value == datetime(2025, 3, 11) and due.number_format == "DD.MM.YYYY"
    assert ws.cell(by_nr["2025-0003"], col["Frist Ansprechpartner"]).value == datetime(2025, 3, 12)
    assert ws.cell(by_nr["2025-0002"], col["Letzte Rückmeldung"]).value == datetime(2025, 4, 1)
    assert ws.cell(by_nr["2025-0002"], col["Frist Ansprechpartner"]).value is None
    assert [ws.cell(r, col["Betreff"]).value for r in (2, 3, 4)] == ["Fall 3", "Fall 1", "Fall 2"]
    for row_xml in re.findall(r"<row .*?</row>", sheet_xml(out)):
        refs = [
            int(openpyxl.utils.column_index_from_string(c))
            for c in re.findall(r'<c r="([A-Z]+)\d+"', row_xml)
        ]
        assert refs == sorted(refs), "cells must stay in column order"


def test_an_update_that_changes_nothing_writes_nothing(empty: bytes, schema: Schema) -> None:
    data = sorted_by_staff(empty)
    updates = Changes(updates=(CellUpdate("2025-0001", "contact_due", date(2025, 3, 11)),))
    once, first = apply_changes(data, schema, updates)
    again, second = apply_changes(once, schema, updates)
    assert once != data and first.updated == 1
    assert again is once and second.updated == 1


def test_update_of_a_row_appended_in_the_same_batch(empty: bytes, schema: Schema) -> None:
    changes = Changes(
        appends=(request(5),), updates=(CellUpdate("2025-0005", "contact_due", date(2025, 6, 2)),)
    )
    out, result = apply_changes(empty, schema, changes)
    assert result.updated == 1
    assert column_values(reopen(out), "Frist Ansprechpartner") == [datetime(2025, 6, 2)]


def test_updating_a_staff_column_is_a_programming_error(empty: bytes, schema: Schema) -> None:
    with pytest.raises(ValueError, match="contact_person"):
        apply_changes(
            empty, schema, Changes(updates=(CellUpdate("2025-0001", "contact_person", "X"),))
        )


def test_a_formula_staff_put_into_a_service_cell_is_not_overwritten(
    empty: bytes, schema: Schema
) -> None:
    data = staff_rows(
        empty,
        [{"Nr.": "2025-0001", "Dienst-Schlüssel": "k1", "Frist Ansprechpartner": "=TODAY()+5"}],
    )
    out, result = apply_changes(
        data,
        schema,
        Changes(updates=(CellUpdate("2025-0001", "contact_due", date(2025, 1, 1)),)),
    )
    # issue 12, item 13: the cell is kept and reported; the save itself is not refused
    assert out == data and result.updated == 0
    assert len(result.skipped) == 1 and "Formel" in result.skipped[0]
    assert f"{letter('contact_due')}2" in result.skipped[0]


# --- hostile text -----------------------------------------------------------------------------


def hostile_workbook(empty: bytes, schema: Schema) -> bytes:
    rows = [request(i, subject=text, requester_name=text) for i, text in enumerate(INJECTIONS, 1)]
    return append(empty, schema, *rows)


def test_text_from_mail_never_becomes_a_formula(empty: bytes, schema: Schema) -> None:
    ws = reopen(hostile_workbook(empty, schema))
    col = columns(ws)
    for row, text in enumerate(INJECTIONS, start=2):
        for header in ("Betreff", "Anfrage von"):
            cell = ws.cell(row, col[header])
            assert (cell.value, cell.data_type) == (text, "s")


@pytest.mark.libreoffice
@needs_libreoffice
def test_text_from_mail_stays_text_in_libreoffice(
    tmp_path: Path, empty: bytes, schema: Schema
) -> None:
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(hostile_workbook(empty, schema))

    raw = libreoffice_raw_csv(path)  # text cells are quoted, computed values are not
    lines = raw.splitlines()
    rows = list(csv.reader(io.StringIO(raw)))
    betreff = rows[0].index("Betreff")
    for line, row, text in zip(lines[1:], rows[1:], INJECTIONS, strict=False):
        assert row[betreff] == text
        assert '"' + text.replace('"', '""') + '"' in line


@pytest.mark.libreoffice
@needs_libreoffice
def test_workbook_last_saved_by_libreoffice(tmp_path: Path, empty: bytes, schema: Schema) -> None:
    path = tmp_path / "staff.xlsx"
    path.write_bytes(sorted_by_staff(empty))
    data = libreoffice_resave(path)  # LibreOffice's own XML, shared strings, table numbering

    changes = Changes(
        appends=(NewRow("k1", {"nr": "doppelt"}), request(4)),
        updates=(CellUpdate("2025-0002", "contact_due", date(2025, 3, 12)),),
    )
    out, result = apply_changes(data, schema, changes)

    assert result.updated == 1
    ws = reopen(out)
    assert column_values(ws, "Nr.") == ["2025-0003", "2025-0001", "2025-0002", "2025-0004"]
    assert ws.cell(4, columns(ws)["Frist Ansprechpartner"]).value == datetime(2025, 3, 12)
    assert ws.tables["Anfragen"].ref == f"A1:{LAST}5"


def test_control_characters_are_stripped_and_text_capped(empty: bytes, schema: Schema) -> None:
    rows = [
        request(1, subject="A\x00B\x07C\x0bD\x0cE\x1fF\ud800G\uffffH"),
        request(2, subject="Zeile 1\r\nZeile 2\tTab _x0041_ bleibt"),
        request(3, subject="x" * 40_000, notes=None),
        request(4, subject="😀" * 20_000),
    ]
    ws = reopen(append(empty, schema, *rows))
    col = columns(ws)["Betreff"]
    assert ws.cell(2, col).value == "ABCDEFGH"
    assert ws.cell(3, col).value.startswith("Zeile 1\r\nZeile 2\tTab ")
    assert len(ws.cell(4, col).value) == 32_767
    emoji = ws.cell(5, col).value
    assert len(emoji.encode("utf-16-le")) // 2 <= 32_767 and set(emoji) == {"😀"}


# --- refusing -----------------------------------------------------------------------------


def test_rows_below_the_table_are_refused(empty: bytes, schema: Schema) -> None:
    data = staff_rows(empty, [{"Nr.": "2025-0001", "Dienst-Schlüssel": "k1"}])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["Anfragen"]["B9"] = "Summe"  # typed below the table, outside it
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    before = hashlib.sha256(data).hexdigest()

    with pytest.raises(WorkbookUnsafe, match="Zeile 9"):
        append(data, schema, request(2))
    assert hashlib.sha256(data).hexdigest() == before

    updates = (CellUpdate("2025-0001", "contact_due", date(2025, 2, 3)),)
    out, result = apply_changes(data, schema, Changes(updates=updates))  # updates stay possible
    assert result.updated == 1 and reopen(out)["B9"].value == "Summe"


def test_merged_cells_where_rows_would_go_are_refused(empty: bytes, schema: Schema) -> None:
    data = edit_part(
        empty,
        SHEET,
        "<conditionalFormatting",
        '<mergeCells count="1"><mergeCell ref="D2:E3"/></mergeCells><conditionalFormatting',
    )
    with pytest.raises(WorkbookUnsafe, match="verbundene Zelle"):
        append(data, schema, request(1))


def test_an_array_formula_reaching_into_new_rows_is_refused(empty: bytes, schema: Schema) -> None:
    data = staff_rows(empty, [{"Nr.": "2025-0001", "Dienst-Schlüssel": "k1"}])
    due = letter("contact_due")
    cell = re.search(rf'<c r="{due}2"[^>]*?(/>|>.*?</c>)', sheet_xml(data))
    assert cell is not None
    formula = f'<f t="array" ref="{due}2:{due}3">TODAY()+{{0;1}}</f>'
    array = f'<c r="{due}2" s="3">{formula}<v>45000</v></c>'
    data = edit_part(data, SHEET, cell.group(0), array)
    with pytest.raises(WorkbookUnsafe, match="Matrixformel"):
        append(data, schema, request(2))


def test_a_totals_row_is_refused(empty: bytes, schema: Schema) -> None:
    data = edit_part(empty, TABLE, 'headerRowCount="1"', 'headerRowCount="1" totalsRowCount="1"')
    with pytest.raises(WorkbookUnsafe, match="Ergebniszeile"):
        append(data, schema, request(1))


# --- the rest of the package ------------------------------------------------------------------


def test_every_other_member_is_byte_identical(empty: bytes, schema: Schema) -> None:
    data = sorted_by_staff(empty)
    changes = Changes(
        appends=(request(4), request(5)),
        updates=(CellUpdate("2025-0001", "contact_due", date(2025, 3, 11)),),
    )
    out, _ = apply_changes(data, schema, changes)

    before, after = raw_entries(data), raw_entries(out)
    assert list(before) == list(after)  # same names, same order
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {SHEET, TABLE}
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(io.BytesIO(out)) as new:
        assert new.testzip() is None
        for info in old.infolist():
            twin = new.getinfo(info.filename)
            assert (twin.compress_type, twin.date_time, twin.external_attr) == (
                info.compress_type,
                info.date_time,
                info.external_attr,
            )


def test_stored_members_stay_stored(empty: bytes, schema: Schema) -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(empty)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_STORED)
    out = append(buffer.getvalue(), schema, request(1))
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    assert column_values(reopen(out), "Nr.") == ["2025-0001"]


class _Unseekable(io.RawIOBase):
    """An output zipfile cannot seek in: it then writes data descriptors, as LibreOffice does."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)


def test_members_with_data_descriptors_are_copied_raw(empty: bytes, schema: Schema) -> None:
    sink = _Unseekable()
    with zipfile.ZipFile(io.BytesIO(empty)) as source, zipfile.ZipFile(sink, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), zipfile.ZIP_DEFLATED)
    data = bytes(sink.buffer)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(info.flag_bits & 0x08 for info in archive.infolist())

    out = append(data, schema, request(1))

    before, after = raw_entries(data), raw_entries(out)
    assert list(before) == list(after)
    assert {name for name in before if before[name] != after[name]} == {SHEET}
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        assert archive.testzip() is None
    assert column_values(reopen(out), "Nr.") == ["2025-0001"]


def test_zip64_packages_keep_every_member(empty: bytes, schema: Schema) -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(empty)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            with target.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(source.read(info))
    data = buffer.getvalue()
    out = append(data, schema, request(1))
    old, new = members(data), members(out)
    assert list(old) == list(new)
    assert {n for n in old if old[n] != new[n]} == {SHEET}  # row 2 filled: the table kept its size
    with zipfile.ZipFile(io.BytesIO(data)) as before, zipfile.ZipFile(io.BytesIO(out)) as after:
        assert after.testzip() is None
        assert [(i.compress_type, i.date_time) for i in after.infolist()] == [
            (i.compress_type, i.date_time) for i in before.infolist()
        ]


def test_sheet_written_with_other_attribute_order(empty: bytes, schema: Schema) -> None:
    data = staff_rows(empty, [{"Nr.": "2025-0001", "Dienst-Schlüssel": "k1"}])
    xml = sheet_xml(data)
    swapped = re.sub(r'<c r="([A-Z]+\d+)" s="(\d+)"', r'<c s="\2" r="\1"', xml)
    swapped = re.sub(r'<row r="(\d+)"', r'<row  r="\1"', swapped)
    assert swapped != xml
    data = edit_part(data, SHEET, xml, swapped)
    changes = Changes(
        appends=(request(1), request(2)),  # request(1)'s key differs from "k1": both are new
        updates=(CellUpdate("2025-0001", "contact_due", date(2025, 3, 11)),),
    )
    out, result = apply_changes(data, schema, changes)
    again, _ = apply_changes(out, schema, Changes(appends=(request(2),)))
    ws = reopen(again)
    assert column_values(ws, "Nr.") == ["2025-0001", "2025-0001", "2025-0002"]
    assert result.updated == 1


def test_1904_date_system(empty: bytes, schema: Schema) -> None:
    data = edit_part(empty, WORKBOOK, "<workbookPr/>", '<workbookPr date1904="1"/>')
    out = append(data, schema, request(1, contact_due=date(2025, 3, 4)))
    serial = (date(2025, 3, 4) - date(1904, 1, 1)).days
    due = letter("contact_due")
    assert re.search(rf'<c r="{due}2" s="\d+"><v>{serial}</v></c>', sheet_xml(out))
    assert reopen(out)[f"{due}2"].value == datetime(2025, 3, 4)


def test_encrypted_or_old_workbooks_are_named_as_such(schema: Schema) -> None:
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)
    with pytest.raises(WorkbookError, match="Kennwort"):
        append(ole, schema, request(1))
    with pytest.raises(WorkbookError, match="ZIP"):
        append(b"PK\x03\x04 kaputt", schema, request(1))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=80))
def test_any_mail_text_reads_back_as_written(empty: bytes, schema: Schema, text: str) -> None:
    out = append(empty, schema, request(1, subject=text))
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(out)).get_sheet_by_name("Anfragen")
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", text)
    assert sheet.to_python()[1][COLUMNS.index("subject")] == expected


def test_clearing_a_cell_that_holds_a_shared_string_really_clears_it() -> None:
    from jugendhaus_mail.workbook.xlsx_cells import holds

    # "<v>3</v>" in a t="s" cell points at shared string 3: the cell is not empty
    assert not holds("s", b"<v>3</v>", None, False)
    assert holds("n", None, None, False)
