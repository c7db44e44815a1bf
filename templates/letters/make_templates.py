"""Generate the bundled letter templates (hausbesuch.docx, nicht-angetroffen.docx, einladung.docx).

    .venv/bin/python templates/letters/make_templates.py

The generated .docx files are committed; run this after changing the wording here. Offices do
not need this script: they edit a copy of a .docx in Word (see README.md in this folder).

The page follows DIN 5008 form B for window envelopes (DL, C6/5): the address field 45 mm from
the top and 20 mm from the left edge, 85 x 45 mm, its upper 17.7 mm holding the small return
address line; the information block (Unser Zeichen, Datum, Ansprechperson) from 125 mm; fold
marks at 105 and 210 mm and the punch mark at 148.5 mm on the left edge.

Every placeholder sits inside one run (one `add_run` call), so Word's run splitting cannot cut
a tag in two. `{%p ... %}` tags stand alone in their paragraph (docxtpl removes that paragraph).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from copy import deepcopy
from datetime import datetime
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
FONT = "Arial"
# DIN 5008 form B, in mm from the page's top left corner
TOP_MARGIN = 45  # the address field's top edge; the letterhead stays above it
LEFT_MARGIN = 25  # body text; the address field starts 5 mm further left, its text here
RETURN_ZONE = 17.7  # Zusatz- und Vermerkzone with the return address line
ADDRESS_ZONE = 27.3  # the address itself, up to 6 lines
ADDRESS_WIDTH = 80  # 25 .. 105 mm: the window ends at 105 mm
INFO_LEFT = 125  # information block
INFO_TOP = 50
SUBJECT_TOP = 98.5
FOLD_MARKS = ((105.0, 5.0), (148.5, 8.0), (210.0, 5.0))  # (from top, length) in mm
Part = str | tuple[str, str]  # plain text, or (style, text) with style "b" (bold)


def main() -> None:
    for name, (title, body) in LETTERS.items():
        document = _new_document(title)
        body(document)
        document.save(str(HERE / f"{name}.docx"))
        print(f"geschrieben: {HERE / name}.docx")


# --- layout -----------------------------------------------------------------------------------


def _new_document(title: str) -> DocumentObject:
    document = Document()
    _set_defaults(document)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(TOP_MARGIN), Mm(25)
    section.left_margin, section.right_margin = Mm(LEFT_MARGIN), Mm(20)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    _letterhead(section.header.paragraphs[0], section.header.add_paragraph)
    _fold_marks(section.header.add_paragraph())  # not in a {%p %} line: docxtpl drops those
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _runs(
        footer,
        "{{ office_name }} · Sprechzeiten: {{ office_hours }}{% if office_hours_by_appointment %}"
        " · {{ office_hours_by_appointment }}{% endif %}",
        size=8,
    )
    _address_and_info(document)
    properties = document.core_properties
    properties.title, properties.author, properties.comments = title, "jugendhaus-mail", ""
    properties.last_modified_by, properties.revision = "jugendhaus-mail", 1
    properties.created = properties.modified = datetime(2026, 1, 1)
    return document


def _set_defaults(document: DocumentObject) -> None:
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    # German spelling and hyphenation for Word and LibreOffice
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "de-DE")
    run_defaults.append(language)


def _letterhead(first: Paragraph, add: Callable[[], Paragraph]) -> None:
    lines = [
        "{%p for line in letterhead %}",
        "{{ line }}",
        "{%p endfor %}",
        "{%p if office_phone %}",
        "Telefon {{ office_phone }}",
        "{%p endif %}",
    ]
    for index, text in enumerate(lines):
        paragraph = first if index == 0 else add()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.space_after = Pt(0)
        _runs(paragraph, text, size=9)


def _address_and_info(document: DocumentObject) -> None:
    """A borderless 2x3 table: return line and address under each other in the window,
    the information block from 125 mm; exact row heights keep the address in the window."""
    table = document.add_table(rows=2, cols=3)
    table.autofit = False
    _no_cell_margins(table)
    widths = (Mm(ADDRESS_WIDTH), Mm(INFO_LEFT - LEFT_MARGIN - ADDRESS_WIDTH), Mm(65))
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid: LibreOffice lays out by it
    for row, height in zip(table.rows, (RETURN_ZONE, ADDRESS_ZONE), strict=True):
        row.height, row.height_rule = Mm(height), WD_ROW_HEIGHT_RULE.EXACTLY
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    return_cell, address = table.cell(0, 0), table.cell(1, 0)
    return_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
    _cell(return_cell, ["{{ return_address }}"], size=6)
    return_cell.paragraphs[0].paragraph_format.space_after = Pt(2)
    _cell(address, ["{{ client_name }}", "{%p for line in address_lines %}",
                    "{{ line }}", "{%p endfor %}"], size=10, exact=Pt(12))  # fmt: skip
    info = table.cell(0, 2).merge(table.cell(1, 2))
    _cell(info, ["Unser Zeichen: {{ nr }}", "Datum: {{ date }}",
                 "Ansprechperson: {{ contact.name }}",
                 "Telefon: {{ contact.phone }}"], size=9)  # fmt: skip
    info.paragraphs[0].paragraph_format.space_before = Mm(INFO_TOP - TOP_MARGIN)
    spacer = document.add_paragraph()
    spacer.paragraph_format.space_after = Pt(0)
    table_bottom = TOP_MARGIN + RETURN_ZONE + ADDRESS_ZONE
    spacer.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    spacer.paragraph_format.line_spacing = Mm(SUBJECT_TOP - table_bottom - 4)


def _no_cell_margins(table: object) -> None:
    properties = table._tbl.tblPr  # type: ignore[attr-defined]
    margins = OxmlElement("w:tblCellMar")
    for side in ("top", "left", "bottom", "right"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), "0")
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    properties.append(margins)
    indent = OxmlElement("w:tblInd")
    indent.set(qn("w:w"), "0")
    indent.set(qn("w:type"), "dxa")
    properties.append(indent)


def _cell(cell: _Cell, lines: list[str], size: int, exact: Pt | None = None) -> None:
    for index, text in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        if exact is not None:
            paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            paragraph.paragraph_format.line_spacing = exact
        _runs(paragraph, text, size=size)


def _fold_marks(paragraph: Paragraph) -> None:
    """Short grey lines at the left page edge, anchored to the page (in the header, so they
    never move with the text)."""
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.paragraph_format.line_spacing = Pt(1)
    for top, length in FOLD_MARKS:
        run = paragraph.add_run()
        run.add_picture(BytesIO(_grey_pixel_png()), width=Mm(length), height=Mm(0.3))
        inline = run._r.find(qn("w:drawing")).find(qn("wp:inline"))
        inline.getparent().replace(inline, _anchored(inline, left=Mm(5), top=Mm(top - 0.15)))


def _anchored(inline: object, left: int, top: int) -> object:
    wp = nsdecls("wp")
    anchor = parse_xml(
        f'<wp:anchor {wp} distT="0" distB="0" distL="0" distR="0" simplePos="0" '
        'relativeHeight="1" behindDoc="1" locked="1" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        f'<wp:positionH relativeFrom="page"><wp:posOffset>{left}</wp:posOffset></wp:positionH>'
        f'<wp:positionV relativeFrom="page"><wp:posOffset>{top}</wp:posOffset></wp:positionV>'
        "</wp:anchor>"
    )
    children = {child.tag.split("}")[1]: child for child in inline}  # type: ignore[attr-defined]
    anchor.append(deepcopy(children["extent"]))
    anchor.append(parse_xml(f'<wp:effectExtent {wp} l="0" t="0" r="0" b="0"/>'))
    anchor.append(parse_xml(f"<wp:wrapNone {wp}/>"))
    for name in ("docPr", "cNvGraphicFramePr", "graphic"):
        anchor.append(deepcopy(children[name]))
    return anchor


def _grey_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x60")  # filter byte, then dark grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + (chunk(b"IEND", b""))
    )


def _runs(paragraph: Paragraph, *parts: Part, size: int | None = None) -> Paragraph:
    for part in parts:
        style, text = part if isinstance(part, tuple) else ("", part)
        run = paragraph.add_run(text)
        run.bold = "b" in style or None
        if size:
            run.font.size = Pt(size)
    return paragraph


def _p(document: DocumentObject, *parts: Part) -> Paragraph:
    return _runs(document.add_paragraph(), *parts)


def _subject(document: DocumentObject, text: str) -> None:
    _p(document, ("b", text)).paragraph_format.space_after = Pt(12)


def _heading(document: DocumentObject, text: str) -> None:
    paragraph = _p(document, ("b", text))
    paragraph.paragraph_format.space_before = Pt(8)
    paragraph.paragraph_format.keep_with_next = True


def _closing(document: DocumentObject, signature: str) -> None:
    _p(document, "Mit freundlichen Grüßen")
    document.add_paragraph()
    _p(document, signature).paragraph_format.space_after = Pt(0)
    _p(document, "{{ office_name }}")


def _indented(document: DocumentObject, *parts: Part) -> None:
    paragraph = _p(document, *parts)
    paragraph.paragraph_format.left_indent = Mm(8)
    paragraph.paragraph_format.space_after = Pt(2)


def _loop(document: DocumentObject, head: str, *body: Part, tail: str = "{%p endfor %}") -> None:
    _p(document, head)
    _indented(document, *body)
    _p(document, tail)


# --- the letters ------------------------------------------------------------------------------

SPRECHZEITEN = "{{ office_hours }}{% if office_hours_by_appointment %}, {{ office_hours_by_appointment }}{% endif %}"  # noqa: E501


def _hausbesuch(d: DocumentObject) -> None:
    _subject(d, "Wir möchten Sie besuchen – Ankündigung eines Hausbesuchs")
    _p(d, "Guten Tag {{ client_name }},")
    _p(d, "wir sind die {{ office_name }}. Wir unterstützen junge Menschen, wenn es um Schule, "
          "Ausbildung, Arbeit, Geld oder Wohnen geht – oder wenn gerade einfach vieles schwierig "
          "ist. Ihr Jobcenter hat uns gebeten, mit Ihnen in Kontakt zu kommen.")  # fmt: skip
    _p(d, "Wir besuchen Sie am ", ("b", "{{ visit_date }}, um {{ visit_time }} Uhr"), ".")
    _p(d, "Zu Ihnen kommen:")
    _loop(d, "{%p for person in visit_staff %}", "{{ person.name }}, Telefon {{ person.phone }}")
    _heading(d, "Was ist ein Hausbesuch?")
    _p(d, "Wir klingeln bei Ihnen und möchten Sie kennenlernen. Wir sprechen mit Ihnen darüber, "
          "wie es Ihnen geht, was Sie gerade beschäftigt und wobei wir Sie unterstützen können – "
          "bei Ihnen in der Wohnung oder, wenn Ihnen das lieber ist, vor der Tür.")  # fmt: skip
    _p(d, "Der Hausbesuch ist freiwillig. Sie entscheiden, ob und worüber Sie mit uns sprechen. "
          "Die Beratung kostet Sie nichts.")  # fmt: skip
    _heading(d, "Der Termin passt Ihnen nicht?")
    _p(d, "Kein Problem: Rufen Sie uns bitte an, dann finden wir gemeinsam einen anderen Termin – "
          "bei Ihnen zu Hause oder bei uns. Sie erreichen {{ visit_staff_names }} unter "
          "{% if visit_staff|length > 1 %}den oben genannten Telefonnummern{% else %}der oben "
          "genannten Telefonnummer{% endif %}{% if office_phone %} und unser Büro unter "
          "{{ office_phone }}{% endif %}. Sie können auch ohne Termin in unsere Sprechzeiten "
          "kommen: " + SPRECHZEITEN + ".")  # fmt: skip
    _p(d, "Wir freuen uns darauf, Sie kennenzulernen.")
    _closing(d, "{{ visit_staff_names }}")


def _nicht_angetroffen(d: DocumentObject) -> None:
    _subject(d, "Wir waren bei Ihnen – bitte melden Sie sich")
    _p(d, "Guten Tag {{ client_name }},")
    _p(d, "wir, die {{ office_name }}, waren am ", ("b", "{{ visit_date }}"), ", bei Ihnen, haben "
          "Sie aber leider nicht angetroffen.")  # fmt: skip
    _p(d, "Wir würden Sie gern kennenlernen und mit Ihnen besprechen, wie wir Sie unterstützen "
          "können – zum Beispiel bei Fragen zu Schule, Ausbildung, Arbeit, Geld oder Wohnen. "
          "Das Gespräch ist freiwillig und kostet Sie nichts.")  # fmt: skip
    _heading(d, "Bitte melden Sie sich bei uns.")
    _p(d, "Ihre Ansprechperson ist ", ("b", "{{ contact.name }}, Telefon {{ contact.phone }}"),
          ". Gemeinsam finden wir einen Termin, der Ihnen passt – bei Ihnen zu Hause, bei uns "
          "oder am Telefon.")  # fmt: skip
    _p(d, "Sie können auch ohne Termin in unsere Sprechzeiten kommen: " + SPRECHZEITEN + ".")
    _p(d, "Wir freuen uns, von Ihnen zu hören.")
    _closing(d, "{{ contact.name }}")


def _einladung(d: DocumentObject) -> None:
    _subject(d, "Einladung zum Beratungsgespräch")
    _p(d, "Guten Tag {{ client_name }},")
    _p(d, "schön, dass Sie bei uns waren. Wie besprochen laden wir Sie herzlich zu einem "
          "Beratungsgespräch ein.")  # fmt: skip
    _p(d, "Ihre Ansprechperson ist ", ("b", "{{ contact.name }}, Telefon {{ contact.phone }}"), ".")
    _p(d, "Kommen Sie einfach ohne Termin in unsere Sprechzeiten: " + SPRECHZEITEN + ". Zum "
          "Beispiel am ", ("b", "{{ next_office_hours }}"), ".")  # fmt: skip
    _p(d, "Wenn Ihnen diese Zeiten nicht passen, rufen Sie uns bitte an – dann vereinbaren wir "
          "einen anderen Termin.")  # fmt: skip
    _p(d, "Bringen Sie gern mit, was Sie gerade beschäftigt, zum Beispiel Briefe, die Sie mit uns "
          "besprechen möchten. Das Gespräch ist freiwillig und kostet Sie nichts.")  # fmt: skip
    _p(d, "Wir freuen uns auf Sie.")
    _closing(d, "{{ contact.name }}")


LETTERS: dict[str, tuple[str, Callable[[DocumentObject], None]]] = {
    "hausbesuch": ("Ankündigung Hausbesuch", _hausbesuch),
    "nicht-angetroffen": ("Nicht angetroffen", _nicht_angetroffen),
    "einladung": ("Einladung zum Beratungsgespräch", _einladung),
}

if __name__ == "__main__":
    main()
