"""`privacy export|erase|log`: access, erasure and the transmission log per young person."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from jugendhaus_mail.commands.options import add_dry_run, add_global_options
from jugendhaus_mail.errors import MailboxError

if TYPE_CHECKING:
    from jugendhaus_mail.app import App
    from jugendhaus_mail.privacy.person import Person

HELP = "Datenschutz: Auskunft, Löschung und Übermittlungen je junger Mensch"
ACTIONS = {
    "export": "alles zu einem jungen Menschen in eine Auskunft schreiben (Art. 15 DSGVO)",
    "erase": "Daten eines jungen Menschen überall löschen; Nr. und Löschvermerk bleiben",
    "log": "wer welche Mail und welchen Brief zu einem Fall erhielt (ohne Inhalt)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="privacy_action", metavar="AKTION", required=True)
    for action, help_text in ACTIONS.items():
        sub = actions.add_parser(action, help=help_text, description=help_text)
        add_global_options(sub, default=False)
        if action == "log":
            sub.add_argument("--nr", required=True, metavar="NR", help="Nr. des Falls")
            continue
        chosen = sub.add_mutually_exclusive_group(required=True)
        chosen.add_argument("--nr", metavar="NR", help="Nr. eines Falls, z. B. 2026-0042")
        chosen.add_argument("--name", metavar="NAME", help="Name des jungen Menschen")
        chosen.add_argument("--kundennummer", metavar="NR", help="Kundennummer")
        if action == "export":
            sub.add_argument("--out", type=Path, required=True, help="Zieldatei (.html)")
        else:
            add_dry_run(sub, "nur anzeigen, was gelöscht würde")


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.session import app_from_args
    from jugendhaus_mail.privacy.person import SelectionError

    app = app_from_args(args)
    if args.privacy_action == "log":
        return _log(app, args.nr)
    try:
        person = _person(app, args)
    except SelectionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.privacy_action == "export":
        return _export(app, person, args)
    from jugendhaus_mail.privacy.erase import erase_person
    from jugendhaus_mail.privacy.records import operator
    from jugendhaus_mail.service.lock import instance_lock

    with instance_lock(app.settings, "privacy erase", app.now, skip=args.dry_run):
        report = erase_person(app, person, dry_run=args.dry_run, by=operator())
    print("\n".join(report.lines()))
    return 1 if report.left else 0


def _person(app: App, args: argparse.Namespace) -> Person:
    from jugendhaus_mail.privacy.person import case_rows, select

    with app.state() as state:
        rows = case_rows(app.store().read().requests, state)
        return select(rows, state, nr=args.nr, name=args.name, customer_number=args.kundennummer)


def _export(app: App, person: Person, args: argparse.Namespace) -> int:
    from jugendhaus_mail.mailbox import open_mailbox
    from jugendhaus_mail.privacy.export import export_person

    try:
        with open_mailbox(app.settings) as box:
            report = export_person(app, person, args.out, box)
    except MailboxError as exc:
        print(f"Postfach nicht erreichbar ({exc}); Auskunft ohne Mails.", file=sys.stderr)
        report = export_person(app, person, args.out, None)
    print("\n".join(report.lines()))
    return 1 if report.left else 0


def _log(app: App, nr: str) -> int:
    from jugendhaus_mail.privacy.txlog import transmissions

    with app.state() as state:
        found = transmissions(state, nr)
    if not found:
        print(f"Zu Nr. {nr} hat der Dienst keine Mail und keinen Brief versandt.")
        return 0
    print(f"Übermittlungen zu Nr. {nr} (Empfänger, Zeit, Art – ohne Inhalt):")
    print("\n".join(f"  {t.line()}" for t in found))
    return 0
