"""Durable writes: the one way the service puts a file on disk.

`write_durably(path, data)` writes a hidden temp file next to `path`, fsyncs it, renames it over
`path` and fsyncs the folder, so after a crash or a full disk there is either the old file or
the new one, never a half-written or empty one. `write_new(path, data)` creates a file that
must not exist yet (backups, Maildir messages) the same way. A file left half-written by a
failed write is removed before the error is raised.

The failpoint `<name>:ENOSPC` (see `failpoints.py`) makes the write fail like a full disk.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from jugendhaus_mail.failpoints import disk_full


def sync_directory(directory: Path) -> None:
    """Make the rename durable; Windows and some network file systems cannot, which is fine."""
    if os.name == "nt":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


SYNCFS_FROM = 8  # files; below this, one fsync each costs less than flushing the disk


def sync_files(paths: Sequence[str | Path], folder: Path) -> None:
    """Make the content of many files written in `folder` durable at once: one syncfs(2) of
    the file system on Linux (the same guarantee as an fsync of every file), else one fsync
    per file. A few files are fsynced one by one: syncfs also writes out whatever else is
    pending on that file system. Raises OSError when the data cannot be written."""
    syncfs = _syncfs() if len(paths) >= SYNCFS_FROM else None
    if syncfs is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return cast("Callable[[int], int]", function)


def write_new(
    path: Path, data: bytes, mode: int = 0o600, *, label: str = "", sync_folder: bool = False
) -> None:
    """Create `path` (never overwrite), write `data` and fsync it; on any error the partial
    file is removed and the error raised. `label` names the write for the failpoint
    `durable_write.<label>:ENOSPC` (`durable_write:ENOSPC` hits every write)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            disk_full("durable_write")
            disk_full(f"durable_write.{label}")
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if sync_folder:
        sync_directory(path.parent)


def temp_name(path: Path, tag: str = "tmp") -> Path:
    """A hidden name in the same folder (never `~$…`, which Office would take for its own)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{tag}")


def write_durably(path: Path, data: bytes, mode: int | None = None, *, label: str = "") -> None:
    """Replace `path` with `data` atomically and durably. `mode` defaults to the old file's
    permissions (0o600 for a new file)."""
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o600
    temp = temp_name(path)
    temp.unlink(missing_ok=True)
    write_new(temp, data, mode, label=label)
    try:
        os.chmod(temp, mode)  # the umask may have narrowed it
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def describe_os_error(exc: OSError) -> str:
    """One German line for a file-system error nothing else caught."""
    where = f" ({exc.filename})" if exc.filename else ""
    if is_disk_full(exc):
        return (
            f"Kein Speicherplatz mehr frei{where}. Bitte Platz schaffen (z. B. alte Sicherungen "
            "oder Protokolle löschen); danach holt der Dienst alles nach, nichts ist verloren."
        )
    return (
        f"Datei-Fehler{where}: {exc.strerror or exc}. Bitte Rechte und Speicherplatz prüfen; "
        "danach holt der Dienst alles nach."
    )
