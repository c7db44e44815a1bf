"""`init`: write a commented starter config if there is none, then create the workbook."""

from __future__ import annotations

import argparse
from pathlib import Path

from jugendhaus_mail.errors import WorkbookError

HELP = "Konfiguration (falls nötig) und eine neue Anfrageliste anlegen"
EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "example_config.toml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Only the global options."""


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.config import load_settings

    config_path: Path = args.config
    if not config_path.exists():
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
        print(
            f"Konfigurationsvorlage angelegt: {config_path} – bitte Postfach und Adressen anpassen."
        )
    settings = load_settings(config_path)
    workbook = settings.workbook.path
    if workbook.exists():
        raise WorkbookError(
            f"{workbook} existiert bereits; init überschreibt keine Anfrageliste. "
            "Für eine neue Liste bitte einen anderen [workbook] path wählen."
        )
    from jugendhaus_mail.workbook.build import build_workbook
    from jugendhaus_mail.workbook.schema import load_schema

    workbook.parent.mkdir(parents=True, exist_ok=True)
    build_workbook(workbook, load_schema())
    print(f"Anfrageliste angelegt: {workbook}")
    if settings.mailbox.backend == "maildir" and settings.mailbox.path is not None:
        for sub in ("tmp", "new", "cur"):
            (settings.mailbox.path / sub).mkdir(parents=True, exist_ok=True)
        print(f"Maildir bereit: {settings.mailbox.path}")
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return 0
