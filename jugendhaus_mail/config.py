"""The TOML configuration, parsed once into frozen, validated settings.

Every key is checked at start-up. A wrong or unknown key gives one message naming the file,
the key and what is allowed. Relative paths are relative to the config file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

from jugendhaus_mail.errors import ConfigError

T = TypeVar("T")

BACKENDS = ("maildir", "ews", "graph", "imap")
EWS_AUTH = ("ntlm", "basic", "oauth")
TLS_MODES = ("tls", "starttls", "none")
RECHTSKREISE = ("SGB II", "SGB III", "SGB VIII", "extern")
WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")
GERMAN_STATES = (
    "BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH",
)  # fmt: skip


@dataclass(frozen=True)
class TimeRange:
    start: time
    end: time


@dataclass(frozen=True)
class OfficeSettings:
    name: str = "Berufliche Jugendsozialberatung im Jugendhaus"
    domain: str = ""
    holiday_region: str = "DE-MV"
    timezone: str = "Europe/Berlin"
    closed_days: tuple[tuple[int, int], ...] = ((24, 12), (31, 12))
    # weekday index (0 = Monday) -> Sprechzeiten on that day
    office_hours: dict[int, tuple[TimeRange, ...]] = field(default_factory=dict)
    letterhead: tuple[str, ...] = ()
    phone: str = ""

    @property
    def state_code(self) -> str:
        return self.holiday_region.split("-", 1)[1]


@dataclass(frozen=True)
class MailboxSettings:
    backend: str = "maildir"
    path: Path | None = None
    address: str = ""
    endpoint: str = ""
    username: str = ""
    password_env: str = ""
    auth: str = "ntlm"
    tenant_id: str = ""
    client_id: str = ""
    client_secret_env: str = ""
    certificate_path: Path | None = None
    host: str = ""
    port: int = 0
    security: str = "tls"
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = ""
    ca_file: Path | None = None
    inbox_folder: str = "INBOX"
    sent_folder: str = "Sent"
    retries: int = 3
    retry_backoff_seconds: float = 2.0
    batch_size: int = 500
    authority_host: str = ""  # Graph sign-in host; "" = https://login.microsoftonline.com
    sent_copy_grace_minutes: int = 10
    throttle_budget_seconds: float = 120.0


@dataclass(frozen=True)
class WorkbookSettings:
    path: Path = Path("Anfrageliste.xlsx")
    backups: int = 10


@dataclass(frozen=True)
class IntakeSettings:
    # domain (lower case, without "@") -> Rechtskreis; the office's own domain maps to SGB VIII
    rechtskreis_domains: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MailSettings:
    team_address: str = ""
    internal_domains: tuple[str, ...] = ()
    admin_address: str = ""
    from_name: str = ""  # display name in From; "" = the office's name
    # mail taken in later than this many working days after receipt gets a short
    # "nachträglich erfasst" note instead of an acknowledgement that promises a date
    acknowledge_max_age_working_days: int = 2


@dataclass(frozen=True)
class DeadlineSettings:
    contact_person_days: int = 5
    home_visit_days: int = 10
    reminder_days_before: int = 2
    feedback_weeks: int = 4
    care_weeks: int = 4
    qualitaetsdialog_months: tuple[int, ...] = (3, 9)
    qualitaetsdialog_first_organiser: str = "SGB II"
    qualitaetsdialog_notice_weeks: int = 4
    goals_review_month: int = 1
    # appointments of two sides for one case this close together are a double invitation
    double_invitation_working_days: int = 5


@dataclass(frozen=True)
class ScheduleSettings:
    intake_minutes: int = 2
    reminder_times: tuple[time, ...] = (time(8, 0),)
    digest_time: time = time(7, 0)


@dataclass(frozen=True)
class LoggingSettings:
    file: Path | None = None
    level: str = "INFO"
    json: bool = False


@dataclass(frozen=True)
class WatchdogSettings:
    intake_overdue_minutes: int = 30  # no successful intake for this long: alert the admin
    pending_minutes: int = 60  # rows waiting this long for the workbook: ask to close it


@dataclass(frozen=True)
class LetterSettings:
    notice_working_days: int = 3  # a home visit announced later than this is warned about
    file_mode: int | None = None  # letter files' permissions; None = the folder's usual (umask)


@dataclass(frozen=True)
class RetentionSettings:
    months: int = 0  # clear personal columns this many months after "Fallende am"; 0 = off
    mail_months: int = 0  # mail in Erfasst / Nicht erfasst, after receipt
    sent_months: int = 0  # mail the service sent (Postausgang / Sent Items), after sending
    backup_days: int = 0  # workbook backups
    letters_days: int = 0  # letters written by `letter`
    state_days: int = 0  # copies of written rows in the state database

    @property
    def enabled(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class Settings:
    config_path: Path
    office: OfficeSettings
    mailbox: MailboxSettings
    workbook: WorkbookSettings
    intake: IntakeSettings
    mail: MailSettings
    deadlines: DeadlineSettings
    schedule: ScheduleSettings
    logging: LoggingSettings
    state_dir: Path
    templates_dir: Path | None = None
    watchdog: WatchdogSettings = field(default_factory=WatchdogSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    letters: LetterSettings = field(default_factory=LetterSettings)

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent


DEFAULT_OFFICE_HOURS = {
    0: (TimeRange(time(7, 30), time(12, 30)),),
    1: (TimeRange(time(7, 30), time(12, 30)),),
    3: (TimeRange(time(7, 30), time(12, 30)), TimeRange(time(13, 30), time(18, 0))),
}
DEFAULT_RECHTSKREIS_DOMAINS = {"jobcenter-ge.de": "SGB II", "arbeitsagentur.de": "SGB III"}


class _Section:
    """Pops typed values out of one TOML table and remembers what was not understood."""

    def __init__(self, source: Path, name: str, table: object) -> None:
        self.source = source
        self.name = name
        if not isinstance(table, dict):
            self.fail("", "muss eine Tabelle sein, z. B. [" + name + "]")
        self.table: dict[str, Any] = dict(table) if isinstance(table, dict) else {}

    def fail(self, key: str, problem: str) -> None:
        where = f"[{self.name}] {key}".strip() if key else f"[{self.name}]"
        raise ConfigError(f"{self.source}: {where} {problem}")

    def get(
        self, key: str, default: T, kind: type, check: Callable[[Any], str | None] | None = None
    ) -> T:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(
                key, f"hat den falschen Typ ({type(value).__name__}); erwartet: {_KIND_NAMES[kind]}"
            )
        if check is not None and (problem := check(value)):
            self.fail(key, f"= {value!r} ist nicht erlaubt: {problem}")
        return value  # type: ignore[no-any-return]

    def require(self, key: str, hint: str) -> None:
        if key not in self.table:
            self.fail(key, f"fehlt; dieser Schlüssel ist Pflicht ({hint})")

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        return self.get(
            key, default, str, lambda v: None if v in allowed else "erlaubt: " + ", ".join(allowed)
        )

    def path(self, key: str, default: Path | None) -> Path | None:
        raw = self.get(key, None, str, lambda v: None if v.strip() else "darf nicht leer sein")
        if raw is None:
            return None if default is None else self._resolve(default)
        return self._resolve(Path(raw))

    def _resolve(self, path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else (self.source.parent / path)

    def int_range(self, key: str, default: int, low: int, high: int) -> int:
        return self.get(
            key, default, int, lambda v: None if low <= v <= high else f"erlaubt: {low} bis {high}"
        )

    def time_of_day(self, key: str, default: time) -> time:
        raw = self.get(
            key, None, str, lambda v: None if _parse_hhmm(v) else 'erwartet: Uhrzeit wie "07:00"'
        )
        return default if raw is None else _parse_hhmm(raw)  # type: ignore[return-value]

    def done(self) -> None:
        if self.table:
            key = sorted(self.table)[0]
            self.fail(
                key,
                "ist unbekannt; bitte Schreibweise prüfen (alle Schlüssel stehen in "
                "jugendhaus_mail/example_config.toml)",
            )


_KIND_NAMES = {
    str: "Text",
    int: "ganze Zahl",
    float: "Zahl",
    bool: "true/false",
    list: "Liste",
    dict: "Tabelle",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


def _parse_hhmm(value: str) -> time | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def _check_email(value: str) -> str | None:
    return None if not value or _EMAIL.match(value) else "erwartet: eine E-Mail-Adresse"


def _check_env_name(value: str) -> str | None:
    if not value or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return None
    return (
        "erwartet: der NAME einer Umgebungsvariablen "
        "(das Geheimnis selbst gehört nicht in die Datei)"
    )


def _domains(section: _Section, key: str) -> tuple[str, ...]:
    values: list[Any] = section.get(key, [], list)
    out = []
    for value in values:
        if not isinstance(value, str) or not _DOMAIN.match(value.lower().lstrip("@")):
            section.fail(key, f'enthält {value!r}; erwartet: Domains wie "rostock.de"')
        out.append(value.lower().lstrip("@"))
    return tuple(out)


def _office(section: _Section) -> OfficeSettings:
    section.require("holiday_region", 'z. B. holiday_region = "DE-MV"')
    region = section.get(
        "holiday_region", "DE-MV", str,
        lambda v: None if re.fullmatch(r"DE-[A-Z]{2}", v) and v[3:] in GERMAN_STATES
        else "erwartet: ISO-3166-2-Code eines Bundeslands, z. B. DE-MV, DE-BE, DE-HH",
    )  # fmt: skip
    tz = section.get("timezone", "Europe/Berlin", str, _check_timezone)
    closed = []
    for item in section.get("closed_days", ["24.12", "31.12"], list):
        match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.?", str(item))
        if not match or not (1 <= int(match[1]) <= 31 and 1 <= int(match[2]) <= 12):
            section.fail("closed_days", f'enthält {item!r}; erwartet: Tage wie "24.12"')
        closed.append((int(match[1]), int(match[2])))  # type: ignore[index]
    hours_table = section.get("office_hours", None, dict)
    hours = DEFAULT_OFFICE_HOURS if hours_table is None else _office_hours(section, hours_table)
    letterhead: list[Any] = section.get("letterhead", [], list)
    if not all(isinstance(line, str) for line in letterhead):
        section.fail("letterhead", "erwartet: eine Liste von Textzeilen")
    domain = section.get(
        "domain",
        "",
        str,
        lambda v: (
            None if not v or _DOMAIN.match(v.lower()) else 'erwartet: eine Domain wie "rostock.de"'
        ),
    )
    return OfficeSettings(
        name=section.get("name", OfficeSettings.name, str),
        domain=domain.lower(),
        holiday_region=region,
        timezone=tz,
        closed_days=tuple(closed),
        office_hours=hours,
        letterhead=tuple(letterhead),
        phone=section.get("phone", "", str),
    )


def _check_timezone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return 'unbekannte Zeitzone; erwartet z. B. "Europe/Berlin"'
    return None


def _office_hours(section: _Section, table: dict[str, Any]) -> dict[int, tuple[TimeRange, ...]]:
    hours: dict[int, tuple[TimeRange, ...]] = {}
    for day, ranges in table.items():
        key = f"office_hours.{day}"
        if day not in WEEKDAYS:
            section.fail(key, "ist kein Wochentag; erlaubt: " + ", ".join(WEEKDAYS))
        if not isinstance(ranges, list):
            section.fail(key, 'erwartet: eine Liste wie ["07:30-12:30"]')
        parsed = []
        for item in ranges:
            parts = str(item).split("-")
            start, end = (
                (_parse_hhmm(parts[0]), _parse_hhmm(parts[1])) if len(parts) == 2 else (None, None)
            )
            if start is None or end is None or start >= end:
                section.fail(key, f'enthält {item!r}; erwartet: Zeitspannen wie "07:30-12:30"')
            parsed.append(TimeRange(start, end))  # type: ignore[arg-type]
        if parsed:
            hours[WEEKDAYS.index(day)] = tuple(sorted(parsed, key=lambda r: r.start))
    return hours


def _mailbox(section: _Section) -> MailboxSettings:
    section.require("backend", "erlaubt: " + ", ".join(BACKENDS))
    backend = section.choice("backend", "maildir", BACKENDS)
    settings = MailboxSettings(
        backend=backend,
        path=section.path("path", Path("postfach") if backend == "maildir" else None),
        address=section.get("address", "", str, _check_email),
        endpoint=section.get(
            "endpoint",
            "",
            str,
            lambda v: (
                None
                if re.match(r"https?://", v)
                else "erwartet: eine URL wie https://mail.example.de/EWS/Exchange.asmx"
            ),
        ),
        username=section.get("username", "", str),
        password_env=section.get("password_env", "", str, _check_env_name),
        auth=section.choice("auth", "ntlm", EWS_AUTH),
        tenant_id=section.get("tenant_id", "", str),
        client_id=section.get("client_id", "", str),
        client_secret_env=section.get("client_secret_env", "", str, _check_env_name),
        certificate_path=section.path("certificate_path", None),
        host=section.get("host", "", str),
        port=section.int_range("port", 0, 0, 65535),
        security=section.choice("security", "tls", TLS_MODES),
        smtp_host=section.get("smtp_host", "", str),
        smtp_port=section.int_range("smtp_port", 0, 0, 65535),
        smtp_security=section.choice("smtp_security", "starttls", TLS_MODES),
        smtp_username=section.get("smtp_username", "", str),
        smtp_password_env=section.get("smtp_password_env", "", str, _check_env_name),
        ca_file=section.path("ca_file", None),
        inbox_folder=section.get("inbox_folder", "INBOX", str),
        sent_folder=section.get("sent_folder", "Sent", str),
        retries=section.int_range("retries", 3, 0, 20),
        retry_backoff_seconds=section.get(
            "retry_backoff_seconds",
            2.0,
            float,
            lambda v: None if 0 <= v <= 600 else "erlaubt: 0 bis 600",
        ),
        batch_size=section.int_range("batch_size", 500, 1, 100_000),
        authority_host=section.get(
            "authority_host",
            "",
            str,
            lambda v: (
                None
                if re.fullmatch(r"https://[^/\s]+/?", v)
                else "erwartet: nur der Anmelde-Host wie https://login.microsoftonline.us"
            ),
        ).rstrip("/"),
        sent_copy_grace_minutes=section.int_range("sent_copy_grace_minutes", 10, 0, 1440),
        throttle_budget_seconds=section.get(
            "throttle_budget_seconds",
            120.0,
            float,
            lambda v: None if 0 <= v <= 3600 else "erlaubt: 0 bis 3600 (Sekunden je Durchgang)",
        ),
    )
    required = {
        "maildir": ("path",),
        "ews": ("endpoint", "address", "username"),
        "graph": ("address", "tenant_id", "client_id"),
        "imap": ("host", "username", "password_env"),
    }[backend]
    for key in required:
        if not getattr(settings, key):
            section.fail(key, f'fehlt; für backend = "{backend}" nötig')
    if backend == "ews" and settings.auth != "oauth" and not settings.password_env:
        section.fail("password_env", "fehlt; nennen Sie die Umgebungsvariable mit dem Passwort")
    if backend == "graph" and not (settings.client_secret_env or settings.certificate_path):
        section.fail("client_secret_env", "oder certificate_path fehlt; eins von beiden ist nötig")
    return settings


def _intake(section: _Section, office_domain: str) -> IntakeSettings:
    table = section.get("rechtskreis_domains", DEFAULT_RECHTSKREIS_DOMAINS, dict)
    mapping: dict[str, str] = {}
    for domain, rechtskreis in table.items():
        if rechtskreis not in RECHTSKREISE:
            section.fail(
                f"rechtskreis_domains.{domain}",
                f"= {rechtskreis!r}; erlaubt: " + ", ".join(RECHTSKREISE),
            )
        mapping[domain.lower().lstrip("@")] = rechtskreis
    if office_domain:
        mapping.setdefault(office_domain, "SGB VIII")
    return IntakeSettings(rechtskreis_domains=mapping)


def _deadlines(section: _Section) -> DeadlineSettings:
    months = section.get("qualitaetsdialog_months", [3, 9], list)
    if len(months) != 2 or not all(isinstance(m, int) and 1 <= m <= 12 for m in months):
        section.fail("qualitaetsdialog_months", "erwartet: zwei Monate, z. B. [3, 9]")
    return DeadlineSettings(
        contact_person_days=section.int_range("contact_person_days", 5, 1, 60),
        home_visit_days=section.int_range("home_visit_days", 10, 1, 60),
        reminder_days_before=section.int_range("reminder_days_before", 2, 0, 20),
        feedback_weeks=section.int_range("feedback_weeks", 4, 1, 6),
        care_weeks=section.int_range("care_weeks", 4, 4, 6),
        qualitaetsdialog_months=tuple(sorted(months)),
        qualitaetsdialog_first_organiser=section.choice(
            "qualitaetsdialog_first_organiser", "SGB II", ("SGB II", "SGB VIII")
        ),
        qualitaetsdialog_notice_weeks=section.int_range("qualitaetsdialog_notice_weeks", 4, 1, 12),
        goals_review_month=section.int_range("goals_review_month", 1, 1, 12),
        double_invitation_working_days=section.int_range(
            "double_invitation_working_days", 5, 0, 30
        ),
    )


def _schedule(section: _Section) -> ScheduleSettings:
    raw_times = section.get("reminder_times", ["08:00"], list)
    times = []
    for item in raw_times:
        parsed = _parse_hhmm(str(item))
        if parsed is None:
            section.fail("reminder_times", f'enthält {item!r}; erwartet: Uhrzeiten wie "08:00"')
        times.append(parsed)
    return ScheduleSettings(
        intake_minutes=section.int_range("intake_minutes", 2, 1, 1440),
        reminder_times=tuple(sorted(t for t in times if t is not None)),
        digest_time=section.time_of_day("digest_time", time(7, 0)),
    )


def _watchdog(section: _Section, schedule: ScheduleSettings) -> WatchdogSettings:
    week = 7 * 24 * 60
    settings = WatchdogSettings(
        intake_overdue_minutes=section.int_range("intake_overdue_minutes", 30, 1, week),
        pending_minutes=section.int_range("pending_minutes", 60, 1, week),
    )
    if settings.intake_overdue_minutes <= schedule.intake_minutes:
        section.fail(
            "intake_overdue_minutes",
            f"= {settings.intake_overdue_minutes} ist zu klein: muss größer sein als "
            f"[schedule] intake_minutes ({schedule.intake_minutes}), sonst meldet der Dienst "
            "ständig einen Ausfall",
        )
    return settings


SECTIONS = (
    "office",
    "mailbox",
    "workbook",
    "intake",
    "mail",
    "deadlines",
    "schedule",
    "logging",
    "state",
    "templates",
    "watchdog",
    "retention",
    "letters",
)


def parse_settings(data: dict[str, Any], source: Path) -> Settings:
    """Validate a parsed TOML document. `source` names the file in messages and anchors paths."""
    source = source.resolve() if source.exists() else source.absolute()
    for name in data:
        if name not in SECTIONS:
            raise ConfigError(
                f"{source}: Abschnitt [{name}] ist unbekannt; erlaubt: "
                + ", ".join(f"[{s}]" for s in SECTIONS)
            )

    def section(name: str) -> _Section:
        return _Section(source, name, data.get(name, {}))

    office_s = section("office")
    office = _office(office_s)
    office_s.done()
    mailbox_s = section("mailbox")
    mailbox = _mailbox(mailbox_s)
    mailbox_s.done()
    workbook_s = section("workbook")
    workbook_s.require("path", 'z. B. path = "Anfrageliste.xlsx"')
    workbook = WorkbookSettings(
        path=workbook_s.path("path", Path("Anfrageliste.xlsx")) or Path("Anfrageliste.xlsx"),
        backups=workbook_s.int_range("backups", 10, 0, 1000),
    )
    if workbook.path.suffix.lower() not in (".xlsx", ".xlsm"):
        workbook_s.fail("path", f"= {str(workbook.path)!r}: erwartet eine .xlsx- oder .xlsm-Datei")
    workbook_s.done()
    intake_s = section("intake")
    intake = _intake(intake_s, office.domain)
    intake_s.done()
    mail_s = section("mail")
    team_address = mail_s.get("team_address", mailbox.address, str, _check_email)
    internal = _domains(mail_s, "internal_domains")
    mail = MailSettings(
        team_address=team_address or mailbox.address or "teampostfach@localhost",
        internal_domains=internal
        or tuple(d for d in (office.domain, *intake.rechtskreis_domains) if d),
        admin_address=mail_s.get("admin_address", "", str, _check_email),
        from_name=mail_s.get("from_name", office.name, str, _check_display_name).strip(),
        acknowledge_max_age_working_days=mail_s.int_range(
            "acknowledge_max_age_working_days", 2, 0, 250
        ),
    )
    mail_s.done()
    deadlines_s = section("deadlines")
    deadlines = _deadlines(deadlines_s)
    deadlines_s.done()
    schedule_s = section("schedule")
    schedule = _schedule(schedule_s)
    schedule_s.done()
    logging_s = section("logging")
    logging_settings = LoggingSettings(
        file=logging_s.path("file", None),
        level=logging_s.choice("level", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        json=logging_s.get("json", False, bool),
    )
    logging_s.done()
    state_s = section("state")
    state_dir = state_s.path("dir", Path("state")) or Path("state")
    state_s.done()
    templates_s = section("templates")
    templates_dir = templates_s.path("override_dir", None)
    templates_s.done()
    watchdog_s = section("watchdog")
    watchdog = _watchdog(watchdog_s, schedule)
    watchdog_s.done()
    retention_s = section("retention")
    retention = RetentionSettings(
        months=retention_s.int_range("months", 0, 0, 240),
        mail_months=retention_s.int_range("mail_months", 0, 0, 240),
        sent_months=retention_s.int_range("sent_months", 0, 0, 240),
        backup_days=retention_s.int_range("backup_days", 0, 0, 3650),
        letters_days=retention_s.int_range("letters_days", 0, 0, 3650),
        state_days=retention_s.int_range("state_days", 0, 0, 3650),
    )
    retention_s.done()
    letters_s = section("letters")
    letters = _letters(letters_s)
    letters_s.done()
    return Settings(
        config_path=source,
        office=office,
        mailbox=mailbox,
        workbook=workbook,
        intake=intake,
        mail=mail,
        deadlines=deadlines,
        schedule=schedule,
        logging=logging_settings,
        state_dir=state_dir,
        templates_dir=templates_dir,
        watchdog=watchdog,
        retention=retention,
        letters=letters,
    )


def _check_display_name(value: str) -> str | None:
    if any(ord(c) < 32 for c in value):
        return "darf keinen Zeilenumbruch enthalten"
    return None if value.strip() else "darf nicht leer sein"


def _letters(section: _Section) -> LetterSettings:
    mode_text = section.get(
        "file_mode",
        "",
        str,
        lambda v: None if re.fullmatch(r"0?[0-7]{3}", v) else 'erwartet z. B. "0640"',
    )
    return LetterSettings(
        notice_working_days=section.int_range("notice_working_days", 3, 0, 30),
        file_mode=int(mode_text, 8) if mode_text else None,
    )


def load_settings(path: Path) -> Settings:
    """Read and validate the config file; every problem is a ConfigError naming file and key."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: Konfigurationsdatei nicht gefunden. Mit `jugendhaus-mail init` wird eine "
            "kommentierte Vorlage angelegt, oder geben Sie --config PFAD an."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: kann nicht gelesen werden ({exc.strerror}).") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: ist nicht UTF-8-kodiert; bitte als UTF-8 speichern.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: ist kein gültiges TOML ({exc}).") from None
    return parse_settings(data, path)
