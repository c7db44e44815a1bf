"""Shared helpers for the workbook tests: a small writer, staff edits, real lock files."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from jugendhaus_mail.workbook.build import NUMBER_FORMATS, build_workbook
from jugendhaus_mail.workbook.model import CellValue, Changes, CommitResult, NewRow
from jugendhaus_mail.workbook.schema import Schema, load_schema
from tests.xlsx_fixtures import run_libreoffice

SCHEMA = load_schema()


def built(tmp_path: Path, name: str = "Anfrageliste.xlsx") -> Path:
    path = tmp_path / name
    build_workbook(path, SCHEMA)
    return path


def active_jsb_offered(workbook: Path, out_dir: Path) -> list[object]:
    """The names the JSB dropdown offers (sheet `Listen`) once LibreOffice calculated them."""
    recalculated = openpyxl.load_workbook(
        run_libreoffice(workbook, "xlsx", out_dir), data_only=True
    )
    listen = recalculated["Listen"]
    [column] = [c.column for c in listen[1] if c.value == "Ansprechpartner JSB (aktiv)"]
    offered = [listen.cell(row=r, column=column).value for r in range(2, 12)]
    return [name for name in offered if name]


def new_row(key: str, nr: str, **values: CellValue) -> NewRow:
    return NewRow(service_key=key, values={"nr": nr, "service_key": key, **values})


def openpyxl_writer(data: bytes, schema: Schema, changes: Changes) -> tuple[bytes, CommitResult]:
    """A test stand-in for the zip-level writer: appends into the table, updates by Nr."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = schema.requests
    ws = workbook[sheet.name]
    columns = _columns_by_key(ws, schema)
    table = ws.tables[sheet.table]
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    key_col = columns["service_key"]
    present = {ws.cell(r, key_col).value for r in range(min_row + 1, max_row + 1)}
    appended: list[str] = []
    for row in changes.appends:
        appended.append(row.service_key)
        if row.service_key in present:
            continue
        target = _free_row(ws, min_row + 1, max_row, min_col, max_col)
        if target is None:
            max_row += 1
            target = max_row
        for key, value in row.values.items():
            cell = ws.cell(target, columns[key], value)
            cell.number_format = NUMBER_FORMATS[sheet.column(key).type]
        present.add(row.service_key)
    table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
    table.autoFilter.ref = table.ref
    updated = 0
    for update in changes.updates:
        for r in range(min_row + 1, max_row + 1):
            if ws.cell(r, columns["nr"]).value == update.nr:
                ws.cell(r, columns[update.column], update.value)
                updated += 1
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), CommitResult(appended_keys=tuple(appended), updated=updated)


def _columns_by_key(ws: Worksheet, schema: Schema) -> dict[str, int]:
    by_header = {c.header: c.key for c in schema.requests.columns}
    return {
        by_header[cell.value]: cell.column
        for cell in ws[1]
        if isinstance(cell.value, str) and cell.value in by_header
    }


def _free_row(ws: Worksheet, first: int, last: int, min_col: int, max_col: int) -> int | None:
    for r in range(first, last + 1):
        if all(ws.cell(r, c).value in (None, "") for c in range(min_col, max_col + 1)):
            return r
    return None


def staff_edit(path: Path, sheet: str, header: str, row: int, value: CellValue) -> None:
    """What a colleague does in Excel: change one cell and save."""
    workbook = openpyxl.load_workbook(path)
    ws = workbook[sheet]
    column = next(c.column for c in ws[1] if c.value == header)
    ws.cell(row, column, value)
    workbook.save(path)


def excel_lock_bytes(user: str) -> bytes:
    """An owner file laid out the way Excel 2016 writes it (165 bytes)."""
    ansi = user.encode("cp1252", errors="replace")
    data = bytes([len(user)]) + ansi
    data += b"\x20" * (55 - len(data))
    data += len(user).to_bytes(2, "little") + user.encode("utf-16-le")
    while len(data) < 165:
        data += b"\x20\x00"
    return data[:165]


def write_excel_lock(workbook: Path, user: str) -> Path:
    lock = workbook.with_name(f"~${workbook.name}")
    lock.write_bytes(excel_lock_bytes(user))
    return lock


def write_libreoffice_lock(
    workbook: Path, system_user: str, host: str, when: datetime, name: str = ""
) -> Path:
    """A lock file as LibreOffice writes it: `name,system user,host,time,profile;`.
    `name` is the user name from LibreOffice's options, empty unless someone set it."""
    lock = workbook.with_name(f".~lock.{workbook.name}#")
    profile = "file:///home/" + system_user + "/.config/libreoffice/4"
    stamp = f"{when:%d.%m.%Y %H:%M}"
    lock.write_text(f"{name},{system_user},{host},{stamp},{profile};", encoding="utf-8")
    return lock


def today_plus(days: int) -> date:
    return date.fromordinal(date.today().toordinal() + days)


_SHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEETML}sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SHEETML}worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_SHEETML}styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Anfragen" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC_RELS}styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (  # style 1: DD.MM.YYYY, style 2: DD.MM.YYYY hh:mm
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="DD.MM.YYYY"/>'
    '<numFmt numFmtId="165" formatCode="DD.MM.YYYY hh:mm"/></numFmts>'
    '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
    '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/>'
    '<xf numFmtId="165" applyNumberFormat="1"/></cellXfs></styleSheet>'
)


def big_requests_xlsx(path: Path, rows: int) -> Path:
    """An `Anfragen`-only workbook with `rows` full rows, written as raw XML: openpyxl
    needs several seconds for this, which would slow the test suite down for nothing."""
    import zipfile
    from xml.sax.saxutils import escape

    columns = SCHEMA.requests.columns
    epoch = date(1899, 12, 30).toordinal()
    day = date(2026, 4, 3).toordinal() - epoch
    cell = {
        "text": '<c t="inlineStr"><is><t>Text</t></is></c>',
        "int": "<c><v>4</v></c>",
        "date": f'<c s="1"><v>{day}</v></c>',
        "datetime": f'<c s="2"><v>{day + 0.375}</v></c>',
    }
    template = "".join(cell[c.type] for c in columns[1:])
    header = "".join(f'<c t="inlineStr"><is><t>{escape(c.header)}</t></is></c>' for c in columns)
    body = [f'<row r="1">{header}</row>']
    for n in range(rows):
        first = f'<c t="inlineStr"><is><t>2026-{n:05d}</t></is></c>'
        body.append(f'<row r="{n + 2}">{first}{template}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return path
