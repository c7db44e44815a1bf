"""Bring a workbook made by an older version up to the current schema.

Columns the schema has and the workbook lacks are appended at the right end of each sheet's
table, in schema order; existing columns are never moved or renamed. The change is made at the
zip level like every other write: the header row, the table part (range, filter range, one
`tableColumn` per new column), the column widths and the sheet dimension change, every other
byte of the package stays as it was. A new column gets the width from the schema and the
number format of a column of the same type (so a date the service writes later shows as a
date). Dropdowns and colour rules are not added to new columns. Then missing sheets are added
(xlsx_new_sheet.py) and the new look where staff set nothing of their own (xlsx_look_upgrade.py).

Before the file is replaced, the result is read back and compared with the original (same rows,
same values, the new columns present), and a backup is written to the backup folder
(`<name>.vor-Umstellung.<time>.xlsx`, not rotated away). It never writes while the workbook is
open. `run` migrates at start (and retries before each intake until it worked), and so does
`poll`. A column staff renamed (another header between the schema neighbours it stood between,
see renamed.py) is not added again: `check`, `remind` and the digest name it until its header
is back; a column staff deleted comes back, empty, at the right end.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jugendhaus_mail.errors import WorkbookChanged, WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.fsync import sync_directory, write_new
from jugendhaus_mail.workbook.locks import find_lock, probe_writable
from jugendhaus_mail.workbook.model import header_key
from jugendhaus_mail.workbook.reader import read_file, read_snapshot
from jugendhaus_mail.workbook.renamed import renamed_in_package
from jugendhaus_mail.workbook.schema import Column, Schema, Sheet
from jugendhaus_mail.workbook.xlsx_cells import (
    cell_value,
    cell_xml,
    shared_index,
    shared_strings,
    xml_escape,
)
from jugendhaus_mail.workbook.xlsx_look_upgrade import upgrade_look
from jugendhaus_mail.workbook.xlsx_new_sheet import add_missing_sheets
from jugendhaus_mail.workbook.xlsx_sheet import (
    Area,
    Edit,
    SheetText,
    attributes,
    cell_text,
    col_letters,
    render_row,
)
from jugendhaus_mail.workbook.xlsx_zip import Chunks, WorkbookParts, ZipPackage, locate_parts

MAX_COLUMN = 16_384
BACKUP_MODE = 0o600
_TABLE_REFS = re.compile(rb'(<(?:\w+:)?(?:table|autoFilter|sortState)\b[^>]*?\sref=")([^"]*)"')
_TABLE_COLUMNS = re.compile(rb"<(\w+:)?tableColumns\b[^>]*>")
_COLUMN_ID = re.compile(rb'<(?:\w+:)?tableColumn\b[^>]*?\sid="(\d+)"')
_COUNT = re.compile(rb'\scount="\d+"')
_COLS = re.compile(rb"<cols\b[^>]*>(.*?)</cols>", re.S)
_COL = re.compile(rb"<col\b([^>]*?)/?>")


@dataclass(frozen=True)
class Migration:
    added: tuple[tuple[str, str], ...]  # (sheet, header) per appended column
    backup: Path | None = None
    sheets: tuple[str, ...] = ()  # sheets added (xlsx_new_sheet.NEW_SHEETS)
    look: tuple[str, ...] = ()  # parts of the new look added to Anfragen (xlsx_look_upgrade)
    renamed: tuple[tuple[str, str, str], ...] = ()  # (sheet, schema header, header now there)


def migrate_workbook(path: Path, schema: Schema, *, backup_dir: Path, now: datetime) -> Migration:
    path = path.resolve()  # a symlink is written at its target and stays a link
    original, fingerprint = read_file(path)
    _refuse_lost_keys(original, schema)
    data, added, renamed = migrate_bytes(original, schema)
    data, sheets = add_missing_sheets(data, schema)
    data, look = upgrade_look(data, schema)
    if not added and not sheets and not look.added:
        return Migration((), renamed=tuple(renamed))
    _ensure_closed(path)
    _verify(schema, original, data, added)
    backup = _backup(path, original, backup_dir, now)
    temp = path.with_name(f".{path.name}.jhm-migrate")
    temp.unlink(missing_ok=True)
    write_new(temp, data, 0o600)
    try:
        os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
        _ensure_closed(path)
        if read_file(path)[1] != fingerprint:
            raise WorkbookChanged(
                f"Die Arbeitsmappe {path} wurde während der Umstellung geändert; "
                "die neuen Spalten werden beim nächsten Mal ergänzt."
            )
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    sync_directory(path.parent)
    return Migration(tuple(added), backup, tuple(sheets), look.added, tuple(renamed))


def migrate_bytes(
    data: bytes, schema: Schema
) -> tuple[bytes, list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The package with every missing schema column appended, except those staff renamed
    (`renamed_columns`: they are returned, not added); unchanged when none is missing."""
    package = ZipPackage(data)
    replacements: dict[str, Chunks] = {}
    added: list[tuple[str, str]] = []
    renamed = renamed_in_package(package, schema)
    found_renamed = [
        (sheet, old, new) for sheet, found in renamed.items() for old, new in found.items()
    ]
    for sheet_schema in schema.sheets:
        try:
            parts = locate_parts(package, sheet_schema)
        except WorkbookUnsafe:
            continue  # no such sheet or table: `check` reports it, nothing to append to
        shared = package.read(parts.shared) if parts.shared else None
        sheet = SheetText(package.read(parts.sheet), sheet_schema.name)
        columns = header_columns(sheet, parts, shared)
        kept_away = renamed.get(sheet_schema.name, {})
        missing = [
            c
            for c in sheet_schema.columns
            if header_key(c.header) not in columns and c.header not in kept_away
        ]
        if not missing:
            continue
        sheet_xml, table_xml = _append_columns(sheet, parts, sheet_schema, columns, missing)
        replacements[parts.sheet] = [sheet_xml]
        replacements[parts.table_part] = [table_xml]
        added += [(sheet_schema.name, c.header) for c in missing]
    if not replacements:
        return data, [], found_renamed
    return package.rebuild(replacements), added, found_renamed


