"""What keeps the service from telling people what they must know, and the figures monitoring
wants: used by `check`, `check --nagios`, the watchdog and the digest.

- Setup: without active staff, a JSB, a Sachgebietsleitung (with addresses inside
  `[mail] internal_domains`) or `[mail] admin_address`, reminders, escalations, the digest or
  the watchdog's warnings reach nobody. `check` must not call such a site healthy.
- Unaddressed mail: a mail the service wanted to send but could address to nobody allowed is
  recorded in the state database (`notify/outbox.py`); it is a problem for a week.
- `check --nagios`: one line in the monitoring-plugin format (Nagios, Icinga, Checkmk, Zabbix)
  from the status file and the state database, without logging in to the mailbox, so it can run
  every minute.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.notify.outbox import EXTERNAL_REQUESTER, STUCK_AFTER
from jugendhaus_mail.notify.outgoing import RecipientPolicy
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.service.health import (
    FAILED,
    JOB_LABELS,
    duration_text,
    intake_overdue,
    load_status,
)
from jugendhaus_mail.state import StateDB, Unaddressed
from jugendhaus_mail.workbook.model import Row

UNADDRESSED_DAYS = 7  # how long a mail nobody received stays a problem
UNSENT_WARN_MINUTES = int(STUCK_AFTER.total_seconds() // 60)  # as `check` lists stuck mail
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
PLUGIN = "JUGENDHAUS-MAIL"


def setup_problems(settings: Settings, staff_rows: list[Row]) -> list[str]:
    """German sentences naming the sheet or key to fill; empty when everyone can be reached."""
    policy = RecipientPolicy(settings.mail.internal_domains)
    staff = Staff(staff_rows)
    reachable = [m for m in staff.members if policy.check(m.email) is not None]
    domains = ", ".join(settings.mail.internal_domains)
    problems = []
    if not reachable:
        problems.append(
            "Blatt Mitarbeitende: keine aktiven Mitarbeitenden mit E-Mail-Adresse "
            f"({domains}). Bitte JSB, Sachgebietsleitung und Teamleitungen mit E-Mail und "
            "Aktiv = Ja eintragen – sonst erfährt niemand von Fristen und Kinderschutz-Meldungen."
        )
    else:
        roles = {m.role for m in reachable}
        for role, what in (
            ("JSB", "Erinnerungen und Kinderschutz-Meldungen"),
            ("Sachgebietsleitung", "Eskalationen und die Tagesübersicht"),
        ):
            if role not in roles:
                problems.append(
                    f"Blatt Mitarbeitende: niemand mit Rolle {role}, Aktiv = Ja und einer "
                    f"Adresse in [mail] internal_domains – {what} gehen an niemanden. Bitte "
                    "eintragen."
                )
    if not settings.mail.admin_address:
        problems.append(
            "[mail] admin_address fehlt: Warnungen des Dienstes (Postfach nicht erreichbar, "
            "Anfrageliste gesperrt, Mail ohne Empfänger) erreichen niemanden. Bitte in der "
            'Konfiguration eintragen, z. B. admin_address = "it@rostock.de".'
        )
    return problems


def recent_unaddressed(state: StateDB, now: datetime) -> list[Unaddressed]:
    """Mail of the last week that reached nobody because of the setup: a problem for the admin."""
    entries = state.unaddressed(now - timedelta(days=UNADDRESSED_DAYS))
    return [entry for entry in entries if not is_external_requester(entry)]


def unconfirmed_requesters(state: StateDB, now: datetime) -> list[Unaddressed]:
    """Requesters outside the office's domains (a youth workshop, a school) whom the service may
    not acknowledge. Nothing for the admin to fix: the digest asks the JSB to answer by hand."""
    entries = state.unaddressed(now - timedelta(days=UNADDRESSED_DAYS))
    return [entry for entry in entries if is_external_requester(entry)]


def is_external_requester(entry: Unaddressed) -> bool:
    return entry.key.endswith("|acknowledgement") and entry.reason.startswith(EXTERNAL_REQUESTER)


def unaddressed_text(entry: Unaddressed, zone: ZoneInfo) -> str:
    when = f"{entry.recorded_at.astimezone(zone):%d.%m.%Y %H:%M}"
    return f"Nicht gesendet ({when}): „{entry.subject}“ – {entry.reason}."


# --- check --nagios ----------------------------------------------------------------------------


@dataclass
class Figures:
    waiting: int = 0
    unsent: int = 0
    unaddressed: int = 0
    minutes_since_intake: int | None = None
    set_aside_today: int = 0
    critical: list[str] = field(default_factory=list)
    warning: list[str] = field(default_factory=list)


def plugin_line(figures: Figures, overdue_minutes: int) -> tuple[int, str]:
    """(exit code, the one line) in the monitoring-plugin format."""
    if figures.critical:
        code, texts = CRITICAL, figures.critical + figures.warning
    elif figures.warning:
        code, texts = WARNING, figures.warning
    else:
        code = OK
        since = figures.minutes_since_intake
        texts = [
            (
                "letzter Abruf vor " + duration_text(timedelta(minutes=since))
                if since is not None
                else "noch kein Abruf"
            )
            + f", {figures.waiting} Anfrage(n) warten, {figures.unsent} Mail(s) unversandt"
        ]
    age = "U" if figures.minutes_since_intake is None else str(figures.minutes_since_intake)
    perfdata = " ".join(
        [
            f"waiting={figures.waiting};;;0",
            f"unsent={figures.unsent};;;0",
            f"unaddressed={figures.unaddressed};0;;0",
            f"minutes_since_intake={age};;{overdue_minutes};0",
            f"set_aside_today={figures.set_aside_today};;;0",
        ]
    )
    return code, f"{PLUGIN} {STATE_NAMES[code]} - {_one_line('; '.join(texts))} | {perfdata}"


def unknown_line(reason: str) -> str:
    return f"{PLUGIN} UNKNOWN - {_one_line(reason)}"


def gather(settings: Settings, now: datetime, staff_rows: list[Row] | None) -> Figures:
    """Everything from files on this machine; `staff_rows` None when the workbook is unreadable
    (a critical problem, reported by the caller)."""
    from jugendhaus_mail.jobs.guard import current_block
    from jugendhaus_mail.service.lock import holder

    figures = Figures()
    zone = ZoneInfo(settings.office.timezone)
    status = load_status(settings)
    if status is None:
        figures.warning.append("der Dienst hat noch keinen Statusbericht geschrieben (läuft er?)")
    else:
        intake = status.jobs.get("intake")
        last = intake.last_success if intake and intake.last_success else None
        if last is not None:
            figures.minutes_since_intake = max(
                0, int((now - datetime.fromisoformat(last)).total_seconds() // 60)
            )
        overdue = intake_overdue(status, settings, now)
        if overdue is not None:
            figures.critical.append(
                f"seit {duration_text(overdue)} kein erfolgreicher Abruf "
                "des Postfachs" + ("" if holder(settings) is not None else " (Dienst läuft nicht)")
            )
        figures.warning += [
            f"{JOB_LABELS.get(name, name)}: letzter Lauf fehlgeschlagen"
            for name, job in status.jobs.items()
            if job.result == FAILED
        ]
    try:
        with StateDB(settings.state_dir) as state:
            block = current_block(state)
            if block is not None:
                figures.critical.append(
                    "das Postfach lehnt die Anmeldung ab (gesperrt bis "
                    f"{block.until.astimezone(zone):%H:%M})"
                )
            pending = state.pending_times()
            figures.waiting = len(pending)
            if pending:
                oldest = min(pending)
                if now - oldest > timedelta(minutes=settings.watchdog.pending_minutes):
                    figures.warning.append(
                        f"{len(pending)} Anfrage(n) warten seit "
                        f"{oldest.astimezone(zone):%d.%m. %H:%M} auf die Anfrageliste"
                    )
            queued = state.unsent_queued_at()
            figures.unsent = len(queued)
            stuck = [at for at in queued if now - at > STUCK_AFTER]
            if stuck:
                figures.warning.append(
                    f"{len(stuck)} Mail(s) seit über {UNSENT_WARN_MINUTES} Minuten unversandt"
                )
            unaddressed = recent_unaddressed(state, now)
            figures.unaddressed = len(unaddressed)
            if unaddressed:
                figures.warning.append(f"{len(unaddressed)} Mail(s) ohne zulässigen Empfänger")
            midnight = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), zone)
            figures.set_aside_today = state.set_aside_since(midnight.astimezone(now.tzinfo))
    except sqlite3.DatabaseError as exc:
        figures.critical.append(f"Zustandsdatenbank nicht lesbar ({exc})")
    except JugendhausError as exc:  # a damaged database, said with what to do
        figures.critical.append(str(exc))
    if staff_rows is not None:
        figures.warning += setup_problems(settings, staff_rows)
    return figures


def _one_line(text: str) -> str:
    return " ".join(text.replace("|", "/").split())
