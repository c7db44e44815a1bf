"""Pre-filled letters (`letter NR ART --out`): what the young person reads, read from the .docx.

Scenario: request 2026-0001 (Hausbesuch) arrives on Monday 16.03.2026 for Jürgen Weiß, Große
Straße 12, 18055 Rostock; the letters are written on Tuesday 17.03.2026.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from jugendhaus_mail.config import TimeRange
from jugendhaus_mail.letters import wording
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc

OFFICE = """[office]
name = "Berufliche Jugendsozialberatung im Jugendhaus Rostock"
phone = "0381 381-4600"
letterhead = ["Hanse- und Universitätsstadt Rostock", "Amt für Jugend, Soziales und Asyl",
              "Jugendhaus Rostock, Kopernikusstraße 1a, 18057 Rostock"]
"""
MAIKE = {
    "name": "Maike Köster",
    "email": "maike.koester@rostock.de",
    "role": "JSB",
    "rechtskreis": "SGB VIII",
    "phone": "0381 555 0313",
    "active": "Ja",
}
BODY = "Name: Jürgen Weiß\nKundennummer: 123D456789\nAnschrift: Große Straße 12, 18055 Rostock\n"
SPRECHZEITEN = "Montag und Dienstag 07:30–12:30 Uhr, Donnerstag 07:30–12:30 und 13:30–18:00 Uhr"
NOW = "2026-03-17T09:00"
VISIT = {
    "Hausbesuch geplant am": datetime(2026, 3, 24, 10, 0),
    "Hausbesuch durch": "Lena Kowalski und Maike Köster",
}


# --- helpers, also used by test_letters_triggers.py -------------------------------------------


def letter_site(root: Path, extra_config: str = "") -> Site:
    """A site whose request 2026-0001 (Hausbesuch, received Mon 16.03.2026) is in the sheet."""
    site = make_site(root, extra_config)
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(text.replace("[office]\n", OFFICE, 1), encoding="utf-8")
    (site.root / "vorlagen").mkdir()  # for configs with [templates] override_dir = "vorlagen"
    set_staff(site, [*STAFF, MAIKE])
    site.deliver(
        request_mail("Hausbesuch erbeten", BODY, message_id="<hb1@jobcenter-ge.de>"),
        utc(2026, 3, 16, 8, 0),
        "hb1",
    )
    assert site.run("poll", now="2026-03-16T10:00") == 0
    return site


def visit_site(root: Path, extra_config: str = "") -> Site:
    """`letter_site` with the home visit planned and Lena Kowalski as contact person."""
    site = letter_site(root, extra_config)
    set_cells(site, {**VISIT, "Ansprechpartner JSB": "Lena Kowalski"})
    return site


def set_cells(site: Site, values: dict[str, Any], row: int = 2) -> None:
    """Type values into `Anfragen` as staff do, found by header text."""
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = [c.value for c in sheet[1]]
    for header, value in values.items():
        sheet.cell(row=row, column=headers.index(header) + 1).value = value  # None clears
    workbook.save(site.workbook)


def docx_text(source: Any) -> str:
    """All text of a .docx read back with python-docx: body paragraphs, tables (nested too),
    and each section's header and footer; one paragraph per line."""
    document = docx.Document(source)
    lines: list[str] = []

    def collect(container: Any) -> None:
        lines.extend(p.text for p in container.paragraphs)
        for table in container.tables:
            for table_row in table.rows:
                for cell in table_row.cells:
                    collect(cell)

    collect(document)
    for section in document.sections:
        collect(section.header)
        collect(section.footer)
    return "\n".join(lines)


def assert_complete(text: str) -> None:
    for mark in ("{{", "}}", "{%", "%}", "{#"):
        assert mark not in text, mark


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return visit_site(tmp_path / "site")


@pytest.fixture
def no_soffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH without LibreOffice, as on an office PC that only has Word."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def write_letter(site: Site, kind: str, out: Path, now: str = NOW) -> int:
    return site.run("letter", "2026-0001", kind, "--out", str(out), now=now)


# --- the three letters --------------------------------------------------------------------------