def header_columns(sheet: SheetText, parts: WorkbookParts, shared: bytes | None) -> dict[str, int]:
    """Normalised header text -> column index, for the table's header cells."""
    area = parts.table.area
    row = sheet.row(area.first_row)
    cells = [c for c in (row.cells if row else ()) if area.first_col <= c.col <= area.last_col]
    indices = {i for c in cells if (i := shared_index(c.attrs.get("t", "n"), c.inner)) is not None}
    strings = shared_strings(shared, indices)
    found = {header_key(t): c.col for c in cells if (t := cell_text(c, strings))}
    for offset, name in enumerate(parts.table.column_names):
        found.setdefault(header_key(name), area.first_col + offset)
    return found


def _append_columns(
    sheet: SheetText,
    parts: WorkbookParts,
    schema: Sheet,
    present: dict[str, int],
    missing: list[Column],
) -> tuple[bytes, bytes]:
    area = parts.table.area
    first_new = area.last_col + 1
    last_new = area.last_col + len(missing)
    if last_new > MAX_COLUMN:
        raise WorkbookUnsafe(f"Im Blatt {schema.name!r} ist rechts kein Platz für neue Spalten.")
    for col in range(first_new, last_new + 1):
        _refuse_content(sheet, col, area.first_row, schema.name)
    header = sheet.row(area.first_row)
    assert header is not None  # header_columns found the headers in it
    style = next((c.attrs.get("s") for c in reversed(header.cells) if c.col <= area.last_col), None)
    new_cells = {
        first_new + i: cell_xml(
            f"{col_letters(first_new + i)}{area.first_row}", style, c.header, False
        )
        for i, c in enumerate(missing)
    }
    kept = [(c.col, c.raw) for c in header.cells if c.col not in new_cells]
    cells = [raw for _, raw in sorted(kept + list(new_cells.items()))]
    edits: list[Edit] = [
        (header.start, header.end, render_row(header.number, header.attrs, cells, header.trailer))
    ]
    widths = {first_new + i: c for i, c in enumerate(missing)}
    styles = {
        col: _type_style(sheet, schema, present, c.type, area.first_row)
        for col, c in widths.items()
    }
    edits += _column_edits(sheet, widths, styles)
    grown = Area(area.first_col, area.first_row, last_new, area.last_row)
    edits += sheet.extend_dimension(grown, area.last_row)
    sheet_xml = b"".join(bytes(piece) for piece in sheet.splice(edits))
    return sheet_xml, _table_xml(parts.table.xml, area, last_new, missing)


