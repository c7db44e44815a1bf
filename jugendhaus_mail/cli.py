"""Command line: a thin layer that parses arguments and hands over to `jugendhaus_mail.commands`.

Only the standard library is imported here, so `--help` starts fast and never loads the mail,
Excel or calendar libraries.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from jugendhaus_mail import __version__
from jugendhaus_mail.argparse_de import VERSION_TEXT, GermanArgumentParser

DESCRIPTION = (
    "Liest das Teampostfach der Jugendsozialberatung, trägt jede Anfrage in die Anfrageliste "
    "ein und überwacht die Fristen der Kooperationsvereinbarung."
)

# command -> (module in jugendhaus_mail.commands, help text)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "Konfiguration (falls nötig) und eine neue Anfrageliste anlegen"),
    "poll": ("poll", "Posteingang einmal abholen und neue Anfragen eintragen"),
    "remind": ("remind", "Fristen berechnen, Erinnerungen und Eskalationen senden"),
    "digest": ("digest", "Tagesübersicht an Teamleitungen und Sachgebietsleitung senden"),
    "letter": ("letter", "vorausgefüllten Brief (Word) zu einer Anfrage erstellen"),
    "report": ("report", "Halbjahresbericht für den Qualitätsdialog erstellen"),
    "run": ("run", "als Dienst laufen: Abholen, Erinnerungen und Tagesübersicht nach Zeitplan"),
    "retention": ("retention", "personenbezogene Daten abgeschlossener Fälle nach Frist löschen"),
    "check": ("check", "Konfiguration, Anfrageliste und Postfach prüfen"),
    "privacy": ("privacy", "Datenschutz: Auskunft, Löschung und Übermittlungen je junger Mensch"),
    "demo": ("demo", "Demo mit mitgeliefertem Postfach in einem Arbeitsordner durchspielen"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = GermanArgumentParser(prog="jugendhaus-mail", description=DESCRIPTION)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help=VERSION_TEXT
    )
    _add_global_options(parser, default=True)
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL", required=True)
    for name, (_module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(command_module=_module)
        _add_command_options(name, command)
        # `jugendhaus-mail check --config X` works as well as `jugendhaus-mail --config X check`;
        # SUPPRESS keeps a value given before the command when none is given after it.
        _add_global_options(command, default=False)
    return parser


def _iso_moment(value: str) -> str:
    """Checks --now while parsing, so a typo ends like every other wrong argument."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} ist kein Zeitpunkt; erwartet z. B. 2026-11-25T09:00"
        ) from None
    return value


def _add_global_options(parser: argparse.ArgumentParser, *, default: bool) -> None:
    def given(value: object) -> object:
        return value if default else argparse.SUPPRESS

    parser.add_argument(
        "--config", type=Path, default=given(Path("jugendhaus-mail.toml")), metavar="DATEI",
        help="Konfigurationsdatei (Standard: ./jugendhaus-mail.toml)",
    )  # fmt: skip
    parser.add_argument(
        "--now", metavar="ISO-ZEITPUNKT", type=_iso_moment, default=given(None),
        help="so tun, als zeige die Uhr diesen Zeitpunkt (z. B. 2026-11-25T09:00); "
        "ohne Zeitzone gilt die Zeitzone des Büros",
    )  # fmt: skip
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=given(False),
        help="ausführliche Protokollzeilen auf der Konsole",
    )  # fmt: skip


