"""Read the workbook fast (python-calamine, no openpyxl) into a `Snapshot`.

Columns are found by header text in the header row of the sheet's Excel table (row 1 only when
the sheet has no table, so a title row above the table is fine; case, surrounding and doubled
spaces and line breaks do not matter), so staff may reorder, hide or add columns. Cell values
are brought to the type the schema names; whatever cannot be understood stays a string, so
later code can name the cell in a message instead of guessing.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from python_calamine import CalamineSheet, CalamineWorkbook

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.model import CellValue, FileFingerprint, Row, Snapshot, header_key
from jugendhaus_mail.workbook.schema import Schema, Sheet
from jugendhaus_mail.workbook.xlsx_sheet import Area
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage, locate_parts

RawValue = int | float | str | bool | time | date | datetime | timedelta
Converter = Callable[[RawValue], CellValue]

ROW_KEY = "_row"  # the Excel row number, for messages only
ALWAYS_KEPT = frozenset({"nr", "service_key"})  # how rows are found and told apart
APPOINTMENTS = "Termine"
EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 0 in the 1900 date system
# A bare number in a date column is read as an Excel serial date only inside this range
# (1920-01-01 .. 2199-12-31); "5" or "2026" typed into a date cell stays text.
SERIAL_RANGE = (7306, 109573)

_GERMAN_DATE = re.compile(
    r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4}|\d{2})"
    r"(?:[\s,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s*Uhr)?)?"
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::(\d{2}))?)?")


def read_snapshot(
    source: Path | bytes, schema: Schema, *, columns: Collection[str] | None = None
) -> Snapshot:
    """Read `Anfragen`, `Mitarbeitende` and `Abwesenheiten` from a file or its bytes.

    `columns` (keys of `Anfragen`) keeps only those request columns in the rows (`nr` and
    `service_key` always): a caller that needs a few columns of 50,000 rows holds a fraction
    of the memory. Which rows exist does not depend on it: a row counts when any column of the
    schema is filled, kept or not."""
    if isinstance(source, bytes):
        data, label = source, "Arbeitsmappe"
        fingerprint = FileFingerprint(len(data), 0, hashlib.sha256(data).hexdigest())
    else:
        data, fingerprint = read_file(source)
        label = str(source)
    workbook = _open(data, label)
    package = _package(data)
    missing: dict[str, tuple[str, ...]] = {}
    sheets: list[list[Row]] = []
    for sheet in (schema.requests, schema.staff, schema.absences):
        name = _find_sheet(workbook.sheet_names, sheet.name)
        if name is None:
            if sheet is schema.requests:
                raise WorkbookError(
                    f"In {label} fehlt das Blatt {sheet.name!r}. Bitte das Blatt "
                    "wiederherstellen (z. B. aus einer Sicherung) oder umbenennen."
                )
            missing[sheet.name] = tuple(c.header for c in sheet.columns)
            sheets.append([])
            continue
        keep = _kept(columns) if sheet is schema.requests else None
        rows, absent = _read_sheet(workbook, name, sheet, label, _table_area(package, sheet), keep)
        if absent:
            missing[sheet.name] = absent
        sheets.append(rows)
    requests, staff, absences = sheets
    appointments = _appointments(workbook, package, schema, label, missing)
    return Snapshot(requests, staff, absences, fingerprint, missing, appointments)


def read_appointments(data: bytes, schema: Schema) -> list[Row]:
    """Only sheet `Termine`, for its writer: the other sheets are not parsed."""
    label = "Arbeitsmappe"
    return _appointments(_open(data, label), _package(data), schema, label, {})


def _appointments(
    workbook: CalamineWorkbook,
    package: ZipPackage | None,
    schema: Schema,
    label: str,
    missing: dict[str, tuple[str, ...]],
) -> list[Row]:
    """Sheet `Termine`; a workbook from before it has none (the upgrade adds it)."""
    sheet = next((s for s in schema.sheets if s.name == APPOINTMENTS), None)
    name = _find_sheet(workbook.sheet_names, APPOINTMENTS) if sheet else None
    if sheet is None or name is None:
        return []
    rows, absent = _read_sheet(workbook, name, sheet, label, _table_area(package, sheet))
    if absent:
        missing[sheet.name] = absent
    return rows


def read_file(path: Path) -> tuple[bytes, FileFingerprint]:
    """The file's bytes and fingerprint, taken from one open file handle."""
    try:
        with path.open("rb") as fh:
            mtime_ns = os.fstat(fh.fileno()).st_mtime_ns
            data = fh.read()
    except FileNotFoundError as exc:
        raise WorkbookError(
            f"Die Arbeitsmappe {path} gibt es nicht. Mit `jugendhaus-mail init` eine neue "
            "anlegen oder [workbook] path korrigieren."
        ) from exc
    except OSError as exc:
        raise WorkbookError(
            f"Die Arbeitsmappe {path} lässt sich nicht lesen ({exc.strerror or exc}). "
            "Bitte die Leserechte des Dienstes prüfen."
        ) from exc
    return data, FileFingerprint(len(data), mtime_ns, hashlib.sha256(data).hexdigest())


