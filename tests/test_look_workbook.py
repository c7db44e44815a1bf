"""The request list as staff see and print it (built by `init`): named fonts, headers that
break between words, quiet colours telling the service's columns from staff columns, a note on
every header, stripes LibreOffice draws, `Frist Ansprechpartner` coloured like the other
deadlines, a print that fits the page width, and a JSB dropdown without Jobcenter staff."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from jugendhaus_mail.workbook import look
from jugendhaus_mail.workbook.schema import load_schema
from tests.conftest import require_tool
from tests.look_pdf import Word, find, pixel, words
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc
from tests.workbook_helpers import active_jsb_offered
from tests.xlsx_fixtures import run_libreoffice

SCHEMA = load_schema()
INACTIVE_JSB = {
    "name": "Inge Inaktiv",
    "email": "inge.inaktiv@rostock.de",
    "role": "JSB",
    "rechtskreis": "SGB VIII",
    "active": "Nein",
}
SECOND_JSB = {**INACTIVE_JSB, "name": "Paul Peters", "email": "paul@rostock.de", "active": "Ja"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = make_site(tmp_path_factory.mktemp("look-workbook") / "site")
    set_staff(site, [*STAFF, INACTIVE_JSB, SECOND_JSB])
    for i in range(10):
        mail = request_mail(
            f"Fallanfrage {i}", "Name: Max Muster\nAnschrift: Lange Straße 5, 18055 Rostock\n",
            message_id=f"<m{i}@jobcenter-ge.de>",
        )  # fmt: skip
        site.deliver(mail, utc(2026, 3, 9, 9, i), f"m{i}")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    return site


@pytest.fixture(scope="module")
def workbook(site: Site) -> openpyxl.Workbook:
    return openpyxl.load_workbook(site.workbook)


@pytest.fixture(scope="module")
def printed(site: Site, soffice: str, pdftotext: str) -> tuple[Path, list[Word]]:
    pdf = run_libreoffice(site.workbook, "pdf", site.root / "druck")
    return pdf, words(pdftotext, pdf)


def test_headers_name_their_font_and_size(workbook: openpyxl.Workbook) -> None:
    for sheet in SCHEMA.sheets:
        for cell in workbook[sheet.name][1]:
            assert (cell.font.name, cell.font.sz, cell.font.b) == ("Arial", 10, True), cell
    normal = next(s for s in workbook._named_styles if s.name == "Normal")
    assert (normal.font.name, normal.font.sz) == ("Arial", 10)


def test_columns_are_wide_enough_for_every_header_word(workbook: openpyxl.Workbook) -> None:
    for sheet in SCHEMA.sheets:
        ws = workbook[sheet.name]
        for index, column in enumerate(sheet.columns, start=1):
            width = ws.column_dimensions[openpyxl.utils.get_column_letter(index)].width
            longest = max(len(word) for word in column.header.split())
            assert width >= longest * 1.2 + 2, (column.header, width)
    requests = workbook["Anfragen"]
    widths = {c.value: requests.column_dimensions[c.column_letter].width for c in requests[1]}
    assert widths["Betreff"] >= 55 and widths["Anschrift"] >= 42


def test_printed_headers_break_between_words(printed: tuple[Path, list[Word]]) -> None:
    _, found = printed
    page_one = {w.text for w in found if w.page == 1}
    for header in ("Frist Ansprechpartner", "Ansprechpartner mitgeteilt am", "Kundennummer",
                   "E-Mail Anfragende", "Name junger Mensch", "Eingangsweg"):  # fmt: skip
        for word in header.split():
            assert word in page_one, (header, word)


def test_service_and_staff_columns_have_their_own_quiet_colour_and_a_note(
    workbook: openpyxl.Workbook,
) -> None:
    colours = set()
    for sheet in SCHEMA.sheets:
        ws = workbook[sheet.name]
        for cell, column in zip(ws[1], sheet.columns, strict=True):
            side = "service" if column.owner in ("service", "intake") else "staff"
            fill = cell.fill.fgColor.rgb[-6:]
            assert fill == look.HEADER_COLOURS[side][1], (column.header, fill)
            assert sum(int(fill[i : i + 2], 16) for i in (0, 2, 4)) > 600  # light, quiet
            colours.add(fill)
            note = cell.comment.text if cell.comment else ""
            assert note.startswith(column.header), column.header
            if column.owner == "service":
                assert "Trägt der Dienst ein" in note and "nicht ändern" in note
            if column.owner == "staff":
                assert "Tragen Sie ein" in note
    assert len(colours) == 2


def test_stripes_are_a_fill_libreoffice_draws(
    workbook: openpyxl.Workbook, printed: tuple[Path, list[Word]], tmp_path: Path
) -> None:
    ws = workbook["Anfragen"]
    last = openpyxl.utils.get_column_letter(len(SCHEMA.requests.columns))
    [stripes] = [
        cf.rules for cf in ws.conditional_formatting if str(cf.sqref) == f"A2:{last}1048576"
    ]
    assert stripes[0].formula[0].startswith("AND(MOD(ROW(),2)=0,")
    pdf, found = printed
    pdftoppm = require_tool("pdftoppm")
    column = find(found, "Geburtsdatum")  # an empty column: only the fill shows
    colours = []
    for nr in ("2026-0001", "2026-0002", "2026-0003", "2026-0004"):
        row = find(found, nr)
        middle = (row.top + row.bottom) / 2
        colours.append(pixel(pdftoppm, pdf, tmp_path, 1, column.left + 2, middle))
    assert colours[0] == colours[2] != colours[1] == colours[3], colours
    assert colours[1] == (255, 255, 255)
    assert all(200 < c < 255 for c in colours[0]), colours


def test_frist_ansprechpartner_turns_red_and_amber_until_someone_is_named(
    workbook: openpyxl.Workbook,
) -> None:
    sheet = SCHEMA.requests
    keys = [c.key for c in sheet.columns]
    letter = openpyxl.utils.get_column_letter(keys.index("contact_due") + 1)
    notified = openpyxl.utils.get_column_letter(keys.index("contact_notified") + 1)
    ws = workbook["Anfragen"]
    [rules] = [
        cf.rules for cf in ws.conditional_formatting if str(cf.sqref).startswith(letter + "2")
    ]
    overdue, soon = rules
    assert f"${letter}2<TODAY()" in overdue.formula[0]
    assert f"${letter}2<=WORKDAY(TODAY(),2)" in soon.formula[0]
    for rule in rules:
        assert f'${notified}2=""' in rule.formula[0] and '"Abgeschlossen"' in rule.formula[0]
    assert overdue.dxf.fill.bgColor.rgb.endswith("FFC7CE")
    assert soon.dxf.fill.bgColor.rgb.endswith("FFEB9C")


def test_print_setup_landscape_one_page_wide_with_titles_and_footer(
    site: Site, workbook: openpyxl.Workbook, printed: tuple[Path, list[Word]]
) -> None:
    for sheet in SCHEMA.sheets:
        ws = workbook[sheet.name]
        assert ws.page_setup.orientation == "landscape"
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert "&D" in ws.oddFooter.right.text
    with zipfile.ZipFile(site.workbook) as archive:
        names = archive.read("xl/workbook.xml").decode()
    assert names.count('name="_xlnm.Print_Titles"') >= 4 and "$1:$1" in names
    assert 'name="_xlnm.Print_Area"' in names
    assert "Anfragen!$A$1:$Q$1048576" in names.replace("'", "")  # Nr. .. Status, every row
    # ten requests: the Anfragen sheet is one printed page, with page number and date
    _, found = printed
    requests_pages = {w.page for w in found if w.text.startswith("2026-00")}
    assert requests_pages == {1}
    page_one = [w.text for w in found if w.page == 1]
    assert "Status" in page_one and "Nr." in page_one
    assert "Seite" in page_one and "Gedruckt" in page_one


def test_the_jsb_dropdown_offers_only_active_jsb_staff(site: Site, soffice: str) -> None:
    offered = active_jsb_offered(site.workbook, site.root / "neu-berechnet")
    assert offered == ["Lena Kowalski", "Paul Peters"]
    requests = openpyxl.load_workbook(site.workbook)["Anfragen"]
    formulas = {dv.formula1 for dv in requests.data_validations.dataValidation}
    assert "Liste_JSB" in formulas
