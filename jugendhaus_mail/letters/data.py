"""What a letter shows, taken from one request row, the sheet `Mitarbeitende` and the config.

Every value a letter needs is checked here. A missing or unreadable one raises
`LetterDataMissing`, whose message names the column (or config key) to fill and never quotes
the young person's data, so it is safe for logs. The values handed to the template are plain
strings, lists of strings, and contact records; README.md in templates/letters documents them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.letters import KINDS, TITLES
from jugendhaus_mail.letters import wording as w
from jugendhaus_mail.rules.model import BadValue, date_in, is_blank, numbered, same_text, text_in
from jugendhaus_mail.rules.sprechzeiten import next_office_hour
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

# An invitation goes by post: its example Sprechzeit lies at least this many working days ahead.
POST_WORKING_DAYS = 2
STAFF_SHEET = "Mitarbeitende"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

HEADERS = {
    "nr": "Nr.",
    "client_name": "Name junger Mensch",
    "address": "Anschrift",
    "contact_person": "Ansprechpartner JSB",
    "home_visit_planned": "Hausbesuch geplant am",
    "home_visit_staff": "Hausbesuch durch",
    "home_visit_done": "Hausbesuch durchgeführt am",
}


class LetterError(JugendhausError):
    """A letter cannot be made; the message says what to do."""


class LetterDataMissing(LetterError):
    """A value the letter needs is missing or unreadable; `column` names where to fill it."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Contact:
    """A member of staff as a letter shows them; `phone` falls back to the office's phone."""

    name: str
    phone: str
    email: str = ""


@dataclass(frozen=True)
class Letter:
    kind: str
    nr: str
    context: dict[str, object] = field(default_factory=dict)
    warning: str = ""  # for staff, never in the letter: e.g. a home visit announced too late

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    @property
    def filename(self) -> str:
        return f"{re.sub(r'[^A-Za-z0-9._-]', '_', self.nr)}-{self.kind}.docx"


def find_request(requests: list[Row], nr: str) -> Row:
    """The one row with this Nr.; an unknown or doubled Nr. is a LetterDataMissing."""
    wanted = nr.strip()
    rows, _ = numbered(requests)
    for found, row in rows:
        if found == wanted:
            return row
    if any(text_in(r, "nr") == wanted for r in requests):
        raise LetterDataMissing(
            "nr",
            f"Nr. {wanted} steht mehrfach in der Anfrageliste; bitte die Zeilen zusammenführen.",
        )
    raise LetterDataMissing(
        "nr",
        f"Nr. {wanted} steht nicht in der Anfrageliste (Spalte „Nr.“); bitte die Nummer prüfen.",
    )


def build_letter(
    kind: str,
    row: Row,
    staff_rows: list[Row],
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
) -> Letter:
    """All values of letter `kind` for `row`, or LetterDataMissing naming what to fill."""
    if kind not in KINDS:
        raise LetterError(f"Unbekannte Briefart „{kind}“; erlaubt: {', '.join(KINDS)}.")
    nr = text_in(row, "nr")
    context = _common(nr, row, settings, calendar, now)
    if kind == "hausbesuch":
        planned = planned_visit(nr, row)
        visitors = visiting_staff(nr, row, staff_rows, settings)
        context.update(
            visit_date=w.weekday_date(planned.date()),
            visit_time=w.clock(planned.time()),
            visit_staff=[asdict(v) for v in visitors],
            visit_staff_names=w.join_german([v.name for v in visitors]),
            contact=asdict(_contact(nr, row, staff_rows, settings, visitors)),
        )
        warning = short_notice(nr, planned, settings, calendar, now)
        return Letter(kind, nr, _scrubbed(context), warning)
    elif kind == "nicht-angetroffen":
        visitors = _optional_visitors(nr, row, staff_rows, settings)
        context.update(
            visit_date=w.weekday_date(visit_day(nr, row)),
            contact=asdict(_contact(nr, row, staff_rows, settings, visitors)),
        )
    else:
        context.update(
            contact=asdict(_contact(nr, row, staff_rows, settings, [])),
            next_office_hours=_next_office_hours(settings, calendar, now),
        )
    return Letter(kind, nr, _scrubbed(context))


