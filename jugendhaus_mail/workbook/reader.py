"""Read the workbook fast (python-calamine, no openpyxl) into a `Snapshot`.

Columns are found by header text in the header row of the sheet's Excel table (row 1 only when
the sheet has no table, so a title row above the table is fine; case, surrounding and doubled
spaces and line breaks do not matter), so staff may reorder, hide or add columns. Cell values
are brought to the type the schema names; whatever cannot be understood stays a string, so
later code can name the cell in a message instead of guessing.

A narrow read (`columns`) streams the sheets from the zip instead (`xlsx_columns`) and falls
back to calamine for any workbook the stream does not read exactly as calamine would.

Why one module: both ways of reading share the sheet lookup, the header row and the rule which
rows exist; kept side by side, the fallback decision sits next to the two paths it chooses
between, and a change to one path is seen next to the other.
"""

from __future__ import annotations

import hashlib
import io
import os
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from python_calamine import CalamineSheet, CalamineWorkbook

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.cell_values import (
    Plan,
    RawValue,
    convert_all,
    holds_value,
    plan_columns,
)
from jugendhaus_mail.workbook.cell_values import normalise as normalise  # verify, updates use it
from jugendhaus_mail.workbook.model import CellValue, FileFingerprint, Row, Snapshot, header_key
from jugendhaus_mail.workbook.schema import Schema, Sheet
from jugendhaus_mail.workbook.xlsx_columns import (
    CHUNK_SIZE,
    KeptCells,
    OtherRow,
    Pending,
    RowsOutOfOrder,
    StreamBook,
    TapFor,
    Unreadable,
)
from jugendhaus_mail.workbook.xlsx_sheet import Area
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage, locate_parts

ROW_KEY = "_row"  # the Excel row number, for messages only
ALWAYS_KEPT = frozenset({"nr", "service_key"})  # how rows are found and told apart
APPOINTMENTS = "Termine"


