"""The Maildir backend: the embedded default, the demo, the tests, and sites that deliver mail
with getmail/fetchmail/procmail.

The inbox is the Maildir itself (`new/` and `cur/`); the service's folders are Maildir++
subfolders (`.Erfasst`, `.Nicht erfasst`, `.Postausgang`). A move is one `os.rename` that keeps
the file name, so the delivery time encoded in it survives.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import MailboxError
from jugendhaus_mail.fsync import sync_directory, write_new
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage, Mailbox

log = logging.getLogger(__name__)

_DELIVERY_TIME = re.compile(r"^(\d{9,11})(?:\.|_)")


class MaildirMailbox:
    def __init__(self, settings: Settings) -> None:
        assert settings.mailbox.path is not None
        self.root = settings.mailbox.path
        self.batch_size = settings.mailbox.batch_size

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
        entries: list[Path] = []
        for sub in ("new", "cur"):
            folder = self.root / sub
            if not folder.is_dir():
                continue
            with os.scandir(folder) as it:
                entries.extend(
                    Path(entry.path)
                    for entry in it
                    if entry.is_file() and not entry.name.startswith(".")
                )
        found = sorted(
            ((self._received(path), path) for path in entries),
            key=lambda item: (item[0], item[1].name),
        )
        for received, path in found[: self.batch_size]:
            try:
                raw = path.read_bytes()
            except FileNotFoundError:  # moved by a concurrent cycle or by a person
                continue
            yield IncomingMessage(handle=path.name, received=received, raw=raw)

    def move(self, handle: str, folder: Folder) -> None:
        target_dir = self._folder(folder) / "cur"
        for sub in ("new", "cur"):
            source = self.root / sub / handle
            try:  # a reader (Dovecot) may move it from new/ to cur/ at any moment
                os.rename(source, target_dir / _with_info(handle))
            except FileNotFoundError:
                continue
            sync_directory(target_dir)
            return
        if not (target_dir / _with_info(handle)).exists():
            log.warning("Nachricht %s ist weder im Posteingang noch in %s", handle, folder.value)

    def send(self, message: EmailMessage) -> None:
        folder = self._folder(Folder.POSTAUSGANG)
        now = datetime.now(UTC)
        unique = f"M{now.microsecond}P{os.getpid()}R{os.urandom(4).hex()}"
        name = f"{int(now.timestamp())}.{unique}.jugendhaus-mail"
        tmp = folder / "tmp" / name
        data = message.as_bytes(policy=SMTP)
        try:
            write_new(tmp, data, label="maildir")
            os.rename(tmp, folder / "new" / name)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise MailboxError(
                f"Mail konnte nicht im Maildir {self.root} abgelegt werden "
                f"({exc.strerror or exc}); bitte Speicherplatz und Rechte prüfen."
            ) from exc
        sync_directory(folder / "new")

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
        """Delivery time: the timestamp Maildir puts first in the file name, else the mtime."""
        match = _DELIVERY_TIME.match(path.name)
        seconds = int(match[1]) if match else int(path.stat().st_mtime)
        return datetime.fromtimestamp(seconds, UTC)


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
