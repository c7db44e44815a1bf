"""What each mail the service sends contains: one frozen dataclass per template.

None of them has a field for the young person's name, address, Kundennummer or the text of a
mail: what is not in the context cannot end up in a reminder. `notify.render` renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from typing import ClassVar

WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
PARTS = ("subject.txt", "txt", "html")
DEFAULT_OFFICE_NAME = "Berufliche Jugendsozialberatung im Jugendhaus"

STAGE_REMINDER = "reminder"
STAGE_DUE = "due"
STAGE_ESCALATION = "escalation"
STAGES = (STAGE_REMINDER, STAGE_DUE, STAGE_ESCALATION)
VERBIS_START = "start"
VERBIS_END = "end"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    # a mail of a stencil: the stencil with every slot empty (no case number, name or address:
    # what all its mails share), which the outbox stores the mail packed against (mailpack.py)
    pattern: RenderedMail | None = field(default=None, compare=False, repr=False)


# --- contexts: what each template gets ------------------------------------------------------


@dataclass(frozen=True)
class OfficeHoursSlot:
    """One Sprechzeit on one day, e.g. Donnerstag 12.03.2026, 13:30–18:00."""

    day: date
    start: time
    end: time


@dataclass(frozen=True)
class Person:
    """A member of staff from sheet `Mitarbeitende` (never a young person)."""

    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class MailData:
    """Base of all contexts; `TEMPLATE` names the template files. `SLOTS` names fields the
    bundled templates only print (a text as it is, a datetime through its date and time
    filters): the renderer then renders the templates once and fills these in per mail."""

    TEMPLATE: ClassVar[str] = ""
    SLOTS: ClassVar[tuple[str, ...]] = ()

    def context(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class AcknowledgementMail(MailData):
    """Eingangsbestätigung to the requester (IFK)."""

    TEMPLATE: ClassVar[str] = "acknowledgement"
    SLOTS: ClassVar[tuple[str, ...]] = ("nr", "requester_name", "received")
    nr: str
    requester_name: str  # the IFK's name ("Anna Schulz"); "" greets without a name
    kind: str  # Anfrageart; "Kinderschutz" gets its own wording (taken up on the due day)
    received: datetime  # receipt by the team mailbox
    contact_person_due: date  # Frist Ansprechpartner
    next_office_hours: OfficeHoursSlot | None  # None: no Sprechzeit configured


@dataclass(frozen=True)
class LateAcknowledgementMail(MailData):
    """Instead of the acknowledgement when a request is taken in late (an old inbox, a long
    outage): it says the request was recorded and promises no date that has passed."""

    TEMPLATE: ClassVar[str] = "acknowledgement_late"
    SLOTS: ClassVar[tuple[str, ...]] = ("nr", "requester_name", "received")
    nr: str
    requester_name: str
    kind: str  # Anfrageart
    received: datetime  # receipt by the team mailbox
    taken_in: date  # the day the service took it in


@dataclass(frozen=True)
class ContactPersonMail(MailData):
    """Tells the requester who their JSB contact person is."""

    TEMPLATE: ClassVar[str] = "contact_person"
    nr: str
    requester_name: str
    received: date  # day of the original request, so the IFK finds it
    contact: Person


@dataclass(frozen=True)
class ReminderMail(MailData):
    """Reminder before the due date, on the due day, or escalation once overdue."""

    TEMPLATE: ClassVar[str] = "reminder"
    nr: str
    stage: str  # STAGE_REMINDER | STAGE_DUE | STAGE_ESCALATION
    rule_label: str  # e.g. "Ansprechpartner benennen" (rules.model.LABELS)
    kind: str  # Anfrageart
    due: date
    responsible: str  # name(s) of who has to act; "" when nobody is entered yet
    days_overdue: int = 0  # working days past `due` (escalation only)
    done_hint: str = ""  # what closes the duty, e.g. "Name in „Ansprechpartner JSB“ eintragen"
    workbook_readers: bool = True  # False: someone outside the office gets it (see for_recipients)


@dataclass(frozen=True)
class KinderschutzMail(MailData):
    """Immediate alert to the SGB VIII lead(s) and the JSB; no content, no subject text."""

    TEMPLATE: ClassVar[str] = "kinderschutz"
    nr: str
    requester_name: str
    requester_email: str
    received: datetime
    folder: str = "Erfasst"  # where the mail lies in the team mailbox


@dataclass(frozen=True)
class AbsenceMail(MailData):
    """Absence of JSB staff during Sprechzeiten, to the team leaders. No reason (may be health)."""

    TEMPLATE: ClassVar[str] = "absence"
    person: str
    start: date
    end: date
    affected: Sequence[OfficeHoursSlot]
    short_notice: bool  # True: unplanned (sent at once); False: planned (sent ahead of time)
    kind: str = ""  # `Art` as staff entered it ("Geplant", "Kurzfristig"); shown as it is


@dataclass(frozen=True)
class VerbisMail(MailData):
    """What the SGB II contact person enters in VerBIS at start or end of a joint case."""

    TEMPLATE: ClassVar[str] = "verbis"
    nr: str
    event: str  # VERBIS_START | VERBIS_END
    recipient_name: str
    request_received: date  # day of the original request
    start: date  # start of the joint case (Gemeinsame Fallberatung am)
    end: date | None = None  # Fallende am (end only)
    end_reason: str = ""  # Beendigungsgrund (end only)


@dataclass(frozen=True)
class QualitaetsdialogMail(MailData):
    """Ahead-of-time reminder to the leaders of the organising side."""

    TEMPLATE: ClassVar[str] = "qualitaetsdialog"
    due: date  # the dialog should have taken place by then
    organiser: str  # "SGB II" | "SGB VIII"
    statistics_attached: bool = False  # half-year statistics attached to the mail


@dataclass(frozen=True)
class GoalsReviewMail(MailData):
    """Yearly review of the common goals, to the leaders of both sides."""

    TEMPLATE: ClassVar[str] = "goals_review"
    due: date
    year: int


@dataclass(frozen=True)
class AppointmentSlot:
    """One appointment as a notice names it: side and time, never what it is about."""

    side: str  # SGB II | SGB III | SGB VIII
    start: datetime  # office time
    all_day: bool = False


@dataclass(frozen=True)
class AppointmentConflictMail(MailData):
    """Two sides invited the young person of one case within a few working days."""

    TEMPLATE: ClassVar[str] = "appointment_conflict"
    nr: str
    slots: tuple[AppointmentSlot, ...]  # both appointments, earlier first
    working_days: int  # the configured distance ([deadlines] double_invitation_working_days)
    workbook_readers: bool = True


@dataclass(frozen=True)
class AppointmentCareMail(MailData):
    """A Jobcenter appointment inside the SGB VIII care period after a home visit."""

    TEMPLATE: ClassVar[str] = "appointment_care"
    nr: str
    slot: AppointmentSlot
    care_until: date
    workbook_readers: bool = True


@dataclass(frozen=True)
class RowsRestoredMail(MailData):
    """To the JSB (admin in copy): rows the service wrote were missing and are back."""

    TEMPLATE: ClassVar[str] = "rows_restored"
    numbers: tuple[str, ...]
    file_name: str
    when: datetime


@dataclass(frozen=True)
class RenumberedMail(MailData):
    """To the requester: the Nr. first sent was taken meanwhile; here is the new one."""

    TEMPLATE: ClassVar[str] = "renumbered"
    nr: str
    old_nr: str
    requester_name: str
    received: datetime


@dataclass(frozen=True)
class DigestItem:
    """One line of the digest: case number and short labels only."""

    nr: str
    kind: str  # Anfrageart
    label: str  # e.g. "Hausbesuch durchführen"
    due: date | None
    responsible: str = ""  # "" shows as "noch offen"
    days_overdue: int = 0  # working days


@dataclass(frozen=True)
class DigestAbsence:
    person: str
    start: date
    end: date
    slots_today: Sequence[OfficeHoursSlot] = ()


@dataclass(frozen=True)
class DialogInfo:
    due: date
    organiser: str


@dataclass(frozen=True)
class DigestMail(MailData):
    """Daily digest for the Teamleitungen and the Sachgebietsleitung; lists render as given."""

    TEMPLATE: ClassVar[str] = "digest"
    today: date
    overdue: Sequence[DigestItem]
    due_soon: Sequence[DigestItem]  # due within the next 2 working days
    new: Sequence[DigestItem]  # received since the last digest
    without_contact: Sequence[DigestItem]  # no Ansprechpartner JSB yet
    absences: Sequence[DigestAbsence]  # absences today
    next_dialog: DialogInfo | None
    since: datetime | None = None  # time of the last digest; None: first digest
    problems: Sequence[str] = field(default=())  # content-free RowProblem messages
    kinderschutz: Sequence[DigestItem] = field(default=())  # open Kinderschutz, shown first
    unsent: Sequence[str] = field(default=())  # mail nobody could receive since the last digest
    appointments: Sequence[str] = field(default=())  # open appointment conflicts, one line each
    workbook_readers: bool = True  # False: a recipient outside the office (see for_recipients)


@dataclass(frozen=True)
class LetterCoverMail(MailData):
    """Cover mail to staff for a pre-filled letter (attached) to print and post."""

    TEMPLATE: ClassVar[str] = "letter_cover"
    nr: str
    letter_title: str  # e.g. "Ankündigung Hausbesuch"
    filename: str  # name of the attachment
    recipient_name: str
    warning: str = ""  # e.g. the visit is too soon for the post; shown above everything else


@dataclass(frozen=True)
class WatchdogMail(MailData):
    """To the admin: something keeps failing."""

    TEMPLATE: ClassVar[str] = "watchdog"
    problem: str
    what_to_do: str
    since: datetime


@dataclass(frozen=True)
class WatchdogClearMail(MailData):
    """To the admin: the problem reported earlier is gone."""

    TEMPLATE: ClassVar[str] = "watchdog_clear"
    problem: str
    since: datetime
    cleared: datetime


# --- the renderer ---------------------------------------------------------------------------
