"""The new look (look.py) for an existing `Anfragen` sheet, added at the zip level where safe.

A workbook made by an older `init` gets what `init` makes today and can be added without
touching anything staff made, part by part, and only where staff have not set it themselves:

- print setup (landscape, one page wide, header row on every page, page number and print date,
  a print area up to `Status`) when the sheet has no print setup of its own: a footer, scaling,
  portrait, page breaks, print options, a print area or other print titles are their own;
- the `Frist Ansprechpartner` colours when no conditional format touches that column yet;
- the `Ansprechpartner JSB` dropdown with active JSB staff only, when the column's dropdown
  still points at the all-staff list the old `init` made (`Liste_Mitarbeitende`);
- a note on each header (xlsx_look_notes.py) when the sheet has no comments of its own.

Header colours and column widths are never changed. Each part recognises itself, so a second
run changes nothing. Only the parts a change needs are rewritten (the sheet, the workbook part,
styles, `Listen`, relationships, content types); every other member keeps its bytes.

Why one module: each part's "is it staff's own?" check stands beside the part it guards (helpers
in xlsx_look_parts.py, the notes in xlsx_look_notes.py).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from jugendhaus_mail.errors import WorkbookError, WorkbookUnsafe
from jugendhaus_mail.workbook import look
from jugendhaus_mail.workbook.build import DUE_SOON, LAST_ROW, OVERDUE, STAFF_NAMES
from jugendhaus_mail.workbook.model import header_key
from jugendhaus_mail.workbook.schema import Schema, Sheet
from jugendhaus_mail.workbook.xlsx_cells import shared_index, shared_strings, xml_escape
from jugendhaus_mail.workbook.xlsx_look_notes import add_notes
from jugendhaus_mail.workbook.xlsx_look_parts import (
    Work,
    add_defined_names,
    add_jsb_list,
    defined_names,
    insert_in_order,
    set_attributes,
    sheet_index,
)
from jugendhaus_mail.workbook.xlsx_sheet import (
    SheetText,
    attributes,
    cell_text,
    col_index,
    col_letters,
)
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage, locate_parts

PRINT = "Druckeinstellungen"
COLOURS = "Farben für Frist Ansprechpartner"
JSB = "Auswahlliste Ansprechpartner JSB (nur aktive JSB)"
NOTES = "Hinweise an den Überschriften"
LISTS_SHEET = "Listen"

# pageSetup values that are nobody's choice (ECMA-376 defaults, as LibreOffice writes them all);
# paper size, resolution and copies are not print setup staff made either
_DEFAULT_SETUP = {
    "scale": "100",
    "pageOrder": "downThenOver",
    "blackAndWhite": "false",
    "draft": "false",
    "cellComments": "none",
    "useFirstPageNumber": "false",
    "errors": "displayed",
}
_ELEMENT = r"<{tag}\b[^>]*?(?:/>|>.*?</{tag}>)"


# what a part did: the new (head, tail) of the sheet; False: staff's own; None: there already
Outcome = tuple[bytes, bytes] | Literal[False] | None
# a part that meets something it cannot read is left out; the rest is still added
_UNREADABLE = (WorkbookError, ValueError, LookupError, SyntaxError)


@dataclass(frozen=True)
class LookUpgrade:
    added: tuple[str, ...] = ()  # parts added, in German for the log
    kept: tuple[str, ...] = ()  # parts left alone: staff set their own
    skipped: tuple[str, ...] = ()  # parts left out: the workbook holds something unexpected


def upgrade_look(data: bytes, schema: Schema) -> tuple[bytes, LookUpgrade]:
    """The package with the new look added where safe, and what was added or left alone."""
    sheet = schema.requests
    try:
        package = ZipPackage(data)
        located = locate_parts(package, sheet)
    except WorkbookError:
        return data, LookUpgrade()  # no such sheet or table: `check` reports it
    work = Work(package, located.workbook, package.read(located.workbook), names=package.names)
    xml = package.read(located.sheet)
    if not re.search(rb"<worksheet\b", xml):
        return data, LookUpgrade()  # a prefixed part: rare, and left as it is
    text = SheetText(xml, sheet.name)
    shared = package.read(located.shared) if located.shared else None
    columns = _header_columns(text, located.table.area.first_row, shared, sheet)
    header_row = located.table.area.first_row
    added: list[str] = []
    kept: list[str] = []
    skipped: list[str] = []
    head, body, tail = (
        xml[: text.data_start],
        xml[text.data_start : text.data_end],
        xml[text.data_end :],
    )
    steps: tuple[tuple[str, Callable[[bytes, bytes], Outcome]], ...] = (
        (PRINT, lambda h, t: _print_setup(work, sheet, h, t, columns, header_row)),
        (COLOURS, lambda h, t: _colours(work, sheet, h, t, columns, header_row)),
        (JSB, lambda h, t: _jsb_dropdown(work, schema, h, t, columns, header_row)),
        (NOTES, lambda h, t: add_notes(work, located.sheet, sheet, h, t, columns, header_row)),
    )
    for label, step in steps:
        saved = (dict(work.parts), dict(work.new), work.workbook)
        try:
            outcome = step(head, tail)
        except _UNREADABLE:
            work.parts, work.new, work.workbook = saved
            skipped.append(label)
            continue
        if outcome is None:
            continue  # already there
        if outcome is False:
            kept.append(label)
            continue
        head, tail = outcome
        added.append(label)
    if not added:
        return data, LookUpgrade(kept=tuple(kept), skipped=tuple(skipped))
    work.parts[located.sheet] = head + body + tail
    work.parts[located.workbook] = work.workbook
    rebuilt = _rebuilt(package, work)
    if rebuilt is None:
        return data, LookUpgrade(kept=tuple(kept), skipped=tuple(added + skipped))
    return rebuilt, LookUpgrade(tuple(added), tuple(kept), tuple(skipped))


def _rebuilt(package: ZipPackage, work: Work) -> bytes | None:
    """The package with the changed and new parts; None when one of them is not well-formed."""
    try:
        for name, content in (*work.parts.items(), *work.new.items()):
            if not name.endswith(".vml"):  # VML is not well-formed XML in Excel's own files
                ET.fromstring(content)
    except ET.ParseError:
        return None
    return package.rebuild({name: [c] for name, c in work.parts.items()}, added=work.new)


def _header_columns(
    text: SheetText, header_row: int, shared: bytes | None, sheet: Sheet
) -> dict[str, int]:
    """Schema column key -> column index, for the headers found in the table's header row."""
    row = text.row(header_row)
    cells = list(row.cells) if row else []
    wanted = {i for c in cells if (i := shared_index(c.attrs.get("t", "n"), c.inner)) is not None}
    strings = shared_strings(shared, wanted)
    by_header = {header_key(t): c.col for c in cells if (t := cell_text(c, strings))}
    return {c.key: by_header[k] for c in sheet.columns if (k := header_key(c.header)) in by_header}


