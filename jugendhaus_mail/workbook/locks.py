"""Is someone working in the workbook? Lock files of Excel and LibreOffice, and a write probe.

Lock files are only ever read here, never deleted: a stale one (left by a crash) is reported
with its owner and age so a person can decide.

Formats:
- Excel `~$<file name>`, 165 bytes: one length byte and the user name in the Windows code
  page; at offset 55 (54 for Word) a two-byte length and the name again in UTF-16-LE.
- LibreOffice `.~lock.<file name>#`: `name,system user,host,DD.MM.YYYY HH:MM,profile URL;`
  where `\\` escapes `,`, `;` and itself.

`since` is naive wall-clock time of the office: LibreOffice writes the staff PC's time that way;
for Excel, whose lock file holds no time, it is the lock file's modification time, read in the
office's zone when the caller names it (else in this machine's zone).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Literal

UNKNOWN_OWNER = "unbekannt"
MAX_NAME = 52  # Office refuses longer user names
UTF16_LENGTH_OFFSETS = (55, 54)  # Excel/PowerPoint, then Word
MAX_LOCK_FILE_SIZE = 4096

LockKind = Literal["excel", "libreoffice"]


@dataclass(frozen=True)
class LockInfo:
    path: Path
    owner: str
    since: datetime | None
    kind: LockKind
    host: str = ""

    def age(self, now: datetime) -> timedelta | None:
        """How long the lock has existed at `now` (aware or naive local time)."""
        if self.since is None:
            return None
        local_now = now.astimezone().replace(tzinfo=None) if now.tzinfo else now
        return local_now - self.since

    def describe(self) -> str:
        """One German sentence for messages, e.g. to the admin or in `check`."""
        program = "Excel" if self.kind == "excel" else "LibreOffice"
        who = self.owner if not self.host else f"{self.owner} (Rechner {self.host})"
        when = f" seit {self.since:%d.%m.%Y %H:%M}" if self.since else ""
        return (
            f"Die Arbeitsmappe ist in {program} geöffnet von {who}{when} "
            f"(Sperrdatei {self.path.name})."
        )


def lock_paths(path: Path) -> dict[LockKind, Path]:
    """Where Excel and LibreOffice put their lock files for `path` (next to the target of a
    symlink: that is where a colleague opening the shared file leaves them)."""
    path = path.resolve()
    # LibreOffice first: it also writes an Excel-style owner file for .xlsx, and its own
    # lock file says more (host, time).
    return {
        "libreoffice": path.with_name(f".~lock.{path.name}#"),
        "excel": path.with_name(f"~${path.name}"),
    }


def find_lock(path: Path, zone: tzinfo | None = None) -> LockInfo | None:
    """The lock file of whoever has `path` open, or None; times as the office reads them in
    `zone`."""
    candidates = lock_paths(path)
    for kind, lock in candidates.items():
        found = lock if lock.exists() else _find_ignoring_case(lock)
        if found is not None:
            return _read_lock(found, kind, zone)
    return None


def probe_writable(path: Path) -> OSError | None:
    """Try to open the file for writing (no truncation) and close it at once.

    Excel on a share holds the file with "others may only read": this then fails with
    PermissionError (Windows) or EBUSY (Linux CIFS). Returns the error, or None if writable.
    """
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        return exc
    os.close(fd)
    return None


def _find_ignoring_case(lock: Path) -> Path | None:
    """Clients on a share may spell the file name in another case."""
    wanted = lock.name.casefold()
    try:
        with os.scandir(lock.parent) as entries:
            for entry in entries:
                if entry.name.casefold() == wanted:
                    return lock.parent / entry.name
    except OSError:
        return None
    return None


def _read_lock(lock: Path, kind: LockKind, zone: tzinfo | None = None) -> LockInfo:
    try:
        with lock.open("rb") as fh:
            data = fh.read(MAX_LOCK_FILE_SIZE)
            mtime = os.fstat(fh.fileno()).st_mtime
    except OSError:
        # It exists but cannot be read (Excel may hold it exclusively): still a lock.
        return LockInfo(lock, UNKNOWN_OWNER, None, kind)
    modified = datetime.fromtimestamp(mtime, zone).replace(tzinfo=None)
    if kind == "excel":
        return LockInfo(lock, excel_owner(data), modified.replace(microsecond=0), kind)
    owner, host, since = libreoffice_entry(data)
    return LockInfo(lock, owner, since or modified.replace(microsecond=0), kind, host)


def excel_owner(data: bytes) -> str:
    """The user name in an Office owner file; "unbekannt" if it cannot be read."""
    for offset in UTF16_LENGTH_OFFSETS:
        length = int.from_bytes(data[offset : offset + 2], "little")
        end = offset + 2 + 2 * length
        if 0 < length <= MAX_NAME and end <= len(data):
            name = data[offset + 2 : end].decode("utf-16-le", errors="replace").strip()
            if name and name.isprintable() and "\ufffd" not in name:
                return name
    length = data[0] if data else 0
    if 0 < length <= MAX_NAME and len(data) > length:
        name = data[1 : 1 + length].decode("cp1252", errors="replace").strip()
        if name and name.isprintable():
            return name
    return UNKNOWN_OWNER


def libreoffice_entry(data: bytes) -> tuple[str, str, datetime | None]:
    """(owner, host, since) from a LibreOffice lock file."""
    fields = _split_escaped(data.decode("utf-8", errors="replace"))
    fields += [""] * (4 - len(fields))
    user, system_user, host, stamp = (f.strip() for f in fields[:4])
    owner = user or system_user or UNKNOWN_OWNER
    try:
        since: datetime | None = datetime.strptime(stamp, "%d.%m.%Y %H:%M")
    except ValueError:
        since = None
    return owner, host, since


def _split_escaped(text: str) -> list[str]:
    """Split the first `;`-terminated entry at unescaped commas."""
    fields: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
        elif char == ",":
            fields.append("".join(current))
            current = []
        elif char == ";":
            break
        else:
            current.append(char)
    fields.append("".join(current))
    return fields
