"""`init` builds the workbook staff work in: sheets, tables, dropdowns, colours, formats."""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from workbook_helpers import SCHEMA, built, today_plus

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import Sheet

DATA_SHEETS = [sheet.name for sheet in SCHEMA.sheets]


def letter_of(sheet: Sheet, key: str) -> str:
    return str(get_column_letter([c.key for c in sheet.columns].index(key) + 1))


@pytest.fixture
def workbook(tmp_path: Path) -> Workbook:
    return openpyxl.load_workbook(built(tmp_path))


def test_sheets_and_headers_follow_the_schema(workbook: Workbook) -> None:
    assert workbook.sheetnames == [*DATA_SHEETS, "Listen"]
    for sheet in SCHEMA.sheets:
        headers = [cell.value for cell in workbook[sheet.name][1]]
        assert headers == [c.header for c in sheet.columns]
        first = workbook[sheet.name]["A1"]
        assert first.font.bold and first.alignment.wrap_text
        # quiet colours: one for the service's columns, one for staff columns (test_look_*)
        assert first.fill.fgColor.rgb[-6:] in ("DCE6F1", "FCE9C8")


def test_every_data_sheet_is_one_table_over_header_and_one_empty_row(workbook: Workbook) -> None:
    for sheet in SCHEMA.sheets:
        ws = workbook[sheet.name]
        assert list(ws.tables) == [sheet.table]
        table = ws.tables[sheet.table]
        last = get_column_letter(len(sheet.columns))
        assert table.ref == f"A1:{last}2"
        assert table.autoFilter.ref == table.ref
        assert [c.name for c in table.tableColumns] == [c.header for c in sheet.columns]
        assert table.tableStyleInfo.name == "TableStyleMedium2"
        assert all(cell.value is None for cell in ws[2])


def test_every_list_column_has_a_dropdown_over_the_whole_column(workbook: Workbook) -> None:
    for sheet in SCHEMA.sheets:
        ws = workbook[sheet.name]
        found = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
        expected = {c.key: c.list for c in sheet.columns if c.list}
        assert len(found) == len(expected)
        for key, list_key in expected.items():
            letter = letter_of(sheet, key)
            dv = found[f"{letter}2:{letter}1048576"]
            assert dv.type == "list"
            assert dv.allow_blank
            if (sheet.name, key) == ("Anfragen", "contact_person"):
                assert dv.formula1 == "Liste_JSB"  # only active JSB staff
                assert dv.errorStyle == "warning"
            elif list_key == "staff":
                assert dv.formula1 == "Liste_Mitarbeitende"
                assert dv.errorStyle == "warning"
            else:
                assert dv.formula1 == f"Liste_{list_key}"
                assert dv.errorStyle == "stop"


def test_defined_names_point_at_the_list_values(workbook: Workbook) -> None:
    listen = workbook["Listen"]
    for key, values in SCHEMA.lists.items():
        ((sheet_name, cells),) = workbook.defined_names[f"Liste_{key}"].destinations
        assert sheet_name == "Listen"
        assert [c.value for row in listen[cells.replace("$", "")] for c in row] == list(values)
    assert listen.protection.sheet
    staff = workbook.defined_names["Liste_Mitarbeitende"].attr_text
    assert staff.startswith("OFFSET('Mitarbeitende'!$A$2,") and "COUNTA(" in staff


def test_deadline_columns_turn_red_when_overdue_and_amber_when_due_soon(
    workbook: Workbook,
) -> None:
    sheet = SCHEMA.requests
    ws = workbook[sheet.name]
    status = letter_of(sheet, "status")
    rules = {str(cf.sqref): cf.rules for cf in ws.conditional_formatting}
    last = get_column_letter(len(sheet.columns))
    # the four deadline columns, Frist Ansprechpartner (test_look_workbook) and the stripes
    assert set(rules) - {f"A2:{last}1048576"} == {
        f"{letter_of(sheet, key)}2:{letter_of(sheet, key)}1048576"
        for key in (*sheet.deadline_columns, "contact_due")
    }
    assert len(sheet.deadline_columns) == 4
    for key in sheet.deadline_columns:
        letter = letter_of(sheet, key)
        overdue, soon = rules[f"{letter}2:{letter}1048576"]
        for rule in (overdue, soon):
            assert rule.type == "expression" and rule.stopIfTrue
            assert f"ISNUMBER(${letter}2)" in rule.formula[0]
            for finished in sheet.finished_statuses:
                assert f'${status}2<>"{finished}"' in rule.formula[0]
        assert f"${letter}2<TODAY()" in overdue.formula[0]
        assert f"${letter}2<=WORKDAY(TODAY(),2)" in soon.formula[0]
        assert overdue.dxf.fill.bgColor.rgb.endswith("FFC7CE")
        assert soon.dxf.fill.bgColor.rgb.endswith("FFEB9C")