# --- print setup ------------------------------------------------------------------------------


def _print_setup(
    work: Work, sheet: Sheet, head: bytes, tail: bytes, columns: dict[str, int], header_row: int
) -> Outcome:
    index = sheet_index(work.workbook, sheet.name)
    names = defined_names(work.workbook, index)
    footer = re.search(_ELEMENT.format(tag="headerFooter").encode(), tail, re.S)
    if footer and b"Seite &amp;P von &amp;N" in footer.group(0):
        return None  # ours
    titles = f"{_quoted(sheet.name)}!${header_row}:${header_row}"
    setup = re.search(rb"<pageSetup\b([^>]*?)/?>", tail)
    setup_attrs = attributes(setup.group(1)) if setup else {}
    if _own_print_setup(head, tail, setup_attrs, footer) or "_xlnm.Print_Area" in names:
        return False
    if names.get("_xlnm.Print_Titles", titles).replace("'", "") != titles.replace("'", ""):
        return False  # other rows repeated than the header row: theirs
    head = _fit_to_page(head)
    new_setup = {"orientation": "landscape", "fitToWidth": "1", "fitToHeight": "0"}
    if "paperSize" not in setup_attrs:
        new_setup["paperSize"] = "9"
    if setup:
        element = b"<pageSetup" + set_attributes(setup.group(1), new_setup) + b"/>"
        tail = tail[: setup.start()] + element + tail[setup.end() :]
    else:
        element = b"<pageSetup" + set_attributes(b"", new_setup) + b"/>"
        tail = insert_in_order(tail, "pageSetup", element)
    left, centre, right = (xml_escape(f'&"{look.FONT},Regular"&8 {p}') for p in look.FOOTER)
    footer_xml = (
        f"<headerFooter><oddFooter>&amp;L{left}&amp;C{centre}&amp;R{right}</oddFooter>"
        "</headerFooter>"
    )
    if footer:
        tail = tail[: footer.start()] + tail[footer.end() :]
    tail = insert_in_order(tail, "headerFooter", footer_xml.encode())
    last = col_letters(columns.get("status", max(columns.values(), default=1)))
    new_names = {"_xlnm.Print_Area": f"{_quoted(sheet.name)}!$A$1:${last}${LAST_ROW}"}
    if "_xlnm.Print_Titles" not in names:
        new_names["_xlnm.Print_Titles"] = titles
    work.workbook = add_defined_names(work.workbook, new_names, index)
    return head, tail


