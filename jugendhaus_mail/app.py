"""Wiring: builds the pieces a command needs from the settings, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jugendhaus_mail.config import Settings
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
