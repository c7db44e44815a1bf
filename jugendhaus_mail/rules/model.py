"""The deadline engine's vocabulary (duties, problems, sides) and how it reads messy cells.

Cells come from Excel as staff typed them: an empty cell is None or "", a date may be a `date` or
a `datetime`, a date typed as text the reader could not parse stays a `str`. The readers here
never guess: unreadable input raises `BadValue`, which the rule functions turn into a
`RowProblem` for that row and rule only. Problem messages name the column, never the cell's
content (a text typed into a date column may be social data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from jugendhaus_mail.workbook.model import CellValue, Row, header_key

SGB2 = "SGB II"
SGB8 = "SGB VIII"
BOTH = "beide"
SIDES = (SGB8, SGB2, BOTH)

CONTACT_PERSON = "contact_person"
HOME_VISIT = "home_visit"
FEEDBACK = "feedback"
CARE_END = "care_end"
MINI_CONFERENCE = "mini_conference"
QUALITAETSDIALOG = "qualitaetsdialog"
GOALS_REVIEW = "goals_review"

LABELS = {
    CONTACT_PERSON: "Ansprechpartner benennen",
    HOME_VISIT: "Hausbesuch durchführen",
    FEEDBACK: "Rückmeldung im gemeinsamen Fall",
    CARE_END: "Nachgespräch nach Betreuungszeit",
    MINI_CONFERENCE: "Mini-Fallkonferenz: weitere Teilnehmende benennen",
    QUALITAETSDIALOG: "Qualitätsdialog organisieren",
    GOALS_REVIEW: "Gemeinsame Ziele prüfen",
}
OFFICE_RULES = (QUALITAETSDIALOG, GOALS_REVIEW)

KINDS = ("Fallanfrage", "Hausbesuch", "Stellungnahme", "Mini-Fallkonferenz", "Kinderschutz",
         "Sonstiges")  # fmt: skip
JOINT_STATUS = "Gemeinsamer Fall"
FINISHED_STATUSES = ("Abgeschlossen", "Weitergeleitet")
MET = "Angetroffen"

# German headers of the columns named in problem messages (workbook_schema/anfrageliste.toml).
HEADERS = {
    "nr": "Nr.",
    "received": "Eingang",
    "kind": "Anfrageart",
    "contact_person": "Ansprechpartner JSB",
    "joint_consultation": "Gemeinsame Fallberatung am",
    "feedback_weeks": "Rückmeldeintervall (Wochen)",
    "last_feedback": "Letzte Rückmeldung",
    "home_visit_done": "Hausbesuch durchgeführt am",
    "care_weeks": "Betreuung SGB VIII (Wochen)",
    "start": "Von",
    "end": "Bis",
    "name": "Name",
}


@dataclass(frozen=True)
class RowProblem:
    """Why a rule was skipped for one row; `nr` is None for rows without a usable Nr."""

    nr: str | None
    column: str
    message_de: str


@dataclass(frozen=True)
class Duty:
    """Something someone has to do by `due`; `nr` is None for office-wide duties."""

    rule: str
    nr: str | None
    due: date
    label: str
    side: str  # SGB8 | SGB2 | BOTH: whose duty it is


class BadValue(Exception):
    """A cell that a rule needs cannot be read; `message` is German and content-free."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def header(column: str) -> str:
    return HEADERS.get(column, column)


def where(row: Row) -> str:
    """A short German locator for messages: the Excel row number when the reader gave one."""
    number = row.get("_row")
    return f"Zeile {number}" if isinstance(number, int) else "eine Zeile"


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def filled(row: Row, column: str) -> bool:
    """Anything typed counts: "erledigt" in a done-date column closes the duty too."""
    return not is_blank(row.get(column))


def text_in(row: Row, column: str) -> str:
    value = row.get(column)
    if is_blank(value):
        return ""
    return " ".join(str(value).split())


def same_text(a: str, b: str) -> bool:
    """Names and list values typed by hand: compare trimmed, whitespace-collapsed, any case."""
    return header_key(a) == header_key(b)


def is_yes(row: Row, column: str) -> bool:
    return same_text(text_in(row, column), "Ja")


def date_in(row: Row, column: str) -> date | None:
    """The date in a cell, None when empty; BadValue for text or numbers."""
    value = row.get(column)
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise BadValue(
        column,
        f"„{header(column)}“ enthält kein Datum, sondern Text oder eine Zahl. "
        "Bitte ein Datum eintragen (z. B. 03.04.2026).",
    )


def int_in(row: Row, column: str, low: int, high: int) -> int | None:
    """A whole number low..high, None when empty; BadValue otherwise."""
    value = row.get(column)
    if is_blank(value):
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise BadValue(
            column,
            f"„{header(column)}“ muss eine ganze Zahl von {low} bis {high} sein; "
            "bis das korrigiert ist, gilt der Standardwert aus der Konfiguration.",
        )
    return number


def nr_of(row: Row) -> str | None:
    value = row.get("nr")
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def kind_of(row: Row) -> str | None:
    """The canonical Anfrageart, None when empty; BadValue for a value not in the list."""
    typed = text_in(row, "kind")
    if not typed:
        return None
    for kind in KINDS:
        if same_text(typed, kind):
            return kind
    raise BadValue(
        "kind",
        "„Anfrageart“ ist kein Wert aus der Liste (" + ", ".join(KINDS) + "); "
        "Regeln für eine bestimmte Anfrageart gelten erst nach der Korrektur.",
    )


def status_is(row: Row, *statuses: str) -> bool:
    typed = text_in(row, "status")
    return any(same_text(typed, status) for status in statuses)


def numbered(requests: list[Row]) -> tuple[list[tuple[str, Row]], list[RowProblem]]:
    """Rows with a usable, unique Nr. Rows without one, and every row of a Nr. that occurs
    more than once, are left out and reported: the service finds rows by Nr. only.
    """
    problems: list[RowProblem] = []
    by_nr: dict[str, list[Row]] = {}
    for row in requests:
        nr = nr_of(row)
        if nr is None:
            problems.append(
                RowProblem(
                    None,
                    "nr",
                    f"Anfragen, {where(row)}: „Nr.“ fehlt; "
                    "für diese Zeile gibt es keine Fristen und Erinnerungen.",
                )
            )
        else:
            by_nr.setdefault(nr, []).append(row)
    good: list[tuple[str, Row]] = []
    for nr, rows in by_nr.items():
        if len(rows) == 1:
            good.append((nr, rows[0]))
        else:
            problems.append(
                RowProblem(
                    nr,
                    "nr",
                    f"Anfragen: Nr. {nr} steht {len(rows)}-mal im "
                    "Blatt; bitte doppelte Zeilen zusammenführen.",
                )
            )
    return good, problems
