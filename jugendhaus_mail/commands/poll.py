"""`poll`: take in the team inbox once and write new requests into the workbook."""

from __future__ import annotations

import argparse

from jugendhaus_mail.app import App, app_from_args
from jugendhaus_mail.intake.cycle import OUTCOME_LABELS, IntakeContext, IntakeReport, run_intake
from jugendhaus_mail.mailbox import open_mailbox
from jugendhaus_mail.notify.outbox import Outbox, PlannedMail


def run(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    report = poll(app, dry_run=args.dry_run)
    print(format_report(app, report, dry_run=args.dry_run))
    return 0


def poll(app: App, *, dry_run: bool = False) -> IntakeReport:
    with app.state() as state, open_mailbox(app.settings) as mailbox:
        outbox = Outbox(app.settings, state, app.now, dry_run=dry_run)
        ctx = IntakeContext(app.settings, app.calendar, state, app.store(), app.now, outbox)
        report = run_intake(ctx, mailbox, dry_run=dry_run)
        outbox.flush(mailbox)
        report.planned = outbox.planned
        return report


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
    if report.planned:
        lines.append(format_planned(report.planned, dry_run=dry_run))
    if dry_run:
        lines.append("Probelauf: nichts wurde verändert.")
    else:
        lines.append(f"In die Anfrageliste geschrieben: {report.written}.")
        if report.pending:
            lines.append(f"Warten auf die Anfrageliste: {report.pending} – {report.waiting_reason}")
    return "\n".join(lines)


def format_planned(planned: list[PlannedMail], *, dry_run: bool) -> str:
    """Who gets (or in a dry run would get) which mail."""
    if not planned:
        return "Keine Mails fällig."
    verb = "würde senden" if dry_run else "gesendet"
    lines = [f"{len(planned)} Mail(s) {verb}:"]
    for mail in planned:
        cc = f" (Kopie: {', '.join(mail.cc)})" if mail.cc else ""
        lines.append(f"  {mail.subject} → {', '.join(mail.to)}{cc}")
        if mail.refused:
            lines.append(f"    nicht gesendet an: {', '.join(mail.refused)} (fremde Domain)")
    return "\n".join(lines)