def _add_command_options(name: str, command: argparse.ArgumentParser) -> None:
    if name in ("poll", "remind", "digest"):
        command.add_argument("--dry-run", action="store_true", help="nur anzeigen, nichts ändern")
    if name == "poll":
        command.add_argument(
            "--backfill", action="store_true",
            help="alten Posteingang in Etappen abholen, mit Fortschrittsanzeige (unterbrechbar)",
        )  # fmt: skip
    if name in ("retention",):
        command.add_argument("--dry-run", action="store_true", help="nur anzeigen, nichts ändern")
    if name == "letter":
        command.add_argument("nr", metavar="NR", help="Nr. der Anfrage, z. B. 2026-0042")
        command.add_argument(
            "kind", metavar="ART", choices=("hausbesuch", "nicht-angetroffen", "einladung"),
            help="hausbesuch | nicht-angetroffen | einladung",
        )  # fmt: skip
        command.add_argument("--out", type=Path, required=True, help="Zieldatei (.docx)")
    if name == "report":
        command.add_argument("period", metavar="ZEITRAUM", nargs="?", help="z. B. 2026-H2")
        command.add_argument("--from", dest="date_from", metavar="DATUM", help="Beginn, JJJJ-MM-TT")
        command.add_argument("--to", dest="date_to", metavar="DATUM", help="Ende (JJJJ-MM-TT)")
        command.add_argument("--out", type=Path, required=True, help="Zieldatei (.xlsx)")
    if name == "run":
        command.add_argument(
            "--max-seconds", type=float, default=None,
            help="nach so vielen Sekunden sauber beenden (für Tests und Probeläufe)",
        )  # fmt: skip
    if name == "digest":
        command.add_argument(
            "--to", metavar="ADRESSE", help="nur an diese Adresse senden (z. B. zum Testen)"
        )
    if name == "privacy":
        _add_privacy_options(command)
    if name == "demo":
        command.add_argument(
            "--dir", type=Path, default=Path("demo"),
            help="Arbeitsordner für die Demo (Standard: ./demo; wird neu angelegt)",
        )  # fmt: skip
    elif name == "check":
        command.add_argument(
            "--send-test", metavar="ADRESSE",
            help="zusätzlich eine Testmail an ADRESSE senden (nur an eine Adresse in "
            "[mail] internal_domains)",
        )  # fmt: skip
        command.add_argument(
            "--nagios", action="store_true",
            help="eine Zeile für Nagios/Icinga/Checkmk/Zabbix ausgeben; Exit 0/1/2/3 = "
            "OK/WARNING/CRITICAL/UNKNOWN (ohne Anmeldung am Postfach)",
        )  # fmt: skip


def _add_privacy_options(command: argparse.ArgumentParser) -> None:
    actions = command.add_subparsers(dest="privacy_action", metavar="AKTION", required=True)
    helps = {
        "export": "alles zu einem jungen Menschen in eine Auskunft schreiben (Art. 15 DSGVO)",
        "erase": "Daten eines jungen Menschen überall löschen; Nr. und Löschvermerk bleiben",
        "log": "wer welche Mail und welchen Brief zu einem Fall erhielt (ohne Inhalt)",
    }
    for action, help_text in helps.items():
        sub = actions.add_parser(action, help=help_text, description=help_text)
        _add_global_options(sub, default=False)
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
            sub.add_argument(
                "--dry-run", action="store_true", help="nur anzeigen, was gelöscht würde"
            )


def _naming_the_file(exc: Exception, args: argparse.Namespace) -> str:
    """A workbook problem names the workbook, so the admin knows which file to open."""
    from jugendhaus_mail.errors import WorkbookError

    message = str(exc)
    if not isinstance(exc, WorkbookError):
        return message
    try:
        from jugendhaus_mail.config import load_settings

        path = load_settings(args.config).workbook.path
    except Exception:  # the message is still worth showing without the name
        return message
    if path.name in message:
        return message
    return f"{path}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from jugendhaus_mail.errors import JugendhausError

    try:
        module = importlib.import_module(f"jugendhaus_mail.commands.{args.command_module}")
        exit_code: int = module.run(args)
    except JugendhausError as exc:
        print(f"Fehler: {_naming_the_file(exc, args)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk or a folder without rights: one line, not a traceback
        from jugendhaus_mail.fsync import describe_os_error

        print(f"Fehler: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return 130
    return exit_code
