"""Helpers of the look upgrade (xlsx_look_upgrade.py): the package being changed, elements put
where the schema wants them, defined names, and the `Liste_JSB` column on `Listen`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook import look
from jugendhaus_mail.workbook.model import header_key
from jugendhaus_mail.workbook.schema import Sheet
from jugendhaus_mail.workbook.xlsx_cells import shared_index, shared_strings, xml_escape
from jugendhaus_mail.workbook.xlsx_sheet import (
    Area,
    SheetText,
    attributes,
    cell_text,
    col_index,
    col_letters,
)
from jugendhaus_mail.workbook.xlsx_zip import (
    ZipPackage,
    locate_parts,
    parse_xml,
    read_relationships,
)

# CT_Worksheet: the elements after <sheetData>, in the order the schema demands
_SHEET_ORDER = [
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
]
# CT_Workbook: what follows <definedNames> and <calcPr>
_AFTER_NAMES = [
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
]
_ROW = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_CELL_REF = re.compile(rb'<c\b[^>]*?\sr="([A-Z]{1,3})\d+"')


@dataclass
class Work:
    """The parts of the package being changed; `new` holds members to add."""

    package: ZipPackage
    workbook_part: str
    workbook: bytes
    parts: dict[str, bytes] = field(default_factory=dict)
    new: dict[str, bytes] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # every member of the package

    def read(self, name: str) -> bytes:
        return self.parts[name] if name in self.parts else self.package.read(name)


def insert_in_order(tail: bytes, tag: str, element: bytes) -> bytes:
    """`element` (a `tag`) put into the part after <sheetData> where the schema wants it:
    before the first element that must follow it, after any of its own kind."""
    later = _SHEET_ORDER[_SHEET_ORDER.index(tag) + 1 :]
    found = [m.start() for t in later if (m := re.search(rb"<%s[\s/>]" % t.encode(), tail))]
    at = min(found) if found else tail.rindex(b"</worksheet>")
    return tail[:at] + element + tail[at:]


def set_attributes(raw: bytes, new: dict[str, str]) -> bytes:
    """The raw attribute text of an element with `new` set (replaced or added)."""
    for name in new:
        raw = re.sub(rb"""\s%s\s*=\s*("[^"]*"|'[^']*')""" % re.escape(name.encode()), b"", raw)
    added = "".join(f' {name}="{xml_escape(value)}"' for name, value in new.items())
    return raw.rstrip() + added.encode()


def _workbook_root(xml: bytes) -> ET.Element:
    if re.search(rb"<\w+:workbook\b", xml):
        raise WorkbookUnsafe("Arbeitsmappenteil mit Präfix")
    return parse_xml(xml, "workbook")


def sheet_index(workbook: bytes, name: str) -> int:
    """The 0-based position of the sheet in the workbook (localSheetId of its names)."""
    sheets = [
        n.get("name", "") for n in _workbook_root(workbook).iter() if n.tag.endswith("}sheet")
    ]
    for wanted in (name, name.casefold()):
        for index, label in enumerate(sheets):
            if label == wanted or label.casefold() == wanted:
                return index
    raise WorkbookUnsafe(f"Blatt {name!r} fehlt")


def sheet_part(work: Work, name: str) -> str:
    root = _workbook_root(work.workbook)
    rels = {r.rid: r.target for r in read_relationships(work.package, work.workbook_part)}
    for node in root.iter():
        if node.tag.endswith("}sheet") and node.get("name", "").casefold() == name.casefold():
            rid = next((v for k, v in node.attrib.items() if k.endswith("relationships}id")), "")
            if rid in rels and work.package.find(rels[rid]):
                return rels[rid]
    raise WorkbookUnsafe(f"Blatt {name!r} fehlt")


def defined_names(workbook: bytes, local: int | None) -> dict[str, str]:
    """Defined names of one sheet (localSheetId) or the global ones (None): name -> formula."""
    found = {}
    for node in _workbook_root(workbook).iter():
        if node.tag.endswith("}definedName"):
            sheet = node.get("localSheetId")
            if (sheet is None and local is None) or (sheet is not None and sheet == str(local)):
                found[node.get("name", "")] = node.text or ""
    return found


def add_defined_names(workbook: bytes, names: dict[str, str], local: int | None) -> bytes:
    _workbook_root(workbook)
    scope = f' localSheetId="{local}"' if local is not None else ""
    new = "".join(
        f'<definedName name="{xml_escape(n)}"{scope}>{xml_escape(f)}</definedName>'
        for n, f in names.items()
    ).encode()
    closing = workbook.find(b"</definedNames>")
    if closing >= 0:
        return workbook[:closing] + new + workbook[closing:]
    empty = re.search(rb"<definedNames\s*/>", workbook)
    if empty:
        return (
            workbook[: empty.start()]
            + b"<definedNames>"
            + new
            + b"</definedNames>"
            + workbook[empty.end() :]
        )
    return _insert_before(workbook, _AFTER_NAMES, b"<definedNames>" + new + b"</definedNames>")


def full_calc_on_load(workbook: bytes) -> bytes:
    """Excel and LibreOffice calculate every formula when the file is next opened: new
    formulas have no stored result yet."""
    calc = re.search(rb"<calcPr\b([^>]*?)(/?)>", workbook)
    if calc is None:
        return _insert_before(workbook, _AFTER_NAMES[1:], b'<calcPr fullCalcOnLoad="1"/>')
    element = (
        b"<calcPr" + set_attributes(calc.group(1), {"fullCalcOnLoad": "1"}) + calc.group(2) + b">"
    )
    return workbook[: calc.start()] + element + workbook[calc.end() :]


