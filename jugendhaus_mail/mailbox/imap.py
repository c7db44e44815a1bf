"""IMAP backend: the team inbox on any IMAP server (Dovecot, Exchange with IMAP, Cyrus, …);
sending goes over SMTP (`smtp.py`) and a copy is appended to the sent folder.

Client library: imapclient. It uses UIDs throughout, parses FETCH responses (INTERNALDATE as an
aware datetime), encodes folder names as modified UTF-7, and has IDLE, MOVE and UID EXPUNGE;
Python 3.11's imaplib has no IDLE and leaves all parsing to the caller.

Handles are "UIDVALIDITY:UID". If the inbox's UIDVALIDITY changed since a handle was issued, the
UID may name another mail: `move` then looks the mail up again by its Message-ID (remembered
from `list_new`), or leaves it in the inbox.

Moving uses MOVE where the server offers it: the server does it atomically, so after a dropped
connection the mail is either still in the inbox or in the folder. Otherwise COPY, STORE
\\Deleted, UID EXPUNGE: a drop between COPY and EXPUNGE leaves the copy in the folder and the
original in the inbox. So before copying, the target folder is searched for the Message-ID and
the copy is skipped if it is already there; `list_new` ignores \\Deleted mail and expunges
\\Deleted mail whose Message-ID is already filed (a move cut off before its UID EXPUNGE).

Why one module: the moves, the UIDVALIDITY checks and the sent-folder copy share one selected
connection and its state; split, each part would need the others' internals. `imap_diagnose`
(the `check` steps) and `smtp` (sending) live apart.
"""

from __future__ import annotations

