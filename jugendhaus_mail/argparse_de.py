"""argparse speaking German: its own headings, help lines and error messages.

argparse builds these texts through gettext with English originals; instead of shipping a
catalogue, the parser here sets the headings itself and translates the few error patterns
argparse produces. Standard library only (the CLI must start fast).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

HELP_TEXT = "diese Hilfe anzeigen und beenden"
VERSION_TEXT = "Versionsnummer anzeigen und beenden"

# (English pattern from argparse, German replacement); applied in order, first match wins.
_ERRORS: tuple[tuple[str, str], ...] = (
    (r"the following arguments are required: (.*)", r"es fehlt: \1"),
    (r"unrecognized arguments: (.*)", r"unbekannte Angabe(n): \1"),
    (
        r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)",
        r"\1: \2 gibt es nicht (möglich: \3)",
    ),
    (r"argument (\S+): expected one argument", r"\1 erwartet einen Wert"),
    (r"argument (\S+): expected at most one argument", r"\1 erwartet höchstens einen Wert"),
    (r"argument (\S+): expected at least one argument", r"\1 erwartet mindestens einen Wert"),
    (r"argument (\S+): invalid (\S+) value: (.*)", r"\1: \3 ist keine gültige Angabe"),
    (r"argument (\S+): not allowed with argument (.*)", r"\1 geht nicht zusammen mit \2"),
    (r"argument (\S+): ignored explicit argument (.*)", r"\1: Wert \2 nicht erwartet"),
    (r"ambiguous option: (\S+) could match (.*)", r"\1 ist mehrdeutig (passt zu \2)"),
    (r"argument (\S+): (.*)", r"\1: \2"),
)


def translate_error(message: str) -> str:
    for pattern, replacement in _ERRORS:
        translated, count = re.subn(rf"^{pattern}$", replacement, message, flags=re.DOTALL)
        if count:
            return translated
    return message


class GermanHelpFormatter(argparse.HelpFormatter):
    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        # argparse passes prefix="" when it builds a sub-command's prog: keep that.
        super().add_usage(usage, actions, groups, "Aufruf: " if prefix is None else prefix)


class GermanArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose every text is German; errors end as "Fehler: …", exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", GermanHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        kwargs["add_help"] = False  # added below with a German help line
        super().__init__(*args, **kwargs)
        self._positionals.title = "Positionsargumente"
        self._optionals.title = "Optionen"
        if add_help:
            self.add_argument("-h", "--help", action="help", help=HELP_TEXT)

    def error(self, message: str) -> NoReturn:
        hint = f"Hilfe: {self.prog} --help"
        sys.stderr.write(f"Fehler: {translate_error(message)} ({hint})\n")
        raise SystemExit(2)
