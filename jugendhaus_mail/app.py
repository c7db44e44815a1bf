"""Wiring: builds the pieces a command needs from the settings, in one place."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import datetime

from jugendhaus_mail.config import Settings, load_settings
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workbook.xlsx_writer import apply_changes
from jugendhaus_mail.workdays import WorkCalendar


@dataclass(frozen=True)
class App:
    settings: Settings
    now: datetime
    calendar: WorkCalendar

    def store(self) -> WorkbookStore:
        return WorkbookStore(
            self.settings.workbook.path,
            load_schema(),
            writer=apply_changes,
            backup_dir=self.settings.state_dir / "backups",
            backups=self.settings.workbook.backups,
        )

    def state(self) -> StateDB:
        return StateDB(self.settings.state_dir)


def app_from_args(args: argparse.Namespace) -> App:
    from jugendhaus_mail.cli import parse_now

    settings = load_settings(args.config)
    configure_logging(settings)
    return App(settings, parse_now(args.now, settings.office.timezone), WorkCalendar.from_settings(settings.office))


def configure_logging(settings: Settings) -> None:
    """Console logging for now; the service (`run`) adds the rotating file."""
    level = getattr(logging, settings.logging.level)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(level)