def _refuse_content(sheet: SheetText, col: int, first_row: int, name: str) -> None:
    for row, _kind, inner in sheet.column_values(col):
        if row >= first_row and inner and (b"<f" in inner or b"<is" in inner or cell_value(inner)):
            raise WorkbookUnsafe(
                f"Rechts neben der Tabelle im Blatt {name!r} steht in Zelle "
                f"{col_letters(col)}{row} etwas; dort sollen neue Spalten der Anfrageliste hin. "
                "Bitte diese Zellen verschieben; die Spalten werden danach ergänzt."
            )


def _type_style(
    sheet: SheetText, schema: Sheet, present: dict[str, int], kind: str, header_row: int
) -> str | None:
    """The number format of a present column of the same type: its column style, else the
    style of its first data cell."""
    for column in schema.columns:
        col = present.get(header_key(column.header))
        if column.type != kind or col is None:
            continue
        style = sheet.column_style(col)
        if style is None:
            row = sheet.row(header_row + 1)
            cell = row.cell(col) if row else None
            style = cell.attrs.get("s") if cell else None
        if style is not None:
            return style
    return None


def _column_edits(
    sheet: SheetText, columns: dict[int, Column], styles: dict[int, str | None]
) -> list[Edit]:
    """<col> entries (width, number format, hidden) for new columns no <col> range covers."""
    block = _COLS.search(sheet.xml, 0, sheet.data_start)
    existing = []
    if block is not None:
        for match in _COL.finditer(sheet.xml, block.start(1), block.end(1)):
            attrs = attributes(match.group(1))
            existing.append((int(attrs.get("min", "0")), int(attrs.get("max", "0")), match.start()))
    inserts: dict[int, list[bytes]] = {}
    fresh: list[bytes] = []
    for col, column in sorted(columns.items()):
        if any(low <= col <= high for low, high, _ in existing):
            continue
        style = f' style="{styles[col]}"' if styles.get(col) is not None else ""
        hidden = ' hidden="1"' if column.hidden else ""
        element = (
            f'<col min="{col}" max="{col}" width="{column.width}"{style} customWidth="1"{hidden}/>'
        ).encode()
        if block is None:
            fresh.append(element)
            continue
        position = next((start for low, _, start in existing if low > col), block.end(1))
        inserts.setdefault(position, []).append(element)
    if block is None:
        if not fresh:
            return []
        at = sheet.xml.rfind(b"<sheetData", 0, sheet.data_start)
        return [(at, at, b"<cols>" + b"".join(fresh) + b"</cols>")]
    return [(at, at, b"".join(elements)) for at, elements in sorted(inserts.items())]


def _table_xml(xml: bytes, area: Area, last_col: int, missing: list[Column]) -> bytes:
    def grow(match: re.Match[bytes]) -> bytes:
        ref = Area.parse(match.group(2).decode())
        if ref is None or ref.last_col != area.last_col:
            return match.group(0)
        wider = Area(ref.first_col, ref.first_row, last_col, ref.last_row)
        return match.group(1) + str(wider).encode() + b'"'

    xml = _TABLE_REFS.sub(grow, xml)
    opening = _TABLE_COLUMNS.search(xml)
    if opening is None:
        raise WorkbookUnsafe("Die Tabelle hat keine Spaltenliste; bitte in Excel neu speichern.")
    prefix = opening.group(1) or b""
    closing = xml.index(b"</" + prefix + b"tableColumns>", opening.end())
    next_id = max((int(i) for i in _COLUMN_ID.findall(xml)), default=0) + 1
    count = len(_COLUMN_ID.findall(xml)) + len(missing)
    new = b"".join(
        b'<%stableColumn id="%d" name="%s"/>'
        % (prefix, next_id + i, xml_escape(column.header).encode())
        for i, column in enumerate(missing)
    )
    head = _COUNT.sub(b' count="%d"' % count, opening.group(0), count=1)
    return xml[: opening.start()] + head + xml[opening.end() : closing] + new + xml[closing:]