def _insert_before(xml: bytes, tags: list[str], element: bytes) -> bytes:
    found = [m.start() for t in tags if (m := re.search(rb"<%s[\s/>]" % t.encode(), xml))]
    at = min(found) if found else xml.rindex(b"</workbook>")
    return xml[:at] + element + xml[at:]


# --- Liste_JSB ---------------------------------------------------------------------------------


def add_jsb_list(work: Work, staff: Sheet, lists_name: str) -> None:
    """A column on `Listen` picking active JSB staff from `Mitarbeitende` like `init` makes it,
    and the defined name `Liste_JSB` over it."""
    names, keep, first = _jsb_filter(work, staff)
    _add_jsb_column(work, lists_name, names, keep, first)


def _jsb_filter(work: Work, staff: Sheet) -> tuple[str, str, int]:
    """The range of staff names, the array condition "active JSB" over it, and its first row."""
    located = locate_parts(work.package, staff)
    staff_text = SheetText(work.package.read(located.sheet), staff.name)
    header_row = located.table.area.first_row
    row = staff_text.row(header_row)
    cells = list(row.cells) if row else []
    wanted = {i for c in cells if (i := shared_index(c.attrs.get("t", "n"), c.inner)) is not None}
    shared = work.package.read(located.shared) if located.shared else None
    strings = shared_strings(shared, wanted)
    by_header = {header_key(t): c.col for c in cells if (t := cell_text(c, strings))}
    letters = {}
    for key in ("name", "role", "active"):
        col = by_header.get(header_key(staff.column(key).header))
        if col is None:
            raise WorkbookUnsafe(f"Spalte {key} fehlt in {staff.name}")
        letters[key] = col_letters(col)
    first, last = header_row + 1, header_row + 1999
    ref = "'" + staff.name.replace("'", "''") + "'"

    def area(key: str) -> str:
        return f"{ref}!${letters[key]}${first}:${letters[key]}${last}"

    names = area("name")
    keep = f'(TRIM({area("role")})="{look.JSB_ROLE}")*(TRIM({area("active")})="{look.ACTIVE}")'
    keep += f'*({names}<>"")'
    return names, keep, first


def _add_jsb_column(work: Work, lists_name: str, names: str, keep: str, first: int) -> None:
    part = sheet_part(work, lists_name)
    lists = work.read(part)
    if not re.search(rb"<worksheet\b", lists):
        raise WorkbookUnsafe("Listen mit Präfix")
    text = SheetText(lists, lists_name)
    body = lists[text.data_start : text.data_end]
    used = [col_index(m.decode()) for m in _CELL_REF.findall(body)]
    col = max(used, default=0) + 1
    letter = col_letters(col)
    header = text.row(1)
    style = header.cells[0].attrs.get("s") if header and header.cells else None
    style_attr = f' s="{xml_escape(style)}"' if style else ""
    new_cells = {
        1: f'<c r="{letter}1"{style_attr} t="inlineStr"><is><t>{xml_escape(look.JSB_HEADER)}'
        "</t></is></c>"
    }
    for number in range(2, look.JSB_ROWS + 2):
        formula = (
            f'IFERROR(INDEX({names},SMALL(IF({keep},ROW({names})-{first - 1}),{number - 1})),"")'
        )
        new_cells[number] = (
            f'<c r="{letter}{number}" t="str"><f t="array" ref="{letter}{number}">'
            f"{xml_escape(formula)}</f><v></v></c>"
        )
    body = _with_cells(body, new_cells)
    head = lists[: text.data_start]
    dimension = re.search(rb'(<dimension\b[^>]*?\sref=")([^"]*)"', head)
    old = Area.parse(dimension.group(2).decode()) if dimension else None
    if dimension and old:
        grown = Area(
            old.first_col,
            old.first_row,
            max(old.last_col, col),
            max(old.last_row, look.JSB_ROWS + 1),
        )
        head = head[: dimension.start(2)] + str(grown).encode() + head[dimension.end(2) :]
    work.parts[part] = head + body + lists[text.data_end :]
    target = f"'{lists_name}'!${letter}$2"
    counted = f"'{lists_name}'!${letter}$2:${letter}${look.JSB_ROWS + 1}"
    formula = f'OFFSET({target},0,0,MAX(1,COUNTIF({counted},"?*")),1)'
    work.workbook = add_defined_names(work.workbook, {look.JSB_LIST: formula}, None)
    work.workbook = full_calc_on_load(work.workbook)


def _with_cells(body: bytes, new_cells: dict[int, str]) -> bytes:
    """Rows 1.. with one cell appended each (right of every used cell); missing rows made."""
    out: list[bytes] = []
    position = 0
    pending = sorted(new_cells)
    for match in _ROW.finditer(body):
        number = int(attributes(match.group(1)).get("r", "0") or 0)
        while pending and pending[0] < number:
            out += [
                body[position : match.start()],
                b'<row r="%d">' % pending[0],
                new_cells.pop(pending.pop(0)).encode(),
                b"</row>",
            ]
            position = match.start()
        if pending and pending[0] == number:
            attrs = re.sub(rb'\sspans="[^"]*"', b"", match.group(1).rstrip(b"/"))
            cell = new_cells.pop(pending.pop(0)).encode()
            out += [
                body[position : match.start()],
                b"<row" + attrs + b">" + (match.group(2) or b"") + cell + b"</row>",
            ]
            position = match.end()
    out.append(body[position:])
    out += [b'<row r="%d">%s</row>' % (n, new_cells[n].encode()) for n in pending]
    return b"".join(out)