def test_announcement_names_date_time_visitors_phones_and_sprechzeiten(
    site: Site, tmp_path: Path, no_soffice: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ankuendigung.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "LibreOffice" in printed
    text = docx_text(out)
    lines = text.splitlines()
    assert_complete(text)
    # window address: name, street, postcode + town on their own lines
    name_at = lines.index("Jürgen Weiß")
    assert lines[name_at + 1 : name_at + 3] == ["Große Straße 12", "18055 Rostock"]
    assert "Unser Zeichen: 2026-0001" in lines
    assert "Datum: 17.03.2026" in lines
    assert "Guten Tag Jürgen Weiß," in lines
    assert "Wir besuchen Sie am Dienstag, 24.03.2026, um 10:00 Uhr." in lines
    assert "Lena Kowalski, Telefon 0381\u00a0555\u00a00311" in lines
    assert "Maike Köster, Telefon 0381\u00a0555\u00a00313" in lines
    assert "freiwillig" in text
    assert f"Sprechzeiten kommen: {SPRECHZEITEN}, Mittwoch und Freitag nach Vereinbarung." in text
    # letterhead in the page header, Sprechzeiten in the footer
    for line in ("Amt für Jugend, Soziales und Asyl", "Telefon 0381\u00a0381\u20114600"):
        assert line in lines
    assert f"Sprechzeiten: {SPRECHZEITEN}" in lines[-1]
    assert "Lena Kowalski und Maike Köster" in lines  # signature


def test_letterbox_letter_names_the_visit_day_contact_and_sprechzeiten(
    site: Site, tmp_path: Path, no_soffice: None
) -> None:
    set_cells(
        site,
        {
            "Hausbesuch durchgeführt am": datetime(2026, 3, 25),
            "Ergebnis Hausbesuch": "Nicht angetroffen",
        },
    )
    out = tmp_path / "briefkasten.docx"
    assert write_letter(site, "nicht-angetroffen", out, now="2026-03-25T11:00") == 0
    text = docx_text(out)
    assert_complete(text)
    assert "Datum: 25.03.2026" in text
    assert "waren am Mittwoch, 25.03.2026, bei Ihnen" in text
    assert "Ihre Ansprechperson ist Lena Kowalski, Telefon 0381\u00a0555\u00a00311." in text
    assert SPRECHZEITEN in text
    assert "Große Straße 12\n18055 Rostock" in text


def test_invitation_names_contact_and_a_sprechzeit_the_post_can_still_reach(
    site: Site, tmp_path: Path, no_soffice: None
) -> None:
    set_cells(site, {"Eingangsweg": "Warme Übergabe", "Ansprechpartner JSB": "Maike Köster"})
    out = tmp_path / "einladung.docx"
    # Wednesday before Easter: 2 working days on is Tuesday 7.4. (Good Friday, Easter Monday)
    assert write_letter(site, "einladung", out, now="2026-04-01T15:00") == 0
    text = docx_text(out)
    assert_complete(text)
    assert "Datum: 01.04.2026" in text
    assert "Einladung zum Beratungsgespräch" in text
    assert "Ihre Ansprechperson ist Maike Köster, Telefon 0381\u00a0555\u00a00313." in text
    assert "Zum Beispiel am Dienstag, 07.04.2026, 07:30–12:30 Uhr." in text
    assert SPRECHZEITEN in text


def test_an_address_typed_on_several_lines_with_an_ampersand_stays_intact(
    site: Site, tmp_path: Path, no_soffice: None
) -> None:
    set_cells(site, {"Anschrift": "bei Köster & Weiß\nGroße Straße 12\n18055 Rostock"})
    out = tmp_path / "brief.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    text = docx_text(out)  # python-docx parses it: the & was escaped in the XML
    assert "bei Köster & Weiß" in text and "Große Straße 12" in text


def test_out_as_a_folder_gets_a_default_name_and_a_second_run_replaces_the_file(
    site: Site, tmp_path: Path, no_soffice: None
) -> None:
    folder = tmp_path / "briefe"
    folder.mkdir()
    assert write_letter(site, "hausbesuch", folder) == 0
    assert write_letter(site, "hausbesuch", folder, now="2026-03-18T09:00") == 0
    assert [p.name for p in folder.iterdir()] == ["2026-0001-hausbesuch.docx"]
    assert "Datum: 18.03.2026" in docx_text(folder / "2026-0001-hausbesuch.docx")


def test_without_libreoffice_the_docx_is_written_and_an_older_pdf_removed(
    site: Site, tmp_path: Path, no_soffice: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "brief.docx"
    out.with_suffix(".pdf").write_bytes(b"%PDF- Brief von letzter Woche")
    assert write_letter(site, "hausbesuch", out) == 0
    printed = capsys.readouterr().out
    assert "Kein PDF erstellt: dafür wird LibreOffice (soffice) benötigt." in printed
    assert "ältere PDF-Datei" in printed
    assert out.is_file() and not out.with_suffix(".pdf").exists()


# --- missing values: a clear error naming the column, and no letter --------------------------

LONG_ADDRESS = (
    "c/o Familie Mustermann-Schulze\nHinterhaus, Aufgang B, dritte Etage links, bitte klingeln"
    "\nbei Frau Dr. Anneliese Wunderlich-Petersen\nKleine Wasserstraße 12a\n18109 Rostock"
)


def test_an_address_of_five_short_lines_fits_the_window(
    site: Site, tmp_path: Path, no_soffice: None
) -> None:
    address = "c/o Familie Schulz\nHinterhaus\nAufgang B\nKleine Wasserstraße 12a\n18109 Rostock"
    set_cells(site, {"Anschrift": address})
    out = tmp_path / "brief.docx"
    assert site.run("letter", "2026-0001", "einladung", "--out", str(out), now=NOW) == 0
    assert out.is_file()


@pytest.mark.parametrize(
    ("kind", "cells", "nr", "column"),
    [
        ("hausbesuch", {"Anschrift": None}, "2026-0001", "„Anschrift“ ist leer"),
        ("hausbesuch", {"Anschrift": "Große Straße 12"}, "2026-0001", "Postleitzahl"),
        (  # more than the envelope's window shows: the last lines, the town, would be cut off
            "einladung",
            {"Anschrift": LONG_ADDRESS},
            "2026-0001",
            "passen nicht ins Sichtfenster",
        ),
        ("einladung", {"Name junger Mensch": None}, "2026-0001", "„Name junger Mensch“ ist leer"),
        ("hausbesuch", {"Hausbesuch geplant am": None}, "2026-0001", "„Hausbesuch geplant am“"),
        (
            "hausbesuch",
            {"Hausbesuch geplant am": datetime(2026, 3, 24)},
            "2026-0001",
            "„Hausbesuch geplant am“ hat keine Uhrzeit",
        ),
        (
            "hausbesuch",
            {"Hausbesuch geplant am": "nächste Woche"},
            "2026-0001",
            "„Hausbesuch geplant am“ enthält kein Datum",
        ),
        ("hausbesuch", {"Hausbesuch durch": None}, "2026-0001", "„Hausbesuch durch“ ist leer"),
        (
            "hausbesuch",
            {"Hausbesuch durch": "Lena Kowalski, Jürgen Unbekannt"},
            "2026-0001",
            "„Jürgen Unbekannt“; dieser Name steht nicht als aktive Person im Blatt Mitarbeitende",
        ),
        ("einladung", {"Ansprechpartner JSB": None}, "2026-0001", "„Ansprechpartner JSB“ ist leer"),
        ("einladung", {}, "2026-0099", "Nr. 2026-0099 steht nicht in der Anfrageliste"),
    ],
)
def test_a_missing_value_is_a_one_line_error_naming_the_column(
    site: Site,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_soffice: None,
    kind: str,
    cells: dict[str, Any],
    nr: str,
    column: str,
) -> None:
    set_cells(site, cells)
    out = tmp_path / "brief.docx"
    assert site.run("letter", nr, kind, "--out", str(out), now=NOW) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("Fehler: ") and "\n" not in error
    assert column in error
    assert "Jürgen Weiß" not in error and "Große Straße" not in error  # names no social data
    assert not out.exists() and not list(tmp_path.glob("*.docx"))


def test_a_visitor_without_phone_gets_the_office_phone_and_without_both_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_soffice: None
) -> None:
    site = letter_site(tmp_path / "site")
    set_staff(site, [*STAFF, {**MAIKE, "phone": ""}])
    set_cells(site, {**VISIT, "Hausbesuch durch": "Maike Köster"})
    out = tmp_path / "brief.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    assert "Maike Köster, Telefon 0381\u00a0381\u20114600" in docx_text(out)
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(text.replace('phone = "0381 381-4600"\n', ""), encoding="utf-8")
    capsys.readouterr()
    assert write_letter(site, "hausbesuch", tmp_path / "zwei.docx") == 2
    error = capsys.readouterr().err
    assert "„Maike Köster“ fehlt die Telefonnummer" in error and "„Telefon“" in error


# --- the office's own templates -----------------------------------------------------------------


def own_template(folder: Path, kind: str, *paragraphs: str) -> None:
    (folder / "letters").mkdir(parents=True, exist_ok=True)
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(folder / "letters" / f"{kind}.docx"))


