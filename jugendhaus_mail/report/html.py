"""The report's one-page HTML summary for team leaders: key figures, small SVG bar charts,
definitions. One self-contained file: inline CSS and SVG, no scripts, nothing loaded from
elsewhere, so it opens the same from a mail attachment, a file share or a browser offline.

The chart geometry is computed here (plain numbers); the template
`templates/report/halbjahresbericht.html` only draws it, autoescaped.
"""

from __future__ import annotations

from dataclasses import dataclass

from jugendhaus_mail.report.content import Report
from jugendhaus_mail.report.summary import KeyFigure, german_number
from jugendhaus_mail.report.tables import PIE, Block
from jugendhaus_mail.resources import resource_dir

TEMPLATE = "halbjahresbericht.html"
CHARTS = (
    "per_month",
    "by_kind",
    "by_rechtskreis",
    "contact_days",
    "home_visit_timing",
    "home_visit_result",
    "joint_flow",
    "joint_ended",
)
WIDTH = 460
LABEL_WIDTH = 175
VALUE_SPACE = 44
BAR_HEIGHT = 12
BAR_GAP = 3
ROW_GAP = 12
TREND_COLOURS = {"besser": "#2e7d32", "schlechter": "#b3261e", "": "#5b6573"}


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    colour: str
    value: str
    text_x: int


@dataclass(frozen=True)
class ChartRow:
    label: str
    label_y: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    label_width: int
    rows: tuple[ChartRow, ...]
    legend: tuple[tuple[str, str], ...]  # (series name, colour)


@dataclass(frozen=True)
class Card:
    """One key figure: the text, plus a pair of bars (this period, the one before)."""

    figure: KeyFigure
    colour: str  # of the change text; the words "besser"/"schlechter" say the same
    bars: tuple[Bar, ...]


def report_html(report: Report) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates") / "report")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["datum"] = lambda day: day.strftime("%d.%m.%Y")
    charts = [bar_chart(report.block(key)) for key in CHARTS if _has(report, key)]
    return environment.get_template(TEMPLATE).render(
        report=report,
        cards=[card(figure) for figure in report.key_figures],
        charts=[c for c in charts if c.rows],
    )


def _has(report: Report, key: str) -> bool:
    try:
        report.block(key)
    except KeyError:
        return False
    return True


def bar_chart(block: Block, width: int = WIDTH) -> Chart:
    """Horizontal bars, one group per category and one bar per series, values written out.

    A pie block is drawn as bars too (one per category, in the pie's colours): bars are easier
    to compare and need no legend.
    """
    by_row = block.chart == PIE
    scale_width = width - LABEL_WIDTH - VALUE_SPACE
    largest = max((v or 0 for _, values in block.rows for v in values), default=0) or 1
    group = len(block.series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    rows, y = [], 0
    for number, (label, values) in enumerate(block.rows):
        bars = []
        for index, value in enumerate(values):
            length = round(scale_width * (value or 0) / largest)
            top = y + index * (BAR_HEIGHT + BAR_GAP)
            colour = _colour(block, number if by_row else index)
            text = "–" if value is None else german_number(value)
            end = LABEL_WIDTH + length + 5
            bars.append(Bar(LABEL_WIDTH, top, length, BAR_HEIGHT, colour, text, end))
        rows.append(ChartRow(label, y + group // 2 + 4, tuple(bars)))
        y += group + ROW_GAP
    legend = (
        () if by_row else tuple((name, _colour(block, i)) for i, name in enumerate(block.series))
    )
    return Chart(block.title, width, max(y - ROW_GAP, 1), LABEL_WIDTH, tuple(rows), legend)


def _colour(block: Block, index: int) -> str:
    return "#" + block.colours[index % len(block.colours)]


def card(figure: KeyFigure) -> Card:
    """Two thin bars: the figure now and in the previous period (shares on a 0–100 scale)."""
    top = 100.0 if figure.unit == "%" else max(figure.current or 0, figure.previous or 0) or 1
    bars = []
    for index, (value, colour) in enumerate(
        ((figure.current, "#1f4e79"), (figure.previous, "#9fb3c8"))
    ):
        length = round(150 * (value or 0) / top)
        bars.append(Bar(0, index * 10, length, 7, colour, "", 0))
    return Card(figure, TREND_COLOURS[figure.trend], tuple(bars))