def test_header_frozen_widths_from_schema_and_key_column_hidden(workbook: Workbook) -> None:
    for sheet in SCHEMA.sheets:
        ws = workbook[sheet.name]
        assert ws.freeze_panes == "A2"
        for index, column in enumerate(sheet.columns, start=1):
            dimension = ws.column_dimensions[get_column_letter(index)]
            # the schema's width, or wider so the longest header word fits (test_look_*)
            assert dimension.width >= column.width
            assert bool(dimension.hidden) == column.hidden
    key = letter_of(SCHEMA.requests, "service_key")
    assert workbook["Anfragen"].column_dimensions[key].hidden
    assert not workbook["Anfragen"].column_dimensions["A"].hidden


def test_german_number_formats_on_first_row_and_as_column_default(workbook: Workbook) -> None:
    formats = {"date": "DD.MM.YYYY", "datetime": "DD.MM.YYYY hh:mm", "int": "0", "text": "@"}
    for sheet in SCHEMA.sheets:
        ws = workbook[sheet.name]
        for index, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            assert ws[f"{letter}2"].number_format == formats[column.type], column.key
            assert ws.column_dimensions[letter].number_format == formats[column.type]
    anfragen = workbook["Anfragen"]
    assert anfragen[f"{letter_of(SCHEMA.requests, 'received')}2"].number_format == (
        "DD.MM.YYYY hh:mm"
    )


def test_document_properties_carry_a_title_and_no_person(workbook: Workbook) -> None:
    props = workbook.properties
    assert props.title == "Anfrageliste"
    assert props.creator == "jugendhaus-mail"
    assert props.lastModifiedBy == "jugendhaus-mail"


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(b"Arbeit von Kolleginnen")
    with pytest.raises(WorkbookError, match="gibt es schon; sie wird nicht überschrieben"):
        build_workbook(path, SCHEMA)
    assert path.read_bytes() == b"Arbeit von Kolleginnen"


def test_a_missing_folder_is_named_in_german(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match=r"Der Ordner .*fehlt"):
        build_workbook(tmp_path / "gibt-es-nicht" / "Anfrageliste.xlsx", SCHEMA)


def test_the_new_workbook_reads_back_empty_with_all_headers(tmp_path: Path) -> None:
    snapshot = read_snapshot(built(tmp_path), SCHEMA)
    assert snapshot.requests == [] and snapshot.staff == [] and snapshot.absences == []
    assert snapshot.missing_headers == {}


def soffice_convert(tmp_path: Path, source: Path, target: str) -> Path:
    profile = (tmp_path / "lo-profile").as_uri()
    outdir = tmp_path / "lo-out"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            *("--convert-to", target, "--outdir", str(outdir), str(source)),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return outdir / f"{source.stem}.{target.split(':')[0]}"


@pytest.mark.libreoffice
@pytest.mark.usefixtures("soffice")
def test_libreoffice_opens_it_and_computes_the_deadline_colours(tmp_path: Path) -> None:
    """LibreOffice reads the headers, and evaluates the very formulas of the colour rules
    (TODAY, WORKDAY, status) the way we mean them."""
    path = built(tmp_path)
    sheet = SCHEMA.requests
    workbook = openpyxl.load_workbook(path)
    ws = workbook[sheet.name]
    due, status = letter_of(sheet, "follow_up_due"), letter_of(sheet, "status")
    cases = [  # (due date, status, expected colour)
        (today_plus(-3), "In Bearbeitung", "rot"),
        (today_plus(1), "Neu", "gelb"),
        (today_plus(30), "Neu", "-"),
        (today_plus(-3), "Abgeschlossen", "-"),
        (None, "Neu", "-"),
        ("03.04.2020", "Neu", "-"),  # text typed into the date cell
    ]
    rules = next(cf.rules for cf in ws.conditional_formatting if str(cf.sqref).startswith(due))
    probe = get_column_letter(len(sheet.columns) + 1)
    for row, (value, state, _) in enumerate(cases, start=2):
        ws[f"{due}{row}"] = value
        ws[f"{status}{row}"] = state
        red, amber = (re.sub(r"(\$[A-Z]+)2\b", rf"\g<1>{row}", r.formula[0]) for r in rules)
        ws[f"{probe}{row}"] = f'=IF({red},"rot",IF({amber},"gelb","-"))'
    workbook.save(path)

    output = soffice_convert(tmp_path, path, "csv:Text - txt - csv (StarCalc):44,34,76,1")
    rows = list(csv.reader(output.read_text(encoding="utf-8").splitlines()))
    assert rows[0][: len(sheet.columns)] == [c.header for c in sheet.columns]
    assert [r[len(sheet.columns)] for r in rows[1:]] == [colour for *_, colour in cases]
