"""Files that hold personal data beside the workbook: its backups and the letters written.

A backup that holds a case being erased (or cleared by retention) is rewritten with that case's
personal cells emptied, the same way the workbook itself is; a backup that still shows one of
the person's texts afterwards (the data sat somewhere else in the file) is deleted.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jugendhaus_mail.fsync import write_durably
from jugendhaus_mail.privacy.person import normalize, package_text
from jugendhaus_mail.workbook.clearing import PERSONAL_COLUMNS, clear_personal
from jugendhaus_mail.workbook.model import CellUpdate, Changes
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.store import BACKUP_MODE

log = logging.getLogger(__name__)
_STAMP = re.compile(r"\.(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})(?:_\d+)?\.")


@dataclass
class BackupScrub:
    rewritten: list[Path] = field(default_factory=list)
    deleted: list[Path] = field(default_factory=list)


def backups(backup_dir: Path) -> list[Path]:
    if not backup_dir.is_dir():
        return []
    return sorted(p for p in backup_dir.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm"))


def holds(path: Path, terms: list[str]) -> bool:
    return _names_any(path.read_bytes(), terms)


def _names_any(data: bytes, terms: list[str]) -> bool:
    text = normalize(package_text(data))
    return any(term in text for term in terms)


def scrub_backups(
    backup_dir: Path, numbers: list[str], terms: list[str], *, dry_run: bool
) -> BackupScrub:
    """Empty the personal cells of these cases in every backup that holds them."""
    result = BackupScrub()
    updates = tuple(CellUpdate(nr, key, None) for nr in numbers for key in PERSONAL_COLUMNS)
    schema = load_schema()
    for path in backups(backup_dir):
        data = path.read_bytes()
        try:
            cleared, _ = clear_personal(data, schema, Changes(updates=updates))
        except Exception as exc:  # an unreadable backup cannot be cleaned, only deleted
            log.warning("Sicherung %s nicht lesbar (%s)", path.name, type(exc).__name__)
            cleared = data
        if terms and _names_any(cleared, terms):
            result.deleted.append(path)
            if not dry_run:
                path.unlink(missing_ok=True)
        elif cleared != data:
            result.rewritten.append(path)
            if not dry_run:
                _replace(path, cleared)
    return result


def _replace(path: Path, data: bytes) -> None:
    before = path.stat()
    write_durably(path, data, BACKUP_MODE, label="backup")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # its age stays the backup's


def old_backups(backup_dir: Path, before: datetime, timezone: str) -> list[Path]:
    """Backups made before `before`: by the office time in their name (what staff see, and
    what a replay with --now wrote), else by the file's time."""
    found = []
    for path in backups(backup_dir):
        match = _STAMP.search(path.name)
        if match:
            made = datetime.strptime(match[1], "%Y-%m-%d_%H-%M-%S").replace(
                tzinfo=ZoneInfo(timezone)
            )
        else:
            made = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if made < before:
            found.append(path)
    return found


def delete_files(paths: list[Path]) -> list[Path]:
    """Delete letter files and the PDF beside each; returns what was there."""
    gone = []
    for path in paths:
        for candidate in (path, path.with_suffix(".pdf")):
            try:
                candidate.unlink()
            except FileNotFoundError:
                continue
            gone.append(candidate)
    return gone
