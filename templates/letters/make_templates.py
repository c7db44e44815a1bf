"""Generate the bundled letter templates (hausbesuch.docx, nicht-angetroffen.docx, einladung.docx).

    .venv/bin/python templates/letters/make_templates.py

The generated .docx files are committed; run this after changing the wording here. Offices do
not need this script: they edit a copy of a .docx in Word (see README.md in this folder).

Every placeholder sits inside one run (one `add_run` call), so Word's run splitting cannot cut
a tag in two. `{%p ... %}` tags stand alone in their paragraph (docxtpl removes that paragraph).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
FONT = "Arial"
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
    section.top_margin, section.bottom_margin = Mm(42), Mm(25)
    section.left_margin, section.right_margin = Mm(25), Mm(20)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    _letterhead(section.header.paragraphs[0], section.header.add_paragraph)
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
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    address, info = table.rows[0].cells
    _cell(address, Mm(100), ["{{ client_name }}", "{%p for line in address_lines %}",
                             "{{ line }}", "{%p endfor %}"], size=11)  # fmt: skip
    _cell(info, Mm(65), ["Unser Zeichen: {{ nr }}", "Datum: {{ date }}",
                         "Ansprechperson: {{ contact.name }}",
                         "Telefon: {{ contact.phone }}"], size=9)  # fmt: skip
    for _ in range(2):
        document.add_paragraph()


def _cell(cell: _Cell, width: Mm, lines: list[str], size: int) -> None:
    cell.width = width
    for index, text in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        _runs(paragraph, text, size=size)


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
