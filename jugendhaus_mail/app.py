"""Wiring: builds the pieces a command needs from the settings, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jugendhaus_mail.config import Settings
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.store import STATUS_FILE, WorkbookStore, Writer
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
            self._stores[str(path)] = self.new_store(apply_changes)
        return self._stores[str(path)]

    def new_store(self, writer: Writer) -> WorkbookStore:
        """A store of the configured workbook with its own `writer` (e.g. the one that clears
        personal columns), backups and office time as every store of the service has them."""
        return WorkbookStore(
            self.settings.workbook.path,
            load_schema(),
            writer=writer,
            backup_dir=self.settings.state_dir / "backups",
            backups=self.settings.workbook.backups,
            status_file=self.settings.state_dir / STATUS_FILE,
            timezone=self.settings.office.timezone,
        )

    def state(self) -> StateDB:
        return StateDB(self.settings.state_dir)
