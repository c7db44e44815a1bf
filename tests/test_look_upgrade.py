"""Workbooks made by the old `init` get the new look through the upgrade step, where safe: print
setup, `Frist Ansprechpartner` colours, the JSB-only dropdown and a note on each header; never
over what staff set themselves, every other part of the file byte for byte as it was, once."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from jugendhaus_mail.workbook import look
from jugendhaus_mail.workbook import xlsx_look_upgrade as up
from jugendhaus_mail.workbook.schema import load_schema
from tests.look_pdf import words
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc
from tests.workbook_helpers import active_jsb_offered
from tests.xlsx_fixtures import members, raw_entries, run_libreoffice

SCHEMA = load_schema()
KEYS = [c.key for c in SCHEMA.requests.columns]
CONTACT_DUE = openpyxl.utils.get_column_letter(KEYS.index("contact_due") + 1)  # N
CONTACT = openpyxl.utils.get_column_letter(KEYS.index("contact_person") + 1)  # O
STATUS = openpyxl.utils.get_column_letter(KEYS.index("status") + 1)  # Q
INACTIVE_JSB = {
    "name": "Inge Inaktiv",
    "email": "inge.inaktiv@rostock.de",
    "role": "JSB",
    "rechtskreis": "SGB VIII",
    "active": "Nein",
}
SECOND_JSB = {**INACTIVE_JSB, "name": "Paul Peters", "email": "paul@rostock.de", "active": "Ja"}


# `init` before the new look (commit 2053fe4) made this workbook, as it made the ones staff
# have; to make it again: `git show 2053fe4:jugendhaus_mail/workbook/build.py`, then its
# build_workbook(path, load_schema()).
OLD_INIT = Path(__file__).parent / "data" / "anfrageliste_old_init.xlsx"


def old_workbook(tmp_path: Path, name: str = "alt.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(OLD_INIT.read_bytes())
    return path


def edited(path: Path, edit: object) -> bytes:
    """The old workbook after staff changed something (made with openpyxl: a fixture only)."""
    workbook = openpyxl.load_workbook(path)
    edit(workbook)  # type: ignore[operator]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def defined(data: bytes) -> dict[tuple[str, str | None], str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(members(data)["xl/workbook.xml"])
    return {
        (n.get("name", ""), n.get("localSheetId")): n.text or ""
        for n in root.iter()
        if n.tag.endswith("}definedName")
    }


def rules_on(ws: openpyxl.worksheet.worksheet.Worksheet, letter: str) -> list[object]:
    return [
        rule
        for cf in ws.conditional_formatting
        if any(str(r).startswith(f"{letter}") for r in cf.sqref.ranges)
        for rule in cf.rules
    ]


def test_an_old_workbook_gets_print_setup_colours_jsb_dropdown_and_notes(tmp_path: Path) -> None:
    before = old_workbook(tmp_path).read_bytes()
    data, result = up.upgrade_look(before, SCHEMA)
    assert set(result.added) == {up.PRINT, up.COLOURS, up.JSB, up.NOTES}, result
    ws = openpyxl.load_workbook(io.BytesIO(data))["Anfragen"]
    assert ws.page_setup.orientation == "landscape"
    assert (int(ws.page_setup.fitToWidth), int(ws.page_setup.fitToHeight)) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert "&D" in ws.oddFooter.right.text
    names = defined(data)
    assert names[("_xlnm.Print_Titles", "0")] == "'Anfragen'!$1:$1"
    assert names[("_xlnm.Print_Area", "0")] == f"'Anfragen'!$A$1:${STATUS}$1048576"
    overdue, soon = rules_on(ws, CONTACT_DUE)
    assert f"${CONTACT_DUE}2<TODAY()" in overdue.formula[0]  # type: ignore[attr-defined]
    assert f"${CONTACT_DUE}2<=WORKDAY(TODAY(),2)" in soon.formula[0]  # type: ignore[attr-defined]
    assert overdue.dxf.fill.bgColor.rgb.endswith("FFC7CE")  # type: ignore[attr-defined]
    assert soon.dxf.fill.bgColor.rgb.endswith("FFEB9C")  # type: ignore[attr-defined]
    assert names[(look.JSB_LIST, None)].startswith("OFFSET('Listen'!$")
    [contact] = [dv for dv in ws.data_validations.dataValidation if CONTACT in str(dv.sqref)]
    assert contact.formula1 == look.JSB_LIST
    assert contact.errorStyle == "warning"  # a name not yet in Mitarbeitende stays possible
    for cell, column in zip(ws[1], SCHEMA.requests.columns, strict=True):
        assert cell.comment is not None, column.header
        assert cell.comment.text == look.header_note("Anfragen", column)
    others = {dv.formula1 for dv in ws.data_validations.dataValidation} - {look.JSB_LIST}
    assert "Liste_Status" in others  # the other dropdowns as they were


def test_every_other_part_keeps_its_bytes_and_a_second_run_changes_nothing(
    tmp_path: Path,
) -> None:
    before = old_workbook(tmp_path).read_bytes()
    data, _ = up.upgrade_look(before, SCHEMA)
    old, new = raw_entries(before), raw_entries(data)
    touched = {
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",  # Anfragen
        "xl/worksheets/sheet6.xml",  # Listen: the JSB column
        "xl/worksheets/_rels/sheet1.xml.rels",
        "[Content_Types].xml",
    }
    for name, raw in old.items():
        if name not in touched:
            assert new[name] == raw, name
    for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet6.xml"):
        rows_before = members(before)[name].split(b"<sheetData>")[1].split(b"</sheetData>")[0]
        rows_after = members(data)[name].split(b"<sheetData>")[1].split(b"</sheetData>")[0]
        if name.endswith("sheet1.xml"):
            assert rows_after == rows_before  # Anfragen: every row and cell as it was
        else:  # Listen: the JSB column appended to the right of every row, nothing else
            stripped = re.sub(rb'<c r="M\d+".*?</c>', b"", rows_after)
            assert re.sub(rb'<row r="\d+"></row>', b"", stripped) == rows_before
    added = set(new) - set(old)
    assert added == {"xl/comments/comment_jhm1.xml", "xl/drawings/vmlDrawing_jhm1.vml"}, added
    again, result = up.upgrade_look(data, SCHEMA)
    assert again == data and result.added == ()


def test_libreoffice_and_openpyxl_read_the_notes(tmp_path: Path, soffice: str) -> None:
    data, _ = up.upgrade_look(old_workbook(tmp_path).read_bytes(), SCHEMA)
    path = tmp_path / "neu.xlsx"
    path.write_bytes(data)
    resaved = run_libreoffice(path, "xlsx", tmp_path / "lo")
    ws = openpyxl.load_workbook(resaved)["Anfragen"]
    notes = {c.value: c.comment.text for c in ws[1] if c.comment}
    assert len(notes) == len(SCHEMA.requests.columns)
    assert "Tragen Sie ein" in notes["Ansprechpartner JSB"]
    assert notes["Nr."].startswith("Nr.\nLaufende Nummer")
    # saved again in LibreOffice: the next upgrade finds everything in place
    assert up.upgrade_look(resaved.read_bytes(), SCHEMA)[1].added == ()


def test_a_workbook_made_by_todays_init_is_left_as_it_is(tmp_path: Path) -> None:
    from jugendhaus_mail.workbook.build import build_workbook

    path = tmp_path / "neu.xlsx"
    build_workbook(path, SCHEMA)
    data, result = up.upgrade_look(path.read_bytes(), SCHEMA)
    assert data == path.read_bytes() and result == up.LookUpgrade()


def test_a_workbook_staff_saved_in_libreoffice_is_upgraded_and_prints_one_page_wide(
    tmp_path: Path, soffice: str, pdftotext: str
) -> None:
    def ten_requests(workbook: openpyxl.Workbook) -> None:
        ws = workbook["Anfragen"]
        for row in range(2, 12):
            ws.cell(row, 1, f"2026-{row - 1:04d}")
            ws.cell(row, KEYS.index("subject") + 1, f"Fallanfrage {row}")
            ws.cell(row, KEYS.index("status") + 1, "Neu")
        ws.tables["Anfragen"].ref = ws.tables["Anfragen"].autoFilter.ref = "A1:AP11"

    source = tmp_path / "staff.xlsx"
    source.write_bytes(edited(old_workbook(tmp_path), ten_requests))
    saved = run_libreoffice(source, "xlsx", tmp_path / "gespeichert")
    data, result = up.upgrade_look(saved.read_bytes(), SCHEMA)
    assert set(result.added) == {up.PRINT, up.COLOURS, up.JSB, up.NOTES}, result
    assert up.upgrade_look(data, SCHEMA)[0] == data
    upgraded = tmp_path / "Anfrageliste.xlsx"
    upgraded.write_bytes(data)
    found = words(pdftotext, run_libreoffice(upgraded, "pdf", tmp_path / "druck"))
    assert {w.page for w in found if w.text.startswith("2026-00")} == {1}
    page_one = [w.text for w in found if w.page == 1]
    assert page_one.count("Neu") == 10 and "Seite" in page_one and "Gedruckt" in page_one


def test_staff_print_setup_colours_and_validation_are_left_alone(tmp_path: Path) -> None:
    def staff_edits(workbook: openpyxl.Workbook) -> None:
        ws = workbook["Anfragen"]
        ws.page_setup.orientation = "portrait"
        ws.page_setup.scale = 70
        ws.oddFooter.center.text = "Unsere Fußzeile"
        ws.conditional_formatting.add(
            f"{CONTACT_DUE}2:{CONTACT_DUE}500",
            CellIsRule(
                operator="lessThan", formula=["TODAY()"], fill=PatternFill("solid", "FF00FF")
            ),
        )
        for dv in ws.data_validations.dataValidation:
            if CONTACT in str(dv.sqref):
                dv.formula1 = '"Lena Kowalski,Paul Peters"'

    before = edited(old_workbook(tmp_path), staff_edits)
    data, result = up.upgrade_look(before, SCHEMA)
    assert set(result.kept) == {up.PRINT, up.COLOURS, up.JSB}, result
    assert result.added == (up.NOTES,)
    ws = openpyxl.load_workbook(io.BytesIO(data))["Anfragen"]
    assert (ws.page_setup.orientation, int(ws.page_setup.scale)) == ("portrait", 70)
    assert ws.oddFooter.center.text == "Unsere Fußzeile"
    assert ("_xlnm.Print_Area", "0") not in defined(data)
    [rule] = rules_on(ws, CONTACT_DUE)
    assert rule.operator == "lessThan"  # type: ignore[attr-defined]
    [contact] = [dv for dv in ws.data_validations.dataValidation if CONTACT in str(dv.sqref)]
    assert contact.formula1 == '"Lena Kowalski,Paul Peters"'
    assert (look.JSB_LIST, None) not in defined(data)


def test_staff_comments_formatting_validations_and_tables_survive(tmp_path: Path) -> None:
    def staff_edits(workbook: openpyxl.Workbook) -> None:
        ws = workbook["Anfragen"]
        ws["B1"].comment = Comment("Bitte immer mit Uhrzeit!", "Frau Kowalski")
        ws["E2"].fill = PatternFill("solid", fgColor="FFFF00")
        extra = DataValidation(type="whole", operator="between", formula1="1", formula2="9")
        extra.add("AM2:AM50")
        ws.add_data_validation(extra)

    before = edited(old_workbook(tmp_path), staff_edits)
    data, result = up.upgrade_look(before, SCHEMA)
    assert up.NOTES in result.kept  # a comments part of their own: no notes added to it
    assert up.PRINT in result.added and up.JSB in result.added
    assert members(data)["xl/comments/comment1.xml"] == members(before)["xl/comments/comment1.xml"]
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    ws = workbook["Anfragen"]
    assert ws["B1"].comment.text == "Bitte immer mit Uhrzeit!"
    assert ws["A1"].comment is None
    assert ws["E2"].fill.fgColor.rgb.endswith("FFFF00")
    assert any(
        dv.type == "whole" and "AM2:AM50" in str(dv.sqref)
        for dv in ws.data_validations.dataValidation
    )
    assert set(ws.tables) == {"Anfragen"} and ws.tables["Anfragen"].ref == "A1:AP2"
    assert up.upgrade_look(data, SCHEMA)[0] == data


def test_a_dropdown_excel_merged_with_another_column_is_split(tmp_path: Path) -> None:
    other = openpyxl.utils.get_column_letter(KEYS.index("home_visit_staff") + 1)

    def merged(workbook: openpyxl.Workbook) -> None:
        ws = workbook["Anfragen"]
        [dv] = [dv for dv in ws.data_validations.dataValidation if CONTACT in str(dv.sqref)]
        dv.add(f"{other}2:{other}1048576")

    data, result = up.upgrade_look(edited(old_workbook(tmp_path), merged), SCHEMA)
    assert up.JSB in result.added
    ws = openpyxl.load_workbook(io.BytesIO(data))["Anfragen"]
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists[f"{CONTACT}2:{CONTACT}1048576"] == look.JSB_LIST
    assert lists[f"{other}2:{other}1048576"] == "Liste_Mitarbeitende"


def test_without_the_listen_sheet_the_dropdown_is_left_out_and_the_rest_added(
    tmp_path: Path,
) -> None:
    def no_lists(workbook: openpyxl.Workbook) -> None:
        workbook["Listen"].title = "Auswahl"

    data, result = up.upgrade_look(edited(old_workbook(tmp_path), no_lists), SCHEMA)
    assert result.skipped == (up.JSB,) and set(result.added) == {up.PRINT, up.COLOURS, up.NOTES}
    ws = openpyxl.load_workbook(io.BytesIO(data))["Anfragen"]
    [contact] = [dv for dv in ws.data_validations.dataValidation if CONTACT in str(dv.sqref)]
    assert contact.formula1 == "Liste_Mitarbeitende"
    assert (look.JSB_LIST, None) not in defined(data)


def test_a_title_row_above_the_table_is_minded(tmp_path: Path) -> None:
    def title_row(workbook: openpyxl.Workbook) -> None:
        ws = workbook["Anfragen"]
        ws.move_range("A1:AP2", rows=1)
        ws["A1"] = "Anfrageliste Jugendhaus 2026"
        ws.tables["Anfragen"].ref = "A2:AP3"
        ws.tables["Anfragen"].autoFilter.ref = "A2:AP3"
        ws.print_title_rows = "2:2"  # as Excel moves it when a row is inserted above
        for cf_range in list(ws.conditional_formatting._cf_rules):
            del ws.conditional_formatting._cf_rules[cf_range]

    data, result = up.upgrade_look(edited(old_workbook(tmp_path), title_row), SCHEMA)
    assert {up.PRINT, up.COLOURS} <= set(result.added), result
    names = defined(data)
    assert names[("_xlnm.Print_Titles", "0")] == "'Anfragen'!$2:$2"
    ws = openpyxl.load_workbook(io.BytesIO(data))["Anfragen"]
    overdue, _soon = rules_on(ws, CONTACT_DUE)
    assert f"${CONTACT_DUE}3<TODAY()" in overdue.formula[0]  # type: ignore[attr-defined]
    assert ws["A1"].comment is None and ws["A2"].comment is not None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """An office still on a workbook made by the old `init`, ten requests after the upgrade."""
    site = make_site(tmp_path_factory.mktemp("look-upgrade") / "site")
    site.workbook.write_bytes(OLD_INIT.read_bytes())
    set_staff(site, [*STAFF, INACTIVE_JSB, SECOND_JSB])
    for i in range(10):
        mail = request_mail(
            f"Fallanfrage {i}", "Name: Max Muster\nAnschrift: Lange Straße 5, 18055 Rostock\n",
            message_id=f"<m{i}@jobcenter-ge.de>",
        )  # fmt: skip
        site.deliver(mail, utc(2026, 3, 9, 9, i), f"m{i}")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    return site


def test_the_upgrade_step_logs_what_it_added_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from jugendhaus_mail.jobs.upgrade import upgrade_workbook

    site = make_site(tmp_path / "site")
    site.workbook.write_bytes(OLD_INIT.read_bytes())
    with caplog.at_level(logging.INFO):
        result = upgrade_workbook(site.app(utc(2026, 3, 10, 8, 0)))
    assert set(result.look) == {up.PRINT, up.COLOURS, up.JSB, up.NOTES}
    assert result.backup is not None and result.backup.exists()
    [line] = [r.getMessage() for r in caplog.records if "Aussehen" in r.getMessage()]
    assert "Druckeinstellungen" in line and str(result.backup) in line
    again = upgrade_workbook(site.app(utc(2026, 3, 10, 9, 0)))
    assert again.look == () and again.backup is None


def test_ten_requests_print_one_page_wide_with_page_numbers(
    site: Site, soffice: str, pdftotext: str
) -> None:
    found = words(pdftotext, run_libreoffice(site.workbook, "pdf", site.root / "druck"))
    assert {w.page for w in found if w.text.startswith("2026-00")} == {1}
    page_one = [w.text for w in found if w.page == 1]
    assert "Status" in page_one and "Nr." in page_one
    assert "Seite" in page_one and "Gedruckt" in page_one
    assert page_one.count("Neu") == 10  # the Status of each request on the same page
    # the widths are staff's (not changed): an old header may still break inside a word
    assert len({w.text for w in found if w.text.startswith("2026-00")}) == 10


def test_the_upgraded_jsb_dropdown_offers_only_active_jsb_staff(site: Site, soffice: str) -> None:
    offered = active_jsb_offered(site.workbook, site.root / "neu-berechnet")
    assert offered == ["Lena Kowalski", "Paul Peters"]
    requests = openpyxl.load_workbook(site.workbook)["Anfragen"]
    [contact] = [dv for dv in requests.data_validations.dataValidation if CONTACT in str(dv.sqref)]
    assert contact.formula1 == look.JSB_LIST
    assert requests["A2"].value == "2026-0001" and requests["A11"].value == "2026-0010"
