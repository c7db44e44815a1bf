"""How the request list looks and prints: fonts, widths, header colours and notes, stripes,
the `Frist Ansprechpartner` colours, the JSB-only dropdown and the print setup.

Used by `init` (build.py) on a new workbook made with openpyxl. Everything here is about
reading and printing the list in Excel and LibreOffice alike:

- Fonts are named (Arial) with their size: without Calibri, LibreOffice falls back to a serif.
- A column is at least as wide as the longest word of its header, so headers break between
  words ("Schweigepflicht-entbindung" never becomes "Schweigepfli / chtentbindu / ng").
- LibreOffice does not draw Excel's table styles; the stripes are a conditional format with a
  real fill, on rows that hold something, behind the deadline colours.
- The `Ansprechpartner JSB` dropdown lists only active JSB staff: a column on `Listen` picks
  them from `Mitarbeitende` with SMALL(IF(…)) array formulas (Excel and LibreOffice alike;
  AGGREGATE over an array does not work in LibreOffice), a defined name cuts the list where
  the names end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from jugendhaus_mail.workbook.schema import Column, Sheet

FONT = "Arial"
FONT_SIZE = 10
SERVICE_OWNERS = ("service", "intake")  # columns the service fills
HEADER_COLOURS = {  # quiet: dark text on a light fill, told apart by hue
    "service": ("1F3864", "DCE6F1"),  # blue-grey: the service writes it
    "staff": ("5C3C00", "FCE9C8"),  # light amber: staff fill it in
}
STRIPE = DifferentialStyle(fill=PatternFill(bgColor="F2F5F9", fill_type="solid"))
JSB_ROLE = "JSB"
ACTIVE = "Ja"
JSB_LIST = "Liste_JSB"
JSB_ROWS = 100  # how many active JSB members the dropdown can show
JSB_COLUMNS = {("Anfragen", "contact_person")}
AUTHOR = "jugendhaus-mail"
FOOTER = ("&F – &A", "Seite &P von &N", "Gedruckt am &D")  # left, centre, right
JSB_HEADER = "Ansprechpartner JSB (aktiv)"  # the column on `Listen` behind Liste_JSB

_WHO = {
    "service": "Trägt der Dienst ein und hält es aktuell – bitte nicht ändern.",
    "intake": "Trägt der Dienst beim Eingang ein; danach dürfen Sie es korrigieren.",
    "staff": "Tragen Sie ein; der Dienst ändert es nie.",
    "shared": "Tragen Sie ein; eine Antwortmail kann das Datum auch weiterschieben.",
}


def header_font(owner: str) -> Font:
    text, _ = HEADER_COLOURS[_side(owner)]
    return Font(name=FONT, size=FONT_SIZE, bold=True, color=text)


def header_fill(owner: str) -> PatternFill:
    _, fill = HEADER_COLOURS[_side(owner)]
    return PatternFill("solid", fgColor=fill)


def _side(owner: str) -> str:
    return "service" if owner in SERVICE_OWNERS else "staff"


WIDER = {"subject": 55, "address": 42}  # long texts staff read in the list itself


def column_width(column: Column) -> float:
    """The schema's width, widened so the longest header word fits on one line (bold)."""
    longest = max((len(word) for word in column.header.split()), default=0)
    return max(column.width, WIDER.get(column.key, 0), round(longest * 1.2 + 3, 1))


def header_note(sheet: str, column: Column) -> str:
    what = _WHAT_IN.get((sheet, column.key)) or _WHAT.get(column.key, "")
    return f"{column.header}\n{what}\n{_WHO[column.owner]}".replace("\n\n", "\n").strip()


def style_header(ws: Worksheet, index: int, column: Column) -> None:
    cell = ws.cell(row=1, column=index)
    cell.font = header_font(column.owner)
    cell.fill = header_fill(column.owner)
    note = Comment(header_note(ws.title, column), AUTHOR)
    note.width, note.height = 260, 110
    cell.comment = note


def default_font(workbook: Workbook) -> None:
    for style in workbook._named_styles:
        if style.name == "Normal":
            style.font = Font(name=FONT, size=FONT_SIZE)
    workbook._fonts[0] = Font(name=FONT, size=FONT_SIZE)


def add_stripes(ws: Worksheet, columns: int, first_row: int, last_row: int) -> None:
    """Every other filled row gets a light fill; added last, so deadline colours win."""
    last = get_column_letter(columns)
    filled = f"COUNTA($A{first_row}:${last}{first_row})>0"
    rule = Rule(type="expression", dxf=STRIPE, stopIfTrue=False)
    rule.formula = [f"AND(MOD(ROW(),2)=0,{filled})"]
    ws.conditional_formatting.add(f"A{first_row}:{last}{last_row}", rule)