@pytest.fixture
def own_site(tmp_path: Path) -> Site:
    site = letter_site(tmp_path / "site", '[templates]\noverride_dir = "vorlagen"\n')
    set_cells(site, {**VISIT, "Ansprechpartner JSB": "Lena Kowalski"})
    return site


def test_an_office_template_wins_file_by_file(
    own_site: Site, tmp_path: Path, no_soffice: None
) -> None:
    own_template(
        own_site.root / "vorlagen",
        "hausbesuch",
        "Eigene Vorlage für {{ client_name }}: {{ visit_date }}, {{ visit_time }} Uhr",
    )
    assert write_letter(own_site, "hausbesuch", tmp_path / "a.docx") == 0
    assert docx_text(tmp_path / "a.docx").strip() == (
        "Eigene Vorlage für Jürgen Weiß: Dienstag, 24.03.2026, 10:00 Uhr"
    )
    assert write_letter(own_site, "einladung", tmp_path / "b.docx") == 0
    assert "Einladung zum Beratungsgespräch" in docx_text(tmp_path / "b.docx")  # still bundled


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("Hallo {{ kunde }}", "„kunde“"),
        ("Hallo {{ client_name }", "Platzhalter fehlerhaft"),
        ("Hallo client_name }}", "nach dem Ausfüllen steht noch „}}“"),
    ],
)
def test_a_broken_office_template_is_an_error_not_a_letter_with_a_gap(
    own_site: Site,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_soffice: None,
    paragraph: str,
    expected: str,
) -> None:
    own_template(own_site.root / "vorlagen", "einladung", paragraph)
    assert write_letter(own_site, "einladung", tmp_path / "c.docx") == 2
    error = capsys.readouterr().err
    assert expected in error and "einladung.docx" in error
    assert not (tmp_path / "c.docx").exists()


