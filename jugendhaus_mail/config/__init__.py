"""The TOML configuration, parsed once into frozen, validated settings.

Every key is checked at start-up. A wrong or unknown key gives one message naming the file,
the key and what is allowed. Relative paths are relative to the config file. The settings
themselves are in `model`, the reading of one table in `section`; this module reads each
section and the whole file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

from jugendhaus_mail.config.mailbox import _mailbox
from jugendhaus_mail.config.model import (
    BACKENDS,
    DEFAULT_OFFICE_HOURS,
    DEFAULT_RECHTSKREIS_DOMAINS,
    EWS_AUTH,
    GERMAN_STATES,
    RECHTSKREISE,
    TLS_MODES,
    WEEKDAYS,
    DeadlineSettings,
    IntakeSettings,
    LetterSettings,
    LoggingSettings,
    MailboxSettings,
    MailSettings,
    OfficeSettings,
    RetentionSettings,
    ScheduleSettings,
    Settings,
    TimeRange,
    WatchdogSettings,
    WorkbookSettings,
)
from jugendhaus_mail.config.section import (
    _DOMAIN,
    _check_display_name,
    _check_email,
    _check_timezone,
    _domains,
    _parse_hhmm,
    _Section,
)
from jugendhaus_mail.errors import ConfigError

T = TypeVar("T")

__all__ = [
    "BACKENDS",
    "DEFAULT_OFFICE_HOURS",
    "DEFAULT_RECHTSKREIS_DOMAINS",
    "EWS_AUTH",
    "GERMAN_STATES",
    "RECHTSKREISE",
    "TLS_MODES",
    "WEEKDAYS",
    "DeadlineSettings",
    "IntakeSettings",
    "LetterSettings",
    "LoggingSettings",
    "MailSettings",
    "MailboxSettings",
    "OfficeSettings",
    "RetentionSettings",
    "ScheduleSettings",
    "Settings",
    "TimeRange",
    "WatchdogSettings",
    "WorkbookSettings",
    "load_settings",
    "parse_settings",
]


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


def _command_line(value: list[object]) -> str | None:
    if all(isinstance(part, str) and part.strip() for part in value):  # [] is off
        return None
    return 'erwartet: Programm und Argumente als Liste, z. B. ["/usr/local/bin/jhm-alarm"]'


def _watchdog(section: _Section, schedule: ScheduleSettings) -> WatchdogSettings:
    week = 7 * 24 * 60
    settings = WatchdogSettings(
        intake_overdue_minutes=section.int_range("intake_overdue_minutes", 30, 1, week),
        pending_minutes=section.int_range("pending_minutes", 60, 1, week),
        alert_command=tuple(section.get("alert_command", [], list, _command_line)),
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


def _workbook(section: _Section) -> WorkbookSettings:
    section.require("path", 'z. B. path = "Anfrageliste.xlsx"')
    workbook = WorkbookSettings(
        path=section.path("path", Path("Anfrageliste.xlsx")) or Path("Anfrageliste.xlsx"),
        backups=section.int_range("backups", 10, 0, 1000),
    )
    if workbook.path.suffix.lower() not in (".xlsx", ".xlsm"):
        section.fail("path", f"= {str(workbook.path)!r}: erwartet eine .xlsx- oder .xlsm-Datei")
    return workbook


def _mail(
    section: _Section, office: OfficeSettings, mailbox: MailboxSettings, intake: IntakeSettings
) -> MailSettings:
    team_address = section.get("team_address", mailbox.address, str, _check_email)
    internal = _domains(section, "internal_domains")
    return MailSettings(
        team_address=team_address or mailbox.address or "teampostfach@localhost",
        internal_domains=internal
        or tuple(d for d in (office.domain, *intake.rechtskreis_domains) if d),
        admin_address=section.get("admin_address", "", str, _check_email),
        from_name=section.get("from_name", office.name, str, _check_display_name).strip(),
        acknowledge_max_age_working_days=section.int_range(
            "acknowledge_max_age_working_days", 2, 0, 250
        ),
    )


def _logging(section: _Section) -> LoggingSettings:
    return LoggingSettings(
        file=section.path("file", None),
        level=section.choice("level", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        json=section.get("json", False, bool),
    )


def _retention(section: _Section) -> RetentionSettings:
    return RetentionSettings(
        months=section.int_range("months", 0, 0, 240),
        mail_months=section.int_range("mail_months", 0, 0, 240),
        sent_months=section.int_range("sent_months", 0, 0, 240),
        backup_days=section.int_range("backup_days", 0, 0, 3650),
        letters_days=section.int_range("letters_days", 0, 0, 3650),
        state_days=section.int_range("state_days", 0, 0, 3650),
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

    def parsed(name: str, read: Callable[[_Section], T]) -> T:
        """Read table [name] with `read`; a key `read` did not take is an error."""
        table = _Section(source, name, data.get(name, {}))
        value = read(table)
        table.done()
        return value

    office = parsed("office", _office)
    mailbox = parsed("mailbox", _mailbox)
    workbook = parsed("workbook", _workbook)
    intake = parsed("intake", lambda s: _intake(s, office.domain))
    mail = parsed("mail", lambda s: _mail(s, office, mailbox, intake))
    deadlines = parsed("deadlines", _deadlines)
    schedule = parsed("schedule", _schedule)
    logging_settings = parsed("logging", _logging)
    state_dir = parsed("state", lambda s: s.path("dir", Path("state")) or Path("state"))
    templates_dir = parsed("templates", lambda s: s.path("override_dir", None))
    watchdog = parsed("watchdog", lambda s: _watchdog(s, schedule))
    retention = parsed("retention", _retention)
    letters = parsed("letters", _letters)
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