def short_notice(
    nr: str, planned: datetime, settings: Settings, calendar: WorkCalendar, now: datetime
) -> str:
    """A warning when the visit is fewer than `[letters] notice_working_days` working days
    after the letter's date: by post the announcement may arrive after the visit."""
    needed = settings.letters.notice_working_days
    letter_day = calendar.local_date(now)
    between = calendar.working_days_between(letter_day, planned.date())
    if between >= needed:
        return ""
    days = "Arbeitstag" if between == 1 else "Arbeitstage"
    return (
        f"Achtung: Der Hausbesuch zu Nr. {nr} am {w.weekday_date(planned.date())} liegt nur "
        f"{max(between, 0)} {days} nach dem Briefdatum {w.german_date(letter_day)} (nötig sind "
        f"{needed}). Per Post kommt die Ankündigung womöglich zu spät an. Bitte den Termin "
        "verschieben oder den jungen Menschen zusätzlich anrufen."
    )


def planned_visit(nr: str, row: Row) -> datetime:
    """`Hausbesuch geplant am` with a time of day (a visit at 00:00 means none was typed)."""
    column = HEADERS["home_visit_planned"]
    value = row.get("home_visit_planned")
    if is_blank(value):
        raise _missing(
            nr, "home_visit_planned", "bitte Datum und Uhrzeit des Hausbesuchs eintragen"
        )
    if not isinstance(value, datetime | date):
        raise LetterDataMissing(
            "home_visit_planned",
            f"Nr. {nr}: „{column}“ enthält kein Datum; bitte Datum und Uhrzeit eintragen "
            "(z. B. 24.03.2026 10:00).",
        )
    if not isinstance(value, datetime) or value.time() == time(0, 0):
        raise LetterDataMissing(
            "home_visit_planned",
            f"Nr. {nr}: „{column}“ hat keine Uhrzeit; bitte Datum und Uhrzeit eintragen "
            "(z. B. 24.03.2026 10:00).",
        )
    return value


def visit_day(nr: str, row: Row) -> date:
    """The day of the visit: `Hausbesuch durchgeführt am`, else the day it was planned for."""
    try:
        done = date_in(row, "home_visit_done")
    except BadValue as exc:  # its message names the column, never the content
        raise LetterDataMissing("home_visit_done", f"Nr. {nr}: {exc.message}") from None
    if done is not None:
        return done
    planned = row.get("home_visit_planned")
    if isinstance(planned, datetime | date):
        return planned.date() if isinstance(planned, datetime) else planned
    raise _missing(nr, "home_visit_done", "bitte den Tag des Hausbesuchs eintragen")


def visiting_staff(nr: str, row: Row, staff_rows: list[Row], settings: Settings) -> list[Contact]:
    names = w.split_names(text_in(row, "home_visit_staff"))
    if not names:
        what = f"bitte eintragen, wer den Hausbesuch macht (Namen wie im Blatt {STAFF_SHEET})"
        raise _missing(nr, "home_visit_staff", what)
    return [staff_contact(nr, "home_visit_staff", name, staff_rows, settings) for name in names]


def staff_contact(
    nr: str, column: str, name: str, staff_rows: list[Row], settings: Settings
) -> Contact:
    """Name and phone of an active member of staff, found by name in `Mitarbeitende`."""
    for person in staff_rows:
        if same_text(text_in(person, "name"), name) and not same_text(
            text_in(person, "active"), "Nein"
        ):
            phone = text_in(person, "phone") or settings.office.phone.strip()
            if not phone:
                raise LetterDataMissing(
                    "phone",
                    f"Nr. {nr}: für „{name}“ fehlt die Telefonnummer; bitte im Blatt {STAFF_SHEET} "
                    "die Spalte „Telefon“ füllen oder in der Konfiguration [office] phone setzen.",
                )
            return Contact(text_in(person, "name"), w.unbreakable(phone), text_in(person, "email"))
    raise LetterDataMissing(
        column,
        f"Nr. {nr}: „{HEADERS[column]}“ nennt „{name}“; dieser Name steht nicht als aktive Person "
        f"im Blatt {STAFF_SHEET}; bitte den Namen so schreiben wie dort.",
    )


