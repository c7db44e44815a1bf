"""Add a sheet the schema gained in a later version (`Termine`) to an existing workbook.

Done at the zip level like every other write: the workbook part gets one `<sheet>` entry, its
relationships and `[Content_Types].xml` one entry each, and the new worksheet, its table and
the worksheet's relationships are appended as new members; every other member keeps its bytes.
The new sheet holds the header row as an Excel table (one empty data row, as `init` makes it),
the column widths, the hidden service column, a frozen header and dropdowns with the list
values written into the validation (older workbooks have no defined names for new lists).
A workbook that already has a sheet of that name (any case) is left alone: `check` reports a
sheet whose headers do not fit.
"""

from __future__ import annotations

import re

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.schema import STAFF_LIST, Schema, Sheet
from jugendhaus_mail.workbook.xlsx_cells import xml_escape
from jugendhaus_mail.workbook.xlsx_sheet import col_letters
from jugendhaus_mail.workbook.xlsx_zip import (
    XML_DECLARATION,
    ZipPackage,
    insert_before_end,
    parse_xml,
    read_relationships,
    relationships_xml,
    rels_name,
)

NEW_SHEETS = ("Termine", "Gelöscht")  # sheets a workbook from an older version may lack

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_TYPE = _REL + "/worksheet"
_TABLE_TYPE = _REL + "/table"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_TABLE_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
_TABLE_ID = re.compile(rb'<(?:\w+:)?table\b[^>]*?\sid="(\d+)"')
_TABLE_NAME = re.compile(rb'<(?:\w+:)?table\b[^>]*?\s(?:displayName|name)="([^"]*)"')


def add_missing_sheets(data: bytes, schema: Schema) -> tuple[bytes, list[str]]:
    """The package with every missing sheet of NEW_SHEETS added, and their names."""
    package = ZipPackage(data)
    office = [r for r in read_relationships(package, "") if r.type.endswith("/officeDocument")]
    if not office:
        return data, []
    workbook_part = office[0].target
    workbook_xml = package.read(workbook_part)
    root = parse_xml(workbook_xml, workbook_part)
    present = {n.get("name", "").casefold() for n in root.iter() if n.tag.endswith("}sheet")}
    known = {s.name: s for s in schema.sheets}
    wanted = [known[n] for n in NEW_SHEETS if n in known and n.casefold() not in present]
    if not wanted:
        return data, []
    members, table_ids, table_names = _existing_tables(package)
    sheet_ids = [int(n.get("sheetId", "0") or 0) for n in root.iter() if n.tag.endswith("}sheet")]
    rels_part = rels_name(workbook_part)
    rels_xml = package.read(rels_part)
    types_xml = package.read("[Content_Types].xml")
    new_members: dict[str, bytes] = {}
    for sheet in wanted:
        sheet_part = _unused(members, "xl/worksheets/sheet{}.xml")
        table_part = _unused(members, "xl/tables/table{}.xml")
        table_id = max(table_ids, default=0) + 1
        table_ids.append(table_id)
        table_name = sheet.table
        while table_name.casefold() in table_names:
            table_name += "_1"
        table_names.add(table_name.casefold())
        rid = _unused_rid(rels_xml)
        sheet_id = max(sheet_ids, default=0) + 1
        sheet_ids.append(sheet_id)
        workbook_xml = _insert_sheet(workbook_xml, sheet.name, sheet_id, rid)
        rels_xml = insert_before_end(
            rels_xml,
            b"Relationships",
            f'<Relationship Id="{rid}" Type="{_SHEET_TYPE}" Target="/{sheet_part}"/>'.encode(),
        )
        types_xml = insert_before_end(
            types_xml,
            b"Types",
            f'<Override PartName="/{sheet_part}" ContentType="{_SHEET_CT}"/>'
            f'<Override PartName="/{table_part}" ContentType="{_TABLE_CT}"/>'.encode(),
        )
        new_members[sheet_part] = _sheet_xml(sheet, schema)
        new_members[rels_name(sheet_part)] = relationships_xml(
            f'<Relationship Id="rId1" Type="{_TABLE_TYPE}" Target="/{table_part}"/>'
        )
        new_members[table_part] = _table_xml(sheet, table_id, table_name)
    rebuilt = package.rebuild(
        {workbook_part: [workbook_xml], rels_part: [rels_xml], "[Content_Types].xml": [types_xml]},
        added=new_members,
    )
    return rebuilt, [sheet.name for sheet in wanted]