def _own_print_setup(
    head: bytes, tail: bytes, setup: dict[str, str], footer: re.Match[bytes] | None
) -> bool:
    """Whether staff set up printing: fit to page, scaling, portrait, a header or footer,
    print options, page breaks. Values Excel and LibreOffice write on every save (paper size,
    resolution, the defaults) are nobody's choice."""
    if re.search(rb'<pageSetUpPr\b[^>]*\bfitToPage="(1|true)"', head):
        return True
    if re.search(rb"<(rowBreaks|colBreaks)\b", tail):
        return True
    options = re.search(rb"<printOptions\b([^>]*?)/?>", tail)
    if options and any(
        v in ("1", "true") for k, v in attributes(options.group(1)).items() if k != "gridLinesSet"
    ):
        return True
    if footer is not None:
        texts = re.findall(rb">([^<]+)</", footer.group(0))
        flags = attributes(footer.group(0)[: footer.group(0).index(b">")])
        if any(t.strip() for t in texts) or any(v in ("1", "true") for v in flags.values()):
            return True
    flag = {"0": "false", "1": "true"}
    chosen = {k: flag.get(v, v) for k, v in setup.items()}
    return any(chosen.get(k, v) != v for k, v in _DEFAULT_SETUP.items()) or setup.get(
        "orientation", "default"
    ) not in ("landscape", "default")


def _fit_to_page(head: bytes) -> bytes:
    existing = re.search(rb"<pageSetUpPr\b([^>]*?)/>", head)
    if existing:
        element = b"<pageSetUpPr" + set_attributes(existing.group(1), {"fitToPage": "1"}) + b"/>"
        return head[: existing.start()] + element + head[existing.end() :]
    empty = re.search(rb"<sheetPr\b([^>]*?)/>", head)
    if empty:
        new = b"<sheetPr" + empty.group(1) + b'><pageSetUpPr fitToPage="1"/></sheetPr>'
        return head[: empty.start()] + new + head[empty.end() :]
    closing = head.find(b"</sheetPr>")
    if closing >= 0:  # pageSetUpPr is the last child sheetPr may have
        return head[:closing] + b'<pageSetUpPr fitToPage="1"/>' + head[closing:]
    root = re.search(rb"<worksheet\b[^>]*>", head)
    if root is None:
        raise WorkbookUnsafe("Blatt ohne <worksheet>")
    return (
        head[: root.end()] + b'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' + head[root.end() :]
    )


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# --- Frist Ansprechpartner ----------------------------------------------------------------------


def _colours(
    work: Work, sheet: Sheet, head: bytes, tail: bytes, columns: dict[str, int], header_row: int
) -> Outcome:
    if "contact_due" not in columns:
        return None
    due = columns["contact_due"]
    first = header_row + 1
    letters = {key: col_letters(col) for key, col in columns.items()}
    overdue, soon = look.contact_deadline_formulas(letters, sheet.finished_statuses, first)
    sqrefs = [
        attributes(m.group(1)).get("sqref", "")
        for m in re.finditer(rb"<conditionalFormatting\b([^>]*)>", tail)
    ]
    sqrefs += [m.decode() for m in re.findall(rb"<xm:sqref>([^<]*)</xm:sqref>", tail)]
    if any(_touches(sqref, due, first) for sqref in sqrefs):
        return None if overdue in html.unescape(tail.decode("utf-8", "replace")) else False
    styles_part = _styles_part(work)
    styles = work.read(styles_part)
    styles, first_dxf = _add_dxfs(styles, [OVERDUE, DUE_SOON])
    work.parts[styles_part] = styles
    priorities = [int(p) for p in re.findall(rb'<(?:\w+:)?cfRule\b[^>]*?\spriority="(\d+)"', tail)]
    top = max(priorities, default=0)
    rules = "".join(
        f'<cfRule type="expression" dxfId="{first_dxf + i}" priority="{top + 1 + i}" '
        f'stopIfTrue="1"><formula>{xml_escape(formula)}</formula></cfRule>'
        for i, formula in enumerate((overdue, soon))
    )
    area = f"{letters['contact_due']}{first}:{letters['contact_due']}{LAST_ROW}"
    element = f'<conditionalFormatting sqref="{area}">{rules}</conditionalFormatting>'
    return head, insert_in_order(tail, "conditionalFormatting", element.encode())


