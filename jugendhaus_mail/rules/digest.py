"""What the daily digest for the Teamleitungen and the Sachgebietsleitung contains.

Items carry only the case number, the request kind, a short label, the due date and the
responsible staff name: never the young person's name or anything from the mail. Every section
is sorted by urgency: most overdue first, then by due date, then by Nr.

"New" means received after `since` (the previous digest). Without a previous digest, requests
received since the start of the previous working day count as new, so the first digest of a new
installation does not list the whole workbook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import cases
from jugendhaus_mail.rules.absences import absences_on, read_absences
from jugendhaus_mail.rules.model import (
    BOTH,
    CONTACT_PERSON,
    GOALS_REVIEW,
    QUALITAETSDIALOG,
    SGB2,
    SGB8,
    BadValue,
    Duty,
    kind_of,
    numbered,
    text_in,
)
from jugendhaus_mail.rules.office import next_qualitaetsdialog
from jugendhaus_mail.rules.sprechzeiten import OfficeHours
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

SOON_WORKING_DAYS = 2
NEW_LABEL = "Neue Anfrage"
KINDERSCHUTZ_LABEL = "Meldung offen"


@dataclass(frozen=True)
class DigestItem:
    nr: str | None
    kind: str | None
    label: str
    due: date | None
    responsible: str  # staff name(s), or the side when nobody is named yet
    days_overdue: int = 0  # working days past the due date


@dataclass(frozen=True)
class AbsenceItem:
    name: str
    start: datetime
    end: datetime
    kind: str  # Geplant | Kurzfristig | ""


@dataclass(frozen=True)
class Digest:
    day: date
    overdue: tuple[DigestItem, ...]
    due_soon: tuple[DigestItem, ...]  # due today up to SOON_WORKING_DAYS working days ahead
    new: tuple[DigestItem, ...]
    without_contact: tuple[DigestItem, ...]
    absences_today: tuple[AbsenceItem, ...]
    next_qualitaetsdialog: tuple[date, str]  # due date, organising side
    kinderschutz: tuple[DigestItem, ...] = ()  # open Kinderschutz requests, shown first

    @property
    def has_news(self) -> bool:
        return bool(self.overdue or self.due_soon or self.new or self.without_contact
                    or self.absences_today or self.kinderschutz)  # fmt: skip


def is_digest_day(today: date, calendar: WorkCalendar) -> bool:
    """Working days only: never on weekends, public holidays or closed days."""
    return calendar.is_working_day(today)


def digest(
    requests: list[Row],
    staff: list[Row],
    absences: list[Row],
    duties: list[Duty],
    calendar: WorkCalendar,
    now: datetime,
    since: datetime | None,
    settings: DeadlineSettings,
    *,
    office_hours: OfficeHours | None = None,
) -> Digest:
    """`staff` is accepted for symmetry with the other rules; names come from the rows.
    `office_hours` as for `duties`: they end the day on which Kinderschutz is taken up."""
    del staff
    today = calendar.local_date(now)
    rows = dict(numbered(requests)[0])
    soon = calendar.add_working_days(today, SOON_WORKING_DAYS)
    items = [(duty, _item(duty, rows.get(duty.nr or ""), calendar, today)) for duty in duties]
    readable_absences, _ = read_absences(absences, calendar)
    return Digest(
        day=today,
        overdue=_sorted(item for duty, item in items if duty.due < today),
        due_soon=_sorted(item for duty, item in items if today <= duty.due <= soon),
        new=_sorted(
            _new_requests(
                rows, calendar, settings, _new_after(since, today, calendar), office_hours
            )
        ),
        without_contact=_sorted(item for duty, item in items if duty.rule == CONTACT_PERSON),
        absences_today=tuple(
            AbsenceItem(a.name, a.start, a.end, a.kind)
            for a in absences_on(today, readable_absences, calendar)
        ),
        next_qualitaetsdialog=next_qualitaetsdialog(today, calendar, settings),
        kinderschutz=_sorted(_open_kinderschutz(rows, calendar, settings, today, office_hours)),
    )


def _item(duty: Duty, row: Row | None, calendar: WorkCalendar, today: date) -> DigestItem:
    overdue = calendar.working_days_between(duty.due, today) if duty.due < today else 0
    return DigestItem(
        nr=duty.nr,
        kind=_kind(row),
        label=duty.label,
        due=duty.due,
        responsible=responsible_for(duty, row),
        days_overdue=overdue,
    )


def responsible_for(duty: Duty, row: Row | None) -> str:
    """Who has to act, as the digest and every reminder or escalation name them: the people
    entered in the row, else the side ("JSB", "SGB II"); never whoever receives the mail."""
    if duty.rule == QUALITAETSDIALOG:
        return f"Leitung {duty.side}"
    if duty.rule == GOALS_REVIEW:
        return "Leitungen SGB II und SGB VIII"
    names = []
    if duty.side in (SGB8, BOTH):
        names.append((text_in(row, "contact_person") if row else "") or "JSB")
    if duty.side in (SGB2, BOTH):
        sgb2 = (text_in(row, "sgb2_contact") or text_in(row, "requester_name")) if row else ""
        names.append(sgb2 or "SGB II")
    return " / ".join(names)


def _new_requests(
    rows: dict[str, Row],
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    after: datetime,
    office_hours: OfficeHours | None,
) -> list[DigestItem]:
    found = []
    for nr, row in rows.items():
        received = _received(row, calendar)
        if received is None or received <= after:
            continue
        due = _contact_due(row, calendar, settings, office_hours)
        responsible = text_in(row, "contact_person")
        found.append(DigestItem(nr, _kind(row), NEW_LABEL, due, responsible))
    return found


def _open_kinderschutz(
    rows: dict[str, Row],
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    today: date,
    office_hours: OfficeHours | None,
) -> list[DigestItem]:
    """Every Kinderschutz request not yet closed, whether or not a contact person is named:
    the leaders follow it until the report to the ASD is done."""
    found = []
    for nr, row in rows.items():
        if _kind(row) != "Kinderschutz" or cases.is_finished(row):
            continue
        due = _contact_due(row, calendar, settings, office_hours)
        responsible = text_in(row, "contact_person")
        late = due is not None and due < today and not responsible  # not yet taken up
        overdue = calendar.working_days_between(due, today) if due and late else 0
        responsible = responsible or "JSB"
        found.append(DigestItem(nr, "Kinderschutz", KINDERSCHUTZ_LABEL, due, responsible, overdue))
    return found


def _contact_due(
    row: Row, calendar: WorkCalendar, settings: DeadlineSettings, office_hours: OfficeHours | None
) -> date | None:
    """`Frist Ansprechpartner`, None where a cell staff typed cannot be read."""
    try:
        return cases.contact_due(row, calendar, settings, office_hours)
    except (BadValue, ValueError, OverflowError):
        return None


def _new_after(since: datetime | None, today: date, calendar: WorkCalendar) -> datetime:
    """The local, naive moment after which a receipt counts as new."""
    if since is not None:
        return since.astimezone(calendar.tz).replace(tzinfo=None)
    return datetime.combine(calendar.previous_working_day(today, include_today=False), time())


def _received(row: Row, calendar: WorkCalendar) -> datetime | None:
    value = row.get("received")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(calendar.tz).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return None


def _kind(row: Row | None) -> str | None:
    if row is None:
        return None
    try:
        return kind_of(row)
    except BadValue:
        return None


def _sorted(items: Iterable[DigestItem]) -> tuple[DigestItem, ...]:
    return tuple(sorted(items, key=_urgency))


def _urgency(item: DigestItem) -> tuple[int, date, str, str]:
    return (-item.days_overdue, item.due or date.max, item.nr or "", item.label)