def _existing_tables(package: ZipPackage) -> tuple[set[str], list[int], set[str]]:
    """Member names (lower case), table ids and table names (case-folded) already in use."""
    members = {name.lower() for name in package.names}
    tables = [package.read(n) for n in package.names if n.lower().startswith("xl/tables/")]
    table_ids = [int(m) for xml in tables for m in _TABLE_ID.findall(xml)]
    table_names = {
        m.decode("utf-8", "replace").casefold() for x in tables for m in _TABLE_NAME.findall(x)
    }
    return members, table_ids, table_names


def _unused(members: set[str], pattern: str) -> str:
    number = 1
    while pattern.format(number).lower() in members:
        number += 1
    name = pattern.format(number)
    members.add(name.lower())
    return name


def _unused_rid(rels_xml: bytes) -> str:
    number = 1
    while f'Id="rIdJhm{number}"'.encode() in rels_xml:
        number += 1
    return f"rIdJhm{number}"


def _insert_sheet(xml: bytes, name: str, sheet_id: int, rid: str) -> bytes:
    match = re.search(rb"</(\w+:)?sheets\s*>", xml)
    if match is None:
        raise WorkbookError("Die Arbeitsmappe hat keine Blattliste; sie ist beschädigt.")
    prefix = (match.group(1) or b"").decode()
    root_tag = re.search(rb"<(?!\?)[^>]*>", xml)  # only the root's declarations hold here
    start = root_tag.group(0) if root_tag else b""
    declared = re.search(rb'xmlns:(\w+)="' + re.escape(_REL.encode()) + b'"', start)
    ns = declared.group(1).decode() if declared else "jhmr"
    local = "" if declared else f' xmlns:jhmr="{_REL}"'
    entry = (
        f'<{prefix}sheet{local} name="{xml_escape(name)}" sheetId="{sheet_id}" {ns}:id="{rid}"/>'
    ).encode()
    return xml[: match.start()] + entry + xml[match.start() :]


def _sheet_xml(sheet: Sheet, schema: Schema) -> bytes:
    last = col_letters(len(sheet.columns))
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"'
        + (' hidden="1"' if c.hidden else "")
        + "/>"
        for i, c in enumerate(sheet.columns, start=1)
    )
    header = "".join(
        f'<c r="{col_letters(i)}1" t="inlineStr"><is><t>{xml_escape(c.header)}</t></is></c>'
        for i, c in enumerate(sheet.columns, start=1)
    )
    validations = []
    for i, column in enumerate(sheet.columns, start=1):
        values = schema.lists.get(column.list or "") if column.list != STAFF_LIST else None
        if not values:
            continue
        listed = xml_escape('"' + ",".join(values) + '"')
        letter = col_letters(i)
        validations.append(
            f'<dataValidation type="list" allowBlank="1" showErrorMessage="1" '
            f'errorTitle="Wert nicht in der Liste" '
            f'error="Bitte einen Eintrag aus der Auswahlliste wählen." '
            f'sqref="{letter}2:{letter}1048576"><formula1>{listed}</formula1></dataValidation>'
        )
    checks = (
        f'<dataValidations count="{len(validations)}">{"".join(validations)}</dataValidations>'
        if validations
        else ""
    )
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<dimension ref="A1:{last}2"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
        f'<sheetData><row r="1">{header}</row></sheetData>'
        f"{checks}"
        '<tableParts count="1"><tablePart r:id="rId1"/></tableParts>'
        "</worksheet>"
    ).encode()


def _table_xml(sheet: Sheet, table_id: int, name: str) -> bytes:
    ref = f"A1:{col_letters(len(sheet.columns))}2"
    columns = "".join(
        f'<tableColumn id="{i}" name="{xml_escape(c.header)}"/>'
        for i, c in enumerate(sheet.columns, start=1)
    )
    return (
        f'{XML_DECLARATION}<table xmlns="{_MAIN}" id="{table_id}" name="{xml_escape(name)}" '
        f'displayName="{xml_escape(name)}" ref="{ref}"><autoFilter ref="{ref}"/>'
        f'<tableColumns count="{len(sheet.columns)}">{columns}</tableColumns>'
        '<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" showLastColumn="0" '
        'showRowStripes="1" showColumnStripes="0"/></table>'
    ).encode()
