"""Wiring: builds the pieces a command needs from the settings, in one place."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from datetime import datetime

from jugendhaus_mail.config import Settings, load_settings
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.store import STATUS_FILE, WorkbookStore
from jugendhaus_mail.workbook.xlsx_writer import apply_changes
from jugendhaus_mail.workdays import WorkCalendar


@dataclass(frozen=True)
class App:
    settings: Settings
    now: datetime
    calendar: WorkCalendar
    # One store per App (and per `dataclasses.replace` copy of it, which shares this dict), so
    # the jobs of a cycle reuse its parsed snapshot while the file is unchanged.
    _stores: dict[str, WorkbookStore] = field(default_factory=dict, repr=False, compare=False)

    def store(self) -> WorkbookStore:
        path = self.settings.workbook.path
        if str(path) not in self._stores:
            self._stores[str(path)] = WorkbookStore(
                path,
                load_schema(),
                writer=apply_changes,
                backup_dir=self.settings.state_dir / "backups",
                backups=self.settings.workbook.backups,
                status_file=self.settings.state_dir / STATUS_FILE,
                timezone=self.settings.office.timezone,
            )
        return self._stores[str(path)]

    def state(self) -> StateDB:
        return StateDB(self.settings.state_dir)


def app_from_args(args: argparse.Namespace) -> App:
    from jugendhaus_mail.cli import parse_now

    settings = load_settings(args.config)
    configure_logging(settings, verbose=getattr(args, "verbose", False))
    return App(
        settings,
        parse_now(args.now, settings.office.timezone),
        WorkCalendar.from_settings(settings.office),
    )


def configure_logging(settings: Settings, *, verbose: bool = False) -> None:
    """Console logging: warnings only for one-off commands (their output says what happened),
    everything at the configured level with --verbose (and for `run`). With `[logging] file`,
    also a rotating file at the configured level, as text or JSON lines. Calling it again
    reconfigures; a console handler someone else installed (a test runner) is left alone."""
    from jugendhaus_mail.service import logsetup

    level = getattr(logging, settings.logging.level)
    logsetup.install(
        level,
        timezone=settings.office.timezone,
        console_level=level if verbose else max(level, logging.WARNING),
        file=settings.logging.file,
        json_lines=settings.logging.json,
        console=not logsetup.foreign_handlers(),
    )
