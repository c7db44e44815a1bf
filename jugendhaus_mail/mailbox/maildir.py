"""The Maildir backend: the embedded default, the demo, the tests, and sites that deliver mail
with getmail/fetchmail/procmail.

The inbox is the Maildir itself (`new/` and `cur/`); the service's folders are Maildir++
subfolders (`.Erfasst`, `.Nicht erfasst`, `.Postausgang`). A move is one `os.rename`, which
keeps the file name and the mtime.

The receipt time is the file's mtime, as Dovecot serves it as INTERNALDATE and as mbsync,
imapsync and Python's `mailbox` keep the original arrival there; the number that starts the
file name is only when the file was created in this folder (a copy gets a new one), so it
counts only when the mtime is unusable.

Sending stores the mail in `Postausgang`. Before storing, the folder is looked up for the same
Message-ID (kept as a digest in the file name), so a crash between storing a mail and noting
it as sent does not store it twice when the outbox hands it over again.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid, parsedate_to_datetime
from pathlib import Path

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import MailboxError
from jugendhaus_mail.failpoints import ENV as FAILPOINT_ENV
from jugendhaus_mail.failpoints import disk_full, failpoint
from jugendhaus_mail.fsync import sync_directory, sync_files
from jugendhaus_mail.mailbox import raw as raw_mail
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage, Mailbox

log = logging.getLogger(__name__)

_DELIVERY_TIME = re.compile(r"^(\d{9,11})(?:\.|_)")
_SENT_DIGEST = re.compile(r"X([0-9a-f]{24})\.")
# An mtime before this is a broken copy (1970, 1980 from a FAT stick), not an arrival.
_USABLE_SINCE = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_DAY = 86_400.0


class MaildirMailbox:
    def __init__(self, settings: Settings) -> None:
        assert settings.mailbox.path is not None
        self.root = settings.mailbox.path
        self.batch_size = settings.mailbox.batch_size
        self._sent: set[str] | None = None  # Message-ID digests in Postausgang, read once
        self._staged: dict[str, str] = {}  # digest -> file name in Postausgang/tmp
        self._postausgang: Path | None = None  # made once per session by the first send
        self._tmp = ""  # its tmp/ with the separator, as text

    def __enter__(self) -> Mailbox:
        if not (self.root / "cur").is_dir() and not (self.root / "new").is_dir():
            raise MailboxError(
                f"{self.root} ist kein Maildir (es fehlen new/ und cur/). "
                "Pfad in [mailbox] path prüfen oder `jugendhaus-mail demo` ausprobieren."
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass

    def list_new(self) -> Iterator[IncomingMessage]:
        # paths as text, read with os calls: per mail this was as costly as its parse
        found: list[tuple[datetime, str, str]] = []  # receipt, file name, path
        for sub in ("new", "cur"):
            folder = os.path.join(self.root, sub)
            if not os.path.isdir(folder):
                continue
            with os.scandir(folder) as it:
                found.extend(
                    (_received_at(entry.path, entry.name), entry.name, entry.path)
                    for entry in it
                    if entry.is_file() and not entry.name.startswith(".")
                )
        found.sort(key=lambda item: (item[0], item[1]))
        for received, name, path in found[: self.batch_size]:
            try:
                raw = _read_all(path)
            except FileNotFoundError:  # moved by a concurrent cycle or by a person
                continue
            yield IncomingMessage(handle=name, received=received, raw=raw)

    def move(self, handle: str, folder: Folder) -> None:
        self.move_many([(handle, folder)])

    def move_many(self, moves: Sequence[tuple[str, Folder]]) -> None:
        """File many messages; each target folder is synced once, after all renames."""
        touched: set[Path] = set()
        targets: dict[Folder, Path] = {}  # each folder made (if missing) once per batch
        for index, (handle, folder) in enumerate(moves):
            if index and index == len(moves) // 2:
                failpoint("batch_half_filed")  # for the crash tests: half the batch filed
            target_dir = targets.get(folder)
            if target_dir is None:
                target_dir = targets[folder] = self._folder(folder) / "cur"
            if self._rename(handle, target_dir):
                touched.add(target_dir)
            elif not (target_dir / _with_info(handle)).exists():
                log.warning(
                    "Nachricht %s ist weder im Posteingang noch in %s", handle, folder.value
                )
        for target_dir in sorted(touched):
            sync_directory(target_dir)

    def _rename(self, handle: str, target_dir: Path) -> bool:
        try:  # a reader (Dovecot) may move it from new/ to cur/ at any moment
            # joined as text: two Path objects per mail cost more than the rename (issue 15)
            first = os.path.join(self.root, "new", handle)
            os.rename(first, os.path.join(target_dir, _with_info(handle)))
            return True
        except FileNotFoundError:
            pass
        base = handle.partition(":2,")[0]
        moved = sorted((self.root / "cur").glob(f"{glob.escape(base)}:2,*"))  # by Dovecot
        for source in [self.root / "cur" / handle, *moved]:
            try:
                os.rename(source, target_dir / _with_info(handle))
            except FileNotFoundError:
                continue
            return True
        return False

    def list_folder(
        self, folder: Folder, *, before: datetime | None = None, content: bool = True
    ) -> Iterator[IncomingMessage]:
        path = self.root / f".{folder.value}"
        for sub in ("new", "cur"):
            if not (path / sub).is_dir():
                continue
            for file in sorted((path / sub).iterdir()):
                try:
                    sent = folder is Folder.POSTAUSGANG
                    raw = file.read_bytes() if content or sent else b""
                except FileNotFoundError:
                    continue
                # a sent mail's time is its Date (the file may be written later, or with --now)
                received = (_sent_at(raw) if sent else None) or self._received(file)
                if before is not None and received >= before:
                    continue
                yield IncomingMessage(handle=f"{sub}/{file.name}", received=received, raw=raw)

    def delete(self, folder: Folder, handles: list[str]) -> int:
        path = self.root / f".{folder.value}"
        deleted = 0
        for handle in handles:
            sub, _, name = handle.partition("/")
            if sub not in ("new", "cur") or not name or "/" in name:
                continue
            try:
                (path / sub / name).unlink()
            except FileNotFoundError:
                continue
            deleted += 1
        if deleted:
            for sub in ("new", "cur"):
                if (path / sub).is_dir():
                    sync_directory(path / sub)
            self._sent = None
        return deleted

    def send(self, message: EmailMessage) -> None:
        """Store `message` in `Postausgang` at once (see `send_raw`)."""
        self.send_raw(message.as_bytes(policy=SMTP), ())
        self.commit_sent()

    def send_raw(self, data: bytes, recipients: Sequence[str]) -> None:
        """Write the stored bytes of a mail into `Postausgang/tmp`, unless a mail with its
        Message-ID is in the folder already (an earlier attempt that was cut off before the
        outbox noted it as sent). `commit_sent` makes the batch durable and visible."""
        folder = self._postausgang_folder()
        message_id = raw_mail.message_id(data)
        if message_id is None:
            message_id = make_msgid(domain="jugendhaus-mail.invalid")
            data = f"Message-ID: {message_id}\r\n".encode() + data
        digest = _message_id_digest(message_id)
        if digest in self._sent_digests(folder) or digest in self._staged:
            log.info("Nachricht ist schon im Postausgang; nicht noch einmal abgelegt")
            return
        now = time.time_ns() // 1000  # microseconds
        unique = f"M{now % 1_000_000}P{os.getpid()}R{os.urandom(4).hex()}X{digest}"
        name = f"{now // 1_000_000}.{unique}.jugendhaus-mail"
        # joined as text once per session, and the failpoints looked up once per mail: per
        # mail each cost a tenth of the file's creation (issue 15)
        tmp = self._tmp + name
        try:
            if os.environ.get(FAILPOINT_ENV):
                disk_full("durable_write")
                disk_full("durable_write.maildir")
            _write_new(tmp, data)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise self._store_error(exc) from exc
        self._staged[digest] = name

    def commit_sent(self) -> None:
        """Make the mail written by `send_raw` durable (one sync for all files), move it into
        `Postausgang/new` and sync the folder once: the outbox notes the batch as sent only
        after this returns."""
        if not self._staged:
            return
        folder = self._postausgang_folder()
        staged, self._staged = self._staged, {}
        failpoint("batch_written_not_synced")
        try:
            tmp, new = self._tmp, os.path.join(folder, "new", "")
            sync_files([tmp + name for name in staged.values()], folder / "tmp")
            sent = self._sent_digests(folder)
            crash_each = os.environ.get(FAILPOINT_ENV) == "after_send"
            for digest, name in staged.items():
                os.rename(tmp + name, new + name)
                sent.add(digest)
                if crash_each:
                    failpoint("after_send")  # one stored, the rest of the batch not yet
            sync_directory(folder / "new")
        except OSError as exc:
            for name in staged.values():
                (folder / "tmp" / name).unlink(missing_ok=True)
            raise self._store_error(exc) from exc
        failpoint("batch_stored_not_noted")

    def _store_error(self, exc: OSError) -> MailboxError:
        return MailboxError(
            f"Mail konnte nicht im Maildir {self.root} abgelegt werden "
            f"({exc.strerror or exc}); bitte Speicherplatz und Rechte prüfen."
        )

    def _sent_digests(self, folder: Path) -> set[str]:
        """Digests of the Message-IDs in `Postausgang` (new/ and cur/, where a mail client
        moves what it has shown), from the file names only: one listing per session."""
        if self._sent is None:
            self._sent = set()
            _remove_leftovers(folder / "tmp")
            for sub in ("new", "cur"):
                with os.scandir(folder / sub) as it:
                    for entry in it:
                        match = _SENT_DIGEST.search(entry.name)
                        if match:
                            self._sent.add(match[1])
        return self._sent

    def _postausgang_folder(self) -> Path:
        if self._postausgang is None:
            self._postausgang = self._folder(Folder.POSTAUSGANG)
            self._tmp = os.path.join(self._postausgang, "tmp", "")
        return self._postausgang

    def _folder(self, folder: Folder) -> Path:
        path = self.root / f".{folder.value}"
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        marker = path / "maildirfolder"
        if not marker.exists():
            marker.touch()
        return path

    @staticmethod
    def _received(path: Path) -> datetime:
        return _received_at(str(path), path.name)


def _received_at(path: str, name: str) -> datetime:
    """Receipt time of the file at `path` named `name`: its mtime. The time in the file name
    only stands in where the mtime is unusable: unreadable, before 2000 (a broken copy), or
    more than a day after the file was created here. An absurd time is returned as it is; the
    intake sets such a mail aside with a reason."""
    try:
        mtime: float | None = os.stat(path).st_mtime
    except OSError:
        mtime = None
    match = _DELIVERY_TIME.match(name)
    named = float(match[1]) if match and float(match[1]) >= _USABLE_SINCE else None
    if mtime is None:
        seconds = named if named is not None else 0.0
    elif named is not None and (mtime < _USABLE_SINCE or mtime > named + _DAY):
        seconds = named
    else:
        seconds = mtime
    return _timestamp(seconds)


def _read_all(path: str) -> bytes:
    """The bytes of the file at `path` (Path.read_bytes without the objects around it)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = [os.read(fd, os.fstat(fd).st_size + 1)]
        while chunks[-1]:  # grown meanwhile, or a short read: read to the end
            chunks.append(os.read(fd, 1 << 20))
    finally:
        os.close(fd)
    return b"".join(chunks)


