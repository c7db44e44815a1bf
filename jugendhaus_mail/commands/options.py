"""Options shared by several commands; the standard library only, so `--help` stays fast."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path


def add_global_options(parser: argparse.ArgumentParser, *, default: bool) -> None:
    """`--config`, `--now`, `-v`. On a command (`default=False`) they default to SUPPRESS, so a
    value given before the command is kept when none is given after it."""

    def given(value: object) -> object:
        return value if default else argparse.SUPPRESS

    parser.add_argument(
        "--config", type=Path, default=given(Path("jugendhaus-mail.toml")), metavar="DATEI",
        help="Konfigurationsdatei (Standard: ./jugendhaus-mail.toml)",
    )  # fmt: skip
    parser.add_argument(
        "--now", metavar="ISO-ZEITPUNKT", type=iso_moment, default=given(None),
        help="so tun, als zeige die Uhr diesen Zeitpunkt (z. B. 2026-11-25T09:00); "
        "ohne Zeitzone gilt die Zeitzone des Büros",
    )  # fmt: skip
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=given(False),
        help="ausführliche Protokollzeilen auf der Konsole",
    )  # fmt: skip


def add_dry_run(
    parser: argparse.ArgumentParser, help_text: str = "nur anzeigen, nichts ändern"
) -> None:
    parser.add_argument("--dry-run", action="store_true", help=help_text)


def iso_moment(value: str) -> str:
    """Checks --now while parsing, so a typo ends like every other wrong argument."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} ist kein Zeitpunkt; erwartet z. B. 2026-11-25T09:00"
        ) from None
    return value
