"""The settings as the service uses them: frozen dataclasses with their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

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
    alert_command: tuple[str, ...] = ()  # run per warning and all-clear (text on stdin); () = off


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