def _optional_visitors(
    nr: str, row: Row, staff_rows: list[Row], settings: Settings
) -> list[Contact]:
    if not text_in(row, "home_visit_staff") or text_in(row, "contact_person"):
        return []
    return visiting_staff(nr, row, staff_rows, settings)


def _contact(
    nr: str, row: Row, staff_rows: list[Row], settings: Settings, visitors: list[Contact]
) -> Contact:
    """`Ansprechpartner JSB`; without one, the first visiting member of staff."""
    name = text_in(row, "contact_person")
    if name:
        return staff_contact(nr, "contact_person", name, staff_rows, settings)
    if visitors:
        return visitors[0]
    raise _missing(nr, "contact_person", "bitte den Ansprechpartner eintragen")


def _common(
    nr: str, row: Row, settings: Settings, calendar: WorkCalendar, now: datetime
) -> dict[str, object]:
    office = settings.office
    name = text_in(row, "client_name")
    if not name:
        raise _missing(nr, "client_name", "bitte den Namen des jungen Menschen eintragen")
    raw_address = str(row.get("address") or "").strip()
    if not raw_address:
        raise _missing(nr, "address", "bitte die Postanschrift eintragen (Straße Nr., PLZ Ort)")
    lines = w.address_lines(raw_address)
    if not w.has_postcode(lines):
        raise LetterDataMissing(
            "address",
            f"Nr. {nr}: in „{HEADERS['address']}“ fehlt die Postleitzahl; bitte die vollständige "
            "Postanschrift eintragen (Straße Nr., PLZ Ort).",
        )
    if w.window_lines(name, lines) > w.WINDOW_LINES:
        raise LetterDataMissing(
            "address",
            f"Nr. {nr}: Name und „{HEADERS['address']}“ passen nicht ins Sichtfenster des "
            f"Umschlags (höchstens {w.WINDOW_LINES} Zeilen zu etwa {w.WINDOW_LINE_CHARS} "
            "Zeichen); die letzten Zeilen mit dem Ort wären abgeschnitten. Bitte die Anschrift "
            "kürzen, z. B. Zusätze wie Aufgang oder Etage weglassen.",
        )
    hours = w.office_hours_text(office.office_hours)
    if not hours:
        raise LetterDataMissing(
            "office_hours",
            "In der Konfiguration sind keine Sprechzeiten eingetragen; bitte "
            '[office.office_hours] füllen (z. B. mo = ["07:30-12:30"]).',
        )
    return {
        "office_name": office.name,
        "office_phone": w.unbreakable(office.phone.strip()),
        "letterhead": [line for line in office.letterhead if line.strip()] or [office.name],
        "return_address": w.return_address(office.name, office.letterhead),
        "date": w.german_date(calendar.local_date(now)),
        "nr": nr,
        "client_name": name,
        "address_lines": lines,
        "office_hours": hours,
        "office_hours_by_appointment": w.by_appointment_text(office.office_hours),
    }


def _next_office_hours(settings: Settings, calendar: WorkCalendar, now: datetime) -> str:
    """A Sprechzeit the letter can still reach in time: from the POST_WORKING_DAYS-th working
    day on (a letter needs a day or two in the post)."""
    first_day = calendar.add_working_days(calendar.local_date(now), POST_WORKING_DAYS)
    start = datetime.combine(first_day, time(0, 0), tzinfo=calendar.tz)
    period = next_office_hour(start, calendar, settings.office.office_hours)
    if period is None:  # unreachable while office_hours_text is non-empty; kept for safety
        raise LetterDataMissing(
            "office_hours", "Keine Sprechzeit im nächsten Jahr; bitte [office.office_hours] prüfen."
        )
    begin, end = period
    return f"{w.weekday_date(begin.date())}, {w.clock(begin.time())}–{w.clock(end.time())} Uhr"


def _scrubbed(value: Any) -> Any:
    """Control characters out of every text: docxtpl turns some into page or paragraph breaks,
    and most are not allowed in the document's XML at all."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    return value


def _missing(nr: str, column: str, what: str) -> LetterDataMissing:
    return LetterDataMissing(column, f"Nr. {nr}: „{HEADERS[column]}“ ist leer; {what}.")