def normalise(value: RawValue | None, column_type: str) -> CellValue:
    """Bring one raw cell value to the schema type (see the module docstring)."""
    if value is None or value == "":
        return None
    return _CONVERTERS[column_type](value)


def _open(data: bytes, label: str) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several types, Rust panics included
        raise WorkbookError(
            f"{label} ist keine lesbare .xlsx-Datei ({type(exc).__name__}). Bitte die Datei "
            "in Excel öffnen und prüfen oder aus einer Sicherung wiederherstellen."
        ) from exc


def _package(data: bytes) -> ZipPackage | None:
    try:
        return ZipPackage(data)
    except WorkbookError:
        return None  # calamine could read it, so only the table lookup is given up


def _table_area(package: ZipPackage | None, sheet: Sheet) -> Area | None:
    """Where the sheet's Excel table is (its first row holds the headers), None without one."""
    if package is None:
        return None
    try:
        return locate_parts(package, sheet).table.area
    except (WorkbookError, KeyError, ValueError):
        return None


def _find_sheet(names: list[str], wanted: str) -> str | None:
    if wanted in names:
        return wanted
    return next((n for n in names if header_key(n) == header_key(wanted)), None)


def _kept(columns: Collection[str] | None) -> frozenset[str] | None:
    return None if columns is None else frozenset(columns) | ALWAYS_KEPT


def _read_sheet(
    workbook: CalamineWorkbook,
    name: str,
    sheet: Sheet,
    label: str,
    table: Area | None,
    keep: frozenset[str] | None = None,
) -> tuple[list[Row], tuple[str, ...]]:
    try:
        cells = workbook.get_sheet_by_name(name)
        try:
            return _parse_sheet(_iter_cells(cells), sheet, table, keep)
        except _Misread:  # an older python-calamine numbers rows differently: the slow way
            return _parse_sheet(cells.to_python(skip_empty_area=False), sheet, table, keep)
    except WorkbookError:
        raise
    except Exception as exc:
        raise WorkbookError(
            f"Das Blatt {name!r} in {label} lässt sich nicht lesen ({type(exc).__name__}). "
            "Bitte die Datei in Excel öffnen und prüfen."
        ) from exc


class _Misread(Exception):
    pass


def _iter_cells(cells: CalamineSheet) -> Iterable[list[RawValue]]:
    """The sheet's rows from A1 one at a time, as `to_python(skip_empty_area=False)` gives
    them all at once (which holds every cell of 50,000 rows as Python objects: ~135 MiB).
    `iter_rows` starts at row 1 but at the first used column; the columns before it are empty,
    so they are put back as ""."""
    start, end = cells.start, cells.end
    if start is None or end is None:
        return
    pad: list[RawValue] = [""] * start[1]
    count = 0
    for raw in cells.iter_rows():
        count += 1
        yield pad + raw if pad else raw
    if count != end[0] + 1:
        raise _Misread


def _parse_sheet(
    cells: Iterable[list[RawValue]], sheet: Sheet, table: Area | None, keep: frozenset[str] | None
) -> tuple[list[Row], tuple[str, ...]]:
    header_at = table.first_row - 1 if table else 0  # cells start at A1
    rows_in = iter(cells)
    header: list[RawValue] | None = None
    for index, raw in enumerate(rows_in):
        if index == header_at:
            header = raw
            break
    if header is None:
        return [], tuple(c.header for c in sheet.columns)
    indices = list(range(len(header)))
    if table:  # the table's own headers first, then anything else in that row
        indices.sort(key=lambda i: not table.first_col - 1 <= i <= table.last_col - 1)
    positions: dict[str, int] = {}
    for index in indices:
        if header[index] != "":
            positions.setdefault(header_key(header[index]), index)
    plan: list[tuple[str, int, Converter]] = []
    unkept: list[int] = []  # columns only looked at to tell whether a row is there
    absent: list[str] = []
    for column in sheet.columns:
        found = positions.get(header_key(column.header))
        if found is None:
            absent.append(column.header)
        elif keep is None or column.key in keep:
            plan.append((column.key, found, _CONVERTERS[column.type]))
        else:
            unkept.append(found)
    return _rows(rows_in, plan, unkept, header_at + 1), tuple(absent)


def _rows(
    cells: Iterable[list[RawValue]],
    plan: list[tuple[str, int, Converter]],
    unkept: list[int],
    first: int,
) -> list[Row]:
    """One dict per filled row, every planned key present (None when empty), in plan order."""
    rows: list[Row] = []
    for number, raw in enumerate(cells, start=first + 1):
        row: Row = {}
        filled = False
        width = len(raw)
        for key, index, convert in plan:
            value = raw[index] if index < width else ""
            converted = None if value == "" else convert(value)
            row[key] = converted
            if converted is not None:
                filled = True
        if not filled:
            filled = any(index < width and _filled(raw[index]) for index in unkept)
        if filled:
            row[ROW_KEY] = number
            rows.append(row)
    return rows


def _filled(value: RawValue) -> bool:
    """What the converters would not turn into None: anything but "" and blank text."""
    return value != "" and not (isinstance(value, str) and not value.strip())


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
