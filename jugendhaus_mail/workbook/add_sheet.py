"""Add a whole sheet with an empty Excel table to an existing workbook, at the zip level.

Used by the upgrade step for sheets a newer schema has (e.g. `Gelöscht`). Every existing part
stays byte for byte, except the three lists that name parts: `[Content_Types].xml`, the
workbook's sheet list and its relationships. The new sheet goes to the end of the tab row;
its header cells are plain text, the table gets Excel's default style.
"""

from __future__ import annotations

import io
import re
import zipfile

from jugendhaus_mail.workbook.schema import Sheet
from jugendhaus_mail.workbook.xlsx_cells import cell_xml, xml_escape
from jugendhaus_mail.workbook.xlsx_sheet import col_letters
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage, read_relationships

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = REL + "/worksheet"
TABLE_TYPE = REL + "/table"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
_SHEET_IDS = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\ssheetId="(\d+)"')
_REL_IDS = re.compile(rb'\sId="rId(\d+)"')
_TABLE_IDS = re.compile(rb'<(?:\w+:)?table\b[^>]*?\sid="(\d+)"')
_SHEETS_END = re.compile(rb"</(\w+:)?sheets>")


def workbook_part(package: ZipPackage) -> str:
    for rel in read_relationships(package, ""):
        if rel.type.endswith("/officeDocument"):
            return rel.target
    return "xl/workbook.xml"


def has_sheet(package: ZipPackage, name: str) -> bool:
    xml = package.read(workbook_part(package))
    return f'name="{xml_escape(name)}"'.encode() in xml


def add_sheet(data: bytes, package: ZipPackage, sheet: Sheet) -> bytes:
    """`data` with `sheet` appended as a new tab holding an empty table of its columns."""
    book = workbook_part(package)
    folder = book.rpartition("/")[0]
    book_rels = f"{folder}/_rels/{book.rpartition('/')[2]}.rels"
    names = {n.lower() for n in _names(data)}
    sheet_no = _free(names, f"{folder}/worksheets/sheet{{}}.xml")
    table_no = _free(names, f"{folder}/tables/table{{}}.xml")
    table_ids = [
        int(i) for n in _names(data) if "/tables/" in n for i in _TABLE_IDS.findall(package.read(n))
    ]
    book_xml, rels_xml = package.read(book), package.read(book_rels)
    rel_id = f"rId{max((int(i) for i in _REL_IDS.findall(rels_xml)), default=0) + 1}"
    sheet_id = max((int(i) for i in _SHEET_IDS.findall(book_xml)), default=0) + 1
    end = _SHEETS_END.search(book_xml)
    if end is None:
        return data
    tag = (end.group(1) or b"").decode() + "sheet"
    name = xml_escape(sheet.name)
    element = f'<{tag} xmlns:r="{REL}" name="{name}" sheetId="{sheet_id}" r:id="{rel_id}"/>'
    book_xml = book_xml[: end.start()] + element.encode() + book_xml[end.start() :]
    relationship = (
        f'<Relationship Id="{rel_id}" Type="{WORKSHEET_TYPE}" '
        f'Target="worksheets/sheet{sheet_no}.xml"/>'
    )
    rels_xml = rels_xml.replace(b"</Relationships>", relationship.encode() + b"</Relationships>")
    types = package.read("[Content_Types].xml")
    overrides = (
        f'<Override PartName="/{folder}/worksheets/sheet{sheet_no}.xml" ContentType="{CT_SHEET}"/>'
        f'<Override PartName="/{folder}/tables/table{table_no}.xml" ContentType="{CT_TABLE}"/>'
    )
    types = types.replace(b"</Types>", overrides.encode() + b"</Types>")
    rebuilt = package.rebuild(
        {book: [book_xml], book_rels: [rels_xml], "[Content_Types].xml": [types]}
    )
    table_id = max(table_ids, default=0) + 1
    out = io.BytesIO(rebuilt)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as target:
        target.writestr(f"{folder}/worksheets/sheet{sheet_no}.xml", _sheet_xml(sheet))
        target.writestr(
            f"{folder}/worksheets/_rels/sheet{sheet_no}.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{TABLE_TYPE}" Target="../tables/table{table_no}.xml"/>'
            "</Relationships>",
        )
        target.writestr(f"{folder}/tables/table{table_no}.xml", _table_xml(sheet, table_id))
    return out.getvalue()


def _sheet_xml(sheet: Sheet) -> str:
    last = col_letters(len(sheet.columns))
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>'
        for i, c in enumerate(sheet.columns, start=1)
    )
    cells = b"".join(
        cell_xml(f"{col_letters(i)}1", None, c.header, False)
        for i, c in enumerate(sheet.columns, start=1)
    ).decode()
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><dimension ref="A1:{last}2"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f'<sheetData><row r="1">{cells}</row></sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<tableParts count="1"><tablePart r:id="rId1"/></tableParts></worksheet>'
    )


def _table_xml(sheet: Sheet, table_id: int) -> str:
    ref = f"A1:{col_letters(len(sheet.columns))}2"
    columns = "".join(
        f'<tableColumn id="{i}" name="{xml_escape(c.header)}"/>'
        for i, c in enumerate(sheet.columns, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<table xmlns="{MAIN}" id="{table_id}" name="{sheet.table}" displayName="{sheet.table}" '
        f'ref="{ref}"><autoFilter ref="{ref}"/><tableColumns count="{len(sheet.columns)}">'
        f'{columns}</tableColumns><tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" '
        'showLastColumn="0" showRowStripes="1" showColumnStripes="0"/></table>'
    )


def _names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.namelist()


def _free(names: set[str], pattern: str) -> int:
    number = 1
    while pattern.format(number).lower() in names:
        number += 1
    return number