import copy
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, compat32
from email.utils import make_msgid
from functools import partial
from typing import Any, TypeVar

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import (  # type: ignore[import-untyped]
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import raw as raw_mail
from jugendhaus_mail.mailbox import secret_from_env
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage
from jugendhaus_mail.mailbox.retry import TransientError, with_retries
from jugendhaus_mail.mailbox.smtp import (
    make_tls_context,
    send_smtp,
    send_smtp_raw,
    translate_socket_error,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}
SOCKET_TIMEOUT_SECONDS = 60.0
IDLE_RENEW_SECONDS = 25 * 60.0  # RFC 2177: re-issue IDLE before the server's 30-minute logout
POLL_SECONDS = 30.0
FETCH_CHUNK = 20  # mails per FETCH, and at most FETCH_CHUNK_BYTES (large attachments)
FETCH_CHUNK_BYTES = 25 * 1024 * 1024
DELETED = b"\\Deleted"
SEEN = b"\\Seen"
SENT = b"\\Sent"
_TRANSIENT = re.compile(
    rb"\[(UNAVAILABLE|INUSE|LIMIT|THROTTLED)\]|try again|Server Unavailable|Maximum number of",
    re.IGNORECASE,
)
_WARNED_PLAIN: set[tuple[str, int]] = set()  # warn once per process, not every cycle
_PLAINTEXT_REFUSED = re.compile(rb"PRIVACYREQUIRED|LOGINDISABLED|plaintext", re.IGNORECASE)


class ImapMailbox:
    """The team mailbox over IMAP. Connects lazily; every network step is retried (bounded)."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        box = settings.mailbox
        self._host = box.host
        self._port = box.port or DEFAULT_PORTS[box.security]
        self._inbox = box.inbox_folder
        self._sleep = sleep
        self._clock = clock
        self._client: Any = None
        self._selected: str | None = None
        self._inbox_validity = 0
        self._delimiter: str | None = None
        self._known_folders: set[str] = set()
        self._message_ids: dict[str, str] = {}
        self._last_seen: tuple[int, int] | None = None  # (UIDVALIDITY, highest UID listed)
        self._backlog = False

    def __enter__(self) -> ImapMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with suppress(IMAPClientError, OSError):
                client.logout()
            with suppress(IMAPClientError, OSError):
                client.shutdown()

    # -- the Mailbox interface ---------------------------------------------------------------

    def list_new(self) -> Iterator[IncomingMessage]:
        validity, waiting = self._call("Posteingang lesen", self._waiting)
        batch = waiting[: self._settings.mailbox.batch_size]
        self._backlog = len(waiting) > len(batch)
        if waiting:
            self._last_seen = (validity, max(uid for uid, _, _ in waiting))
        for uids in _chunks(batch):
            fetched = self._call(
                "Nachrichten abrufen", partial(self._bodies, validity=validity, uids=uids)
            )
            if fetched is None:
                log.warning(
                    "IMAP: UIDVALIDITY von %s hat sich geändert; Abruf endet hier", self._inbox
                )
                return
            for uid, received, raw in fetched:
                handle = f"{validity}:{uid}"
                message_id = _message_id(raw)
                if message_id:
                    self._message_ids[handle] = message_id
                yield IncomingMessage(handle=handle, received=received, raw=raw)

    def move(self, handle: str, folder: Folder) -> None:
        validity, uid = _parse_handle(handle)
        target = self._call("Ordner prüfen", lambda client: self._ensure_folder(client, folder))
        self._call(
            f"Nachricht nach {target} verschieben",
            lambda client: self._move(client, handle, validity, uid, target),
        )
        self._message_ids.pop(handle, None)

    def list_folder(
        self, folder: Folder, *, before: datetime | None = None, content: bool = True
    ) -> Iterator[IncomingMessage]:
        """Mail in one of the service's folders (Postausgang: the sent folder), oldest first."""
        listed = self._call(
            f"Ordner {folder.value} lesen", partial(self._folder_mail, folder, before)
        )
        for validity, uid, received in listed:
            raw: bytes | None = b""
            if content:
                raw = self._call("Nachricht abrufen", partial(self._folder_body, folder, uid))
            if raw is not None:
                yield IncomingMessage(f"{validity}:{uid}", received, raw)

    def delete(self, folder: Folder, handles: list[str]) -> int:
        """Flag \\Deleted and expunge: gone for good (not into a trash folder)."""
        what = f"Nachrichten in {folder.value} löschen"
        return int(self._call(what, partial(self._expunge, folder, handles)))

    def _service_folder(self, client: Any, folder: Folder) -> str:
        if folder is Folder.POSTAUSGANG:
            return self._sent_folder(client)
        return self._ensure_folder(client, folder)

    def _folder_mail(
        self, folder: Folder, before: datetime | None, client: Any
    ) -> list[tuple[int, int, datetime]]:
        self._selected = None
        path = self._service_folder(client, folder)
        validity = int(client.select_folder(path, readonly=True)[b"UIDVALIDITY"])
        uids = client.search(["UNDELETED", "BEFORE", before.date()] if before else ["UNDELETED"])
        dates = client.fetch(uids, ["INTERNALDATE"]) if uids else {}
        found = [(validity, uid, _aware(d[b"INTERNALDATE"])) for uid, d in dates.items()]
        return sorted(f for f in found if before is None or f[2] < before)

    def _folder_body(self, folder: Folder, uid: int, client: Any) -> bytes | None:
        self._selected = None
        client.select_folder(self._service_folder(client, folder), readonly=True)
        data = client.fetch([uid], ["BODY.PEEK[]"])
        return bytes(data[uid][b"BODY[]"]) if uid in data else None

    def _expunge(self, folder: Folder, handles: list[str], client: Any) -> int:
        self._selected = None
        validity = int(client.select_folder(self._service_folder(client, folder))[b"UIDVALIDITY"])
        uids = [uid for v, uid in map(_parse_handle, handles) if v == validity]
        present = list(client.fetch(uids, ["FLAGS"])) if uids else []
        if present:
            client.add_flags(present, [DELETED], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(present)
            else:
                client.expunge()
        return len(present)

    def send(self, message: EmailMessage) -> None:
        """Send over SMTP, then append the same message to the sent folder (flag \\Seen).

        A failing append is logged, not raised: the mail is already out, and an exception would
        make the caller send it a second time."""
        outgoing = self._prepared(message)
        send_smtp(self._settings, outgoing, sleep=self._sleep)
        self._keep_copy(str(outgoing["Message-ID"]), outgoing.as_bytes(policy=SMTP))

    def send_raw(self, data: bytes, recipients: Sequence[str]) -> None:
        """`send` for the bytes the outbox stored: the same bytes go over SMTP and into the
        sent folder."""
        send_smtp_raw(self._settings, data, recipients, sleep=self._sleep)
        self._keep_copy(raw_mail.message_id(data) or "", data)

    def _keep_copy(self, message_id: str, data: bytes) -> None:
        try:
            self._call(
                "Kopie im Gesendet-Ordner ablegen",
                lambda c: self._append_sent(c, message_id, data),
            )
        except MailboxError as exc:
            log.error("Mail versendet, aber keine Kopie im Gesendet-Ordner abgelegt: %s", exc)

    def wait_for_mail(self, timeout: float) -> bool:
        """Wait until new mail arrives (True) or `timeout` seconds pass (False).

        Uses IDLE where the server offers it, otherwise polls every POLL_SECONDS. Mail that
        arrived since the last `list_new` (or was left over by `batch_size`) counts as new."""
        deadline = self._clock() + timeout
        if self._backlog or self._call("Posteingang prüfen", self._has_new_mail):
            return True
        if self._call("Server-Fähigkeiten lesen", lambda c: c.has_capability("IDLE")):
            return self._call("Auf neue Mail warten", lambda c: self._idle(c, deadline))
        while (remaining := deadline - self._clock()) > 0:
            self._sleep(min(POLL_SECONDS, remaining))
            if self._call("Posteingang prüfen", self._has_new_mail):
                return True
        return False

    # -- connection and errors ---------------------------------------------------------------

    def _call(self, what: str, operation: Callable[[Any], T]) -> T:
        def attempt() -> T:
            try:
                return operation(self._connection())
            except MailboxError:
                raise
            except (IMAPClientError, OSError, EOFError) as exc:
                self._drop()
                raise self._translate(exc) from exc

        box = self._settings.mailbox
        return with_retries(
            attempt,
            what=f"IMAP {self._host}:{self._port}: {what}",
            retries=box.retries,
            backoff_seconds=box.retry_backoff_seconds,
            sleep=self._sleep,
        )

    def _connection(self) -> Any:
        if self._client is not None:
            return self._client
        box = self._settings.mailbox
        password = secret_from_env(box.password_env, "password_env")
        context = make_tls_context(box.ca_file)
        if box.security == "none" and self._server not in _WARNED_PLAIN:
            _WARNED_PLAIN.add(self._server)
            log.warning("IMAP zu %s:%d unverschlüsselt (nur für Tests/localhost)", *self._server)
        client = IMAPClient(
            self._host,
            self._port,
            ssl=box.security == "tls",
            ssl_context=context,
            timeout=SOCKET_TIMEOUT_SECONDS,
        )
        # imapclient writes SEARCH and APPEND in several pieces; with Nagle's algorithm each
        # such command waits for a delayed ACK (40 ms on Linux).
        with suppress(OSError):
            client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if box.security == "starttls":
                client.starttls(context)
            if (box.username + password).isascii():
                client.login(box.username, password)
            else:  # LOGIN is ASCII-only in imaplib: umlauts need AUTHENTICATE PLAIN (UTF-8)
                client.plain_login(box.username, password)
        except BaseException:
            with suppress(IMAPClientError, OSError):
                client.shutdown()
            raise
        client.normalise_times = False  # INTERNALDATE as an aware datetime, not local naive time
        self._client = client
        self._selected = None
        return client

    @property
    def _server(self) -> tuple[str, int]:
        return self._host, self._port

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with suppress(IMAPClientError, OSError):
                client.shutdown()

    def _translate(self, exc: Exception) -> Exception:
        server = f"IMAP-Server {self._host}:{self._port}"
        text = str(exc).encode("utf-8", "replace")
        short = str(exc)[:300]
        if isinstance(exc, IMAPClientError) and _PLAINTEXT_REFUSED.search(text):
            return MailboxError(
                f"{server} erlaubt die Anmeldung nur verschlüsselt: in [mailbox] security "
                '"tls" (Port 993) oder "starttls" (Port 143) einstellen.'
            )
        if isinstance(exc, LoginError) and isinstance(
            exc.__context__, IMAPClientAbortError | OSError
        ):  # imapclient reports a connection lost during LOGIN as a refused login
            return TransientError(f"{server}: Verbindung bei der Anmeldung abgebrochen ({short})")
        if isinstance(exc, LoginError) and not _TRANSIENT.search(text):
            box = self._settings.mailbox
            return MailboxAuthError(
                f"Anmeldung am {server} als {box.username!r} abgelehnt: Benutzername in "
                f"[mailbox] username bzw. das Passwort in der Umgebungsvariablen "
                f"{box.password_env} prüfen."
            )
        if isinstance(exc, IMAPClientAbortError):
            return TransientError(f"{server}: Verbindung abgebrochen ({short})")
        if isinstance(exc, IMAPClientError):
            if _TRANSIENT.search(text):
                return TransientError(f"{server} ist vorübergehend nicht bereit ({short})")
            return MailboxError(f"{server} lehnt ab: {short}")
        return translate_socket_error(server, exc)

    # -- steps (each runs inside _call, so it may be repeated after a reconnect) -------------

    def _select_inbox(self, client: Any) -> int:
        if self._selected != self._inbox:
            self._selected = None
            self._inbox_validity = int(client.select_folder(self._inbox)[b"UIDVALIDITY"])
            self._selected = self._inbox
        return self._inbox_validity

    def _waiting(self, client: Any) -> tuple[int, list[tuple[int, datetime, int]]]:
        """UIDVALIDITY and (UID, INTERNALDATE, size) of the mail waiting, oldest first."""
        validity = self._select_inbox(client)
        if not client.has_capability("MOVE"):
            self._finish_interrupted_moves(client)
        uids = client.search(["UNDELETED"])
        if not uids:
            return validity, []
        found = client.fetch(uids, ["INTERNALDATE", "RFC822.SIZE"])
        waiting = [
            (uid, _aware(data[b"INTERNALDATE"]), int(data[b"RFC822.SIZE"]))
            for uid, data in found.items()
        ]
        return validity, sorted(waiting, key=lambda item: (item[1], item[0]))

    def _bodies(
        self, client: Any, validity: int, uids: list[int]
    ) -> list[tuple[int, datetime, bytes]] | None:
        if self._select_inbox(client) != validity:
            return None
        data = client.fetch(uids, ["INTERNALDATE", "FLAGS", "BODY.PEEK[]"])
        found = [
            (uid, _aware(data[uid][b"INTERNALDATE"]), bytes(data[uid][b"BODY[]"]))
            for uid in uids
            if uid in data and b"BODY[]" in data[uid] and DELETED not in data[uid][b"FLAGS"]
        ]
        return sorted(found, key=lambda item: (item[1], item[0]))

    def _folder_path(self, client: Any, name: str) -> str:
        if self._delimiter is None:
            listing = client.list_folders("", self._inbox)
            delimiter = listing[0][1] if listing else None
            if isinstance(delimiter, bytes):
                delimiter = delimiter.decode("ascii")
            self._delimiter = delimiter or ""
        return f"{self._inbox}{self._delimiter}{name}" if self._delimiter else name

    def _ensure_folder(self, client: Any, folder: Folder | str) -> str:
        path = self._folder_path(client, folder.value) if isinstance(folder, Folder) else folder
        if path in self._known_folders:
            return path
        if not client.folder_exists(path):
            try:
                client.create_folder(path)
            except IMAPClientAbortError:
                raise
            except IMAPClientError as exc:
                if not client.folder_exists(path):
                    raise MailboxError(
                        f"Ordner {path!r} kann auf {self._host} nicht angelegt werden ({exc}); "
                        "bitte die Rechte des Kontos prüfen oder den Ordner von Hand anlegen."
                    ) from exc
            log.info("IMAP-Ordner %s angelegt", path)
            with suppress(IMAPClientError):
                client.subscribe_folder(path)
        self._known_folders.add(path)
        return path

    def _folder_has(self, client: Any, folder: str, message_id: str) -> bool:
        self._selected = None
        client.select_folder(folder, readonly=True)
        return bool(client.search(["HEADER", "Message-ID", message_id]))

    def _move(self, client: Any, handle: str, validity: int, uid: int, target: str) -> None:
        if self._select_inbox(client) != validity:
            found = self._refind(client, handle)
            if found is None:
                return
            uid = found
        if client.has_capability("MOVE"):
            client.move([uid], target)  # a UID that is already gone is a no-op
            return
        headers = client.fetch([uid], ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        if uid not in headers:
            return  # already moved (or deleted by someone else)
        message_id = _header_message_id(headers[uid])
        if not (message_id and self._folder_has(client, target, message_id)):
            self._select_inbox(client)
            client.copy([uid], target)
        self._select_inbox(client)
        client.add_flags([uid], [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([uid])

    def _refind(self, client: Any, handle: str) -> int | None:
        message_id = self._message_ids.get(handle)
        uids = (
            client.search(["UNDELETED", "HEADER", "Message-ID", message_id]) if message_id else []
        )
        if not uids:
            log.warning(
                "IMAP: %s nach UIDVALIDITY-Wechsel nicht wiedergefunden; bleibt liegen", handle
            )
            return None
        return int(min(uids))

    def _finish_interrupted_moves(self, client: Any) -> None:
        deleted = client.search(["DELETED"]) if client.has_capability("UIDPLUS") else []
        if not deleted:
            return
        headers = client.fetch(deleted, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        wanted = {uid: _header_message_id(data) for uid, data in headers.items()}
        filed: list[int] = []
        for folder in (Folder.ERFASST, Folder.NICHT_ERFASST):
            path = self._folder_path(client, folder.value)
            if not client.folder_exists(path):
                continue
            for uid, message_id in wanted.items():
                if message_id and uid not in filed and self._folder_has(client, path, message_id):
                    filed.append(uid)
        self._select_inbox(client)
        if filed:
            log.info("IMAP: %d unterbrochene Verschiebungen abgeschlossen", len(filed))
            client.uid_expunge(filed)

    def _has_new_mail(self, client: Any) -> bool:
        validity = self._select_inbox(client)
        client.noop()
        if self._last_seen is None or self._last_seen[0] != validity:
            return bool(client.search(["UNDELETED"]))
        highest = self._last_seen[1]
        return any(uid > highest for uid in client.search(["UID", f"{highest + 1}:*", "UNDELETED"]))

    def _idle(self, client: Any, deadline: float) -> bool:
        self._select_inbox(client)
        while (remaining := deadline - self._clock()) > 0:
            client.idle()
            try:
                responses = client.idle_check(timeout=min(remaining, IDLE_RENEW_SECONDS))
            finally:
                _, late = client.idle_done()
            if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in [*responses, *late]):
                return True
        return False

    def _prepared(self, message: EmailMessage) -> EmailMessage:
        outgoing = copy.deepcopy(message)
        team = self._settings.mailbox.address or self._settings.mail.team_address
        if outgoing["From"] is None:
            outgoing["From"] = team
        if outgoing["Message-ID"] is None:
            outgoing["Message-ID"] = make_msgid(domain=team.rpartition("@")[2] or None)
        return outgoing

    def _append_sent(self, client: Any, message_id: str, data: bytes) -> str:
        folder = self._sent_folder(client)
        if message_id and self._folder_has(client, folder, message_id):
            return folder  # an earlier attempt got through before the connection dropped
        client.append(folder, data, flags=[SEEN])
        return folder

    def _sent_folder(self, client: Any) -> str:
        configured = self._settings.mailbox.sent_folder
        if configured not in self._known_folders and configured == "Sent":
            special = client.find_special_folder(SENT)
            if special and special != configured:
                self._known_folders.add(special)
                return str(special)
        return self._ensure_folder(client, configured)


def _chunks(batch: list[tuple[int, datetime, int]]) -> Iterator[list[int]]:
    chunk: list[int] = []
    size = 0
    for uid, _, length in batch:
        if chunk and (len(chunk) >= FETCH_CHUNK or size + length > FETCH_CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(uid)
        size += length
    if chunk:
        yield chunk


def _parse_handle(handle: str) -> tuple[int, int]:
    validity, _, uid = handle.partition(":")
    if not (validity.isdigit() and uid.isdigit()):
        raise MailboxError(f"Ungültiger IMAP-Verweis {handle!r} (erwartet UIDVALIDITY:UID).")
    return int(validity), int(uid)


def _message_id(raw: bytes) -> str:
    value = BytesHeaderParser(policy=compat32).parsebytes(raw, headersonly=True)["Message-ID"]
    return " ".join(str(value).split()) if value else ""


def _header_message_id(fetched: dict[bytes, Any]) -> str:
    """The Message-ID from a FETCH of BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]."""
    raw = next((v for k, v in fetched.items() if k.startswith(b"BODY[")), b"")
    return _message_id(bytes(raw))


def _aware(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
