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

A mail kind sent by the hundred (acknowledgements) names its `SLOTS`: fields the bundled
templates only print. Its three parts are rendered once per renderer for each combination of
the other fields (a stencil with holes), and each mail fills in its own values, escaped where
jinja escapes them: the same text, without running the templates for every mail. An office
that overrides one of the templates involved gets them run for every mail as before.

Why one module: the stencil relies on the filters (a time filter leaves a hole, a date filter
reads the value the stencil is keyed by) and on the finishing of subject and text that every
rendered mail gets; split, the promise "the same text as the templates" would be spread out.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
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
    import jinja2
    import jinja2.bccache

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
            auto_reload=False,  # loaded once per renderer (each cycle makes a new one)
            bytecode_cache=_compiled_templates(),
        )
        zone = self._zone = ZoneInfo(timezone)

        def datum_zeit(v: Any) -> str:
            return _local(v, zone, need_time=True).strftime("%d.%m.%Y %H:%M")

        def uhrzeit(v: Any) -> str:
            return _clock(v, zone)

        self._env.filters.update(
            datum=lambda v: _local(_real(v), zone).strftime("%d.%m.%Y"),
            datum_zeit=lambda v: self._hole(v, datum_zeit),
            wochentag=lambda v: WEEKDAYS_DE[_local(_real(v), zone).weekday()],
            uhrzeit=lambda v: self._hole(v, uhrzeit),
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
        self._override = override_dir
        self._stencils: dict[tuple[object, ...], _Stencil | None] = {}
        self._own: dict[str, bool] = {}  # template name -> no override touches it
        mark = secrets.token_hex(6)  # a value can never look like a hole by chance
        self._mark = f"\ue000{mark}"
        self._holes_pattern = re.compile(f"\ue000{mark}(\\d+)(&amp;|&)\ue001")
        self._fills: list[Callable[[MailData], str]] | None = None  # while a stencil renders

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
        if mail.SLOTS and self._bundled(mail.TEMPLATE):
            key = self._stencil_key(mail)
            if key is not None:
                stencil = self._stencils.get(key, _UNSEEN)  # the key hashed once, not twice
                if stencil is _UNSEEN:
                    if len(self._stencils) > 512:
                        self._stencils.clear()
                    stencil = self._stencils[key] = self._stencil(mail)
                if isinstance(stencil, _Stencil):
                    try:
                        return self._fill(stencil, mail)
                    except (TypeError, ValueError, OverflowError):
                        pass  # rendered the usual way, which names the problem
        return self.render(mail.TEMPLATE, mail.context())

    def render(self, name: str, context: Mapping[str, object]) -> RenderedMail:
        return _finish(
            self._part(name, "subject.txt", context),
            self._part(name, "txt", context),
            self._part(name, "html", context),
            context.get("nr"),
        )

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

    # --- stencils: see the module docstring ----------------------------------------------

    def _bundled(self, name: str) -> bool:
        own = self._own.get(name)
        if own is None:
            files = [f"{name}.{part}" for part in PARTS] + ["base.html", "base.txt", "macros.html"]
            own = self._override is None or not any((self._override / f).exists() for f in files)
            self._own[name] = own
        return own

    def _stencil_key(self, mail: MailData) -> tuple[object, ...] | None:
        """What decides the text apart from the slots: the other fields, whether a text slot
        is empty, and a time slot's local date."""
        key: list[object] = [type(mail)]
        for name in _field_names(type(mail)):
            value = getattr(mail, name)
            if name not in mail.SLOTS:
                key += [type(value), value]
            elif isinstance(value, str):
                key.append(bool(value))
            elif isinstance(value, datetime):
                key.append(_local(value, self._zone, need_time=True).isoformat()[:10])
            else:
                return None
        found = tuple(key)
        try:
            hash(found)
        except TypeError:
            return None
        return found

    def _stencil(self, mail: MailData) -> _Stencil | None:
        """The three parts with a hole for each slot; None when the templates use a slot in
        a way a stencil cannot follow (the mail is then rendered the usual way)."""
        import jinja2

        fills: list[Callable[[MailData], str]] = []
        context = mail.context()
        for name in mail.SLOTS:
            value = context[name]
            if isinstance(value, datetime):
                context[name] = _TimeSlot(name, value)
            elif value:
                fills.append(functools.partial(_text_of, name))
                context[name] = f"{self._mark}{len(fills) - 1}&\ue001"
        self._fills = fills
        try:
            rendered = [
                self._env.get_template(f"{mail.TEMPLATE}.{p}").render(context) for p in PARTS
            ]
        except (_NoStencil, jinja2.TemplateError, MailTemplateError, TypeError, ValueError):
            return None
        finally:
            self._fills = None
        parts = []
        for text in rendered:
            # literal text, hole number, "&amp;" where jinja escaped the hole, literal text, …
            pieces = self._holes_pattern.split(text)
            if any(self._mark in p or "\ue001" in p for p in pieces[::3]):
                return None
            template = [piece if i % 3 == 0 else "" for i, piece in enumerate(pieces) if i % 3 != 2]
            holes = [
                int(number) + (len(fills) if escaped == "&amp;" else 0)
                for number, escaped in zip(pieces[1::3], pieces[2::3], strict=True)
            ]
            parts.append((tuple(template), tuple(holes)))
        subject, text, html = ("".join(template) for template, _holes in parts)
        return _Stencil(tuple(parts), tuple(fills), _finish(subject, text, html, None))

    def _hole(self, value: Any, show: Callable[[Any], str]) -> str:
        """A time filter: the text itself, or in a stencil a hole that each mail fills."""
        if not isinstance(value, _TimeSlot):
            return show(value)
        if self._fills is None:
            raise _NoStencil
        self._fills.append(functools.partial(_shown, show, value.name))
        return f"{self._mark}{len(self._fills) - 1}&\ue001"

    def _fill(self, stencil: _Stencil, mail: MailData) -> RenderedMail:
        import markupsafe

        values = [fill(mail) for fill in stencil.fills]
        values += [markupsafe.escape(value) for value in values]
        filled = []
        for template, holes in stencil.parts:
            pieces = list(template)
            pieces[1::2] = [values[hole] for hole in holes]
            filled.append("".join(pieces))
        subject, text, html = filled
        return _finish(subject, text, html, getattr(mail, "nr", None), stencil.pattern)


@functools.cache
def _compiled_templates() -> jinja2.BytecodeCache:
    """Templates compiled once per process and shared by the renderers of all cycles; jinja
    compares the source with what was compiled, so an edited template is compiled again."""
    import jinja2

    compiled: dict[str, bytes] = {}

    class Compiled(jinja2.BytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            code = compiled.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            compiled[bucket.key] = bucket.bytecode_to_string()

    return Compiled()


@dataclass(frozen=True)
class _Stencil:
    # subject, text, html: literal text with a gap between two pieces for each hole, and per
    # hole the value it takes (an index into fills; + len(fills): the value escaped as HTML)
    parts: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]
    fills: tuple[Callable[[MailData], str], ...]
    pattern: RenderedMail  # every hole empty: what all mails of the stencil share


_UNSEEN = object()  # a stencil key not looked at yet (None: looked at, no stencil possible)


class _NoStencil(Exception):
    """A template uses a slot other than through the filters a stencil can follow."""


class _TimeSlot:
    """A datetime slot while a stencil renders: date filters read its value (the stencil is
    made per local date), time filters leave a hole, anything else ends the stencil."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: datetime) -> None:
        self.name, self.value = name, value

    def _refuse(self, *_: object) -> NoReturn:
        raise _NoStencil

    __str__ = __bool__ = __eq__ = __lt__ = __getattr__ = _refuse  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]


def _text_of(name: str, mail: MailData) -> str:
    return str(getattr(mail, name))


def _shown(show: Callable[[Any], str], name: str, mail: MailData) -> str:
    return show(getattr(mail, name))


def _real(value: Any) -> Any:
    return value.value if isinstance(value, _TimeSlot) else value


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type[MailData]) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
    return names


def _finish(
    subject: str, text: str, html: str, nr: object, pattern: RenderedMail | None = None
) -> RenderedMail:
    """The rendered parts as they are sent: a subject of one line that names the case, tidy
    text, HTML with one final line break."""
    subject = _one_line(subject)
    if isinstance(nr, str) and nr.strip() and f"[{nr.strip()}]" not in subject:
        subject = f"[{_one_line(nr)}] {subject}"
    # most HTML already is what strip() + "\n" makes of it: not copied again
    clean = html[-1:] == "\n" and not html[:1].isspace() and not html[-2:-1].isspace()
    return RenderedMail(
        subject=subject,
        text=_tidy_text(text),
        html=html if clean else html.strip() + "\n",
        pattern=pattern,
    )


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
    if "\n\n\n" in text:  # else the pattern finds nothing (a search from every position)
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip("\n") + "\n"


_BLANK_LINES = re.compile(r"\n{3,}")
