"""`report`: the half-year report for the Qualitätsdialog as .xlsx (with charts) and .html."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Halbjahresbericht für den Qualitätsdialog erstellen"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("period", metavar="ZEITRAUM", nargs="?", help="z. B. 2026-H2")
    parser.add_argument("--from", dest="date_from", metavar="DATUM", help="Beginn, JJJJ-MM-TT")
    parser.add_argument("--to", dest="date_to", metavar="DATUM", help="Ende (JJJJ-MM-TT)")
    parser.add_argument("--out", type=Path, required=True, help="Zieldatei (.xlsx)")


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.session import app_from_args
    from jugendhaus_mail.jobs.report import build_report, write_report
    from jugendhaus_mail.report.period import parse_period

    period = parse_period(args.period, args.date_from, args.date_to)
    app = app_from_args(args)
    with app.state() as state:
        report = build_report(app, period, state)
    workbook, summary = write_report(report, args.out)
    previous = report.previous.period
    print(f"{report.title}: {report.period.label}, verglichen mit {previous.label}")
    if report.preliminary:
        print(f"Vorläufig: Der Zeitraum läuft noch (Stand {report.as_of:%d.%m.%Y}).")
    for figure in report.key_figures:
        if figure.headline:
            print(f"  {figure.label}: {figure.current_text} (vorher {figure.previous_text})")
    for note in report.data_notes:
        print(f"  Nicht auswertbar: {note}")
    print(f"Excel-Datei mit Diagrammen: {workbook}")
    print(f"Kurzfassung (HTML):         {summary}")
    return 0
