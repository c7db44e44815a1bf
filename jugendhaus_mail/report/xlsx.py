"""The report as an Excel workbook: an overview sheet, one sheet per topic, native charts.

A new file, so openpyxl is the right tool here (the shared request list is never written with
it). Each table is written as plain cells and each chart references those cells, so Excel and
LibreOffice draw the charts themselves and anyone can reuse the numbers.
"""

from __future__ import annotations

import io
from datetime import datetime, time
from typing import Any

from jugendhaus_mail.report.content import Report
from jugendhaus_mail.report.summary import KeyFigure
from jugendhaus_mail.report.tables import BAR, LINE, PIE, STACKED, Block

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = "1F4E79"
CHART_ROWS = 18  # rows a chart occupies at the default height
PERCENT = "Prozent"
FORMATS = {"": "0", "%": '0.0" %"', "AT": "0.0"}


def report_workbook(report: Report) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    overview = workbook.active
    overview.title = "Übersicht"
    _overview(overview, report)
    for name, sheet_blocks in report.sheets.items():
        sheet = workbook.create_sheet(name)
        row = _heading(sheet, report, name)
        for block in sheet_blocks:
            row = _block_with_chart(sheet, block, row)
        _widths(sheet, [34] + [19] * 7)
    _definitions(workbook.create_sheet("Definitionen"), report)
    moment = datetime.combine(report.as_of, time(12, 0))
    workbook.properties.creator = "jugendhaus-mail"
    workbook.properties.title = f"{report.title} – {report.period.label}"
    workbook.properties.created = workbook.properties.modified = moment
    for sheet in workbook.worksheets:
        _print_setup(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- overview ---------------------------------------------------------------------------------


def _overview(sheet: Any, report: Report) -> None:
    from openpyxl.styles import Alignment, Font

    row = _heading(sheet, report, report.title)
    headers = (
        "Bereich",
        "Kennzahl",
        report.period.label,
        report.previous.period.label,
        "Veränderung",
        "Einordnung",
        "Grundlage",
        "Grundlage Vorzeitraum",
    )
    _header_row(sheet, row, headers)
    for offset, figure in enumerate(report.key_figures, start=1):
        _key_figure_row(sheet, row + offset, figure)
    row += len(report.key_figures) + 2
    shares = [f for f in report.key_figures if f.unit == "%"]
    block = Block(
        "shares",
        "Fristen und Rückmeldungen eingehalten (Anteil in %)",
        ("Kennzahl", report.period.label, report.previous.period.label),
        tuple((f.label, (_rounded(f.current), _rounded(f.previous))) for f in shares),
        BAR,
        axis_title=PERCENT,
    )
    row = _block_with_chart(sheet, block, row, first=2)
    _put(sheet, row, column=1, value="Hinweise zur Datenqualität").font = Font(bold=True)
    notes = report.data_notes or ["Alle Zeilen waren auswertbar."]
    for offset, note in enumerate(notes, start=1):
        cell = _put(sheet, row + offset, 1, note)
        cell.alignment = Alignment(wrap_text=False)
    _widths(sheet, [30, 46, 17, 17, 28, 12, 24, 28])


def _key_figure_row(sheet: Any, row: int, figure: KeyFigure) -> None:
    from openpyxl.styles import Alignment

    values = (
        figure.group,
        figure.label,
        _cell_value(figure.current, figure.unit),
        _cell_value(figure.previous, figure.unit),
        figure.change_text,
        figure.trend,
        figure.current_note,
        figure.previous_note,
    )
    for column, value in enumerate(values, start=1):
        cell = _put(sheet, row, column=column, value=value)
        if column in (3, 4):
            cell.number_format = FORMATS[figure.unit]
        elif column == 5:
            cell.alignment = Alignment(indent=1)


def _cell_value(value: float | None, unit: str) -> float | str:
    if value is None:
        return "–"
    return round(value, 1)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- blocks and charts ------------------------------------------------------------------------


def _block_with_chart(sheet: Any, block: Block, row: int, first: int = 1) -> int:
    """Write the block's table at `row` (from column `first`) and its chart beside it; return
    the next free row."""
    from openpyxl.styles import Font

    _put(sheet, row, first, block.title).font = Font(bold=True, size=12)
    header = row + 1
    _header_row(sheet, header, block.headers, first)
    for offset, (category, values) in enumerate(block.rows, start=1):
        _put(sheet, header + offset, first, category)
        for column, value in enumerate(values, start=first + 1):
            _put(sheet, header + offset, column, value)
    if block.rows:
        anchor = f"{_letter(first + len(block.headers) + 1)}{row}"
        sheet.add_chart(_chart(sheet, block, header, first), anchor)
    return row + max(len(block.rows) + 4, CHART_ROWS)


def _chart(sheet: Any, block: Block, header: int, first: int) -> Any:
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference

    last = header + len(block.rows)
    columns = first + len(block.headers) - 1
    data = Reference(sheet, min_col=first + 1, max_col=columns, min_row=header, max_row=last)
    categories = Reference(sheet, min_col=first, min_row=header + 1, max_row=last)
    chart: Any
    if block.chart == PIE:
        chart = PieChart()
    elif block.chart == LINE:
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "bar" if block.chart == BAR else "col"
        if block.chart == STACKED:
            chart.grouping, chart.overlap = "stacked", 100
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    _colour(chart, block)
    chart.title = block.title
    chart.width, chart.height = 17.0, 8.5
    if block.chart != PIE:
        chart.y_axis.title = block.axis_title
        chart.x_axis.delete = chart.y_axis.delete = False  # else newer Excel hides the axes
        chart.legend.position = "b"
    if block.chart == BAR:
        chart.x_axis.scaling.orientation = "maxMin"  # first category on top, like the table
    if block.axis_title == PERCENT:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    return chart


def _colour(chart: Any, block: Block) -> None:
    from openpyxl.chart.marker import DataPoint

    if block.chart == PIE:
        series = chart.series[0]
        for index, colour in enumerate(block.colours[: len(block.rows)]):
            point = DataPoint(idx=index)
            point.graphicalProperties.solidFill = colour
            series.dPt.append(point)
        return
    for series, colour in zip(chart.series, block.colours, strict=False):
        series.graphicalProperties.line.solidFill = colour
        if block.chart == LINE:
            series.smooth = False
            series.graphicalProperties.line.width = 28575  # 2.25 pt in EMU
        else:
            series.graphicalProperties.solidFill = colour


# --- helpers ----------------------------------------------------------------------------------


def _heading(sheet: Any, report: Report, title: str) -> int:
    from openpyxl.styles import Font

    _put(sheet, 1, column=1, value=title).font = Font(bold=True, size=16)
    lines = [
        report.office_name,
        f"Zeitraum: {report.period.label} ({report.period.start:%d.%m.%Y} – "
        f"{report.period.end:%d.%m.%Y}), verglichen mit {report.previous.period.label} "
        f"({report.previous.period.start:%d.%m.%Y} – {report.previous.period.end:%d.%m.%Y})",
        f"Stichtag {report.reference_day:%d.%m.%Y} · erstellt am {report.as_of:%d.%m.%Y}"
        + (" · vorläufig: der Zeitraum läuft noch" if report.preliminary else ""),
    ]
    row = 2
    for line in lines:
        if line:
            _put(sheet, row, column=1, value=line).font = Font(color="5B6573")
            row += 1
    return row + 1


def _header_row(sheet: Any, row: int, headers: tuple[str, ...], first: int = 1) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for column, text in enumerate(headers, start=first):
        cell = _put(sheet, row, column=column, value=text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _definitions(sheet: Any, report: Report) -> None:
    from openpyxl.styles import Alignment, Font

    _put(sheet, 1, column=1, value="Definitionen").font = Font(bold=True, size=16)
    _header_row(sheet, 3, ("Begriff", "Bedeutung"))
    for offset, (term, text) in enumerate(report.definitions, start=1):
        _put(sheet, 3 + offset, column=1, value=term).font = Font(bold=True)
        cell = _put(sheet, 3 + offset, column=2, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    _widths(sheet, [30, 110])


def _widths(sheet: Any, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[_letter(index)].width = width


def _print_setup(sheet: Any) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _put(sheet: Any, row: int, column: int, value: object) -> Any:
    """Write a cell; text is always text (a label starting with "=" never becomes a formula)."""
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(column))
