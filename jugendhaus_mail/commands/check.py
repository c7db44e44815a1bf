"""`check`: say in plain words whether the configuration, workbook, state and service are sound.

Exit code 0 when everything is fine, 1 when something needs the admin, so monitoring can use it:
the service's last intake is overdue, requests wait too long for the workbook, the mailbox
refused the log-in (and is blocked for an hour), a job's last run failed, or the workbook's
lock file is older than a working day. A successful mailbox check ends a log-in block at once.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from jugendhaus_mail.app import App, app_from_args
from jugendhaus_mail.errors import JugendhausError


def run(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    lines = [(True, f"Konfiguration in Ordnung: {app.settings.config_path}")]
    lines += check_workbook(app)
    lines += check_state(app)
    lines += check_service(app)
    mailbox_lines = check_mailbox(app, args.send_test)
    lines += mailbox_lines
    lines += check_auth_block(app, mailbox_ok=all(ok for ok, _ in mailbox_lines))
    for ok, text in lines:
        print(("OK      " if ok else "PROBLEM ") + text)
    return 0 if all(ok for ok, _ in lines) else 1


def check_workbook(app: App) -> list[tuple[bool, str]]:
    from jugendhaus_mail.workbook.locks import find_lock

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
    for sheet, headers in snapshot.missing_headers.items():
        if headers:
            lines.append(
                (
                    False,
                    f"Blatt {sheet}: Spalten fehlen: {', '.join(headers)} – "
                    "bitte die Überschriften wiederherstellen.",
                )
            )
    lock = find_lock(path)
    if lock is not None:
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
        "der Tabelle (nach einer Sicherung); umbenannte Spalten bitte zurückbenennen."
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
    from jugendhaus_mail.service.guard import clear_auth_block, current_block

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
        return [(True, f"Maildir lesbar: {path} ({waiting} Mail(s) im Posteingang)")]
    module_name, _class_name = BACKENDS[settings.mailbox.backend]
    module = importlib.import_module(module_name)
    try:
        lines: list[tuple[bool, str]] = module.diagnose(settings, send_test_to)
    except JugendhausError as exc:
        return [(False, str(exc))]
    return lines


def check_state(app: App) -> list[tuple[bool, str]]:
    with app.state() as state:
        pending = state.pending_rows()
        counts = state.counts()
        aside = state.set_aside(10)
    lines = [
        (
            True,
            f"Bisher bearbeitet: {counts.get('request', 0)} Anfragen, "
            f"{counts.get('set_aside', 0)} Mails nicht erfasst",
        )
    ]
    if pending:
        oldest = min(p.recorded_at for p in pending)
        limit = app.settings.watchdog.pending_minutes
        too_long = app.now - oldest > timedelta(minutes=limit)
        lines.append(
            (
                not too_long,
                f"{len(pending)} Anfrage(n) warten seit "
                f"{oldest.astimezone(app.calendar.tz):%d.%m.%Y %H:%M} auf die Anfrageliste "
                f"(geöffnet oder gesperrt?)"
                + (
                    f"; länger als {limit} Minuten ([watchdog] pending_minutes)."
                    if too_long
                    else "."
                ),
            )
        )
    for received, reason, _key in aside:
        lines.append((True, f"Nicht erfasst (Eingang {received[:16].replace('T', ' ')}): {reason}"))
    return lines
