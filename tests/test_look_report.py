"""The half-year report as LibreOffice prints it: German percentages, whole-number count axes,
chart labels on one line and never cut, each chart on one page, wrapped definitions and
headers whose rows are high enough (Excel does not grow rows for wrapped text by itself)."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from jugendhaus_mail.jobs.report import build_report, write_report
from jugendhaus_mail.report.period import half_year
from tests.look_pdf import Word, words
from tests.test_report_figures import history_site

HEADER_FILL = "1F4E79"


@pytest.fixture(scope="module")
def workbook_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("look-report")
    site = history_site(root / "site")
    app = site.app(datetime(2027, 3, 2, 8, 0, tzinfo=UTC))
    with app.state() as state:
        report = build_report(app, half_year(2026, 2), state)
    workbook, _ = write_report(report, root / "Halbjahresbericht-2026-H2.xlsx")
    return workbook


@pytest.fixture(scope="module")
def printed(workbook_path: Path, soffice: str, pdftotext: str) -> list[Word]:
    folder = workbook_path.parent
    profile = f"-env:UserInstallation=file://{folder / 'profile'}"
    command = [soffice, profile, "--headless", "--convert-to", "pdf", "--outdir", str(folder)]
    subprocess.run([*command, str(workbook_path)], check=True, capture_output=True, timeout=180)
    return words(pdftotext, workbook_path.with_suffix(".pdf"))


def lines(found: list[Word]) -> list[tuple[int, str]]:
    """(page, text) per printed line: words on the same page and baseline, left to right."""
    grouped: dict[tuple[int, float], list[Word]] = defaultdict(list)
    for word in found:
        grouped[(word.page, round(word.bottom, 0))].append(word)
    return [
        (page, " ".join(w.text for w in sorted(group, key=lambda w: w.left)))
        for (page, _), group in sorted(grouped.items())
    ]


def test_percentages_are_german(printed: list[Word]) -> None:
    text = " ".join(t for _, t in lines(printed))
    assert "71,4 %" in text and "66,7 %" in text and "100,0 %" in text
    assert not re.search(r"\b\d+\.\d %", text), re.findall(r"\b\d+\.\d %", text)


def test_count_axes_step_by_whole_numbers(workbook_path: Path, printed: list[Word]) -> None:
    workbook = openpyxl.load_workbook(workbook_path)
    checked = 0
    for sheet in workbook.worksheets:
        for chart in sheet._charts:
            if chart.tagname == "pieChart" or chart.y_axis.title is None:
                continue
            axis_title = "".join(r.t for p in chart.y_axis.title.tx.rich.p for r in (p.r or []))
            if axis_title != "Anzahl":
                continue
            checked += 1
            assert chart.y_axis.majorUnit is not None and chart.y_axis.majorUnit >= 1
            assert float(chart.y_axis.majorUnit).is_integer()
            assert chart.y_axis.number_format.formatCode == "0"
    assert checked >= 5
    # the "Anfragen" sheet holds only counts: no 0,5 / 2.5 tick labels anywhere on it
    anfragen = {w.page for w in printed if w.text == "Anfragen" and w.top < 30}
    ticks = [w.text for w in printed if w.page in anfragen and re.fullmatch(r"\d+[.,]5", w.text)]
    assert ticks == []


@pytest.mark.parametrize(
    "label", ["ohne gültige Angabe", "Mini-Fallkonferenz", "Ansprechpartner innerhalb von 5"]
)
def test_category_labels_are_printed_whole_in_table_and_chart(
    printed: list[Word], label: str
) -> None:
    whole = [t for _, t in lines(printed) if label in t]
    assert len(whole) >= 2, (label, whole)  # once in the table, once beside its bar


def test_every_chart_is_on_one_page_with_its_table(
    workbook_path: Path, printed: list[Word]
) -> None:
    workbook = openpyxl.load_workbook(workbook_path)
    printed_lines = lines(printed)
    titles = []
    for sheet in workbook.worksheets:
        for chart in sheet._charts:
            titles.append("".join(r.t for p in chart.title.tx.rich.p for r in (p.r or [])))
    assert len(titles) >= 8
    for title in titles:
        start = " ".join(title.split()[:3])  # a long title wraps inside its chart
        pages = [page for page, text in printed_lines if start in text]
        # above its table (a cell) and inside the chart, both on the same page (LibreOffice
        # also writes a chart's text, clipped and invisible, onto the page before a break)
        assert any(pages.count(page) >= 2 for page in pages), (title, pages)


def test_definitions_wrap_and_their_rows_are_high_enough(
    workbook_path: Path, printed: list[Word]
) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Definitionen"]
    rows = list(sheet.iter_rows(min_row=4))
    assert len(rows) >= 8
    for term, text in ((r[0], r[1]) for r in rows if r[1].value):
        assert term.alignment.wrap_text and text.alignment.wrap_text
        width = sheet.column_dimensions["B"].width
        needed = len(str(text.value)) / width  # lines at least
        height = sheet.row_dimensions[text.row].height
        assert height is not None and height >= 12 * needed, (text.value[:30], height)
        last_word = str(text.value).split()[-1]
        assert any(w.text == last_word for w in printed), last_word


def test_headers_wrap_between_words_and_show_completely(workbook_path: Path) -> None:
    workbook = openpyxl.load_workbook(workbook_path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.fill.fgColor.rgb not in (HEADER_FILL, f"00{HEADER_FILL}"):
                    continue
                assert cell.alignment.wrap_text
                width = sheet.column_dimensions[cell.column_letter].width
                longest = max(len(word) for word in str(cell.value).split())
                assert width >= longest * 1.1, (sheet.title, cell.value, width)
                words_ = str(cell.value).split()
                needed = 1
                used = 0.0
                for word in words_:
                    if used and used + len(word) + 1 > width:
                        needed, used = needed + 1, 0.0
                    used += len(word) + 1
                height = sheet.row_dimensions[cell.row].height
                assert height is not None and height >= 12 * needed, (cell.value, height)


def test_every_cell_names_a_sans_serif_font(workbook_path: Path) -> None:
    workbook = openpyxl.load_workbook(workbook_path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    assert cell.font.name == "Arial", (sheet.title, cell.coordinate)
