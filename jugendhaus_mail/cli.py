"""Command line: the German parser, the global options and `main()`.

Each command lives in `jugendhaus_mail.commands.<name>` with its help text (`HELP`), its options
(`add_arguments`) and `run(args)`. Command modules import only the standard library and light
project modules at their top, so `--help` starts fast and never loads the mail, Excel or
calendar libraries; the rest is imported inside `run()`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

from jugendhaus_mail import __version__
from jugendhaus_mail.argparse_de import VERSION_TEXT, GermanArgumentParser
from jugendhaus_mail.commands import (
    check,
    demo,
    digest,
    init,
    letter,
    poll,
    privacy,
    remind,
    report,
    retention,
)
from jugendhaus_mail.commands import run as service
from jugendhaus_mail.commands.options import add_global_options
from jugendhaus_mail.errors import JugendhausError, WorkbookError

DESCRIPTION = (
    "Liest das Teampostfach der Jugendsozialberatung, trägt jede Anfrage in die Anfrageliste "
    "ein und überwacht die Fristen der Kooperationsvereinbarung."
)


class Command(Protocol):
    """What a module in `jugendhaus_mail.commands` offers the CLI."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# command name -> module, in the order `--help` lists them
_MODULES: dict[str, Command] = {
    "init": init,
    "poll": poll,
    "remind": remind,
    "digest": digest,
    "letter": letter,
    "report": report,
    "run": service,
    "retention": retention,
    "check": check,
    "privacy": privacy,
    "demo": demo,
}

# command -> (module in jugendhaus_mail.commands, help text); each module is named as its command
COMMANDS: dict[str, tuple[str, str]] = {
    name: (name, module.HELP) for name, module in _MODULES.items()
}


def build_parser() -> argparse.ArgumentParser:
    parser = GermanArgumentParser(prog="jugendhaus-mail", description=DESCRIPTION)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help=VERSION_TEXT
    )
    add_global_options(parser, default=True)
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL", required=True)
    for name, module in _MODULES.items():
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        command.set_defaults(command_run=module.run)
        module.add_arguments(command)
        # `jugendhaus-mail check --config X` works as well as `jugendhaus-mail --config X check`;
        # SUPPRESS keeps a value given before the command when none is given after it.
        add_global_options(command, default=False)
    return parser


def _naming_the_file(exc: Exception, args: argparse.Namespace) -> str:
    """A workbook problem names the workbook, so the admin knows which file to open."""
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
    try:
        command_run: Callable[[argparse.Namespace], int] = args.command_run
        exit_code = command_run(args)
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
