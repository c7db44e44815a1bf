"""The safe way to change `Anfrageliste.xlsx` on disk.

One commit: refuse while someone has the file open (lock file or failed write probe); read
the bytes once; let the writer transform them; write a hidden temp file next to the workbook
and fsync it; read the temp back and check that the changes are in and nothing was lost;
look again for locks and make sure the file is still byte for byte what was read (otherwise
start over, up to three times); keep a backup of the old version; check once more and
`os.replace` (retried while antivirus holds the file); the new file gets the old one's mode
and owner; fsync the directory; read the result back.

The read-back of the temp file reads only what the check compares — `Nr.`, the service key and
the columns the changes update — not every cell of every row: the check proves that every
header is still found, no sheet has fewer rows (a row counts when any of its columns is filled,
read or not), every request key before is still there, each new key is there exactly once and
each updated cell holds its new value (or its old one, where the writer declined). That is what
it proved when it read full rows; the rest of a row is the writer's byte-for-byte copy, which
`tests/test_xlsx_*` check against openpyxl.

Why one module: these steps are one commit protocol; each depends on what the one before proved,
and a reader should see the whole order in one place.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from jugendhaus_mail.errors import WorkbookChanged, WorkbookError, WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.fsync import sync_directory, write_durably, write_new
from jugendhaus_mail.workbook.locks import find_lock, probe_writable
from jugendhaus_mail.workbook.model import Changes, CommitResult, FileFingerprint, Row, Snapshot
from jugendhaus_mail.workbook.read_back import OldRows, read_back
from jugendhaus_mail.workbook.reader import ROW_KEY, read_file, read_snapshot
from jugendhaus_mail.workbook.schema import Schema
from jugendhaus_mail.workbook.snapshot_cache import CompactSnapshot
from jugendhaus_mail.workbook.verify import (
    checked_columns,
    present_keys,
    refuse,
    refuse_taken_numbers,
    verify_written,
)
from jugendhaus_mail.workbook.xlsx_columns import RowsOutOfOrder, TapFor
from jugendhaus_mail.workbook.xlsx_context import write_tap
from jugendhaus_mail.workbook.xlsx_pass import SheetPass, SheetTap
from jugendhaus_mail.workbook.xlsx_writer import PresentKeys

Writer = Callable[[bytes, Schema, Changes], tuple[bytes, CommitResult]]


class AppendingWriter(Protocol):
    """A writer that takes what the store knows of the bytes it hands over (`PresentKeys`:
    their service keys, and the read's pass over the sheet): `apply_changes`."""

    def __call__(
        self, data: bytes, schema: Schema, changes: Changes, *, present: PresentKeys | None
    ) -> tuple[bytes, CommitResult]: ...


log = logging.getLogger(__name__)
STATUS_FILE = "workbook-status.json"  # in the state folder: what `check` shows about writing

TEMP_SUFFIX = ".jhm-tmp"
MAX_ATTEMPTS = 3  # load-transform-replace rounds when the file changes underneath
REPLACE_RETRIES = 5  # antivirus and backup tools hold new files briefly
REPLACE_BACKOFF = 0.1  # seconds, doubled after each try
BUSY_ERRNOS = frozenset({errno.EACCES, errno.EBUSY, errno.EPERM, errno.ETXTBSY})
BUSY_WINERRORS = frozenset({5, 32, 33})  # access denied, sharing and lock violation
BACKUP_MODE = 0o600  # backups hold social data: readable by the service account only


class WorkbookStore:
    def __init__(
        self,
        path: Path,
        schema: Schema,
        *,
        writer: Writer,
        backup_dir: Path,
        backups: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        before_replace: Callable[[], None] | None = None,
        status_file: Path | None = None,
        timezone: str | None = None,
    ) -> None:
        """`before_replace` runs after the temp file is verified, right before the final
        checks; tests use it to change the workbook "while the service works".
        `status_file` keeps why new rows were last refused and which cells an update kept.
        A symlinked path (a share linked into the service's folder) is followed: the temp
        file, the replace and the lock files are next to the target, and the link stays."""
        self.path = path.resolve()
        self.schema = schema
        # backup names in office time, as staff read them (None: the time as given)
        self.zone = ZoneInfo(timezone) if timezone else None
        self.status_file = status_file
        self.backup_dir = backup_dir
        self.backups = backups
        self.temp_path = path.with_name(f".{path.name}{TEMP_SUFFIX}")
        self._writer = writer
        # a writer says by its `present` keyword that it takes what the store knows (_write)
        self._appender = (
            cast(AppendingWriter, writer)
            if "present" in inspect.signature(writer).parameters
            else None
        )
        self._sleep = sleep
        self._before_replace = before_replace
        # The last snapshot parsed, reused while the file's fingerprint is unchanged (a cycle
        # reads, then commits, then reads again; parsing 10,000 rows costs ~0.5 s each), kept
        # compact (a tuple per row): each read() hands out fresh dicts sharing its values.
        self._cache: CompactSnapshot | None = None
        self._prepared: tuple[str, SheetPass] | None = None  # (SHA-256 of the file, pass)

    def read(
        self, columns: Collection[str] | None = None, *, prepare_write: bool = False
    ) -> Snapshot:
        """The workbook as it is now. `columns` (keys of `Anfragen`): only those request
        columns (with `nr`, `service_key` and "_row"), for callers that need a few.
        `prepare_write` (a caller that will most likely append rows next, with `columns`):
        the read also makes the writer's pass over the request sheet (xlsx_pass), kept for
        the next commit while the file stays this version."""
        data, fingerprint = read_file(self.path)
        compact, parsed = self._read_or_cached(data, fingerprint, columns, prepare_write)
        # rows just parsed share nothing with the cache (it holds tuples): handed out as they
        # are instead of building the same dicts again
        return parsed if parsed is not None else compact.snapshot(columns)

    def fingerprint(self) -> FileFingerprint:
        """(size, mtime, sha256) of the file now, without parsing it: a caller that remembers
        the fingerprint of the version it last worked through can skip an unchanged file."""
        return read_file(self.path)[1]

    def _parse(
        self, data: bytes, fingerprint: FileFingerprint, columns: Collection[str] | None
    ) -> CompactSnapshot:
        return self._read_or_cached(data, fingerprint, columns)[0]

    def _read_or_cached(
        self,
        data: bytes,
        fingerprint: FileFingerprint,
        columns: Collection[str] | None,
        prepare_write: bool = False,
    ) -> tuple[CompactSnapshot, Snapshot | None]:
        """The cache, parsed anew unless it holds this version; with the snapshot when it was
        just parsed."""
        cache = self._cache
        if cache is not None and cache.fingerprint == fingerprint and cache.covers(columns):
            return cache, None
        taps: list[SheetTap] = []
        tap = _kept_in(taps, write_tap(self.schema.requests)) if prepare_write else None
        parsed = read_snapshot(data, self.schema, columns=columns, tap=tap)
        parsed = replace(parsed, fingerprint=fingerprint)
        self._prepared = _prepared(taps, fingerprint.sha256)
        self._cache = CompactSnapshot.of(parsed, columns)
        return self._cache, parsed

    def _take_prepared(self, sha256: str) -> SheetPass | None:
        """The writer's pass made by the last read, if of this version; handed out once."""
        prepared, self._prepared = self._prepared, None
        return prepared[1] if prepared is not None and prepared[0] == sha256 else None

    def commit(self, changes: Changes, *, now: datetime) -> CommitResult:
        """Write `changes`; raises WorkbookLocked while someone has the file open."""
        if not changes:
            return CommitResult(appended_keys=(), updated=0)
        try:
            result = self._commit(changes, now)
        except (WorkbookLocked, WorkbookUnsafe, WorkbookChanged) as exc:
            if changes.appends:
                self._note_status(now, refused=str(exc))
            raise
        for line in result.skipped:
            log.warning("Anfrageliste: Zelle nicht überschrieben: %s", line)
        # only a save with new rows says whether rows still wait
        self._note_status(now, skipped=result.skipped, keep_refusal=not changes.appends)
        return result

    def _commit(self, changes: Changes, now: datetime) -> CommitResult:
        for _ in range(MAX_ATTEMPTS):
            result = self._attempt(changes, now)
            if result is not None:
                return result
        raise WorkbookChanged(
            f"Die Arbeitsmappe {self.path} wurde {MAX_ATTEMPTS}-mal hintereinander geändert, "
            "während der Dienst schreiben wollte. Die Änderungen werden später erneut versucht."
        )

    def _attempt(self, changes: Changes, now: datetime) -> CommitResult | None:
        """One round; None when the file changed underneath and the round must be repeated."""
        self._ensure_unlocked()
        original, fingerprint = read_file(self.path)
        compared = checked_columns(changes)
        # only the compared columns from here on: a full snapshot of a long list is let go
        self._cache = self._parse(original, fingerprint, compared).narrowed(compared)
        before = self._cache.snapshot(compared)
        refuse_taken_numbers(before, changes)
        data, result, old_rows = self._write(original, fingerprint, before, changes)
        # Neither version is held while the new one is checked (50,000 rows: 2 x 10 MiB):
        # the backup is taken from the file once it is proved unchanged, and what landed is
        # compared by its digest.
        del original
        try:
            self._write_temp(data)
            del data
            # what is on disk, not in memory; only what the check compares (module docstring)
            after = self._read_back(before, compared, old_rows)
            verify_written(self.schema, before, after, changes, result)
            written = after.fingerprint.sha256  # what must land is what was checked
            del before
            if self._before_replace is not None:
                self._before_replace()
            current = self._current_if_unchanged(fingerprint)
            if current is None:
                return None
            backup = self._backup(current, now)
            del current
            if not self._replace(fingerprint):
                return None
        finally:
            self.temp_path.unlink(missing_ok=True)
        sync_directory(self.path.parent)
        landed = self._check_landed(written)
        self._cache = CompactSnapshot.of(replace(after, fingerprint=landed), compared)
        return replace(
            result,
            backup=str(backup) if backup else None,
            read_sha256=fingerprint.sha256,
            landed_sha256=landed.sha256,
        )

    def _write(
        self, original: bytes, fingerprint: FileFingerprint, before: Snapshot, changes: Changes
    ) -> tuple[bytes, CommitResult, OldRows | None]:
        """A writer that takes `present` (AppendingWriter) is told the keys `before` holds
        (read from `original`, which it checks by the digest) and need not look them up
        itself, and given the pass over the sheet the read made (if any), whose checksum of
        the old rows the read-back then uses; other writers (clearing, appointments) are
        called as they are."""
        if self._appender is None or not changes.appends:
            return (*self._writer(original, self.schema, changes), None)
        sheet = self._take_prepared(fingerprint.sha256)
        present = PresentKeys(fingerprint.sha256, present_keys(before), sheet)
        old_rows = None
        if sheet is not None:  # (the proof before the writer drains the compressed rows)
            stretch = sheet.prefix.proof() if sheet.prefix and sheet.prefix.size else None
            size = sheet.data_end - sheet.data_start
            old_rows = OldRows(sheet.part, size, sheet.rows_crc, stretch, sheet.opening)
        return (*self._appender(original, self.schema, changes, present=present), old_rows)

    def _read_back(
        self, before: Snapshot, compared: frozenset[str], old_rows: OldRows | None
    ) -> Snapshot:
        """The temp file's `compared` columns: parsed in full, or, where the old rows are
        proved unchanged by their checksum (read_back.py), those taken from `before`."""
        try:
            if old_rows is not None:
                found = read_back(self.temp_path, self.schema, compared, old_rows)
                if found is not None:
                    after, first_new = found
                    kept = [row for row in before.requests if _row_number(row) < first_new]
                    return replace(after, requests=kept + after.requests)
            return read_snapshot(self.temp_path, self.schema, columns=compared, rows_in_order=True)
        except RowsOutOfOrder:  # the writer slipped: Excel would refuse the file
            refuse("Zeilennummern doppelt oder nicht aufsteigend")

    def _note_status(
        self,
        now: datetime,
        *,
        refused: str | None = None,
        skipped: tuple[str, ...] = (),
        keep_refusal: bool = False,
    ) -> None:
        """Keep what `check` shows. Never fails a commit."""
        if self.status_file is None:
            return
        old = workbook_status(self.status_file)
        status = {
            "refused": old.refused if keep_refusal else refused,
            "refused_at": old.refused_at if keep_refusal else now.isoformat(),
            "skipped": list(skipped),
        }
        try:
            self.status_file.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps(status, ensure_ascii=False).encode()
            write_durably(self.status_file, data, 0o600, label="workbook_status")
        except OSError as exc:
            log.warning("%s ließ sich nicht schreiben: %s", self.status_file, exc)

    def _ensure_unlocked(self) -> None:
        lock = find_lock(self.path, self.zone)
        if lock is not None:
            raise WorkbookLocked(
                f"{lock.describe()} Der Dienst schreibt erst, wenn sie geschlossen ist; "
                "die Änderungen warten so lange. Liegt die Sperrdatei noch da, obwohl niemand "
                "die Datei geöffnet hat (z. B. nach einem Absturz), bitte sie von Hand löschen."
            )
        error = probe_writable(self.path)
        if isinstance(error, FileNotFoundError):
            read_file(self.path)  # raises the message for a missing workbook
        if error is not None:
            raise WorkbookLocked(
                f"Die Arbeitsmappe {self.path} lässt sich gerade nicht zum Schreiben öffnen "
                f"({error.strerror or error}); wahrscheinlich hat sie jemand geöffnet "
                "(Besitzer unbekannt). Der Dienst versucht es später erneut. Hält das an, "
                "bitte die Schreibrechte des Dienstes auf die Datei prüfen."
            )

    def _unchanged(self, fingerprint: FileFingerprint) -> bool:
        """Locks and probe again, then: is the file still what was read?"""
        return self._current_if_unchanged(fingerprint) is not None

    def _current_if_unchanged(self, fingerprint: FileFingerprint) -> bytes | None:
        """`_unchanged`, giving the file's bytes when it is."""
        self._ensure_unlocked()
        current = os.stat(self.path)
        if (current.st_size, current.st_mtime_ns) != (fingerprint.size, fingerprint.mtime_ns):
            return None
        data, now = read_file(self.path)
        return data if now == fingerprint else None

    def _write_temp(self, data: bytes) -> None:
        original = os.stat(self.path)
        self.temp_path.unlink(missing_ok=True)  # left over from a crash
        try:
            write_new(self.temp_path, data, 0o600, label="workbook")
        except OSError as exc:
            raise WorkbookError(
                f"Im Ordner {self.path.parent} kann keine Zwischendatei angelegt werden "
                f"({exc.strerror or exc}). Der Dienst braucht dort Schreibrechte und freien "
                "Speicherplatz."
            ) from exc
        _copy_owner_and_mode(original, self.temp_path)

    def _backup(self, data: bytes, now: datetime) -> Path | None:
        if self.backups <= 0:
            return None
        local = now.astimezone(self.zone) if self.zone else now
        stem = f"{self.path.stem}.{local:%Y-%m-%d_%H-%M-%S}"
        try:
            self.backup_dir.mkdir(parents=True, exist_ok=True)
            target = self._unused_backup_name(stem)
            write_new(target, data, BACKUP_MODE, label="backup")
        except OSError as exc:
            raise WorkbookError(
                f"Die Sicherung im Ordner {self.backup_dir} ließ sich nicht schreiben "
                f"({exc.strerror or exc}); ohne Sicherung schreibt der Dienst nicht. Bitte "
                "Rechte und Speicherplatz prüfen."
            ) from exc
        self._rotate_backups()
        return target

    def _unused_backup_name(self, stem: str) -> Path:
        target = self.backup_dir / f"{stem}{self.path.suffix}"
        number = 1
        while target.exists():
            target = self.backup_dir / f"{stem}_{number:03d}{self.path.suffix}"
            number += 1
        return target

    def _rotate_backups(self) -> None:
        """Keep the newest `backups` (by write time, so a replay with an old `now` cannot
        push the backup just written out)."""
        pattern = re.compile(
            re.escape(self.path.stem)
            + r"\.\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(_\d{3,})?"
            + re.escape(self.path.suffix)
        )
        found = [p for p in self.backup_dir.iterdir() if pattern.fullmatch(p.name)]
        found.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
        for old in found[: -self.backups]:
            old.unlink(missing_ok=True)

    def _replace(self, fingerprint: FileFingerprint) -> bool:
        """Check once more, then os.replace; retried while another program holds the file.
        False if the file changed meanwhile."""
        delay = REPLACE_BACKOFF
        for attempt in range(1, REPLACE_RETRIES + 1):
            if not self._unchanged(fingerprint):
                return False
            try:
                os.replace(self.temp_path, self.path)
                return True
            except OSError as exc:
                if not _is_busy(exc):
                    raise WorkbookError(
                        f"Die Arbeitsmappe {self.path} ließ sich nicht ersetzen "
                        f"({exc.strerror or exc}). Bitte die Rechte im Ordner prüfen."
                    ) from exc
                if attempt == REPLACE_RETRIES:
                    raise WorkbookLocked(
                        f"Die Arbeitsmappe {self.path} ist von einem anderen Programm belegt "
                        f"({exc.strerror or exc}), z. B. Virenscanner oder Datensicherung. "
                        "Der Dienst versucht es später erneut."
                    ) from exc
            self._sleep(delay)
            delay *= 2
        return False  # not reached: the last attempt returns or raises

    def _check_landed(self, written_sha256: str) -> FileFingerprint:
        """Read back: if someone replaced the file in the instant after us, say so, so the
        caller re-applies (appends are idempotent through the service key)."""
        fingerprint = read_file(self.path)[1]
        if fingerprint.sha256 != written_sha256:
            raise WorkbookChanged(
                f"Die Arbeitsmappe {self.path} wurde gleich nach dem Schreiben von einem "
                "anderen Programm ersetzt. Die Änderungen werden erneut versucht."
            )
        return fingerprint


@dataclass(frozen=True)
class WorkbookStatus:
    refused: str | None = None  # why new rows could not be written the last time, if so
    refused_at: str | None = None
    skipped: tuple[str, ...] = ()  # cells the last update kept, one sentence each


def workbook_status(path: Path) -> WorkbookStatus:
    """What the store noted in `path` (empty when nothing was noted or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WorkbookStatus(
            refused=data.get("refused") or None,
            refused_at=data.get("refused_at") or None,
            skipped=tuple(str(line) for line in data.get("skipped", ())),
        )
    except (OSError, ValueError, AttributeError):
        return WorkbookStatus()


def waiting_reason(state_dir: Path) -> str:
    """Why new rows wait, as the writer last said it (for `check`)."""
    status = workbook_status(state_dir / STATUS_FILE)
    return (status.refused or "geöffnet oder gesperrt?").rstrip(".")


def _row_number(row: Row) -> int:
    number = row[ROW_KEY]
    assert isinstance(number, int)
    return number


def _kept_in(taps: list[SheetTap], make: Callable[[str, int], SheetTap]) -> TapFor:
    """`make`, noting each tap it made in `taps`."""

    def tap(part: str, size: int) -> SheetTap:
        taps.append(made := make(part, size))
        return made

    return tap


def _prepared(taps: list[SheetTap], sha256: str) -> tuple[str, SheetPass] | None:
    """The pass of the (one) tap that saw its part to the end; the others let go."""
    for tap in taps:
        tap.abandon()  # a tap that ended keeps its result; one cut off lets its thread go
    done = [result for tap in taps if (result := tap.result()) is not None]
    return (sha256, done[0]) if len(done) == 1 else None


def _copy_owner_and_mode(original: os.stat_result, target: Path) -> None:
    """The new file keeps the old one's owner (if we may set it) and permissions."""
    if hasattr(os, "chown"):
        # Only root may give a file away; where that fails, the mode below still matches.
        with contextlib.suppress(OSError):
            os.chown(target, original.st_uid, original.st_gid)
    os.chmod(target, stat.S_IMODE(original.st_mode))


def _is_busy(exc: OSError) -> bool:
    return exc.errno in BUSY_ERRNOS or getattr(exc, "winerror", None) in BUSY_WINERRORS
