"""`poll`: take in the team inbox once and write new requests into the workbook."""

from __future__ import annotations

import argparse

from jugendhaus_mail.app import App, app_from_args
from jugendhaus_mail.intake.cycle import OUTCOME_LABELS, IntakeContext, IntakeReport, run_intake
from jugendhaus_mail.mailbox import open_mailbox


def run(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    report = poll(app, dry_run=args.dry_run)
    print(format_report(app, report, dry_run=args.dry_run))
    return 0


def poll(app: App, *, dry_run: bool = False) -> IntakeReport:
    with app.state() as state, open_mailbox(app.settings) as mailbox:
        ctx = IntakeContext(app.settings, app.calendar, state, app.store(), app.now)
        return run_intake(ctx, mailbox, dry_run=dry_run)


def format_report(app: App, report: IntakeReport, *, dry_run: bool) -> str:
    lines = []
    if not report.mails:
        lines.append("Keine neuen Mails im Posteingang.")
    else:
        header = ("Eingang", "Nr.", "Anfrageart", "Rechtskreis", "Ergebnis")
        rows = [
            (
                mail.received.astimezone(app.calendar.tz).strftime("%d.%m.%Y %H:%M"),
                mail.nr or "–",
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
    if dry_run:
        lines.append("Probelauf: nichts wurde verändert.")
    else:
        lines.append(f"In die Anfrageliste geschrieben: {report.written}.")
        if report.pending:
            lines.append(f"Warten auf die Anfrageliste: {report.pending} – {report.waiting_reason}")
    return "\n".join(lines)
