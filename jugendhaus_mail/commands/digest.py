"""`digest`: the daily overview for team leaders (working days only)."""

from __future__ import annotations

import argparse

from jugendhaus_mail.app import app_from_args
from jugendhaus_mail.commands.poll import format_planned
from jugendhaus_mail.jobs.digest import run_digest
from jugendhaus_mail.mailbox import open_mailbox


def run(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    with app.state() as state:
        if args.dry_run:
            report = run_digest(app, state, None, dry_run=True, to=args.to)
        else:
            with open_mailbox(app.settings) as mailbox:
                report = run_digest(app, state, mailbox, to=args.to)
    if report.skipped_reason:
        print(f"Tagesübersicht: {report.skipped_reason}.")
    print(format_planned(report.outbox.planned, dry_run=args.dry_run))
    return 0
