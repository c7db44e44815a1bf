"""`remind`: update the computed deadlines and send due reminders, escalations and notices."""

from __future__ import annotations

import argparse

from jugendhaus_mail.commands.options import add_dry_run

HELP = "Fristen berechnen, Erinnerungen und Eskalationen senden"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dry_run(parser)


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.poll import format_planned, sends_nothing
    from jugendhaus_mail.commands.session import app_from_args, command_session
    from jugendhaus_mail.jobs.remind import run_remind

    app = app_from_args(args)
    with command_session(app, "remind", dry_run=args.dry_run) as session:
        report = run_remind(app, session.state, session.mailbox, dry_run=args.dry_run)
    print(
        format_planned(report.outbox.planned, dry_run=args.dry_run, filed_only=sends_nothing(app))
    )
    if session.note:
        print(f"Nicht gesendet: {session.note}")
    if report.paused:
        print(report.paused)
    print(
        f"Berechnete Fristen aktualisiert: {report.updates}"
        + (" (Probelauf)" if args.dry_run else "")
    )
    if report.waiting_reason:
        print(f"Nicht geschrieben: {report.waiting_reason}")
    for problem in report.problems:
        print(f"Hinweis: {problem}")
    return 0