def _timestamp(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (OverflowError, OSError, ValueError):  # beyond year 9999: absurd, set aside
        return datetime.max.replace(tzinfo=UTC)


_OUR_TMP = re.compile(r"^\d+\.M\d+P(\d+)R[0-9a-f]+X[0-9a-f]{24}\.jugendhaus-mail$")


def _remove_leftovers(tmp: Path) -> None:
    """Remove what a process that died mid-batch left in `tmp/` (never moved into `new/`,
    so never counted as stored); files of a living process stay."""
    with os.scandir(tmp) as it:
        for entry in it:
            match = _OUR_TMP.match(entry.name)
            if match is None or _alive(int(match[1])):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end the process there: keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _sent_at(raw: bytes) -> datetime | None:
    try:
        moment = parsedate_to_datetime(raw_mail.header_values(raw, "Date")[0])
    except (TypeError, ValueError, IndexError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def _message_id_digest(message_id: str) -> str:
    return hashlib.sha256(message_id.strip().encode("utf-8", "surrogateescape")).hexdigest()[:24]


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _write_new(path: str, data: bytes) -> None:
    """Create `path` (never overwrite) with `data`, as open(path, "xb") would, without the
    file object around the descriptor (one per outgoing mail)."""
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _with_info(name: str) -> str:
    """Files in cur/ carry the info suffix; mark moved mail as seen."""
    return name if ":2," in name else name + ":2,S"


def deliver(root: Path, raw: bytes, received: datetime, unique: str) -> Path:
    """Deliver `raw` into the Maildir at `root` as an MDA would (used by the demo and tests)."""
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    name = f"{int(received.timestamp())}.{unique}.jugendhaus-demo"
    tmp = root / "tmp" / name
    tmp.write_bytes(raw)
    os.utime(tmp, (received.timestamp(), received.timestamp()))
    os.rename(tmp, root / "new" / name)
    return root / "new" / name
