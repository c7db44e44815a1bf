"""Appointments of both sides per case: double invitations and invitations in the care period.

The agreement (section 3): "Vermieden werden sollen Doppeleinladungen", e.g. one side invites
for Monday and the other for Tuesday without either knowing. And (section 4): after a home
visit where the young person was met, SGB VIII cares for 4–6 weeks before the Jobcenter invites
again. Pure functions of (request rows, appointment rows, calendar, settings, now), like the
other rules; the caller sends each `Conflict.key` once.

Appointments come from the sheet `Termine` (typed by staff, or added from mailed invitations)
and from two request columns that count without being typed twice: `Hausbesuch geplant am`
(SGB VIII, Hausbesuch) and `Gemeinsame Fallberatung am` (SGB VIII, Fallberatung). A row of
`Termine` with `Abgesagt am` filled no longer counts.

Decisions:
- Two appointments conflict when they belong to the same case, to different sides (SGB II and
  SGB III are different Rechtskreise too), lie at most `double_invitation_working_days`
  working days apart, and the later one has not passed. Two entries at the very same time are
  one joint meeting typed by both sides, not a conflict.
- Finished cases (Abgeschlossen, Weitergeleitet, `Fallende am`) have no conflicts.
- The care period runs from the day after `Hausbesuch durchgeführt am` to `Betreuung SGB VIII
  bis` (see `cases.care_until`) while no `Nachgespräch am` is entered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import cases
from jugendhaus_mail.rules.model import (
    BadValue,
    RowProblem,
    filled,
    is_blank,
    nr_of,
    numbered,
    same_text,
    text_in,
    where,
)
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

SGB2, SGB3, SGB8 = "SGB II", "SGB III", "SGB VIII"
APPOINTMENT_SIDES = (SGB2, SGB3, SGB8)
DOUBLE = "appointment_conflict"
CARE = "appointment_care"
SHEET = "Termine"


@dataclass(frozen=True)
class Appointment:
    nr: str
    start: datetime  # office time, naive; an all-day entry starts at 00:00
    side: str  # one of APPOINTMENT_SIDES
    kind: str
    source: str  # Mail | Anfrageliste | von Hand

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def all_day(self) -> bool:
        """A date without a time (typed so, or an all-day invitation)."""
        return self.start.time() == time()

    @property
    def label(self) -> str:
        """What a mail may say about it: side and time, never content."""
        shown = f"{self.start:%d.%m.%Y}"
        if not self.all_day:
            shown += f", {self.start:%H:%M} Uhr"
        return f"{self.side}: {shown}"


@dataclass(frozen=True)
class Conflict:
    rule: str  # DOUBLE | CARE
    nr: str
    appointments: tuple[Appointment, ...]  # DOUBLE: both, earlier first; CARE: the invitation
    care_until: date | None = None

    @property
    def key(self) -> str:
        """Once per pair (or invitation and care period); a changed date makes a new key."""
        parts = [f"{a.side}@{a.start:%Y-%m-%dT%H:%M}" for a in self.appointments]
        if self.care_until is not None:
            parts.append(self.care_until.isoformat())
        return "|".join([self.nr, self.rule, *parts])

    @property
    def last_day(self) -> date:
        return max(a.day for a in self.appointments)


def read_appointments(
    requests: list[Row], rows: list[Row]
) -> tuple[list[Appointment], list[RowProblem]]:
    """Every appointment that counts, and the problems of rows that could not be read."""
    found: list[Appointment] = []
    problems: list[RowProblem] = []
    for row in rows:
        try:
            appointment = _from_sheet(row)
        except BadValue as bad:
            problems.append(RowProblem(nr_of(row), bad.column, f"{SHEET}, {where(row)}: {bad}"))
            continue
        if appointment is not None:
            found.append(appointment)
    good, _ = numbered(requests)  # the deadline rules report rows without a usable Nr.
    for nr, row in good:
        found += _from_request(nr, row)
    return found, problems


def conflicts(
    requests: list[Row],
    rows: list[Row],
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    now: datetime,
) -> tuple[list[Conflict], list[RowProblem]]:
    """Open conflicts, by case and date; `now` is office time (naive or aware)."""
    local_now = now.astimezone(calendar.tz).replace(tzinfo=None) if now.tzinfo else now
    appointments, problems = read_appointments(requests, rows)
    by_nr: dict[str, list[Appointment]] = {}
    for appointment in sorted(appointments, key=lambda a: (a.start, a.side)):
        by_nr.setdefault(appointment.nr, []).append(appointment)
    requests_by_nr = dict(numbered(requests)[0])
    found: list[Conflict] = []
    for nr, items in by_nr.items():
        request = requests_by_nr.get(nr)
        if request is not None and cases.is_finished(request):
            continue
        found += _doubles(nr, items, calendar, settings, local_now)
        if request is not None:
            found += _in_care_period(nr, items, request, calendar, settings, local_now, problems)
    found.sort(key=lambda c: (c.last_day, c.nr, c.key))
    return list(dict.fromkeys(found)), list(dict.fromkeys(problems))


def _doubles(
    nr: str,
    items: list[Appointment],
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    now: datetime,
) -> list[Conflict]:
    found = []
    for index, first in enumerate(items):
        for second in items[index + 1 :]:
            if first.side == second.side or first.start == second.start:
                continue
            if second.start < now:  # items are sorted: the later one has passed
                continue
            apart = abs(calendar.working_days_between(first.day, second.day))
            if apart <= settings.double_invitation_working_days:
                found.append(Conflict(DOUBLE, nr, (first, second)))
    return found


def _in_care_period(
    nr: str,
    items: list[Appointment],
    request: Row,
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    now: datetime,
    problems: list[RowProblem],
) -> list[Conflict]:
    if filled(request, "follow_up_talk"):
        return []
    notes: list[BadValue] = []
    try:
        until = cases.care_until(request, calendar, settings, notes)
        done = request.get("home_visit_done")
    except (BadValue, ValueError, OverflowError):
        return []  # the deadline rules report the unreadable cell
    if until is None or not isinstance(done, date):
        return []
    start = done.date() if isinstance(done, datetime) else done
    return [
        Conflict(CARE, nr, (item,), until)
        for item in items
        if item.side in (SGB2, SGB3) and start < item.day <= until and item.start >= now
    ]


def _from_sheet(row: Row) -> Appointment | None:
    if filled(row, "cancelled"):
        return None
    nr = nr_of(row)
    value = row.get("start")
    if nr is None:
        if is_blank(value):
            return None  # an empty line with a stray note: nothing to check
        raise BadValue("nr", "„Nr.“ fehlt; der Termin zählt erst mit der Nummer des Falls.")
    if is_blank(value):
        raise BadValue("start", "„Termin“ ist leer; bitte Datum und Uhrzeit eintragen.")
    if isinstance(value, datetime):
        start = value
    elif isinstance(value, date):
        start = datetime.combine(value, time())
    else:
        raise BadValue(
            "start",
            "„Termin“ enthält kein Datum, sondern Text oder eine Zahl. Bitte Datum und "
            "Uhrzeit eintragen (z. B. 09.11.2026 10:00); bis dahin zählt der Termin nicht.",
        )
    side = next((s for s in APPOINTMENT_SIDES if same_text(text_in(row, "side"), s)), None)
    if side is None:
        raise BadValue(
            "side",
            "„Seite“ ist leer oder kein Wert aus der Liste (SGB II, SGB III, SGB VIII); "
            "bis das korrigiert ist, zählt der Termin nicht.",
        )
    kind = text_in(row, "kind") or "Sonstiges"
    return Appointment(nr, start.replace(tzinfo=None), side, kind, text_in(row, "source"))


def _from_request(nr: str, row: Row) -> list[Appointment]:
    found = []
    for column, kind in (
        ("home_visit_planned", "Hausbesuch"),
        ("joint_consultation", "Fallberatung"),
    ):
        value = row.get(column)
        if isinstance(value, date):  # text in these cells is reported by the deadline rules
            start = value if isinstance(value, datetime) else datetime.combine(value, time())
            found.append(Appointment(nr, start.replace(tzinfo=None), SGB8, kind, "Anfrageliste"))
    return found
