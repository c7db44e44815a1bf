"""The sheet `Gelöscht`: case numbers staff deleted on purpose.

A request row the service wrote and that is gone from `Anfragen` is written again (a restored
older copy must never lose requests), unless its Nr. stands in this sheet. Read with calamine
like the rest of the workbook; headers are found in the sheet's first 20 rows (a title row may
stand above them).
"""

from __future__ import annotations

import io

from python_calamine import CalamineWorkbook

from jugendhaus_mail.workbook.model import header_key

SHEET = "Gelöscht"
NR_HEADER = "Nr."


def deleted_numbers(data: bytes) -> set[str] | None:
    """The Nr. column of sheet `Gelöscht`; None when the workbook has no such sheet."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # the reader reports unreadable workbooks
        return None
    name = next((n for n in workbook.sheet_names if header_key(n) == header_key(SHEET)), None)
    if name is None:
        return None
    try:
        cells = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception:
        return None
    for row_index, row in enumerate(cells[:20]):
        for col, text in enumerate(row):
            if header_key(text) == header_key(NR_HEADER):
                values = (r[col] for r in cells[row_index + 1 :] if col < len(r))
                return {_text(v) for v in values if _text(v)}
    return set()


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if value is not None else ""