# --- PDF with LibreOffice -----------------------------------------------------------------------


@pytest.mark.libreoffice
def test_pdf_beside_the_docx_keeps_umlauts_and_fits_one_page(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], soffice: str, pdftotext: str
) -> None:
    out = tmp_path / "ankündigung weiß.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    pdf = out.with_suffix(".pdf")
    assert f"PDF geschrieben: {pdf}" in capsys.readouterr().out
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "Jürgen Weiß",
        "Große Straße 12",
        "Maike Köster, Telefon 0381 555 0313",  # pdftotext gives the non-breaking spaces as spaces
        "Dienstag, 24.03.2026, um 10:00 Uhr",
        "Kopernikusstraße 1a",
        "Datum: 17.03.2026",
    ):
        assert expected in flat, expected
    assert text.count("\f") == 1  # one page
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".pdf-")) == []


# --- small wording rules ------------------------------------------------------------------------


def test_sprechzeiten_group_days_with_equal_hours() -> None:
    from datetime import time

    morning = TimeRange(time(7, 30), time(12, 30))
    hours = {0: (morning,), 1: (morning,), 3: (morning, TimeRange(time(13, 30), time(18, 0)))}
    assert wording.office_hours_text(hours) == SPRECHZEITEN
    assert wording.by_appointment_text(hours) == "Mittwoch und Freitag nach Vereinbarung"
    every_day = {day: (morning,) for day in range(5)}
    assert wording.office_hours_text(every_day) == (
        "Montag, Dienstag, Mittwoch, Donnerstag und Freitag 07:30–12:30 Uhr"
    )
    assert wording.by_appointment_text(every_day) == ""


@pytest.mark.parametrize(
    ("typed", "lines"),
    [
        ("Große Straße 12, 18055 Rostock", ["Große Straße 12", "18055 Rostock"]),
        ("c/o Weiß, Am Strande 3, 18055 Rostock", ["c/o Weiß, Am Strande 3", "18055 Rostock"]),
        ("Große Straße 12\r\n18055  Rostock", ["Große Straße 12", "18055 Rostock"]),
    ],
)
def test_an_address_becomes_window_lines(typed: str, lines: list[str]) -> None:
    assert wording.address_lines(typed) == lines


def test_names_typed_into_one_cell_are_split() -> None:
    assert wording.split_names("Lena Kowalski und Maike Köster") == [
        "Lena Kowalski",
        "Maike Köster",
    ]
    assert wording.split_names(" Lena Kowalski,Maike Köster / Jürgen Weiß\n") == [
        "Lena Kowalski",
        "Maike Köster",
        "Jürgen Weiß",
    ]
    assert wording.weekday_date(date(2026, 3, 24)) == "Dienstag, 24.03.2026"


def test_remind_and_letter_help_do_not_load_docxtpl() -> None:
    code = (
        "import sys\n"
        "import jugendhaus_mail.jobs.remind, jugendhaus_mail.commands.letter\n"
        "from jugendhaus_mail.cli import main\n"
        "try:\n    main(['letter', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('docxtpl', 'docx') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("[]"), result.stdout
