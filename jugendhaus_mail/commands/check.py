"""`check`: say in plain words whether the configuration, workbook, state and service are sound.

Exit code 0 when everything is fine, 1 when something needs the admin, so monitoring can use it:
the service's last intake is overdue, requests wait too long for the workbook, the mailbox
refused the log-in (and is blocked for an hour), a job's last run failed, or the workbook's
lock file is older than a working day. A successful mailbox check ends a log-in block at once.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jugendhaus_mail.errors import ConfigError, JugendhausError

if TYPE_CHECKING:
    from jugendhaus_mail.app import App
    from jugendhaus_mail.config import Settings

HELP = "Konfiguration, Anfrageliste und Postfach prüfen"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--send-test", metavar="ADRESSE",
        help="zusätzlich eine Testmail an ADRESSE senden (nur an eine Adresse in "
        "[mail] internal_domains)",
    )  # fmt: skip
    parser.add_argument(
        "--nagios", action="store_true",
        help="eine Zeile für Nagios/Icinga/Checkmk/Zabbix ausgeben; Exit 0/1/2/3 = "
        "OK/WARNING/CRITICAL/UNKNOWN (ohne Anmeldung am Postfach)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.session import app_from_args

    if getattr(args, "nagios", False):
        return nagios(args)
    app = app_from_args(args)
    send_test = None if args.send_test is None else send_test_address(args.send_test, app.settings)
    lines = [(True, f"Konfiguration in Ordnung: {app.settings.config_path}")]
    lines += check_workbook(app)
    lines += check_setup(app)
    lines += check_state(app)
    lines += check_unaddressed(app)
    lines += check_undelivered(app)
    lines += check_service(app)
    mailbox_lines = check_mailbox(app, send_test)
    lines += mailbox_lines
    lines += check_auth_block(app, mailbox_ok=all(ok for ok, _ in mailbox_lines))
    for ok, text in lines:
        print(("OK      " if ok else "PROBLEM ") + text)
    return 0 if all(ok for ok, _ in lines) else 1


def nagios(args: argparse.Namespace) -> int:
    """One line for Nagios, Icinga, Checkmk or Zabbix; exit 0 OK, 1 WARNING, 2 CRITICAL,
    3 UNKNOWN. Reads only local files (no log-in to the mailbox), so it may run every minute."""
    from jugendhaus_mail.commands.session import app_from_args
    from jugendhaus_mail.service import monitoring

    try:
        app = app_from_args(args)
    except (JugendhausError, SystemExit) as exc:
        print(monitoring.unknown_line(f"Konfiguration nicht lesbar: {exc}"))
        return monitoring.UNKNOWN
    try:
        staff_rows = None
        critical = []
        if not app.settings.workbook.path.exists():
            critical.append(f"Anfrageliste fehlt ({app.settings.workbook.path})")
        else:
            try:
                staff_rows = app.store().read().staff
            except JugendhausError as exc:
                critical.append(f"Anfrageliste nicht lesbar: {exc}")
        figures = monitoring.gather(app.settings, app.now, staff_rows)
        figures.critical += critical
        from jugendhaus_mail.service.watchdog import stale_lock_problem

        stale = stale_lock_problem(app)
        if stale is not None:
            figures.warning.append(stale.text)
    except Exception as exc:  # a monitoring plugin answers; it never shows a traceback
        print(monitoring.unknown_line(f"Prüfung fehlgeschlagen: {type(exc).__name__}: {exc}"))
        return monitoring.UNKNOWN
    code, line = monitoring.plugin_line(figures, app.settings.watchdog.intake_overdue_minutes)
    print(line)
    return code


def check_setup(app: App) -> list[tuple[bool, str]]:
    """Who would receive reminders, escalations, the digest and warnings (fresh sites)."""
    from jugendhaus_mail.service.monitoring import setup_problems

    try:
        staff = app.store().read().staff if app.settings.workbook.path.exists() else []
    except JugendhausError:
        staff = []  # check_workbook says why
    problems = setup_problems(app.settings, staff)
    if not problems:
        return [(True, "Empfänger vollständig: JSB, Sachgebietsleitung und admin_address")]
    return [(False, text) for text in problems]


def check_undelivered(app: App) -> list[tuple[bool, str]]:
    """Mail refused for good, or stuck in the outbox (see notify/outbox.py)."""
    from jugendhaus_mail.notify.outbox import undelivered_mail

    with app.state() as state:
        return [(False, mail.line()) for mail in undelivered_mail(state, app.now)]


def check_unaddressed(app: App) -> list[tuple[bool, str]]:
    """Mail that reached nobody is a problem; a requester outside the office's domains is not
    (the JSB answer by hand, as the digest asks them to) and is only listed."""
    from jugendhaus_mail.service.monitoring import (
        recent_unaddressed,
        unaddressed_text,
        unconfirmed_requesters,
    )

    with app.state() as state:
        entries = recent_unaddressed(state, app.now)
        external = unconfirmed_requesters(state, app.now)
    lines = [(False, unaddressed_text(entry, app.calendar.tz)) for entry in entries]
    lines += [(True, unaddressed_text(entry, app.calendar.tz)) for entry in external]
    return lines


def send_test_address(raw: str, settings: Settings) -> str:
    """The one address a test mail may go to: inside `[mail] internal_domains`, exactly one,
    no line breaks. Checked here, before any backend is asked, so no backend can send it
    elsewhere. Raises ConfigError (one line, exit 2) otherwise."""
    from jugendhaus_mail.notify.outgoing import RecipientPolicy, bare_address

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"Testmail nicht gesendet: {why}")

    if _CONTROL.search(raw):
        raise refuse(
            "die Adresse enthält einen Zeilenumbruch oder ein Steuerzeichen. Bitte genau eine "
            "Adresse ohne Zeilenumbruch angeben, z. B. --send-test it@rostock.de"
        )
    text = raw.strip()
    if not text:
        raise refuse("keine Adresse angegeben, z. B. --send-test it@rostock.de")
    if text.count("@") > 1 or re.search(r"[,;]", text):
        raise refuse(
            "bitte genau eine Adresse angeben; eine Testmail geht nie an mehrere Empfänger."
        )
    address = bare_address(text)
    if address is None:
        raise refuse(f"{text} ist keine gültige E-Mail-Adresse (erwartet z. B. it@rostock.de).")
    domains = settings.mail.internal_domains
    if RecipientPolicy(domains).check(address) is None:
        raise refuse(
            f"{address} liegt nicht in [mail] internal_domains ({', '.join(domains)}). Eine "
            "Testmail geht nur an eine Adresse im eigenen Haus; bitte eine solche angeben oder "
            "die Domain in [mail] internal_domains eintragen."
        )
    return address


def check_workbook(app: App) -> list[tuple[bool, str]]:
    from jugendhaus_mail.workbook.locks import find_lock
    from jugendhaus_mail.workbook.renamed import described_missing, renamed_in

    path = app.settings.workbook.path
    if not path.exists():
        return [(False, f"Anfrageliste fehlt: {path} – mit `jugendhaus-mail init` anlegen.")]
    lines: list[tuple[bool, str]] = []
    try:
        snapshot = app.store().read()
    except JugendhausError as exc:
        return [(False, f"Anfrageliste nicht lesbar: {exc}")]
    lines.append(
        (
            True,
            f"Anfrageliste lesbar: {len(snapshot.requests)} Anfragen, "
            f"{len(snapshot.staff)} Mitarbeitende",
        )
    )
    renamed = renamed_in(path, app.store().schema) if any(snapshot.missing_headers.values()) else {}
    for sheet, headers in snapshot.missing_headers.items():
        if headers:
            named = described_missing(headers, renamed.get(sheet, {}))
            lines.append(
                (
                    False,
                    f"Blatt {sheet}: Spalten fehlen: {named} – bitte die Überschriften "
                    "wiederherstellen.",
                )
            )
    lock = find_lock(path, app.calendar.tz)
    if lock is not None:
        # as the lock file says it: LibreOffice writes the opening PC's wall-clock time
        since = lock.since.strftime("%d.%m.%Y %H:%M") if lock.since else "unbekannt"
        lines.append(
            (
                True,
                f"Anfrageliste ist geöffnet von {lock.owner} (seit {since}); "
                "der Dienst schreibt, sobald sie geschlossen ist.",
            )
        )
    for header in _missing_columns(snapshot.missing_headers):
        lines.append((True, header))
    return lines


def _missing_columns(missing: dict[str, tuple[str, ...]]) -> list[str]:
    if not any(missing.values()):
        return []
    return [
        "Fehlende Spalten ergänzt der Dienst beim nächsten `run`-Start oder `poll` rechts an "
        "der Tabelle (nach einer Sicherung); umbenannte nicht: bitte zurückbenennen, bis dahin "
        "ruhen die Erinnerungen."
    ]


def check_service(app: App) -> list[tuple[bool, str]]:
    """The status file the service writes, its lock, and an abandoned workbook lock file."""
    from jugendhaus_mail.service.health import health_lines, load_status
    from jugendhaus_mail.service.lock import holder
    from jugendhaus_mail.service.watchdog import stale_lock_problem

    status = load_status(app.settings)
    running = holder(app.settings)
    lines = health_lines(status, app.settings, app.now, running=running is not None)
    if running is not None:
        lines.append((True, f"Gerade aktiv: {running}"))
    stale = stale_lock_problem(app)
    if stale is not None:
        lines.append((False, f"{stale.text} {stale.what_to_do}"))
    return lines


def check_auth_block(app: App, *, mailbox_ok: bool) -> list[tuple[bool, str]]:
    from jugendhaus_mail.jobs.guard import clear_auth_block, current_block

    with app.state() as state:
        block = current_block(state)
        if block is None:
            return []
        if mailbox_ok and app.settings.mailbox.backend != "maildir":
            clear_auth_block(state)
            return [(True, "Anmeldung am Postfach klappt wieder; die Sperre ist aufgehoben.")]
    return [(False, block.describe(app.settings.office.timezone))]


def check_mailbox(app: App, send_test_to: str | None) -> list[tuple[bool, str]]:
    """Log in, read the inbox, check the folders; the network backends say what is wrong."""
    import importlib

    from jugendhaus_mail.mailbox import BACKENDS

    settings = app.settings
    if settings.mailbox.backend == "maildir":
        path = settings.mailbox.path
        if path is None or not ((path / "new").is_dir() or (path / "cur").is_dir()):
            return [
                (
                    False,
                    f"Maildir fehlt: {path} – Pfad in [mailbox] path prüfen oder `init` ausführen.",
                )
            ]
        waiting = sum(
            1 for sub in ("new", "cur") if (path / sub).is_dir() for _ in (path / sub).iterdir()
        )
        found = [
            (True, f"Maildir lesbar: {path} ({waiting} Mail(s) im Posteingang)"),
            (
                True,
                "Maildir versendet nichts: was der Dienst schickt (Bestätigungen, Erinnerungen, "
                "Warnungen), liegt nur im Ordner .Postausgang. Damit es ankommt, backend = "
                '"ews", "graph" oder "imap" einrichten.',
            ),
        ]
        if send_test_to:
            found.append(_maildir_test_mail(app, send_test_to))
        return found
    module_name, _class_name = BACKENDS[settings.mailbox.backend]
    module = importlib.import_module(f"{module_name}_diagnose")
    try:
        lines: list[tuple[bool, str]] = module.diagnose(settings, send_test_to)
    except JugendhausError as exc:
        return [(False, str(exc))]
    return lines


def _maildir_test_mail(app: App, to: str) -> tuple[bool, str]:
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    from jugendhaus_mail.mailbox.maildir import MaildirMailbox

    settings = app.settings
    message = EmailMessage()
    message["From"] = settings.mail.team_address
    message["To"] = to
    message["Subject"] = "Testmail von jugendhaus-mail"
    message["Date"] = format_datetime(app.now)
    message["Message-ID"] = make_msgid(domain=settings.mail.team_address.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "Diese Testmail hat `jugendhaus-mail check --send-test` in den Ordner Postausgang "
        "gelegt. Dort liegt jede Mail, die der Dienst verschickt.\n"
    )
    try:
        with MaildirMailbox(settings) as mailbox:
            mailbox.send(message)
    except (OSError, JugendhausError) as exc:
        return False, f"Testmail ließ sich nicht in den Ordner Postausgang legen: {exc}"
    return True, f"Testmail an {to} in den Ordner Postausgang gelegt ({settings.mailbox.path})"


def check_state(app: App) -> list[tuple[bool, str]]:
    from jugendhaus_mail.workbook.store import STATUS_FILE, waiting_reason, workbook_status

    with app.state() as state:
        pending = state.pending_times()
        counts = state.counts()
        aside = state.set_aside(10)
        restored = state.restored_rows(app.now - timedelta(days=14))
    lines = [
        (
            True,
            f"Bisher bearbeitet: {counts.get('request', 0)} Anfragen, "
            f"{counts.get('set_aside', 0)} Mails nicht erfasst",
        )
    ]
    if pending:
        oldest = min(pending)
        limit = app.settings.watchdog.pending_minutes
        too_long = app.now - oldest > timedelta(minutes=limit)
        lines.append(
            (
                not too_long,
                f"{len(pending)} Anfrage(n) warten seit "
                f"{oldest.astimezone(app.calendar.tz):%d.%m.%Y %H:%M} auf die Anfrageliste "
                f"({waiting_reason(app.settings.state_dir)})"
                + (
                    f"; länger als {limit} Minuten ([watchdog] pending_minutes)."
                    if too_long
                    else "."
                ),
            )
        )
    if restored:
        last = max(at for _, at in restored)
        when = f"{last.astimezone(app.calendar.tz):%d.%m.%Y %H:%M}"
        lines.append(
            (
                app.now - last > timedelta(days=1),
                f"Wieder eingetragen (fehlten in der Anfrageliste, z. B. nach dem Zurückspielen "
                f"einer älteren Fassung), zuletzt {when}: "
                f"{', '.join(nr for nr, _ in restored)}. Bitte prüfen; absichtlich "
                "gelöschte Zeilen mit ihrer Nr. im Blatt „Gelöscht“ eintragen.",
            )
        )
    for received, reason, _key in aside:
        at = datetime.fromisoformat(received).astimezone(app.calendar.tz)
        lines.append((True, f"Nicht erfasst (Eingang {at:%d.%m.%Y %H:%M}): {reason}"))
    for kept in workbook_status(app.settings.state_dir / STATUS_FILE).skipped:
        lines.append((True, f"Von Hand Eingetragenes nicht überschrieben – {kept}"))
    return lines
