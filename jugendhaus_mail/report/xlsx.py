"""The report as an Excel workbook: an overview sheet, one sheet per topic, native charts.

A new file, so openpyxl is the right tool here (the shared request list is never written with
it). Each table is written as plain cells and each chart references those cells, so Excel and
LibreOffice draw the charts themselves and anyone can reuse the numbers.

Why one module: the sheets share one layout (fonts, widths, row heights, page breaks) that keeps
charts and their tables on one printed page; split, that layout would be repeated.
"""

from __future__ import annotations

import io
import math
from datetime import datetime, time
from typing import Any

from jugendhaus_mail.report.content import Report
from jugendhaus_mail.report.summary import KeyFigure
from jugendhaus_mail.report.tables import BAR, LINE, PIE, STACKED, Block

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = "1F4E79"
CHART_ROWS = 18  # rows a chart occupies at the default height
ROW_POINTS = 15.0
ROW_CM = ROW_POINTS * 2.54 / 72  # a row at the default height
PERCENT = "Prozent"
# [$-407]: German number format, so LibreOffice shows "12,5 %" on any machine (Excel uses the
# separators of Windows, which are German in the office anyway)
FORMATS = {"": "0", "%": '[$-407]0.0" %"', "AT": "[$-407]0.0"}
FONT = "Arial"  # named, so LibreOffice does not fall back to a serif font without Calibri
POINTS_PER_LINE = 13.0
BLOCKS_PER_PAGE = 3  # a printed page holds three table+chart blocks; a chart is never split


def report_workbook(report: Report) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    _default_font(workbook)
    overview = workbook.active
    overview.title = "Übersicht"
    _overview(overview, report)
    for name, sheet_blocks in report.sheets.items():
        sheet = workbook.create_sheet(name)
        # the same row height in Excel and LibreOffice, so charts stay where their rows are
        sheet.sheet_format.defaultRowHeight, sheet.sheet_format.customHeight = ROW_POINTS, True
        row = _heading(sheet, report, name)
        for index, block in enumerate(sheet_blocks):
            if index and index % BLOCKS_PER_PAGE == 0:
                _page_break(sheet, row)
            row = _block_with_chart(sheet, block, row)
        _widths(sheet, [34] + [19] * 7)
        _fit_header_rows(sheet)
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
    _put(sheet, row, column=1, value="Hinweise zur Datenqualität").font = Font(name=FONT, bold=True)
    notes = report.data_notes or ["Alle Zeilen waren auswertbar."]
    for offset, note in enumerate(notes, start=1):
        cell = _put(sheet, row + offset, 1, note)
        cell.alignment = Alignment(wrap_text=False)
    _widths(sheet, [30, 46, 17, 17, 28, 12, 24, 28])
    _fit_header_rows(sheet)


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

    _put(sheet, row, first, block.title).font = Font(name=FONT, bold=True, size=12)
    header = row + 1
    _header_row(sheet, header, block.headers, first)
    for offset, (category, values) in enumerate(block.rows, start=1):
        _put(sheet, header + offset, first, category)
        for column, value in enumerate(values, start=first + 1):
            cell = _put(sheet, header + offset, column, value)
            if block.axis_title == PERCENT:
                cell.number_format = FORMATS["%"]
    chart_rows = CHART_ROWS
    if block.rows:
        anchor = f"{_letter(first + len(block.headers) + 1)}{row}"
        chart = _chart(sheet, block, header, first)
        sheet.add_chart(chart, anchor)
        chart_rows = max(CHART_ROWS, math.ceil(chart.height / ROW_CM) + 2)
    return row + max(len(block.rows) + 4, chart_rows)


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
    _small_title(chart, block.title)
    chart.width, chart.height = 17.0, 8.5
    if block.chart != PIE:
        chart.y_axis.title = block.axis_title
        chart.x_axis.delete = chart.y_axis.delete = False  # else newer Excel hides the axes
        chart.legend.position = "b"
        chart.x_axis.txPr = _label_text()  # categories on one line each, never cut
        chart.y_axis.txPr = _label_text()
    if block.chart == BAR:
        chart.x_axis.scaling.orientation = "maxMin"  # first category on top, like the table
        chart.height = max(8.5, 3.5 + 0.6 * len(block.rows) * len(block.series))
        _room_for_labels(chart, block)
    if block.axis_title == PERCENT:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.y_axis.majorUnit = 20
        chart.y_axis.number_format = '[$-407]0" %"'
    elif block.chart != PIE:
        _whole_number_axis(chart, block)
    return chart


def _room_for_labels(chart: Any, block: Block) -> None:
    """Horizontal bars: leave the left part of the chart to the category labels, so a label
    like "ohne gültige Angabe" stays on one line instead of being wrapped and cut."""
    from openpyxl.chart.layout import Layout, ManualLayout

    longest = max((len(category) for category, _ in block.rows), default=10)
    left = min(0.45, max(0.18, longest * 0.0105 + 0.03))
    chart.layout = Layout(  # openpyxl copies it to the plot area
        manualLayout=ManualLayout(
            layoutTarget="inner", xMode="edge", yMode="edge", x=left, y=0.22, w=0.96 - left, h=0.55
        )
    )


