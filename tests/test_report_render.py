"""The report as people will see it: the workbook printed to PDF by LibreOffice, and the HTML
summary drawn by headless Chromium on a desktop and a phone.

Screenshots, the PDF and both report files are kept in test-artifacts/ for people to look at.
The PNG checks use tests/screenshots.py (zlib only, no imaging library).
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jugendhaus_mail.jobs.report import build_report, write_report
from jugendhaus_mail.report.period import half_year
from tests.screenshots import (
    ARTIFACTS,
    Picture,
    Shot,
    assert_fits_and_ends,
    decode_png,
    near,
    take_screenshots,
)
from tests.test_report_figures import history_site

WIDTHS = {"desktop": 1024, "phone": 390}
PAGE_BACKGROUND = (0xEE, 0xF1, 0xF5)
COLOURS = {
    "this period": (0x1F, 0x4E, 0x79),
    "previous period": (0x9F, 0xB3, 0xC8),
    "better": (0x2E, 0x7D, 0x32),
    "worse": (0xB3, 0x26, 0x1E),
}


@pytest.fixture(scope="module")
def report_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    site = history_site(tmp_path_factory.mktemp("render") / "site")
    app = site.app(datetime(2027, 3, 2, 8, 0, tzinfo=UTC))
    with app.state() as state:
        report = build_report(app, half_year(2026, 2), state)
    ARTIFACTS.mkdir(exist_ok=True)
    return write_report(report, ARTIFACTS / "Halbjahresbericht-2026-H2.xlsx")


# --- LibreOffice --------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_prints_the_workbook_with_its_charts(
    report_files: tuple[Path, Path], tmp_path: Path, soffice: str, pdftotext: str
) -> None:
    workbook, _ = report_files
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    command = [soffice, profile, "--headless", "--convert-to", "pdf"]
    command += ["--outdir", str(tmp_path), str(workbook)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    pdf = tmp_path / f"{workbook.stem}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    shutil.copy(pdf, ARTIFACTS / pdf.name)
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for expected in ("Halbjahresbericht für den Qualitätsdialog", "Anfragen insgesamt",
                     "Ansprechpartner innerhalb von 5 Arbeitstagen", "Beendigungsgrund",
                     "Definitionen", "5 von 7"):  # fmt: skip
        assert expected in text, expected
    # Each chart title is printed twice: above its table (a cell) and inside the drawn chart.
    for title in ("Anfragen je Monat nach Rechtskreis", "Anfragen nach Anfrageart",
                  "Anfragen nach Rechtskreis"):  # fmt: skip
        assert text.count(title) >= 2, title
    assert "Dez / Jun" in text and "Prozent" in text  # axis labels exist only in charts


# --- Chromium -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shots(
    report_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Shot]:
    _, page = report_files
    return take_screenshots(page, "halbjahresbericht", WIDTHS, tmp_path_factory)


@pytest.fixture(scope="module")
def pictures(shots: dict[str, Shot]) -> dict[str, Picture]:
    return {name: decode_png(shot.path.read_bytes()) for name, shot in shots.items()}


@pytest.mark.parametrize("name", sorted(WIDTHS))
def test_summary_screenshot_is_kept_and_as_wide_as_the_screen(
    pictures: dict[str, Picture], name: str
) -> None:
    assert pictures[name].width == WIDTHS[name]
    assert (ARTIFACTS / f"halbjahresbericht-{name}-{WIDTHS[name]}.png").is_file()


@pytest.mark.parametrize("name", sorted(WIDTHS))
def test_summary_draws_bars_in_both_period_colours_and_the_trend_colours(
    pictures: dict[str, Picture], name: str
) -> None:
    picture = pictures[name]
    counts: Counter[tuple[int, int, int]] = Counter()
    for row in picture.rows[::2]:
        counts.update(zip(row[0::6], row[1::6], row[2::6], strict=True))
    assert len(counts) > 50, "kaum Farben: leere oder ungestylte Seite"
    for colour, rgb in COLOURS.items():
        pixels = sum(n for c, n in counts.items() if near(c, rgb, 4))
        assert pixels > 20, f"Farbe für {colour} fehlt"
    # the bars are real areas, not hairlines: plenty of this period's blue
    assert sum(n for c, n in counts.items() if near(c, COLOURS["this period"], 4)) > 3000


@pytest.mark.parametrize("name", sorted(WIDTHS))
def test_summary_fits_the_screen_width_and_ends_inside_the_picture(
    shots: dict[str, Shot], pictures: dict[str, Picture], name: str
) -> None:
    assert_fits_and_ends(pictures[name], shots[name], PAGE_BACKGROUND)
