"""The half-year figures: pure functions from workbook rows (and sent-mail keys) to numbers.

Nothing here reads a file or a clock. `as_of` is the day the report is made; the Stichtag
(reference day) is the period's last day, or `as_of` while the period is still running.

Definitions (also printed in the report, see `summary.DEFINITIONS`):
- Requests are counted by the local calendar day of `Eingang`.
- Contact person, home visits and Kinderschutz follow the requests received in the period
  (a cohort): a contact person named after the period's end still counts for its request.
  Working days are those of the office calendar, counted from the day after receipt (§ 187 BGB):
  a contact person named on the 5th working day after receipt is "within 5 working days".
- A request without a contact person whose deadline has passed by `as_of` counts as "not within";
  one whose deadline is still ahead is left out. A request with a contact person entered but no
  date in `Ansprechpartner mitgeteilt am` is left out (and counted).
- A joint case is a row for which `rules.is_joint_case` holds, or an ended case with both a
  `Beendigungsgrund` and a date of the joint consultation (staff may set the status to
  "Abgeschlossen" at the end). Started: joint consultation in the period; running: started on or
  before the Stichtag and not ended before or on it; ended: `Fallende am` in the period.
- Feedback within the interval, for the joint cases running on the Stichtag: the later of the
  joint consultation and `Letzte Rückmeldung` (as far as on or before the Stichtag), plus the
  case's interval (`Rückmeldeintervall (Wochen)`, else the configured default), moved back to a
  working day (exactly how `Nächste Rückmeldung fällig` is computed), lies on or after the
  Stichtag. The sheet keeps only the latest feedback: when that lies after the Stichtag, the
  state on the Stichtag is known only if the consultation alone covers the Stichtag; otherwise
  the case is counted as "not determinable" and left out of the share.
- Reminders and escalations are the notices the service sent in the period (by the day they
  were sent), from the state database's outbox keys "Nr.|rule|stage|due date".

Messy rows never stop the report: a cell that is needed but cannot be read leaves the row out of
that figure, and the reason is counted in `Figures.skipped` (by column, never by content).

Why one module: the definitions above are printed in the report as one text; the functions that
implement them stand beside them so that a reader can hold one against the other.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from jugendhaus_mail.report.period import Month, Period
from jugendhaus_mail.rules.cases import is_joint_case, received_day
from jugendhaus_mail.rules.model import (
    KINDS,
    MET,
    BadValue,
    date_in,
    filled,
    int_in,
    same_text,
    text_in,
)
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

RECHTSKREISE = ("SGB II", "SGB III", "SGB VIII", "extern")
END_REASONS = ("Ziele erreicht", "Keine Ziele mehr", "Junger Mensch lehnt ab")
NOT_MET = "Nicht angetroffen"
UNKNOWN = "ohne gültige Angabe"
NOTICE_STAGES = ("reminder", "due", "escalation")
PLAUSIBLE = (date(2000, 1, 1), date(2099, 12, 31))  # a date outside is a typo, not a fact
MAX_SPAN_DAYS = 366  # a contact person or home visit a year after receipt: a typo in the year
OFFICE_KEY = "-"  # Nr. part of the keys of office-wide notices (Qualitätsdialog, goals review)
HEADERS = {  # German headers for the skip reasons (workbook_schema/anfrageliste.toml)
    "received": "Eingang",
    "contact_notified": "Ansprechpartner mitgeteilt am",
    "home_visit_done": "Hausbesuch durchgeführt am",
    "joint_consultation": "Gemeinsame Fallberatung am",
    "case_end": "Fallende am",
    "last_feedback": "Letzte Rückmeldung",
}


@dataclass(frozen=True)
class Share:
    hits: int
    total: int

    @property
    def percent(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.hits / self.total


@dataclass(frozen=True)
class Rules:
    """The deadlines the figures measure against (from `[deadlines]`)."""

    contact_days: int = 5
    home_visit_days: int = 10
    feedback_weeks: int = 4


@dataclass(frozen=True)
class SentNotice:
    """One row of the outbox: its key and when it was sent (None: still queued)."""

    key: str
    sent_at: datetime | None


@dataclass
class RequestFigures:
    total: int = 0
    by_month_rechtskreis: dict[Month, Counter[str]] = field(default_factory=dict)
    by_month_kind: dict[Month, Counter[str]] = field(default_factory=dict)
    by_rechtskreis: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def kinderschutz(self) -> int:
        return self.by_kind["Kinderschutz"]


@dataclass
class ContactFigures:
    days: list[int] = field(default_factory=list)  # working days to naming, per named request
    within: Share = Share(0, 0)
    open_overdue: int = 0  # no contact person yet, deadline passed
    pending: int = 0  # no contact person yet, deadline still ahead
    without_date: int = 0  # contact person entered, but no date of the notice

    @property
    def median(self) -> float | None:
        return float(statistics.median(self.days)) if self.days else None


@dataclass
class HomeVisitFigures:
    requests: int = 0
    done: int = 0
    within: Share = Share(0, 0)
    open_overdue: int = 0
    met: int = 0
    not_met: int = 0
    without_result: int = 0  # carried out, no Ergebnis entered


@dataclass
class JointCaseFigures:
    started: int = 0
    running: int = 0
    ended: Counter[str] = field(default_factory=Counter)  # by Beendigungsgrund
    feedback: Share = Share(0, 0)
    feedback_unknown: int = 0


@dataclass
class NoticeFigures:
    reminders: Counter[str] = field(default_factory=Counter)  # by rule, reminder + due day
    escalations: Counter[str] = field(default_factory=Counter)  # by rule


@dataclass
class Figures:
    period: Period
    as_of: date
    requests: RequestFigures
    contact: ContactFigures
    home_visits: HomeVisitFigures
    joint: JointCaseFigures
    notices: NoticeFigures | None  # None: no state database available
    skipped: Counter[str]  # German reason (names the column) -> number of rows

    @property
    def reference_day(self) -> date:
        return min(self.period.end, self.as_of)


def compute_figures(
    rows: Iterable[Row],
    calendar: WorkCalendar,
    period: Period,
    as_of: date,
    rules: Rules | None = None,
    sent: Iterable[SentNotice] | None = None,
) -> Figures:
    rows, rules = list(rows), rules or Rules()
    skipped: Counter[str] = Counter()
    received = _received_in(rows, calendar, period, skipped)
    return Figures(
        period=period,
        as_of=as_of,
        requests=request_figures(received, period),
        contact=contact_figures(received, calendar, as_of, rules.contact_days, skipped),
        home_visits=home_visit_figures(received, calendar, as_of, rules.home_visit_days, skipped),
        joint=joint_case_figures(rows, calendar, period, as_of, rules.feedback_weeks, skipped),
        notices=None if sent is None else notice_figures(sent, calendar, period),
        skipped=skipped,
    )


# --- requests ---------------------------------------------------------------------------------


def _received_in(
    rows: list[Row], calendar: WorkCalendar, period: Period, skipped: Counter[str]
) -> list[tuple[Row, date]]:
    found = []
    for row in rows:
        try:
            day = received_day(row, calendar)
        except BadValue:
            day = None
        if day is not None and not PLAUSIBLE[0] <= day <= PLAUSIBLE[1]:
            day = None
        if day is None:
            skipped[f"„{HEADERS['received']}“ fehlt oder ist kein Datum"] += 1
        elif period.contains(day):
            found.append((row, day))
    return found


def request_figures(received: list[tuple[Row, date]], period: Period) -> RequestFigures:
    figures = RequestFigures(
        by_month_rechtskreis={m: Counter() for m in period.months()},
        by_month_kind={m: Counter() for m in period.months()},
    )
    for row, day in received:
        month = (day.year, day.month)
        rechtskreis, kind = _listed(row, "rechtskreis", RECHTSKREISE), _listed(row, "kind", KINDS)
        figures.total += 1
        figures.by_rechtskreis[rechtskreis] += 1
        figures.by_kind[kind] += 1
        figures.by_month_rechtskreis[month][rechtskreis] += 1
        figures.by_month_kind[month][kind] += 1
    return figures


def _listed(row: Row, column: str, values: tuple[str, ...]) -> str:
    typed = text_in(row, column)
    return next((v for v in values if same_text(typed, v)), UNKNOWN)


# --- contact person ---------------------------------------------------------------------------


def contact_figures(
    received: list[tuple[Row, date]],
    calendar: WorkCalendar,
    as_of: date,
    limit: int,
    skipped: Counter[str],
) -> ContactFigures:
    figures = ContactFigures()
    hits = total = 0
    for row, day in received:
        notified = _day(row, "contact_notified", skipped)
        if notified is _UNREADABLE:
            continue
        if isinstance(notified, date):
            days = _span(calendar, day, notified, "contact_notified", skipped)
            if days is None:
                continue
            figures.days.append(days)
            hits, total = hits + (days <= limit), total + 1
        elif filled(row, "contact_person"):
            figures.without_date += 1
        elif calendar.add_working_days(day, limit) < as_of:
            figures.open_overdue += 1
            total += 1
        else:
            figures.pending += 1
    figures.within = Share(hits, total)
    return figures


# --- home visits ------------------------------------------------------------------------------


def home_visit_figures(
    received: list[tuple[Row, date]],
    calendar: WorkCalendar,
    as_of: date,
    limit: int,
    skipped: Counter[str],
) -> HomeVisitFigures:
    figures = HomeVisitFigures()
    hits = total = 0
    for row, day in received:
        if _listed(row, "kind", KINDS) != "Hausbesuch":
            continue
        figures.requests += 1
        result = text_in(row, "home_visit_result")
        figures.met += same_text(result, MET)
        figures.not_met += same_text(result, NOT_MET)
        done = _day(row, "home_visit_done", skipped)
        if done is _UNREADABLE or isinstance(done, date):
            figures.done += 1  # "erledigt" typed in counts as done; its timing is unknown
            figures.without_result += not result
        if isinstance(done, date):
            days = _span(calendar, day, done, "home_visit_done", skipped)
            if days is None:
                continue
            hits, total = hits + (days <= limit), total + 1
        elif done is None and calendar.add_working_days(day, limit) < as_of:
            figures.open_overdue += 1
            total += 1
    figures.within = Share(hits, total)
    return figures


# --- joint cases and feedback -----------------------------------------------------------------


def joint_case_figures(
    rows: list[Row],
    calendar: WorkCalendar,
    period: Period,
    as_of: date,
    default_weeks: int,
    skipped: Counter[str],
) -> JointCaseFigures:
    figures = JointCaseFigures()
    stichtag = min(period.end, as_of)
    hits = total = 0
    for row in rows:
        if not _is_joint(row):
            continue
        start, ended = _day(row, "joint_consultation", skipped), _day(row, "case_end", skipped)
        if start is None:
            skipped[f"gemeinsamer Fall ohne „{HEADERS['joint_consultation']}“"] += 1
        if not isinstance(start, date) or ended is _UNREADABLE:
            continue
        end = ended if isinstance(ended, date) else None
        figures.started += period.contains(start)
        if end is not None and period.contains(end):
            figures.ended[_listed(row, "end_reason", END_REASONS)] += 1
        if start <= stichtag and (end is None or end > stichtag):
            figures.running += 1
            kept = _feedback_kept(row, start, stichtag, calendar, default_weeks, skipped)
            if kept is None:
                figures.feedback_unknown += 1
            else:
                hits, total = hits + kept, total + 1
    figures.feedback = Share(hits, total)
    return figures


def _is_joint(row: Row) -> bool:
    ended_joint_case = filled(row, "end_reason") and filled(row, "joint_consultation")
    return is_joint_case(row) or ended_joint_case


def _feedback_kept(
    row: Row,
    start: date,
    stichtag: date,
    calendar: WorkCalendar,
    default_weeks: int,
    skipped: Counter[str],
) -> bool | None:
    """Was the next feedback not yet overdue on the Stichtag? None: cannot be told any more."""
    last = _day(row, "last_feedback", skipped)
    if last is _UNREADABLE:
        return None
    try:
        weeks = int_in(row, "feedback_weeks", 1, 6) or default_weeks
    except BadValue:
        weeks = default_weeks
    if isinstance(last, date) and last <= stichtag:
        return calendar.due_after_weeks(max(start, last), weeks) >= stichtag
    if calendar.due_after_weeks(start, weeks) >= stichtag:
        return True
    return None if isinstance(last, date) else False


# --- notices sent -----------------------------------------------------------------------------


def notice_figures(
    sent: Iterable[SentNotice], calendar: WorkCalendar, period: Period
) -> NoticeFigures:
    """Case notices sent in the period, by rule; office-wide notices are not counted."""
    figures = NoticeFigures()
    for notice in sent:
        parts = notice.key.split("|")
        if len(parts) != 4 or parts[0] == OFFICE_KEY or parts[2] not in NOTICE_STAGES:
            continue
        if notice.sent_at is None or not period.contains(calendar.local_date(notice.sent_at)):
            continue
        target = figures.escalations if parts[2] == "escalation" else figures.reminders
        target[parts[1]] += 1
    return figures


# --- cells ------------------------------------------------------------------------------------


class _Unreadable:
    """Marker: the cell holds something that is not a date (already counted as skipped)."""


_UNREADABLE = _Unreadable()


def _day(row: Row, column: str, skipped: Counter[str]) -> date | _Unreadable | None:
    try:
        day = date_in(row, column)
    except BadValue:
        skipped[f"„{HEADERS.get(column, column)}“ ist kein Datum"] += 1
        return _UNREADABLE
    if day is not None and not PLAUSIBLE[0] <= day <= PLAUSIBLE[1]:
        skipped[f"„{HEADERS.get(column, column)}“ liegt nicht zwischen 2000 und 2099"] += 1
        return _UNREADABLE
    return day


def _span(
    calendar: WorkCalendar, received: date, later: date, column: str, skipped: Counter[str]
) -> int | None:
    """Working days from receipt to `later`; None (and counted) when that cannot be right."""
    if later < received:
        skipped[f"„{HEADERS[column]}“ liegt vor dem Eingang"] += 1
        return None
    if (later - received).days > MAX_SPAN_DAYS:
        skipped[f"„{HEADERS[column]}“ liegt mehr als ein Jahr nach dem Eingang"] += 1
        return None
    return calendar.working_days_between(received, later)
