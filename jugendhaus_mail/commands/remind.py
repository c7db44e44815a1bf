"""`remind`: update the computed deadlines and send due reminders, escalations and notices."""

from __future__ import annotations

import argparse

from jugendhaus_mail.app import app_from_args
from jugendhaus_mail.commands.poll import format_planned
from jugendhaus_mail.jobs.remind import run_remind
from jugendhaus_mail.mailbox import open_mailbox


def run(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    with app.state() as state:
        if args.dry_run:
            report = run_remind(app, state, None, dry_run=True)
        else:
            with open_mailbox(app.settings) as mailbox:
                report = run_remind(app, state, mailbox)
    print(format_planned(report.outbox.planned, dry_run=args.dry_run))
    print(
        f"Berechnete Fristen aktualisiert: {report.updates}"
        + (" (Probelauf)" if args.dry_run else "")
    )
    if report.waiting_reason:
        print(f"Nicht geschrieben: {report.waiting_reason}")
    for problem in report.problems:
        print(f"Hinweis: {problem}")
    return 0
