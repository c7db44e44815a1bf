"""Which cells of existing rows the writer declines to update, and how it says so.

An update is one cell; declining it never holds back the rest of the save (new requests
included). Declined: a formula (staff put it there on purpose), a merged cell or array formula,
and in a column the service shares with staff (`owner = "shared"`) anything but an empty cell
or a date: a note typed there is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from jugendhaus_mail.workbook.model import CellValue
from jugendhaus_mail.workbook.reader import normalise
from jugendhaus_mail.workbook.schema import Column
from jugendhaus_mail.workbook.xlsx_sheet import Area, Cell, cell_text

_QUOTE_LIMIT = 60  # characters of staff text repeated in a message


@dataclass(frozen=True)
class Skipped:
    nr: str
    column: str  # schema key
    header: str
    ref: str
    value: CellValue
    why: str

    def __str__(self) -> str:
        return (
            f"Anfrage {self.nr or '?'}, Spalte {self.header!r} (Zelle {self.ref}): {self.why}. "
            f"Der Dienst hätte {_shown(self.value)} eingetragen und lässt die Zelle, wie sie ist."
        )


def declined(
    cell: Cell | None,
    column: Column,
    area: Area,
    blocked: list[tuple[Area, str]],
    shared: dict[int, str],
) -> str | None:
    """Why the cell must keep its content, or None when the service may write it."""
    for where, kind in blocked:
        if where.overlaps(area):
            return f"sie gehört zu {kind} ({where})"
    if cell is None or not cell.has_content:
        return None
    if cell.has_formula:
        return "dort steht eine Formel; bitte die Formel aus dieser Dienst-Spalte entfernen"
    if column.owner != "shared":
        return None
    kind = cell.attrs.get("t", "n")
    if kind in ("n", "d"):
        return None  # a date (a number in a date column) the service may move forward
    text = (cell_text(cell, shared) or "").strip()
    if kind in ("s", "inlineStr", "str") and isinstance(normalise(text, "date"), date):
        return None  # a date typed as text
    shown = text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1] + "…"
    return f"dort steht Text von Hand („{shown}“)"


def _shown(value: CellValue) -> str:
    if isinstance(value, datetime):
        return f"{value:%d.%m.%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return "nichts" if value is None else f"„{value}“"
