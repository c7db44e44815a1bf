"""`digest`: the daily overview for team leaders (working days only)."""

from __future__ import annotations

import argparse

from jugendhaus_mail.commands.options import add_dry_run

HELP = "Tagesübersicht an Teamleitungen und Sachgebietsleitung senden"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dry_run(parser)
    parser.add_argument(
        "--to", metavar="ADRESSE", help="nur an diese Adresse senden (z. B. zum Testen)"
    )


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.poll import format_planned, sends_nothing
    from jugendhaus_mail.commands.session import app_from_args, command_session
    from jugendhaus_mail.jobs.digest import run_digest

    app = app_from_args(args)
    with command_session(app, "digest", dry_run=args.dry_run) as session:
        report = run_digest(app, session.state, session.mailbox, dry_run=args.dry_run, to=args.to)
    if report.skipped_reason:
        print(f"Tagesübersicht: {report.skipped_reason}.")
    print(
        format_planned(report.outbox.planned, dry_run=args.dry_run, filed_only=sends_nothing(app))
    )
    if session.note:
        print(f"Nicht gesendet: {session.note}")
    return 0
