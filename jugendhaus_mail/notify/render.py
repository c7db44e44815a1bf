"""Render the German mail templates into subject, plain text and HTML.

Each mail NAME consists of three files in `templates/mail/` (or in the office's override folder,
which wins file by file, so an office can replace a single template or the layout):

    NAME.subject.txt   the subject; all whitespace is collapsed to single spaces, so nothing a
                       context contains can break out of the header line
    NAME.txt           the plain-text part (not escaped; it is text/plain)
    NAME.html          the HTML part; extends `base.html`, autoescaped

The subject gets "[NR] " in front whenever the context has a non-empty `nr`, unless the template
already wrote it: reply detection relies on `[2026-0042]` in every subject the service sends, so
an office's own subject template cannot lose it.

The data each template needs is defined by the dataclasses below (`ReminderMail`, `DigestMail`,
…); `MailRenderer.render_mail(mail)` renders one. None of them has a field for the young
person's name, address, Kundennummer or the text of a mail: what is not in the context cannot
end up in a reminder. `render(name, mapping)` takes the same keys as a plain mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn
from zoneinfo import ZoneInfo

from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.resources import resource_dir

if TYPE_CHECKING:
    from jugendhaus_mail.config import Settings

WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
PARTS = ("subject.txt", "txt", "html")
DEFAULT_OFFICE_NAME = "Berufliche Jugendsozialberatung im Jugendhaus"

STAGE_REMINDER = "reminder"
STAGE_DUE = "due"
STAGE_ESCALATION = "escalation"
STAGES = (STAGE_REMINDER, STAGE_DUE, STAGE_ESCALATION)
VERBIS_START = "start"
VERBIS_END = "end"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class MailTemplateError(JugendhausError):
    """A template is missing, broken, or needs data the context does not have."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


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
    """Base of all contexts; `TEMPLATE` names the template files."""

    TEMPLATE: ClassVar[str] = ""

    def context(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class AcknowledgementMail(MailData):
    """Eingangsbestätigung to the requester (IFK)."""

    TEMPLATE: ClassVar[str] = "acknowledgement"
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


class MailRenderer:
    """Renders mail templates; the office's `override_dir` wins over the bundled templates."""

    def __init__(
        self,
        override_dir: Path | None,
        *,
        office_name: str = DEFAULT_OFFICE_NAME,
        office_phone: str = "",
        team_address: str = "",
        timezone: str = "Europe/Berlin",
    ) -> None:
        import jinja2

        if override_dir is not None and not override_dir.is_dir():
            raise MailTemplateError(
                f"Vorlagenordner {override_dir} nicht gefunden; bitte [templates] override_dir "
                "in der Konfiguration prüfen oder den Ordner anlegen."
            )
        folders = [override_dir] if override_dir is not None else []
        folders.append(resource_dir("templates") / "mail")
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(f)) for f in folders]),
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # compiled once per renderer (each cycle makes a new one)
        )
        zone = ZoneInfo(timezone)
        self._env.filters.update(
            datum=lambda v: _local(v, zone).strftime("%d.%m.%Y"),
            datum_zeit=lambda v: _local(v, zone, need_time=True).strftime("%d.%m.%Y %H:%M"),
            wochentag=lambda v: WEEKDAYS_DE[_local(v, zone).weekday()],
            uhrzeit=lambda v: _clock(v, zone),
            arbeitstage=_working_days,
            telefon=_unbreakable_phone,
        )
        self._env.globals.update(
            office_name=office_name,
            office_phone=office_phone,
            team_address=team_address,
            fail=_fail,
        )
        self._names = [str(f) for f in folders]

    @classmethod
    def from_settings(cls, settings: Settings) -> MailRenderer:
        return cls(
            settings.templates_dir,
            office_name=settings.office.name,
            office_phone=settings.office.phone,
            team_address=settings.mail.team_address,
            timezone=settings.office.timezone,
        )

    def render_mail(self, mail: MailData) -> RenderedMail:
        return self.render(mail.TEMPLATE, mail.context())

    def render(self, name: str, context: Mapping[str, object]) -> RenderedMail:
        subject = _one_line(self._part(name, "subject.txt", context))
        nr = context.get("nr")
        if isinstance(nr, str) and nr.strip() and f"[{nr.strip()}]" not in subject:
            subject = f"[{_one_line(nr)}] {subject}"
        text = _tidy_text(self._part(name, "txt", context))
        html = self._part(name, "html", context).strip() + "\n"
        return RenderedMail(subject=subject, text=text, html=html)

    def template_names(self) -> list[str]:
        """Names that have all three parts (bundled or overridden)."""
        listed = set(self._env.list_templates())
        bases = {n.removesuffix(".subject.txt") for n in listed if n.endswith(".subject.txt")}
        return sorted(b for b in bases if all(f"{b}.{part}" in listed for part in PARTS))

    def _part(self, name: str, part: str, context: Mapping[str, object]) -> str:
        import jinja2

        filename = f"{name}.{part}"
        try:
            return self._env.get_template(filename).render(dict(context))
        except MailTemplateError as exc:
            raise MailTemplateError(f"Mail-Vorlage „{filename}“: {exc}") from exc
        except jinja2.TemplateNotFound as exc:
            raise MailTemplateError(
                f"Mail-Vorlage „{exc.name}“ fehlt (gesucht in: {', '.join(self._names)}); "
                "bitte die Installation oder den Vorlagenordner prüfen."
            ) from exc
        except jinja2.TemplateSyntaxError as exc:
            raise MailTemplateError(
                f"Mail-Vorlage „{exc.name or filename}“, Zeile {exc.lineno}: {exc.message}; "
                "bitte die Vorlage korrigieren."
            ) from exc
        except (jinja2.TemplateError, TypeError, ValueError) as exc:
            raise MailTemplateError(
                f"Mail-Vorlage „{filename}“ kann nicht erstellt werden: {exc}. Eine Vorlage nutzt "
                "einen Wert, den die Daten nicht haben (oder in falscher Form)."
            ) from exc


