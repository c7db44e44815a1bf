"""Letters as they come out of the printer: DIN 5008 form B for window envelopes, measured on
the PDF LibreOffice makes; a warning when a home visit is announced too late; file rights."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.look_pdf import dark_rows, find, words
from tests.site import Site, outgoing
from tests.test_letters import VISIT, letter_site, set_cells, visit_site, write_letter

# DIN 5008 form B (mm from the top left corner of the page)
FIELD_LEFT, FIELD_RIGHT = 20.0, 105.0
FIELD_TOP, ADDRESS_TOP, FIELD_BOTTOM = 45.0, 62.7, 90.0
INFO_LEFT = 125.0
TOLERANCE = 0.6  # rounding of twips and font metrics


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return visit_site(tmp_path / "site")


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("kind", ["hausbesuch", "nicht-angetroffen", "einladung"])
def test_the_address_lands_in_the_window_and_the_info_block_beside_it(
    site: Site, tmp_path: Path, kind: str, soffice: str, pdftotext: str
) -> None:
    out = tmp_path / "brief.docx"
    assert write_letter(site, kind, out) == 0
    found = words(pdftotext, out.with_suffix(".pdf"))
    # the address: name, street, postcode + town, in the lower 27.3 mm of the field
    for text in ("Jürgen", "Straße", "18055"):
        word = find(found, text)
        assert word.left >= FIELD_LEFT and word.right <= FIELD_RIGHT, word
        assert word.top >= ADDRESS_TOP - TOLERANCE and word.bottom <= FIELD_BOTTOM, word
    assert find(found, "Jürgen").left == pytest.approx(25.0, abs=TOLERANCE)
    # the return address line, small, in the upper 17.7 mm of the field
    back = find([w for w in found if FIELD_TOP - 10 < w.top < FIELD_BOTTOM], "Kopernikusstraße")
    assert back.top >= FIELD_TOP and back.bottom <= ADDRESS_TOP + TOLERANCE, back
    assert back.bottom - back.top < 3.5  # 6 pt, not body size
    assert back.left >= FIELD_LEFT and back.right <= FIELD_RIGHT
    # the information block from 125 mm, level with the address field
    for text in ("Unser", "Datum:", "Telefon:"):
        word = find(found, text)
        assert word.left == pytest.approx(INFO_LEFT, abs=TOLERANCE), word
        assert word.top >= FIELD_TOP and word.bottom <= FIELD_BOTTOM, word
    # the subject below the field, the letter on one page
    subject = min((w for w in found if w.top > FIELD_BOTTOM), key=lambda w: w.top)
    assert subject.top >= FIELD_BOTTOM + 4
    assert {w.page for w in found} == {1}


def test_fold_and_punch_marks_at_the_left_edge(site: Site, tmp_path: Path, soffice: str) -> None:
    pdftoppm = require_tool("pdftoppm")
    out = tmp_path / "brief.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    rows = dark_rows(pdftoppm, out.with_suffix(".pdf"), tmp_path, 3, 14)
    for mark in (105.0, 148.5, 210.0):
        assert any(abs(row - mark) <= 0.6 for row in rows), (mark, rows)
    assert all(any(abs(row - m) <= 0.6 for m in (105.0, 148.5, 210.0)) for row in rows), rows


def test_six_address_lines_stay_in_the_window(
    site: Site, tmp_path: Path, soffice: str, pdftotext: str
) -> None:
    set_cells(
        site,
        {"Anschrift": "bei Familie Schröder\nWohngruppe Nord\nHaus B, 2. OG\nGroße Straße 12\n"
         "18055 Rostock"},
    )  # fmt: skip
    out = tmp_path / "brief.docx"
    assert write_letter(site, "einladung", out) == 0
    found = words(pdftotext, out.with_suffix(".pdf"))
    for text in ("Jürgen", "Schröder", "Nord", "OG", "18055"):
        word = find(found, text)
        assert word.top >= ADDRESS_TOP - TOLERANCE and word.bottom <= FIELD_BOTTOM, word


def test_a_phone_number_stays_on_one_line(
    site: Site, tmp_path: Path, soffice: str, pdftotext: str
) -> None:
    out = tmp_path / "brief.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    found = words(pdftotext, out.with_suffix(".pdf"))
    # "… und unser Büro unter 0381 381-4600." in the body: the number is never split
    office = [w for w in found if w.text.startswith("381") and "4600" in w.text]
    assert office and all("4600" in w.text for w in office), [w.text for w in office]
    assert not [w for w in found if w.text in ("4600.", "4600")]


@pytest.mark.parametrize(
    ("visit", "notice", "warned"),
    [
        (datetime(2026, 3, 19, 10, 0), "", True),  # Tue -> Thu: 2 working days
        (datetime(2026, 3, 20, 10, 0), "", False),  # Tue -> Fri: 3 working days
        (datetime(2026, 3, 19, 10, 0), "[letters]\nnotice_working_days = 2\n", False),
        (datetime(2026, 3, 24, 10, 0), "[letters]\nnotice_working_days = 6\n", True),
    ],
)
def test_a_home_visit_announced_too_late_is_warned_about(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    visit: datetime,
    notice: str,
    warned: bool,
) -> None:
    site = letter_site(tmp_path / "site", notice)
    set_cells(site, {**VISIT, "Hausbesuch geplant am": visit})
    capsys.readouterr()
    assert write_letter(site, "hausbesuch", tmp_path / "brief.docx") == 0
    err = capsys.readouterr().err
    if warned:
        assert err.startswith("Achtung: Der Hausbesuch zu Nr. 2026-0001 am "), err
        assert "nach dem Briefdatum 17.03.2026" in err
        assert "Bitte den Termin verschieben oder den jungen Menschen zusätzlich anrufen." in err
    else:
        assert "Achtung" not in err


def test_the_cover_mail_warns_when_the_visit_is_too_soon(site: Site) -> None:
    set_cells(site, {"Hausbesuch geplant am": datetime(2026, 3, 18, 14, 0)})
    assert site.run("remind", now="2026-03-17T08:00") == 0
    [mail] = [m for m in outgoing(site) if "Ankündigung Hausbesuch" in str(m["Subject"])]
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    expected = "Der Hausbesuch zu Nr. 2026-0001 am Mittwoch, 18.03.2026 liegt nur 1 Arbeitstag"
    assert expected in plain.get_content()
    assert expected in html.get_content()
    assert "Jürgen" not in plain.get_content()


def test_letters_get_the_folders_usual_rights(
    site: Site, tmp_path: Path, umask_022: None, soffice: str
) -> None:
    out = tmp_path / "brief.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(out.with_suffix(".pdf").stat().st_mode) == 0o644


def test_configured_rights_win(tmp_path: Path, umask_022: None, soffice: str) -> None:
    site = visit_site(tmp_path / "site", '[letters]\nfile_mode = "0600"\n')
    out = tmp_path / "brief.docx"
    assert write_letter(site, "hausbesuch", out) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.with_suffix(".pdf").stat().st_mode) == 0o600


def test_a_wrong_file_mode_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = letter_site(tmp_path / "site")
    with site.config.open("a", encoding="utf-8") as config:
        config.write('[letters]\nfile_mode = "rw-r--r--"\n')
    assert write_letter(site, "hausbesuch", tmp_path / "brief.docx") == 2
    assert "[letters] file_mode" in capsys.readouterr().err
