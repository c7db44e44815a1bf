"""Cell values brought to the type the schema names, and where the schema's columns are.

Whatever cannot be understood stays a string, so later code can name the cell in a message
instead of guessing. Shared by both ways the workbook is read (python-calamine, and the
streamed narrow read in `xlsx_columns`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta

from jugendhaus_mail.workbook.model import CellValue, header_key
from jugendhaus_mail.workbook.schema import Sheet
from jugendhaus_mail.workbook.xlsx_sheet import Area

RawValue = int | float | str | bool | time | date | datetime | timedelta
Converter = Callable[[RawValue], CellValue]

EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 0 in the 1900 date system
# A bare number in a date column is read as an Excel serial date only inside this range
# (1920-01-01 .. 2199-12-31); "5" or "2026" typed into a date cell stays text.
SERIAL_RANGE = (7306, 109573)

_GERMAN_DATE = re.compile(
    r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4}|\d{2})"
    r"(?:[\s,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s*Uhr)?)?"
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::(\d{2}))?)?")


def normalise(value: RawValue | None, column_type: str) -> CellValue:
    """Bring one raw cell value to the schema type (see the module docstring)."""
    if value is None or value == "":
        return None
    return _CONVERTERS[column_type](value)


Plan = list[tuple[str, int, Converter]]  # (key, 0-based column, converter) of the kept columns


def plan_columns(
    header: Sequence[RawValue], sheet: Sheet, table: Area | None, keep: frozenset[str] | None
) -> tuple[Plan, list[int], tuple[str, ...]]:
    """Where the schema's columns are in the header row: the kept ones, the others (only
    looked at to tell whether a row is there) and the headers not found."""
    indices = list(range(len(header)))
    if table:  # the table's own headers first, then anything else in that row
        indices.sort(key=lambda i: not table.first_col - 1 <= i <= table.last_col - 1)
    positions: dict[str, int] = {}
    for index in indices:
        if header[index] != "":
            positions.setdefault(header_key(header[index]), index)
    plan: Plan = []
    unkept: list[int] = []
    absent: list[str] = []
    for column in sheet.columns:
        found = positions.get(header_key(column.header))
        if found is None:
            absent.append(column.header)
        elif keep is None or column.key in keep:
            plan.append((column.key, found, _CONVERTERS[column.type]))
        else:
            unkept.append(found)
    return plan, unkept, tuple(absent)


def holds_value(value: RawValue) -> bool:
    """What the converters would not turn into None: anything but "" and blank text."""
    return value != "" and not (isinstance(value, str) and not value.strip())


def convert_all(convert: Converter, values: Iterable[RawValue | None]) -> list[CellValue]:
    """`[None if v is None else convert(v) for v in values]`; text to text without a call
    per value."""
    if convert is _to_text:
        return [
            (value.strip() or None) if type(value) is str else None if value is None else
            _to_text(value)
            for value in values
        ]  # fmt: skip
    return [None if value is None else convert(value) for value in values]


def _to_text(value: RawValue) -> CellValue:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "WAHR" if value else "FALSCH"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Kundennummer 12345 arrives as 12345.0
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def _to_int(value: RawValue) -> CellValue:
    if isinstance(value, bool):
        return _to_text(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        return text or None
    return _to_text(value)


def _to_datetime(value: RawValue) -> CellValue:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, bool):
        return _to_text(value)
    if isinstance(value, int | float):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return EXCEL_EPOCH + timedelta(days=value)
        return _to_text(value)
    if isinstance(value, str):
        return _parse_datetime(value.strip()) or value.strip() or None
    return _to_text(value)


def _to_date(value: RawValue) -> CellValue:
    if type(value) is date:  # what a date cell gives; the common case, kept short
        return value
    result = _to_datetime(value)
    return result.date() if isinstance(result, datetime) else result


def _parse_datetime(text: str) -> datetime | None:
    """German `03.04.2026`, `3.4.26`, `03.04.2026 10:15 Uhr`, or ISO `2026-04-03 10:15`."""
    match = _GERMAN_DATE.fullmatch(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        full_year = int(year) if len(year) == 4 else _two_digit_year(int(year))
        parts = (full_year, int(month), int(day))
    else:
        match = _ISO_DATE.fullmatch(text)
        if not match:
            return None
        year, month, day, hour, minute, second = match.groups()
        parts = (int(year), int(month), int(day))
    try:
        return datetime(*parts, int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:  # 31.02.2026, 25:00 and the like
        return None


def _two_digit_year(year: int) -> int:
    """Excel's rule: 00-29 mean 2000-2029, 30-99 mean 1930-1999."""
    return 2000 + year if year < 30 else 1900 + year


_CONVERTERS: dict[str, Converter] = {
    "text": _to_text,
    "int": _to_int,
    "date": _to_date,
    "datetime": _to_datetime,
}
