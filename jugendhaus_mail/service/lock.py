"""One instance per configuration: an operating-system file lock in the state folder; and one
configuration per workbook and Maildir: the same kind of lock beside the workbook (its target)
and inside the Maildir, naming the configuration that holds it.

The lock belongs to the open file, so the OS releases it when the process ends in any way,
kill -9 and power loss included: a crashed instance never leaves it stuck, and there is no
stale-PID guessing. `run` holds it for its lifetime; `poll`, `remind`, `digest` and `retention`
take it for their run, so a command started by a timer cannot work beside the service.

POSIX: `fcntl.flock`. Windows: `msvcrt.locking` on one byte far behind the text, so the
holder's description stays readable for the message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import JugendhausError

LOCK_NAME = "jugendhaus-mail.lock"
SHARED_LOCK_NAME = LOCK_NAME  # as ".<workbook>.jugendhaus-mail.lock" and in the Maildir
WINDOWS_LOCK_OFFSET = 1 << 20  # the locked byte; the description is written before it
MAX_INFO = 1024


class InstanceRunning(JugendhausError):
    """Another process works with the same configuration (state folder)."""


class _HeldLock:
    """An open lock file whose OS lock this process holds (or not yet)."""

    path: Path
    _fd: int | None = None

    def _claim(self, fd: int, info: str) -> str | None:
        """Lock `fd` and write who holds it; or, when another process holds it, close `fd`
        and return that holder's description."""
        if not _try_lock(fd):
            holder = _read_info(fd)
            os.close(fd)
            return holder
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, info.encode("utf-8"))
        self._fd = fd
        return None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)


class InstanceLock(_HeldLock):
    def __init__(self, state_dir: Path, command: str) -> None:
        self.path = state_dir / LOCK_NAME
        self.command = command

    def acquire(self, since: str) -> None:
        """Take the lock or raise InstanceRunning naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        info = f"PID {os.getpid()}, Befehl `{self.command}`, seit {since}"
        holder = self._claim(fd, info)
        if holder is not None:
            raise InstanceRunning(
                f"jugendhaus-mail arbeitet bereits mit dieser Konfiguration ({holder}); "
                f"`{self.command}` startet deshalb nicht. Läuft der Dienst, erledigt er das "
                "selbst nach Zeitplan; sonst später erneut versuchen. "
                f"(Sperre: {self.path})"
            )


class SharedResourceLock(_HeldLock):
    """A lock file beside the workbook (its target, for a symlink) or inside the Maildir: a
    second configuration on the same workbook or mailbox would hand out numbers twice."""

    def __init__(self, path: Path, what: str, config: Path) -> None:
        self.path = path
        self.what = what
        self.config = config

    def acquire(self, command: str, since: str) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        except OSError:
            return  # a folder without write rights: the writes themselves will say so
        info = f"Konfiguration {self.config}, PID {os.getpid()}, Befehl `{command}`, seit {since}"
        holder = self._claim(fd, info)
        if holder is not None:
            raise InstanceRunning(
                f"{self.what} wird schon von jugendhaus-mail mit einer anderen Konfiguration "
                f"bearbeitet ({holder}); `{command}` mit {self.config} startet deshalb nicht. "
                "Zwei Konfigurationen auf derselben Anfrageliste oder demselben Postfach "
                "vergäben Nummern doppelt: bitte nur eine davon betreiben. "
                f"(Sperre: {self.path})"
            )


def shared_locks(settings: Settings) -> list[SharedResourceLock]:
    workbook = settings.workbook.path.resolve()
    config = settings.config_path.resolve()
    locks = [
        SharedResourceLock(
            workbook.with_name(f".{workbook.name}.{SHARED_LOCK_NAME}"),
            f"Die Anfrageliste {workbook}",
            config,
        )
    ]
    if settings.mailbox.backend == "maildir" and settings.mailbox.path is not None:
        maildir = settings.mailbox.path.resolve()
        locks.append(
            SharedResourceLock(maildir / f".{SHARED_LOCK_NAME}", f"Das Postfach {maildir}", config)
        )
    return locks


@contextmanager
def instance_lock(
    settings: Settings, command: str, now: datetime, *, skip: bool = False
) -> Iterator[None]:
    """Hold the instance lock, and the locks beside the workbook and in the Maildir, for the
    block (`skip` for dry runs, which change nothing)."""
    if skip:
        yield
        return
    since = f"{now.astimezone(ZoneInfo(settings.office.timezone)):%d.%m.%Y %H:%M}"
    lock = InstanceLock(settings.state_dir, command)
    lock.acquire(since)
    held: list[SharedResourceLock] = []
    try:
        for shared in shared_locks(settings):
            shared.acquire(command, since)
            held.append(shared)
        yield
    finally:
        for shared in reversed(held):
            shared.release()
        lock.release()


def _read_info(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, MAX_INFO).decode("utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "Prozess unbekannt"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        with suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def holder(settings: Settings) -> str | None:
    """Who holds the instance lock right now (None when nobody does)."""
    path = settings.state_dir / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        return _read_info(fd)
    finally:
        os.close(fd)
