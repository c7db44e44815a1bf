"""A note (classic comment) on each header of an existing sheet: what goes in, who fills it.

Only for a sheet without comments of its own: a new comments part and the legacy VML drawing
Excel needs to show them (LibreOffice and openpyxl read the comments part), one relationship
each and the content types. A sheet whose comments are ours already is left as it is; a sheet
with staff's comments gets no notes (merging into their part and its drawing is not worth the
risk of losing one of theirs).
"""

from __future__ import annotations

import re
from typing import Literal

from jugendhaus_mail.workbook import look
from jugendhaus_mail.workbook.schema import Sheet
from jugendhaus_mail.workbook.xlsx_cells import xml_escape
from jugendhaus_mail.workbook.xlsx_look_parts import Work, insert_in_order
from jugendhaus_mail.workbook.xlsx_sheet import col_letters
from jugendhaus_mail.workbook.xlsx_zip import (
    XML_DECLARATION,
    insert_before_end,
    parse_xml,
    read_relationships,
    relationships_xml,
    rels_name,
)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_IDMAP = re.compile(rb'<o:idmap\b[^>]*\sdata="([\d,\s]*)"')

Outcome = tuple[bytes, bytes] | Literal[False] | None


def add_notes(
    work: Work,
    sheet_part: str,
    sheet: Sheet,
    head: bytes,
    tail: bytes,
    columns: dict[str, int],
    header_row: int,
) -> Outcome:
    rels = read_relationships(work.package, sheet_part)
    comments = [r for r in rels if r.type.endswith("/comments")]
    if comments or re.search(rb"<legacyDrawing\b", tail):
        return None if _ours(work, comments[0].target if comments else "") else False
    notes = [
        (col, look.header_note(sheet.name, column))
        for column in sheet.columns
        if (col := columns.get(column.key)) is not None
    ]
    if not notes:
        return None
    comments_part = _unused(work, "xl/comments/comment_jhm{}.xml")
    vml_part = _unused(work, "xl/drawings/vmlDrawing_jhm{}.vml")
    work.new[comments_part] = _comments_xml(notes, header_row)
    work.new[vml_part] = _vml(notes, header_row, _free_idmap(work))
    rels_part = rels_name(sheet_part)
    vml_rid, comments_rid = "rIdJhmVml", "rIdJhmNotes"
    entries = (
        f'<Relationship Id="{vml_rid}" Type="{_REL}/vmlDrawing" Target="/{vml_part}"/>'
        f'<Relationship Id="{comments_rid}" Type="{_REL}/comments" Target="/{comments_part}"/>'
    )
    if work.package.find(rels_part):
        rels_xml = work.read(rels_part)
        if re.search(rb"<\w+:Relationships\b", rels_xml) or b'"rIdJhm' in rels_xml:
            return False
        work.parts[rels_part] = insert_before_end(rels_xml, b"Relationships", entries.encode())
    else:
        work.new[rels_part] = relationships_xml(entries)
    types = work.read("[Content_Types].xml")
    if re.search(rb"<\w+:Types\b", types):
        return False
    new_types = f'<Override PartName="/{comments_part}" ContentType="{_COMMENTS_CT}"/>'
    if not re.search(rb'Extension="vml"', types, re.I):
        new_types = f'<Default Extension="vml" ContentType="{_VML_CT}"/>' + new_types
    work.parts["[Content_Types].xml"] = insert_before_end(types, b"Types", new_types.encode())
    element = f'<legacyDrawing xmlns:r="{_REL}" r:id="{vml_rid}"/>'.encode()
    return head, insert_in_order(tail, "legacyDrawing", element)


def _ours(work: Work, part: str) -> bool:
    if not part or work.package.find(part) is None:
        return False
    root = parse_xml(work.package.read(part), part)
    authors = {(n.text or "") for n in root.iter() if n.tag.endswith("}author")}
    return authors == {look.AUTHOR}


def _unused(work: Work, pattern: str) -> str:
    number = 1
    while work.package.find(pattern.format(number)) or pattern.format(number) in work.new:
        number += 1
    return pattern.format(number)


def _free_idmap(work: Work) -> int:
    """A block of shape ids (1024 each) no other drawing in the workbook uses."""
    used, drawings = [0], 0
    for name in work.names:
        if name.lower().endswith(".vml"):
            for data in _IDMAP.findall(work.package.read(name)):
                used += [int(n) for n in re.findall(rb"\d+", data)]
        elif name.lower().startswith("xl/drawings/drawing"):
            drawings += 1
    return max(*used, drawings) + 1


def _comments_xml(notes: list[tuple[int, str]], row: int) -> bytes:
    entries = "".join(
        f'<comment ref="{col_letters(col)}{row}" authorId="0"><text><r><rPr><sz val="9"/>'
        f'<rFont val="{look.FONT}"/></rPr><t xml:space="preserve">{xml_escape(text)}</t></r>'
        "</text></comment>"
        for col, text in notes
    )
    return (
        f'{XML_DECLARATION}<comments xmlns="{_MAIN}">'
        f"<authors><author>{look.AUTHOR}</author></authors>"
        f"<commentList>{entries}</commentList></comments>"
    ).encode()


def _vml(notes: list[tuple[int, str]], row: int, idmap: int) -> bytes:
    shapes = "".join(
        f'<v:shape id="_x0000_s{idmap * 1024 + 1 + i}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:195pt;'
        'height:82.5pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
        '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
        f"<x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{col}, 15, {row - 1}, 2, {col + 3}, 15, "
        f"{row + 4}, 16</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row - 1}</x:Row>"
        f"<x:Column>{col - 1}</x:Column></x:ClientData></v:shape>"
        for i, (col, _text) in enumerate(notes)
    )
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        f"{shapes}</xml>"
    ).encode()
