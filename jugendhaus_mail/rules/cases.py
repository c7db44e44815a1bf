"""Facts about one request row: is it a joint case, is it finished, and its computed due dates.

The due-date functions are shared by the duties (what is open) and the computed columns (what
the sheet shows), so both always agree. Each returns None when the rule does not apply to the
row, and raises BadValue when an input it needs cannot be read. A soft problem (an interval out
of range, replaced by the configured default) is appended to `notes` instead.
"""

from __future__ import annotations

from datetime import date, datetime

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules.model import (
    FINISHED_STATUSES,
    JOINT_STATUS,
    MET,
    BadValue,
    date_in,
    filled,
    int_in,
    is_yes,
    kind_of,
    same_text,
    status_is,
    text_in,
)
from jugendhaus_mail.rules.sprechzeiten import OfficeHours, office_hours_on
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

FEEDBACK_WEEKS = (1, 6)  # the agreement: at least every 4 weeks, by agreement up to 6
CARE_WEEKS = (4, 6)  # the agreement's Richtzeit for SGB VIII care after a home visit


def is_joint_case(row: Row) -> bool:
    """Status "Gemeinsamer Fall", or both sides agreed in a joint consultation with a date."""
    if status_is(row, JOINT_STATUS):
        return True
    agreed = is_yes(row, "agreed_sgb2") and is_yes(row, "agreed_sgb8")
    return agreed and filled(row, "joint_consultation")


def has_consent(row: Row) -> bool:
    """The young person agreed to work with both sides (`Zustimmung junger Mensch` = Ja): the
    agreement's condition for a joint case, whatever its status says."""
    return is_yes(row, "consent")


def is_finished(row: Row) -> bool:
    return status_is(row, *FINISHED_STATUSES) or filled(row, "case_end")


def joint_case_events(row: Row) -> list[str]:
    """ "start" for a joint case, plus "end" once its `Fallende am` is set.

    The caller sends the VerBIS hint once per (Nr., event); a case first seen already ended
    yields both, so the SGB II side still learns the start for the Lebenslauf entry. Without
    the young person's consent there is no hint: the Jobcenter would mark the person in VerBIS.
    """
    if not is_joint_case(row) or not has_consent(row):
        return []
    return ["start", "end"] if filled(row, "case_end") else ["start"]


def received_day(row: Row, calendar: WorkCalendar) -> date | None:
    """The office-local calendar day of receipt (the sheet holds local, naive datetimes)."""
    value = row.get("received")
    if isinstance(value, datetime) and value.tzinfo is not None:
        return calendar.local_date(value)
    return date_in(row, "received")


def contact_due(
    row: Row,
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    office_hours: OfficeHours | None = None,
) -> date | None:
    """`Frist Ansprechpartner`: N working days, for Kinderschutz the day it is taken up."""
    if _is_kinderschutz(row):
        value = row.get("received")
        received = value if isinstance(value, datetime) else date_in(row, "received")
        return None if received is None else kinderschutz_due(received, calendar, office_hours)
    day = received_day(row, calendar)
    return None if day is None else calendar.add_working_days(day, settings.contact_person_days)


def contact_person_due(
    kind: str,
    received: datetime,
    calendar: WorkCalendar,
    settings: DeadlineSettings,
    office_hours: OfficeHours | None,
) -> date:
    """The same deadline for intake, which has the aware receipt time instead of a row."""
    if kind == "Kinderschutz":
        return kinderschutz_due(received, calendar, office_hours)
    return calendar.due_after_receipt(received, settings.contact_person_days)


def kinderschutz_due(
    received: datetime | date, calendar: WorkCalendar, office_hours: OfficeHours | None
) -> date:
    """A Kinderschutz report is taken up the day it arrives: the next working day when it
    arrives on a non-working day or after the office day ends. The office day ends with its
    last Sprechzeit; on a working day without Sprechzeiten, at the latest end of any
    Sprechzeit of the week; without any Sprechzeiten configured, at midnight. Naive times
    (the sheet) are office time; a date alone counts as received during the office day."""
    moment: datetime | None = None
    if isinstance(received, datetime):
        moment = received if received.tzinfo else received.replace(tzinfo=calendar.tz)
        day = calendar.local_date(moment)
    else:
        day = received
    if not calendar.is_working_day(day):
        return calendar.next_working_day(day)
    hours = office_hours or {}
    ends = [end for _, end in office_hours_on(day, calendar, hours)]
    latest = max((r.end for ranges in hours.values() for r in ranges), default=None)
    if not ends and latest is not None:
        ends = [datetime.combine(day, latest, tzinfo=calendar.tz)]
    if moment is not None and ends and moment >= max(ends):
        return calendar.add_working_days(day, 1)
    return day


def _is_kinderschutz(row: Row) -> bool:
    try:
        return kind_of(row) == "Kinderschutz"
    except BadValue:  # an unreadable kind keeps the ordinary deadline; the rules report it
        return False


def home_visit_due(row: Row, calendar: WorkCalendar, settings: DeadlineSettings) -> date | None:
    if kind_of(row) != "Hausbesuch":
        return None
    day = received_day(row, calendar)
    return None if day is None else calendar.add_working_days(day, settings.home_visit_days)


def mini_conference_due(
    row: Row, calendar: WorkCalendar, settings: DeadlineSettings
) -> date | None:
    """Both extra participants should be named as fast as the contact person."""
    if kind_of(row) != "Mini-Fallkonferenz":
        return None
    return contact_due(row, calendar, settings)


def feedback_due(
    row: Row, calendar: WorkCalendar, settings: DeadlineSettings, notes: list[BadValue]
) -> date | None:
    """Next mutual feedback of a running joint case: the later of the joint consultation and
    the last feedback, plus the row's interval in calendar weeks, moved back to a working day.
    """
    if not is_joint_case(row) or is_finished(row):
        return None
    dates = [d for d in (date_in(row, "joint_consultation"), date_in(row, "last_feedback")) if d]
    if not dates:
        return None
    weeks = _weeks(row, "feedback_weeks", FEEDBACK_WEEKS, settings.feedback_weeks, notes)
    return calendar.due_after_weeks(max(dates), weeks)


def care_until(
    row: Row, calendar: WorkCalendar, settings: DeadlineSettings, notes: list[BadValue]
) -> date | None:
    """End of the SGB VIII care period after a home visit where the young person was met."""
    if not same_text(text_in(row, "home_visit_result"), MET):
        return None
    done = date_in(row, "home_visit_done")
    if done is None:
        return None
    weeks = _weeks(row, "care_weeks", CARE_WEEKS, settings.care_weeks, notes)
    return calendar.due_after_weeks(done, weeks)


def _weeks(
    row: Row, column: str, bounds: tuple[int, int], default: int, notes: list[BadValue]
) -> int:
    try:
        weeks = int_in(row, column, *bounds)
    except BadValue as problem:
        notes.append(problem)
        return default
    return default if weeks is None else weeks