# --- filters --------------------------------------------------------------------------------


def _defined(value: Any) -> Any:
    """Filters get undefined values handed in unchecked; make StrictUndefined raise here."""
    import jinja2

    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the variable
    return value


def _local(value: Any, zone: ZoneInfo, *, need_time: bool = False) -> date:
    """Aware datetimes are shown in the office's time zone; naive ones are taken as local."""
    value = _defined(value)
    if isinstance(value, datetime):
        return value.astimezone(zone) if value.tzinfo is not None else value
    if isinstance(value, date) and not need_time:
        return value
    wanted = "Datum mit Uhrzeit" if need_time else "Datum"
    raise TypeError(f"erwartet ein {wanted}, bekommen: {type(value).__name__}")


def _clock(value: Any, zone: ZoneInfo) -> str:
    value = _defined(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return _local(value, zone, need_time=True).strftime("%H:%M")


def _working_days(value: Any) -> str:
    value = _defined(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"erwartet eine Anzahl Arbeitstage, bekommen: {type(value).__name__}")
    return f"{value} Arbeitstag" if value == 1 else f"{value} Arbeitstage"


def _fail(message: str) -> NoReturn:
    raise MailTemplateError(message)


def for_recipients(mail: MailData, addresses: Sequence[str], office_domain: str) -> MailData:
    """The mail as its recipients should read it: a mail with `workbook_readers` that also goes
    outside the office's own domain (Jobcenter, Agentur – they cannot open the request list)
    says what to do instead of where to look in the list."""
    if not hasattr(mail, "workbook_readers") or not office_domain:
        return mail
    office = office_domain.lower().lstrip("@")
    inside = all(
        (domain := a.rpartition("@")[2].lower()) == office or domain.endswith("." + office)
        for a in addresses
    )
    return replace(mail, workbook_readers=inside)  # type: ignore[call-arg]


def _unbreakable_phone(value: str) -> str:
    """A phone number that never wraps: non-breaking spaces and hyphens."""
    return str(value).replace(" ", "\u00a0").replace("-", "\u2011")


def _one_line(value: str) -> str:
    """Control characters and line breaks become spaces: a subject is one header line."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _tidy_text(value: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in value.strip("\n").splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