def _whole_number_axis(chart: Any, block: Block) -> None:
    """Counts step by whole numbers: 0, 1, 2, 3 – never 0.5."""
    top = _largest_total(block)
    step = next(n * 10**e for e in range(9) for n in (1, 2, 5) if top / (n * 10**e) <= 8)
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = max(step, math.ceil(top / step) * step)
    chart.y_axis.majorUnit = step
    chart.y_axis.number_format = "0"


def _largest_total(block: Block) -> float:
    values = [[v or 0 for v in row_values] for _, row_values in block.rows]
    if block.chart == STACKED:
        return max((sum(row) for row in values), default=1) or 1
    return max((max(row, default=0) for row in values), default=1) or 1


def _label_text(size: int = 900) -> Any:
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import (
        CharacterProperties,
        Paragraph,
        ParagraphProperties,
        RichTextProperties,
    )

    properties = ParagraphProperties(defRPr=CharacterProperties(sz=size, latin=_latin()))
    return RichText(
        bodyPr=RichTextProperties(wrap="none", rot=0, vert="horz"),
        p=[Paragraph(pPr=properties, endParaRPr=CharacterProperties(sz=size))],
    )


def _small_title(chart: Any, text: str) -> None:
    """A 12 pt title: LibreOffice's default 13 pt bold wraps long titles into the plot."""
    from openpyxl.chart.title import title_maker
    from openpyxl.drawing.text import CharacterProperties, ParagraphProperties

    title = title_maker(text)
    font = CharacterProperties(sz=1200, b=True, latin=_latin())
    for paragraph in title.tx.rich.p:
        paragraph.pPr = ParagraphProperties(defRPr=font)
        for run in paragraph.r or []:
            run.rPr = font
    chart.title = title


def _latin() -> Any:
    from openpyxl.drawing.text import Font as DrawingFont

    return DrawingFont(typeface=FONT)


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

    _put(sheet, 1, column=1, value=title).font = Font(name=FONT, bold=True, size=16)
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
            _put(sheet, row, column=1, value=line).font = Font(name=FONT, color="5B6573")
            row += 1
    return row + 1


def _header_row(sheet: Any, row: int, headers: tuple[str, ...], first: int = 1) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for column, text in enumerate(headers, start=first):
        cell = _put(sheet, row, column=column, value=text)
        cell.font = Font(name=FONT, bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _definitions(sheet: Any, report: Report) -> None:
    from openpyxl.styles import Alignment, Font

    _put(sheet, 1, column=1, value="Definitionen").font = Font(name=FONT, bold=True, size=16)
    _header_row(sheet, 3, ("Begriff", "Bedeutung"))
    widths = [30, 100]
    for offset, (term, text) in enumerate(report.definitions, start=1):
        row = 3 + offset
        term_cell = _put(sheet, row, column=1, value=term)
        term_cell.font = Font(name=FONT, bold=True)
        term_cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell = _put(sheet, row, column=2, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        # Excel does not grow a row for wrapped text by itself when it opens the file
        lines = max(_lines(term, widths[0]), _lines(text, widths[1]))
        sheet.row_dimensions[row].height = POINTS_PER_LINE * lines + 3
    _widths(sheet, widths)
    _fit_header_rows(sheet)


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text needs in a column `width` characters wide (words never split)."""
    lines, used = 1, 0.0
    for word in str(text).split():
        length = len(word) * 1.1 + 1  # Arial is wider than Excel's width unit for most letters
        if used and used + length > width:
            lines, used = lines + 1, 0.0
        used += length
    return lines + str(text).count("\n")


def _fit_header_rows(sheet: Any) -> None:
    """Header cells wrap; give their rows the height the longest header needs."""
    from openpyxl.utils import get_column_letter

    for row in sheet.iter_rows():
        for cell in row:
            if cell.fill.fgColor.rgb not in (HEADER_FILL, f"00{HEADER_FILL}"):
                continue
            column = sheet.column_dimensions[get_column_letter(cell.column)]
            longest = max((len(word) for word in str(cell.value or "").split()), default=0)
            column.width = max(column.width or 10, round(longest * 1.15 + 2))  # words unbroken
            width = column.width
            lines = _lines(str(cell.value or ""), width)
            current = sheet.row_dimensions[cell.row].height or 0
            sheet.row_dimensions[cell.row].height = max(current, POINTS_PER_LINE * lines + 3)


def _page_break(sheet: Any, row: int) -> None:
    from openpyxl.worksheet.pagebreak import Break

    sheet.row_breaks.append(Break(id=row - 1))


def _default_font(workbook: Any) -> None:
    from openpyxl.styles import Font

    for style in workbook._named_styles:
        if style.name == "Normal":
            style.font = Font(name=FONT, size=10)
    workbook._fonts[0] = Font(name=FONT, size=10)


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
