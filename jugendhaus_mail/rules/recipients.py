"""Who gets a notice: people from the sheet `Mitarbeitende`, by name from the row or by role.

Only staff with an e-mail address and `Aktiv` not "Nein" receive mail (an empty `Aktiv` counts
as active, so a newly added colleague is not silently skipped). The one exception is the
requester of a case: an IFK who is not listed in `Mitarbeitende` at all is still written to at
the address the request came from; one listed as inactive is not.

Reminder and due-day notices go to the side(s) whose duty it is: the SGB VIII side is the
`Ansprechpartner JSB` named in the row, otherwise every active JSB; the SGB II side is the
`Ansprechpartner SGB II` named in the row, otherwise the requester. Escalations go to the
Sachgebietsleitung(en) and, for duties of the SGB II side or both sides, to the requester's
Teamleitung; the people the reminder went to are in cc.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from jugendhaus_mail.rules.model import (
    BOTH,
    GOALS_REVIEW,
    QUALITAETSDIALOG,
    SGB2,
    SGB8,
    Duty,
    same_text,
    text_in,
)
from jugendhaus_mail.rules.stages import ESCALATION, Notice
from jugendhaus_mail.workbook.model import Row

JSB = "JSB"
TEAMLEITUNG = "Teamleitung"
SACHGEBIETSLEITUNG = "Sachgebietsleitung"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Recipients:
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    missing: tuple[str, ...]  # German: who should have got it but could not be found


@dataclass(frozen=True)
class _Entry:
    person: Person
    role: str
    rechtskreis: str
    team_lead: str
    reachable: bool  # active and with a usable e-mail address


class _Directory:
    def __init__(self, staff: list[Row]) -> None:
        self.entries = [_entry(row) for row in staff if text_in(row, "name")]

    def by_name(self, name: str) -> _Entry | None:
        return _best(e for e in self.entries if same_text(e.person.name, name))

    def by_email(self, email: str) -> _Entry | None:
        return _best(e for e in self.entries if same_text(e.person.email, email))

    def by_role(self, role: str, rechtskreis: str | None = None) -> list[Person]:
        return [
            e.person
            for e in self.entries
            if e.reachable
            and same_text(e.role, role)
            and (rechtskreis is None or same_text(e.rechtskreis, rechtskreis))
        ]


def recipients(notice: Notice, row: Row | None, staff: list[Row]) -> Recipients:
    directory = _Directory(staff)
    missing: list[str] = []
    responsible = _responsible(notice.duty, row, directory, missing)
    if notice.stage != ESCALATION:
        return _result(responsible, [], missing)
    leads = _roles(directory, [(SACHGEBIETSLEITUNG, None)], missing)
    if notice.duty.nr is not None and notice.duty.side in (SGB2, BOTH):
        leads += _requester_team_lead(row, directory, missing)
    if not leads:
        missing.append("Die Eskalation geht deshalb nur an die bisher Zuständigen.")
        return _result(responsible, [], missing)
    return _result(leads, responsible, missing)


def _responsible(
    duty: Duty, row: Row | None, directory: _Directory, missing: list[str]
) -> list[Person]:
    if duty.rule == QUALITAETSDIALOG and duty.side == SGB2:
        return _roles(directory, [(TEAMLEITUNG, SGB2)], missing)
    if duty.rule == QUALITAETSDIALOG:
        return _roles(directory, [(SACHGEBIETSLEITUNG, None), (TEAMLEITUNG, SGB8)], missing)
    if duty.rule == GOALS_REVIEW:
        return _roles(directory, [(TEAMLEITUNG, None), (SACHGEBIETSLEITUNG, None)], missing)
    people: list[Person] = []
    if duty.side in (SGB8, BOTH):
        people += _sgb8_side(row, directory, missing)
    if duty.side in (SGB2, BOTH):
        people += _sgb2_side(row, directory, missing)
    return people


def _sgb8_side(row: Row | None, directory: _Directory, missing: list[str]) -> list[Person]:
    name = text_in(row, "contact_person") if row else ""
    if name:
        person = _named(directory, name, "Ansprechpartner JSB", missing)
        if person is not None:
            return [person]
    return _roles(directory, [(JSB, None)], missing)


def _sgb2_side(row: Row | None, directory: _Directory, missing: list[str]) -> list[Person]:
    name = text_in(row, "sgb2_contact") if row else ""
    if name:
        person = _named(directory, name, "Ansprechpartner SGB II", missing)
        if person is not None:
            return [person]
    requester = _requester(row, directory, missing)
    return [requester] if requester else []


def _requester(row: Row | None, directory: _Directory, missing: list[str]) -> Person | None:
    email = text_in(row, "requester_email") if row else ""
    if not row or not _EMAIL.fullmatch(email):
        missing.append(
            "Für die SGB-II-Seite ist weder „Ansprechpartner SGB II“ eingetragen noch eine "
            "gültige E-Mail-Adresse der anfragenden Person vorhanden."
        )
        return None
    entry = directory.by_email(email)
    if entry is None:
        return Person(text_in(row, "requester_name") or email, email)
    if not entry.reachable:
        missing.append(
            f"Die anfragende Person ({entry.person.name}) ist im Blatt Mitarbeitende nicht aktiv; "
            "bitte „Ansprechpartner SGB II“ eintragen."
        )
        return None
    return entry.person


def _requester_team_lead(
    row: Row | None, directory: _Directory, missing: list[str]
) -> list[Person]:
    email = text_in(row, "requester_email") if row else ""
    entry = directory.by_email(email) if email else None
    if entry is None:
        missing.append(
            "Die anfragende Person steht nicht im Blatt Mitarbeitende; ihre Teamleitung ist "
            "unbekannt und bekommt keine Eskalation."
        )
        return []
    if not entry.team_lead:
        missing.append(
            f"Für {entry.person.name} ist im Blatt Mitarbeitende keine Teamleitung eingetragen."
        )
        return []
    lead = _named(directory, entry.team_lead, "Teamleitung", missing)
    return [lead] if lead else []


def _named(directory: _Directory, name: str, what: str, missing: list[str]) -> Person | None:
    entry = directory.by_name(name)
    if entry is not None and entry.reachable:
        return entry.person
    why = "steht nicht" if entry is None else "ist nicht aktiv oder ohne E-Mail-Adresse"
    missing.append(f"{what} „{name}“ {why} im Blatt Mitarbeitende.")
    return None


def _roles(
    directory: _Directory, wanted: list[tuple[str, str | None]], missing: list[str]
) -> list[Person]:
    """Everyone with one of the (role, Rechtskreis) pairs; one note when nobody has any."""
    people = [p for role, rechtskreis in wanted for p in directory.by_role(role, rechtskreis)]
    if not people:
        described = " oder ".join(
            role + (f" und Rechtskreis {rechtskreis}" if rechtskreis else "")
            for role, rechtskreis in wanted
        )
        missing.append(f"Kein aktiver Eintrag mit Rolle {described} im Blatt Mitarbeitende.")
    return people


def _result(to: list[Person], cc: list[Person], missing: list[str]) -> Recipients:
    to_unique = _unique(to)
    seen = {p.email.casefold() for p in to_unique}
    cc_unique = tuple(p for p in _unique(cc) if p.email.casefold() not in seen)
    return Recipients(to_unique, cc_unique, tuple(dict.fromkeys(missing)))


def _unique(people: list[Person]) -> tuple[Person, ...]:
    seen: set[str] = set()
    out = []
    for person in people:
        if person.email.casefold() not in seen:
            seen.add(person.email.casefold())
            out.append(person)
    return tuple(out)


def _best(entries: Iterable[_Entry]) -> _Entry | None:
    """A reachable entry wins over an old inactive one of the same name or address."""
    found = list(entries)
    return next((e for e in found if e.reachable), found[0] if found else None)


def _entry(row: Row) -> _Entry:
    email = text_in(row, "email")
    active = not same_text(text_in(row, "active"), "Nein")
    return _Entry(
        person=Person(text_in(row, "name"), email),
        role=text_in(row, "role"),
        rechtskreis=text_in(row, "rechtskreis"),
        team_lead=text_in(row, "team_lead"),
        reachable=active and bool(_EMAIL.fullmatch(email)),
    )