def print_setup(ws: Worksheet, columns: int) -> None:
    """Landscape, one page wide, header row on every page, page number and print date."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{get_column_letter(columns)}1048576"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text = FOOTER
    for part in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right):
        part.size, part.font = 8, f"{FONT},Regular"


def add_contact_deadline_colours(
    ws: Worksheet, sheet: Sheet, overdue: DifferentialStyle, soon: DifferentialStyle
) -> None:
    """`Frist Ansprechpartner` red or amber like the other deadlines, until `Ansprechpartner
    mitgeteilt am` is filled (then the deadline is met) or the request is finished."""
    letters = {c.key: get_column_letter(i) for i, c in enumerate(sheet.columns, start=1)}
    if "contact_due" not in letters:
        return
    area = f"{letters['contact_due']}2:{letters['contact_due']}1048576"
    formulas = contact_deadline_formulas(letters, sheet.finished_statuses, 2)
    for formula, style in zip(formulas, (overdue, soon), strict=True):
        rule = Rule(type="expression", dxf=style, stopIfTrue=True)
        rule.formula = [formula]
        ws.conditional_formatting.add(area, rule)


def contact_deadline_formulas(
    letters: Mapping[str, str], finished: Sequence[str], row: int
) -> tuple[str, str]:
    """(overdue, due soon) for `Frist Ansprechpartner`, relative to `row`, the first data row;
    `letters` maps column keys (contact_due, status, contact_notified) to column letters."""
    cell = f"${letters['contact_due']}{row}"
    still_open = (
        [f'${letters["status"]}{row}<>"{v}"' for v in finished] if "status" in letters else []
    )
    if "contact_notified" in letters:
        still_open.append(f'${letters["contact_notified"]}{row}=""')
    overdue_if = ",".join([f"ISNUMBER({cell})", f"{cell}<TODAY()", *still_open])
    soon_if = ",".join(
        [f"ISNUMBER({cell})", f"{cell}>=TODAY()", f"{cell}<=WORKDAY(TODAY(),2)", *still_open]
    )
    return f"AND({overdue_if})", f"AND({soon_if})"


def print_columns(sheet: Sheet) -> int:
    """How many columns a print shows: for the request list up to `Status` (who asked, about
    whom, the first deadline, who is responsible) – all 40 columns on one A4 width would be
    unreadable; staff can widen the print area in Excel. Other sheets: all columns."""
    keys = [c.key for c in sheet.columns]
    if sheet.name == "Anfragen" and "status" in keys:
        return keys.index("status") + 1
    return len(keys)


def add_jsb_list(workbook: Workbook, lists: Worksheet, column: int, staff: Sheet) -> str:
    """A column on `Listen` with the names of active JSB staff; returns the defined name."""
    from openpyxl.workbook.defined_name import DefinedName

    letters = {c.key: get_column_letter(i) for i, c in enumerate(staff.columns, start=1)}
    ref = quote_sheetname(staff.name)

    def area(key: str) -> str:
        return f"{ref}!${letters[key]}$2:${letters[key]}$2000"

    letter = get_column_letter(column)
    header = lists.cell(row=1, column=column, value=JSB_HEADER)
    header.font = header_font("service")
    header.fill = header_fill("service")
    lists.column_dimensions[letter].width = 28
    wanted = f'(TRIM({area("role")})="{JSB_ROLE}")*(TRIM({area("active")})="{ACTIVE}")'
    wanted += f'*({area("name")}<>"")'
    names = area("name")
    for row in range(2, JSB_ROWS + 2):
        ref = f"{letter}{row}"
        lists[ref] = ArrayFormula(
            ref, f'=IFERROR(INDEX({names},SMALL(IF({wanted},ROW({names})-1),{row - 1})),"")'
        )
    target = f"{quote_sheetname(lists.title)}!${letter}$2"
    counted = f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${JSB_ROWS + 1}"
    workbook.defined_names[JSB_LIST] = DefinedName(
        JSB_LIST, attr_text=f'OFFSET({target},0,0,MAX(1,COUNTIF({counted},"?*")),1)'
    )
    return JSB_LIST


_WHAT_IN = {
    ("Abwesenheiten", "name"): "Wer abwesend ist (Auswahl aus Mitarbeitende).",
    ("Abwesenheiten", "kind"): "Geplant (Urlaub, Fortbildung) oder Kurzfristig (z. B. krank).",
    ("Gelöscht", "nr"): "Nr. der gelöschten Anfrage.",
    ("Gelöscht", "deleted_by"): "Wer die Zeile gelöscht hat.",
    ("Gelöscht", "reason"): "Warum die Zeile gelöscht wurde.",
}
_WHAT = {
    "nr": "Laufende Nummer der Anfrage (JJJJ-NNNN); steht im Betreff jeder Mail dazu.",
    "received": "Wann die Mail im Teampostfach ankam.",
    "channel": "Wie die Anfrage kam (Teampostfach, warme Übergabe, Telefon …).",
    "kind": "Art der Anfrage; bestimmt die Fristen.",
    "subject": "Betreff der Mail.",
    "requester_name": "Wer angefragt hat.",
    "requester_email": "Antwortadresse der anfragenden Person.",
    "rechtskreis": "SGB II, SGB III, SGB VIII oder extern.",
    "client_name": "Vorname Nachname des jungen Menschen.",
    "customer_number": "Kundennummer beim Jobcenter oder der Agentur.",
    "birth_date": "Geburtsdatum (TT.MM.JJJJ).",
    "address": "Postanschrift: Straße Nr., PLZ Ort (für Briefe).",
    "attachments": "Anzahl der Anhänge der Mail.",
    "contact_due": "Bis wann der Ansprechpartner JSB benannt sein muss.",
    "contact_person": "Wer von der JSB zuständig ist (Auswahl: aktive JSB-Mitarbeitende).",
    "contact_notified": "Wann die anfragende Stelle den Ansprechpartner erfahren hat.",
    "status": "Neu, In Bearbeitung, Gemeinsamer Fall, Abgeschlossen, Weitergeleitet.",
    "sgb2_contact": "Zuständige Person im Jobcenter.",
    "consent": "Hat der junge Mensch zugestimmt? (Ja/Nein) Ohne „Ja“ kein gemeinsamer Fall "
    "und kein VerBIS-Hinweis an das Jobcenter.",
    "confidentiality_waiver": "Liegt die Schweigepflichtentbindung vor? (Ja/Nein)",
    "joint_consultation": "Datum der gemeinsamen Fallberatung.",
    "agreed_sgb2": "Stimmt das Jobcenter dem gemeinsamen Fall zu? (Ja/Nein)",
    "agreed_sgb8": "Stimmt die JSB dem gemeinsamen Fall zu? (Ja/Nein)",
    "feedback_weeks": "Alle wie viele Wochen eine Rückmeldung vereinbart ist.",
    "last_feedback": "Datum der letzten Rückmeldung.",
    "next_feedback_due": "Bis wann die nächste Rückmeldung fällig ist.",
    "home_visit_due": "Bis wann der Hausbesuch stattfinden muss.",
    "home_visit_planned": "Datum und Uhrzeit des geplanten Hausbesuchs (TT.MM.JJJJ hh:mm).",
    "home_visit_staff": "Wer den Hausbesuch macht (Namen wie im Blatt Mitarbeitende).",
    "announcement_sent": "Wann der Dienst die Ankündigung zum Drucken geschickt hat.",
    "home_visit_done": "Datum des Hausbesuchs.",
    "home_visit_result": "Angetroffen oder Nicht angetroffen.",
    "care_weeks": "Vereinbarte Dauer der Betreuung in Wochen.",
    "care_until": "Bis wann die Betreuung läuft.",
    "follow_up_talk": "Datum des Nachgesprächs.",
    "follow_up_due": "Bis wann das Nachgespräch fällig ist.",
    "conference_sgb2": "Weitere Person SGB II in der Fallkonferenz.",
    "conference_sgb8": "Weitere Person SGB VIII in der Fallkonferenz.",
    "case_end": "Datum, an dem der Fall endete.",
    "end_reason": "Warum der Fall endete.",
    "notes": "Freier Text.",
    "service_key": "Interne Kennung des Dienstes.",
    "name": "Vorname Nachname.",
    "email": "Dienstliche E-Mail-Adresse.",
    "role": "JSB, IFK SGB II, IFK SGB III, Teamleitung oder Sachgebietsleitung.",
    "phone": "Dienstliche Telefonnummer (für Briefe).",
    "team_lead": "Name der Teamleitung.",
    "active": "Ja = bekommt Mails und steht in den Auswahllisten.",
    "start": "Beginn der Abwesenheit.",
    "end": "Ende der Abwesenheit.",
    "reason": "Grund (frei).",
}
