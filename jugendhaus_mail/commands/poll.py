"""`poll`: take in the team inbox once and write new requests into the workbook.

`--backfill` takes in a large old inbox batch by batch (`[mailbox] batch_size`) with a progress
bar; Ctrl-C stops after the current batch and a new `poll --backfill` goes on from there.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from jugendhaus_mail.commands.options import add_dry_run
from jugendhaus_mail.errors import JugendhausError, WorkbookError

if TYPE_CHECKING:
    from jugendhaus_mail.app import App
    from jugendhaus_mail.intake.context import IntakeReport
    from jugendhaus_mail.notify.outbox import PlannedMail

HELP = "Posteingang einmal abholen und neue Anfragen eintragen"
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dry_run(parser)
    parser.add_argument(
        "--backfill", action="store_true",
        help="alten Posteingang in Etappen abholen, mit Fortschrittsanzeige (unterbrechbar)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.session import app_from_args
    from jugendhaus_mail.jobs.guard import MailboxBlocked
    from jugendhaus_mail.jobs.intake import poll
    from jugendhaus_mail.service.health import FAILED, OK, SKIPPED
    from jugendhaus_mail.service.lock import instance_lock

    app = app_from_args(args)
    backfill = args.backfill and not args.dry_run
    with instance_lock(app.settings, "poll", app.now, skip=args.dry_run):
        if not args.dry_run:
            _migrate(app)
        try:
            if backfill:
                from jugendhaus_mail.commands.progress import run_backfill

                exit_code = run_backfill(app)
            else:
                report = poll(app, dry_run=args.dry_run)
        except MailboxBlocked as exc:
            _record(app, SKIPPED, str(exc), skip=args.dry_run)
            raise
        except JugendhausError as exc:
            _record(app, FAILED, str(exc), skip=args.dry_run)
            raise
        _record(app, OK, "von Hand oder per Zeitgeber gestartet", skip=args.dry_run)
    if backfill:
        return exit_code
    print(format_report(app, report, dry_run=args.dry_run))
    if args.backfill:
        print("Probelauf zeigt nur den ersten Stapel; ohne --dry-run wird alles nachgeholt.")
    return 0


def _migrate(app: App) -> None:
    from jugendhaus_mail.jobs.upgrade import upgrade_workbook

    try:
        upgrade_workbook(app)
    except WorkbookError as exc:
        log.warning("Anfrageliste noch nicht auf neue Spalten umgestellt: %s", exc)
    except Exception as exc:  # never let an upgrade step stop the intake
        from jugendhaus_mail.errors import describe_unexpected

        log.error("Anfrageliste nicht umgestellt: %s", describe_unexpected(exc))


def _record(app: App, result: str, detail: str, *, skip: bool) -> None:
    if skip:
        return
    from jugendhaus_mail.commands.session import record_command

    with app.state() as state:
        record_command(app, state, "intake", result, detail)


def format_report(app: App, report: IntakeReport, *, dry_run: bool) -> str:
    from jugendhaus_mail.intake.context import OUTCOME_LABELS

    lines = []
    if not report.mails:
        lines.append("Keine neuen Mails im Posteingang.")
    else:
        header = ("Eingang", "Nr.", "Anfrageart", "Rechtskreis", "Ergebnis")
        rows = [
            (
                mail.received.astimezone(app.calendar.tz).strftime("%d.%m.%Y %H:%M"),
                (f"{mail.nr} (geplant)" if dry_run and mail.outcome == "request" else mail.nr)
                or "–",
                mail.kind or "–",
                mail.rechtskreis or "–",
                OUTCOME_LABELS[mail.outcome] + (f": {mail.reason}" if mail.reason else ""),
            )
            for mail in report.mails
        ]
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
        for row in (header, *rows):
            lines.append(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
                + "  "
                + row[-1]
            )
    if report.planned:
        lines.append(format_planned(report.planned, dry_run=dry_run, filed_only=sends_nothing(app)))
    if dry_run:
        lines.append("Probelauf: nichts wurde verändert.")
    else:
        lines.append(f"In die Anfrageliste geschrieben: {report.written}.")
        if report.pending:
            lines.append(f"Warten auf die Anfrageliste: {report.pending} – {report.waiting_reason}")
    return "\n".join(lines)


def sends_nothing(app: App) -> bool:
    """Whether mail the service "sends" is only filed (the Maildir backend's `.Postausgang`)."""
    return app.settings.mailbox.backend == "maildir"


def format_planned(planned: list[PlannedMail], *, dry_run: bool, filed_only: bool = False) -> str:
    """Who gets (or in a dry run would get) which mail. `filed_only`: the backend only files
    it (Maildir: `.Postausgang`), and the admin must not read that as sent."""
    if not planned:
        return "Keine Mails fällig."
    if filed_only:
        verb = (
            "würde in .Postausgang ablegen"
            if dry_run
            else "in .Postausgang abgelegt, nicht versendet"
        )
    else:
        verb = "würde senden" if dry_run else "gesendet"
    lines = [f"{len(planned)} Mail(s) {verb}:"]
    for mail in planned:
        cc = f" (Kopie: {', '.join(mail.cc)})" if mail.cc else ""
        lines.append(f"  {mail.subject} → {', '.join(mail.to)}{cc}")
        if mail.refused:
            lines.append(f"    nicht gesendet an: {', '.join(mail.refused)} (fremde Domain)")
    return "\n".join(lines)
