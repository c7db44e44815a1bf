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

The data each template needs is defined by the dataclasses in `notify.mails` (`ReminderMail`,
`DigestMail`, …, re-exported here); `MailRenderer.render_mail(mail)` renders one.
`render(name, mapping)` takes the same keys as a plain mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.notify.mails import (
    DEFAULT_OFFICE_NAME,
    PARTS,
    STAGE_DUE,
    STAGE_ESCALATION,
    STAGE_REMINDER,
    STAGES,
    VERBIS_END,
    VERBIS_START,
    WEEKDAYS_DE,
    AbsenceMail,
    AcknowledgementMail,
    AppointmentCareMail,
    AppointmentConflictMail,
    AppointmentSlot,
    ContactPersonMail,
    DialogInfo,
    DigestAbsence,
    DigestItem,
    DigestMail,
    GoalsReviewMail,
    KinderschutzMail,
    LateAcknowledgementMail,
    LetterCoverMail,
    MailData,
    OfficeHoursSlot,
    Person,
    QualitaetsdialogMail,
    ReminderMail,
    RenderedMail,
    RenumberedMail,
    RowsRestoredMail,
    VerbisMail,
    WatchdogClearMail,
    WatchdogMail,
)
from jugendhaus_mail.resources import resource_dir

if TYPE_CHECKING:
    from jugendhaus_mail.config import Settings

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# the mail contexts are imported from here by most callers
__all__ = [
    "DEFAULT_OFFICE_NAME",
    "PARTS",
    "STAGES",
    "STAGE_DUE",
    "STAGE_ESCALATION",
    "STAGE_REMINDER",
    "VERBIS_END",
    "VERBIS_START",
    "WEEKDAYS_DE",
    "AbsenceMail",
    "AcknowledgementMail",
    "AppointmentCareMail",
    "AppointmentConflictMail",
    "AppointmentSlot",
    "ContactPersonMail",
    "DialogInfo",
    "DigestAbsence",
    "DigestItem",
    "DigestMail",
    "GoalsReviewMail",
    "KinderschutzMail",
    "LateAcknowledgementMail",
    "LetterCoverMail",
    "MailData",
    "MailRenderer",
    "MailTemplateError",
    "OfficeHoursSlot",
    "Person",
    "QualitaetsdialogMail",
    "ReminderMail",
    "RenderedMail",
    "RenumberedMail",
    "RowsRestoredMail",
    "VerbisMail",
    "WatchdogClearMail",
    "WatchdogMail",
    "for_recipients",
]


class MailTemplateError(JugendhausError):
    """A template is missing, broken, or needs data the context does not have."""


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