def _verify(schema: Schema, before: bytes, after: bytes, added: list[tuple[str, str]]) -> None:
    """Every row and value as before, and the new headers found."""
    old, new = read_snapshot(before, schema), read_snapshot(after, schema)
    keys = {c.key for s in schema.sheets for c in s.columns if (s.name, c.header) in added}
    for name, rows_before, rows_after in (
        (schema.requests.name, old.requests, new.requests),
        (schema.staff.name, old.staff, new.staff),
        (schema.absences.name, old.absences, new.absences),
    ):
        still_missing = {h for s, h in added if s == name} & set(new.missing_headers.get(name, ()))
        same = [{k: v for k, v in row.items() if k not in keys} for row in rows_after] == [
            {k: v for k, v in row.items() if k not in keys} for row in rows_before
        ]
        if still_missing or not same:
            raise WorkbookUnsafe(
                f"Prüfung nach dem Ergänzen der Spalten im Blatt {name!r} fehlgeschlagen; die "
                "Arbeitsmappe bleibt unverändert. Bitte den Fehler melden."
            )


def _refuse_lost_keys(data: bytes, schema: Schema) -> None:
    """An empty key column added over rows the service wrote would let it write them again
    after a crash: with rows and no key column, refuse and say where the keys went."""
    requests = schema.requests
    key_header = requests.column("service_key").header
    snapshot = read_snapshot(data, schema)
    if key_header not in snapshot.missing_headers.get(requests.name, ()) or not snapshot.requests:
        return
    renamed = _column_holding_keys(data, requests.name)
    hint = (
        f"Die Schlüssel stehen offenbar in der Spalte „{renamed}“: bitte ihre Überschrift "
        f"wieder „{key_header}“ nennen."
        if renamed
        else f"Bitte die Spalte (ausgeblendet, am rechten Rand) wieder „{key_header}“ nennen "
        "oder die Arbeitsmappe aus einer Sicherung wiederherstellen."
    )
    raise WorkbookUnsafe(
        f"Im Blatt {requests.name!r} fehlt die Spalte „{key_header}“, an der der Dienst seine "
        f"Zeilen erkennt. {hint} Bis dahin schreibt der Dienst nichts; neue Anfragen warten "
        "sicher in der Zustandsdatenbank."
    )


def _column_holding_keys(data: bytes, sheet_name: str) -> str | None:
    """The header of a column whose values look like service keys (`mid:…`, `sha256:…`)."""
    import io

    from python_calamine import CalamineWorkbook

    try:
        cells = (
            CalamineWorkbook.from_filelike(io.BytesIO(data))
            .get_sheet_by_name(sheet_name)
            .to_python()
        )
    except Exception:
        return None
    for header_row, row in enumerate(cells[:20]):  # a title row may stand above the headers
        for index, header in enumerate(row):
            values = [r[index] for r in cells[header_row + 1 :] if index < len(r) and r[index]]
            if header and values and all(str(v).startswith(("mid:", "sha256:")) for v in values):
                return str(header)
    return None


def _ensure_closed(path: Path) -> None:
    lock = find_lock(path)
    if lock is not None:
        raise WorkbookLocked(
            f"{lock.describe()} Neue Spalten werden ergänzt, sobald sie geschlossen ist."
        )
    error = probe_writable(path)
    if error is not None and not isinstance(error, FileNotFoundError):
        raise WorkbookLocked(
            f"Die Arbeitsmappe {path} lässt sich gerade nicht zum Schreiben öffnen "
            f"({error.strerror or error}); neue Spalten werden später ergänzt."
        )


def _backup(path: Path, data: bytes, backup_dir: Path, now: datetime) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_dir / f"{path.stem}.vor-Umstellung.{now:%Y-%m-%d_%H-%M-%S}{path.suffix}"
    number = 1
    while target.exists():
        target = target.with_name(
            f"{path.stem}.vor-Umstellung.{now:%Y-%m-%d_%H-%M-%S}_{number:03d}{path.suffix}"
        )
        number += 1
    write_new(target, data, BACKUP_MODE)
    return target
