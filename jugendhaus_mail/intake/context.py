"""What one intake cycle works with and what it reports: the context, the outcome of each
mail, and what intake knows about the requests already in the workbook."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from jugendhaus_mail.config import Settings
from jugendhaus_mail.intake.classify import SenderLookup
from jugendhaus_mail.intake.parse import ParsedMail
from jugendhaus_mail.notify.outbox import Outbox, PlannedMail
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.model import CellUpdate, Row, Snapshot
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workdays import WorkCalendar

_CASE_IN_SUBJECT = re.compile(r"\[(\d{4}-\d{4,6})\]")


class Outcome(StrEnum):
    """What became of one mail (stored in the state database by these values)."""

    REQUEST = "request"
    SET_ASIDE = "set_aside"
    DUPLICATE = "duplicate"
    RECOVERED = "recovered"
    REPLY = "reply"


OUTCOME_LABELS = {
    Outcome.REQUEST: "erfasst",
    Outcome.SET_ASIDE: "nicht erfasst",
    Outcome.DUPLICATE: "doppelt, nicht erfasst",
    Outcome.RECOVERED: "erfasst (nachgeholt)",
    Outcome.REPLY: "Antwort zu bestehender Anfrage",
}


@dataclass(frozen=True)
class MailResult:
    received: datetime
    outcome: Outcome
    nr: str | None = None
    kind: str | None = None
    rechtskreis: str | None = None
    reason: str | None = None


@dataclass
class IntakeReport:
    mails: list[MailResult] = field(default_factory=list)
    written: int = 0
    pending: int = 0
    waiting_reason: str | None = None
    planned: list[PlannedMail] = field(default_factory=list)  # mail sent (or planned) meanwhile


@dataclass(frozen=True)
class IntakeContext:
    settings: Settings
    calendar: WorkCalendar
    state: StateDB
    store: WorkbookStore
    now: datetime
    outbox: Outbox | None = None  # acknowledgements and Kinderschutz alerts; None sends nothing


class CaseIndex:
    """What intake needs to know about existing requests: who takes part in which case,
    and which mails started them, so that a reply is recognised as feedback."""

    # the request columns it reads (with `nr` and `service_key`, which every read keeps)
    COLUMNS = ("requester_email", "contact_person", "sgb2_contact", "last_feedback")

    def __init__(self, snapshot: Snapshot) -> None:
        by_role = {"IFK SGB II": "SGB II", "IFK SGB III": "SGB III", "JSB": "SGB VIII"}
        self.staff_rechtskreis: dict[str, str] = {}
        self.staff_names: dict[str, str] = {}  # e-mail -> Name in Mitarbeitende
        email_by_name: dict[str, str] = {}
        for person in snapshot.staff:
            email = str(person.get("email") or "").strip().lower()
            role = str(person.get("role") or "")
            rechtskreis = str(person.get("rechtskreis") or "").strip() or by_role.get(role, "")
            if email and rechtskreis:
                self.staff_rechtskreis[email] = rechtskreis
            if email and person.get("name"):
                self.staff_names.setdefault(email, str(person["name"]))
                email_by_name[str(person["name"]).strip().casefold()] = email
        self.email_by_name = email_by_name
        self.last_feedback: dict[str, object] = {}  # Nr. -> `Letzte Rückmeldung`, per request
        self.message_nrs: dict[str, str] = {}
        self.participants: dict[str, tuple[str, ...]] = {}  # Nr. -> addresses; none: unlisted
        self._emails: dict[str, str] = {}  # name as in a name column -> e-mail or ""
        self._senders: tuple[Mapping[str, str], SenderLookup] | None = None
        self._add_all(snapshot.requests)

    def _add_all(self, rows: Iterable[Row]) -> None:
        """`add` for every row with a Nr. (and no Message-ID): the same, without a call per
        row and cell (the whole request list is read each cycle)."""
        last_feedback, participants, emails = self.last_feedback, self.participants, self._emails
        for row in rows:
            number = row.get("nr")
            if not number:
                continue
            nr = str(number).strip()
            last_feedback[nr] = row.get("last_feedback")
            contact = str(row.get("contact_person") or "")
            sgb2 = str(row.get("sgb2_contact") or "")
            found = (
                str(row.get("requester_email") or "").strip().lower(),
                emails[contact] if contact in emails else self._email(contact),
                emails[sgb2] if sgb2 in emails else self._email(sgb2),
            )
            people = tuple(filter(None, found))
            if people:
                participants[nr] = people
            else:
                participants.pop(nr, None)

    def add(self, nr: str, row: Row, message_id: str | None = None) -> None:
        """Know a request, also one taken in during this cycle (a reply may follow at once)."""
        self.last_feedback[nr] = row.get("last_feedback")  # all intake reads of the row
        self.note_message(message_id, nr)
        found = (
            str(row.get("requester_email") or "").strip().lower(),
            self._email(row.get("contact_person")),
            self._email(row.get("sgb2_contact")),
        )
        people = tuple(filter(None, found))  # without "": a tuple, a third of a set's size
        if people:
            self.participants[nr] = people
        else:
            self.participants.pop(nr, None)

    def senders(self, ctx: IntakeContext) -> SenderLookup:
        """The staff sheet (as read here) and the domain map folded once for the run."""
        domains = ctx.settings.intake.rechtskreis_domains
        if self._senders is None or self._senders[0] is not domains:
            lookup = SenderLookup(domains, self.staff_rechtskreis, self.staff_names)
            self._senders = (domains, lookup)
        return self._senders[1]

    def _email(self, name: object) -> str:
        """The e-mail of a staff member named in a cell (few names, many rows: read once)."""
        text = str(name or "")
        email = self._emails.get(text)
        if email is None:
            email = self._emails[text] = self.email_by_name.get(text.strip().casefold(), "")
        return email

    def replied_case(self, parsed: ParsedMail, state: StateDB) -> str | None:
        for nr in _CASE_IN_SUBJECT.findall(parsed.subject):
            if nr in self.last_feedback or state.request_known(nr):
                return str(nr)
        for reference in parsed.references:
            if reference in self.message_nrs:
                return self.message_nrs[reference]
            seen = state.seen_message_id(reference)
            if seen is not None and seen.nr:
                return seen.nr
        return None

    def note_message(self, message_id: str | None, nr: str) -> None:
        """A mail of this run belongs to case `nr`: a reply to it in the same run (also in a
        dry run, which records nothing) is a reply, not a new request."""
        if message_id:
            self.message_nrs.setdefault(message_id, nr)

    def is_participant(self, nr: str, sender: str | None) -> bool:
        return bool(sender) and sender in self.participants.get(nr, ())

    def feedback_updates(
        self, pending: list[tuple[str, str, datetime]], calendar: WorkCalendar
    ) -> tuple[list[CellUpdate], list[str]]:
        """`Letzte Rückmeldung` moves forward to the newest feedback; returns the updates and
        the keys of the replies that are then accounted for."""
        newest: dict[str, date] = {}
        for _key, nr, received in pending:
            day = calendar.local_date(received)
            newest[nr] = max(day, newest.get(nr, day))
        updates = []
        for nr, day in newest.items():
            current = self.last_feedback.get(nr)
            current_day = current.date() if isinstance(current, datetime) else current
            if not isinstance(current_day, date) or day > current_day:
                updates.append(CellUpdate(nr, "last_feedback", day))
        return updates, [key for key, nr, _ in pending if nr in self.last_feedback]


_CASE_NUMBER = re.compile(r"^(\d{4})-(\d{4,6})$")


def highest_numbers(snapshot: Snapshot) -> dict[int, int]:
    """The highest case number of each year in `Anfragen` (Nr. as YYYY-NNNN)."""
    return highest_of(str(row.get("nr") or "") for row in snapshot.requests)


def highest_of(numbers: Iterable[str]) -> dict[int, int]:
    """The highest of each year among case numbers (YYYY-NNNN; others are ignored)."""
    highest: dict[int, int] = {}
    for nr in numbers:
        match = _CASE_NUMBER.match(nr.strip())
        if match:
            year, number = int(match[1]), int(match[2])
            highest[year] = max(highest.get(year, 0), number)
    return highest