def _touches(sqref: str, col: int, first_row: int) -> bool:
    """Whether a range list (A2:B9 C:C 4:7 …) reaches a cell of `col` at or below `first_row`."""
    for token in sqref.replace("$", "").upper().split():
        ends = [re.fullmatch(r"([A-Z]{0,3})(\d*)", end) for end in token.split(":")]
        if len(ends) > 2 or any(end is None for end in ends):
            return True  # cannot tell: count it as theirs
        (c1, _r1), (c2, r2) = (end.groups() for end in (ends[0], ends[-1]) if end)
        low, high = (col_index(c1) if c1 else 1), (col_index(c2) if c2 else 16_384)
        if low <= col <= high and (int(r2) if r2 else LAST_ROW) >= first_row:
            return True
    return False


def _styles_part(work: Work) -> str:
    from jugendhaus_mail.workbook.xlsx_zip import read_relationships

    rels = read_relationships(work.package, work.workbook_part)
    part = next((r.target for r in rels if r.type.endswith("/styles")), None)
    if part is None or work.package.find(part) is None:
        raise WorkbookUnsafe("keine Formatvorlagen")
    return part


def _add_dxfs(styles: bytes, dxfs: list[object]) -> tuple[bytes, int]:
    """Append differential formats; returns the new part and the index of the first one."""
    if re.search(rb"<\w+:styleSheet\b", styles):
        raise WorkbookUnsafe("Formatvorlagen mit Präfix")
    new = b"".join(
        ET.tostring(d.to_tree()).replace(b"ns0:", b"").replace(b' xmlns:ns0="', b' x="')  # type: ignore[attr-defined]
        for d in dxfs
    )
    new = re.sub(rb' x="[^"]*"', b"", new)
    block = re.search(rb"<dxfs\b[^>]*?(/>|>(.*?)</dxfs>)", styles, re.S)
    if block is None:
        element = b'<dxfs count="%d">' % len(dxfs) + new + b"</dxfs>"
        later = [
            m.start()
            for t in (b"tableStyles", b"colors", b"extLst")
            if (m := re.search(b"<" + t + rb"\b", styles))
        ]
        at = min(later) if later else styles.rindex(b"</styleSheet>")
        return styles[:at] + element + styles[at:], 0
    existing = len(re.findall(rb"<dxf\b", block.group(2) or b""))
    element = (
        b'<dxfs count="%d">' % (existing + len(dxfs)) + (block.group(2) or b"") + new + b"</dxfs>"
    )
    return styles[: block.start()] + element + styles[block.end() :], existing


# --- the JSB dropdown ----------------------------------------------------------------------------


def _jsb_dropdown(
    work: Work, schema: Schema, head: bytes, tail: bytes, columns: dict[str, int], header_row: int
) -> Outcome:
    if "contact_person" not in columns:
        return None
    col = columns["contact_person"]
    found = [
        m
        for m in re.finditer(_ELEMENT.format(tag="dataValidation").encode(), tail, re.S)
        if _touches(
            attributes(m.group(0)[: m.group(0).index(b">")]).get("sqref", ""), col, header_row + 1
        )
    ]
    if len(found) != 1:
        return False  # none (staff removed it) or several of their own
    match = found[0]
    formula = re.search(rb"<formula1>\s*=?\s*([^<]*?)\s*</formula1>", match.group(0))
    target = formula.group(1).decode() if formula else ""
    names = defined_names(work.workbook, None)
    if target == look.JSB_LIST and look.JSB_LIST in names:
        return None
    if target not in (STAFF_NAMES, look.JSB_LIST):
        return False
    if look.JSB_LIST not in names:
        add_jsb_list(work, schema.staff, LISTS_SHEET)
    new = _repointed(match.group(0), col, header_row + 1)
    tail = tail[: match.start()] + new + tail[match.end() :]
    count = re.search(rb'(<dataValidations\b[^>]*?\scount=")(\d+)"', tail)
    if count and b"</dataValidation><dataValidation" in new:
        tail = tail[: count.start(2)] + str(int(count.group(2)) + 1).encode() + tail[count.end(2) :]
    return head, tail


def _repointed(element: bytes, col: int, first_row: int) -> bytes:
    """The validation pointing at Liste_JSB; when it also covers other columns (Excel merges
    equal validations), those keep the old list in a copy."""
    pointed = re.sub(
        rb"<formula1>[^<]*</formula1>", f"<formula1>{look.JSB_LIST}</formula1>".encode(), element
    )
    sqref = re.search(rb'\ssqref="([^"]*)"', element)
    assert sqref is not None
    tokens = sqref.group(1).decode().split()
    ours = [t for t in tokens if _touches(t, col, first_row)]
    others = [t for t in tokens if t not in ours]
    if not others:
        return pointed

    def with_sqref(xml: bytes, refs: list[str]) -> bytes:
        return re.sub(rb'\ssqref="[^"]*"', f' sqref="{" ".join(refs)}"'.encode(), xml, count=1)

    return with_sqref(element, others) + with_sqref(pointed, ours)