def read_snapshot(
    source: Path | bytes,
    schema: Schema,
    *,
    columns: Collection[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    tap: TapFor | None = None,
    rows_in_order: bool = False,
) -> Snapshot:
    """Read `Anfragen`, `Mitarbeitende` and `Abwesenheiten` from a file or its bytes.

    `columns` (keys of `Anfragen`) keeps only those request columns in the rows (`nr` and
    `service_key` always): a caller that needs a few columns of 50,000 rows holds a fraction
    of the memory. Which rows exist does not depend on it: a row counts when any column of the
    schema is filled, kept or not.

    With `columns`, the sheets are streamed from the zip (`xlsx_columns`, in pieces of
    `chunk_size` bytes) and calamine is not opened at all: it would parse every shared string
    on opening. A workbook written in a form the stream does not read exactly as calamine
    would goes the calamine way. `tap`: the request sheet's chunks go to it too, as the narrow
    read inflates them (see xlsx_columns.ChunkTap). `rows_in_order` (with `columns`; the
    read-back of a file the service wrote): row numbers that do not count upwards raise
    RowsOutOfOrder instead of going the calamine way, which would take them."""
    data, fingerprint, label = _bytes_of(source)
    if columns is not None:
        streamed = streamed_snapshot(
            data,
            schema,
            columns,
            fingerprint,
            chunk_size=chunk_size,
            tap=tap,
            rows_in_order=rows_in_order,
        )
        if streamed is not None:
            return streamed
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


def _bytes_of(source: Path | bytes) -> tuple[bytes, FileFingerprint, str]:
    """The workbook's bytes, their fingerprint and how errors name the workbook."""
    if isinstance(source, bytes):
        fingerprint = FileFingerprint(len(source), 0, hashlib.sha256(source).hexdigest())
        return source, fingerprint, "Arbeitsmappe"
    data, fingerprint = read_file(source)
    return data, fingerprint, str(source)


Streamed = tuple[list[Row], list[Row], list[Row], list[Row], dict[str, tuple[str, ...]]]
# what a workbook the stream cannot read exactly raises; the calamine path reads it instead
_STREAM_FAILS = (
    Unreadable, WorkbookError, ValueError, KeyError, IndexError, EOFError, OSError,
    zlib.error, zipfile.BadZipFile, ET.ParseError,
    RuntimeError, NotImplementedError,  # zipfile: encrypted member, unknown compression
)  # fmt: skip


def streamed_snapshot(
    data: bytes,
    schema: Schema,
    columns: Collection[str],
    fingerprint: FileFingerprint,
    *,
    chunk_size: int = CHUNK_SIZE,
    tap: TapFor | None = None,
    replaced: dict[str, bytes] | None = None,
    rows_in_order: bool = False,
) -> Snapshot | None:
    """The narrow read without calamine; None when this workbook must be read by calamine
    (see `xlsx_columns` for which ones). `replaced`: sheet parts (zip member: XML) read from
    these bytes instead of the zip. `rows_in_order`: see `read_snapshot`."""
    package = _package(data)
    if package is None:
        return None
    try:
        book = StreamBook(data, package, chunk_size, tap, replaced)
        requests, staff, absences, termine, missing = _read_streamed(
            book, package, schema, _kept(columns)
        )
    except RowsOutOfOrder:
        if rows_in_order:
            raise
        return None
    except _STREAM_FAILS:
        return None
    return Snapshot(requests, staff, absences, fingerprint, missing, termine)


@dataclass
class _Part:
    """What the request sheet's scan found, until the shared strings are known."""

    sheet: Sheet
    name: str
    table: Area | None
    plan: Plan = field(default_factory=list)
    unkept: list[int] = field(default_factory=list)
    kept: KeptCells = field(default_factory=lambda: KeptCells(0))
    other_rows: list[OtherRow] = field(default_factory=list)

    def shared(self) -> set[int]:
        """The shared strings the scanned cells point to."""
        found = self.kept.indices()
        return found | {v for _n, values in self.other_rows for v in values if type(v) is int}


def _read_streamed(
    book: StreamBook, package: ZipPackage, schema: Schema, keep: frozenset[str] | None
) -> Streamed:
    """`Anfragen`: its header row, then only the wanted columns of the rows below; the small
    sheets: every cell. Then one pass over sharedStrings.xml for the strings all these use
    (the header row's strings are looked up before; they come first in the file)."""
    missing: dict[str, tuple[str, ...]] = {}
    requests = _requests_part(book, package, schema.requests, keep, missing)
    small: list[tuple[Sheet, Area | None, list[tuple[int, dict[int, Pending]]]]] = []
    for sheet in (schema.staff, schema.absences):
        name = _find_sheet(list(book.sheets), sheet.name)
        if name is None:
            missing[sheet.name] = tuple(c.header for c in sheet.columns)
        small.append((sheet, _table_area(package, sheet), book.scan(name).cells() if name else []))
    appointments = next((s for s in schema.sheets if s.name == APPOINTMENTS), None)
    name = _find_sheet(list(book.sheets), APPOINTMENTS) if appointments else None
    if appointments and name:
        small.append((appointments, _table_area(package, appointments), book.scan(name).cells()))
    wanted = requests.shared() if requests else set()
    for _sheet, _table, cells in small:
        wanted.update(v for _n, row in cells for v in row.values() if type(v) is int)
    ordered = sorted(wanted)
    del wanted  # a set of 100,000 indices is 4 MiB; gone before the strings come in
    strings = book.strings(ordered)
    del ordered
    sheets: list[list[Row]] = []
    for sheet, table, cells in small:
        rows, absent = _parse_sheet(_grid(cells, strings), sheet, table, None)
        if absent:
            missing[sheet.name] = absent
        sheets.append(rows)
    if len(sheets) == 2:
        sheets.append([])  # no sheet Termine (yet)
    converted = _converted(requests, strings) if requests else None
    del strings  # the columns hold what is needed of it; the rows are built without it
    requests_rows = _request_rows(book, requests, *converted) if requests and converted else []
    return requests_rows, sheets[0], sheets[1], sheets[2], missing


def _requests_part(
    book: StreamBook,
    package: ZipPackage,
    sheet: Sheet,
    keep: frozenset[str] | None,
    missing: dict[str, tuple[str, ...]],
) -> _Part | None:
    """The request sheet's header row and, below it, the cells of the kept columns."""
    name = _find_sheet(list(book.sheets), sheet.name)
    if name is None:
        raise Unreadable("no request sheet")  # calamine's path says so in German
    table = _table_area(package, sheet)
    scan = book.scan(name, tapped=True)
    cells = scan.header(table.first_row if table else 1)
    if cells is None:
        missing[sheet.name] = tuple(c.header for c in sheet.columns)
        return None
    strings = book.strings(sorted({v for v in cells.values() if type(v) is int}))
    header: list[RawValue] = [""] * (max(cells, default=-1) + 1)
    for index, value in cells.items():
        header[index] = strings[value] if type(value) is int else value
    part = _Part(sheet, name, table)
    part.plan, part.unkept, absent = plan_columns(header, sheet, table, keep)
    if absent:
        missing[sheet.name] = absent
    part.kept, part.other_rows = scan.rows([i for _k, i, _c in part.plan], part.unkept)
    return part


def _grid(
    cells: list[tuple[int, dict[int, Pending]]], strings: dict[int, str]
) -> Iterator[list[RawValue]]:
    """A small sheet's rows from row 1 on, as calamine gives them ("" for an empty cell)."""
    width = max((max(row, default=-1) + 1 for _n, row in cells), default=0)
    expected = 1
    for number, row in cells:
        while expected < number:
            yield [""] * width
            expected += 1
        values: list[RawValue] = [""] * width
        for index, value in row.items():
            values[index] = strings[value] if type(value) is int else value
        yield values
        expected += 1


def _converted(part: _Part, strings: dict[int, str]) -> tuple[list[list[CellValue]], list[int]]:
    """The kept columns converted, each in one sweep (its scanned cells let go after), and the
    rows that count only by a value in another column."""
    cells = part.kept
    columns: list[list[CellValue]] = []
    for _key, _index, convert in part.plan:  # every converter gives None for ""
        shared, values = cells.shared.pop(0), cells.values.pop(0)
        if -1 not in shared:  # a shared string in every row (text saved by Excel)
            columns.append(convert_all(convert, map(strings.__getitem__, shared)))
        elif shared.count(-1) == len(shared):  # none (text the service wrote, numbers, dates)
            columns.append(convert_all(convert, values))
        else:
            columns.append(
                [
                    convert(strings[at]) if at >= 0 else None if value is None else convert(value)
                    for at, value in zip(shared, values, strict=True)
                ]
            )
        del shared, values
    others = [n for n, values in part.other_rows if any(_holds(v, strings) for v in values)]
    return columns, others


def _request_rows(
    book: StreamBook, part: _Part, columns: list[list[CellValue]], others: list[int]
) -> list[Row]:
    """A dict per row, as `_rows` makes them, in sheet order."""
    rows, blank = _filled_rows(part, columns)
    columns.clear()
    if blank and part.unkept:
        others += _blank_rows(book, part, set(blank))
    if others:
        rows += [_empty_row(part.plan, number) for number in others]
        rows.sort(key=lambda row: cast(int, row[ROW_KEY]))
    return rows


def _filled_rows(part: _Part, columns: list[list[CellValue]]) -> tuple[list[Row], list[int]]:
    """The rows with a kept value, and those whose kept cells hold only blank text (the
    other columns decide those)."""
    keys = [key for key, _i, _c in part.plan]
    if any(None not in column for column in columns):  # no row without a value: all at once
        keys.append(ROW_KEY)
        every = zip(*columns, part.kept.numbers, strict=True)
        return [dict(zip(keys, row, strict=True)) for row in every], []
    rows: list[Row] = []
    blank: list[int] = []
    for number, converted in zip(part.kept.numbers, zip(*columns, strict=True), strict=True):
        if converted.count(None) == len(converted):
            blank.append(number)
            continue
        row: Row = dict(zip(keys, converted, strict=True))
        row[ROW_KEY] = number
        rows.append(row)
    return rows, blank


def _holds(value: Pending, strings: dict[int, str]) -> bool:
    return holds_value(strings[value] if type(value) is int else value)


def _empty_row(plan: Plan, number: int) -> Row:
    row: Row = {key: None for key, _i, _c in plan}
    row[ROW_KEY] = number
    return row


def _blank_rows(book: StreamBook, part: _Part, numbers: set[int]) -> list[int]:
    """Of these rows, the ones a value in another column of the schema makes count (a second
    pass over the sheet: only reached when a kept cell holds nothing but spaces)."""
    scan = book.scan(part.name)
    scan.header(part.table.first_row if part.table else 1)
    _none, found = scan.rows([], part.unkept)
    found = [(number, values) for number, values in found if number in numbers]
    strings = book.strings(sorted({v for _n, values in found for v in values if type(v) is int}))
    return [number for number, values in found if any(_holds(v, strings) for v in values)]


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


def _open(data: bytes, label: str) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:
        if not _calamine_failure(exc):
            raise
        raise WorkbookError(
            f"{label} ist keine lesbare .xlsx-Datei ({type(exc).__name__}). Bitte die Datei "
            "in Excel öffnen und prüfen oder aus einer Sicherung wiederherstellen."
        ) from exc


def _calamine_failure(exc: BaseException) -> bool:
    """calamine raises several types; a Rust panic (pyo3's PanicException, e.g. for
    -1e17 in a date cell) derives from BaseException, not Exception, so it is told by name."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _package(data: bytes) -> ZipPackage | None:
    try:
        return ZipPackage(data)
    except WorkbookError:
        return None  # calamine could read it, so only the table lookup is given up


def header_row(package: ZipPackage | None, sheet: Sheet) -> int:
    """The row that holds the sheet's headers, as the reader finds it."""
    table = _table_area(package, sheet)
    return table.first_row if table else 1


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
    except BaseException as exc:
        if not _calamine_failure(exc):
            raise
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
    plan, unkept, absent = plan_columns(header, sheet, table, keep)
    return _rows(rows_in, plan, unkept, header_at + 1), absent


def _rows(
    cells: Iterable[list[RawValue]],
    plan: Plan,
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
            filled = any(index < width and holds_value(raw[index]) for index in unkept)
        if filled:
            row[ROW_KEY] = number
            rows.append(row)
    return rows
