"""Everything one report shows, computed once: figures for the period and the one before it,
the key figures, the tables behind the charts, the definitions and the data-quality notes.

`make_report` is pure (rows in, `Report` out); the workbook and the HTML summary only lay it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from jugendhaus_mail.report.figures import Figures, Rules, SentNotice, compute_figures
from jugendhaus_mail.report.period import Period
from jugendhaus_mail.report.summary import KeyFigure, definitions, key_figures, skipped_lines
from jugendhaus_mail.report.tables import Block, blocks
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

TITLE = "Halbjahresbericht für den Qualitätsdialog"


@dataclass(frozen=True)
class Report:
    current: Figures
    previous: Figures
    rules: Rules
    office_name: str
    key_figures: list[KeyFigure]
    sheets: dict[str, list[Block]]
    definitions: list[tuple[str, str]]
    data_notes: list[str]  # rows left out of some figure, by reason (no content)

    @property
    def period(self) -> Period:
        return self.current.period

    @property
    def as_of(self) -> date:
        return self.current.as_of

    @property
    def reference_day(self) -> date:
        return self.current.reference_day

    @property
    def preliminary(self) -> bool:
        """The period has not ended yet on the day the report is made."""
        return self.as_of <= self.period.end

    @property
    def title(self) -> str:
        return TITLE if self.period.is_half_year else "Bericht für den Qualitätsdialog"

    @property
    def file_stem(self) -> str:
        prefix = "Halbjahresbericht" if self.period.is_half_year else "Bericht"
        return f"{prefix}-{self.period.code}"

    @property
    def notices_available(self) -> bool:
        return self.current.notices is not None

    def block(self, key: str) -> Block:
        for sheet in self.sheets.values():
            for block in sheet:
                if block.key == key:
                    return block
        raise KeyError(key)


def make_report(
    rows: Iterable[Row],
    calendar: WorkCalendar,
    period: Period,
    as_of: date,
    *,
    rules: Rules | None = None,
    sent: Iterable[SentNotice] | None = None,
    office_name: str = "",
) -> Report:
    rows, rules = list(rows), rules or Rules()
    sent = None if sent is None else list(sent)
    current = compute_figures(rows, calendar, period, as_of, rules, sent)
    previous = compute_figures(rows, calendar, period.previous(), as_of, rules, sent)
    return Report(
        current=current,
        previous=previous,
        rules=rules,
        office_name=office_name,
        key_figures=key_figures(current, previous, rules),
        sheets=blocks(current, previous, rules),
        definitions=definitions(rules),
        data_notes=skipped_lines(current),
    )
