"""Exchange Server on premises through EWS (exchangelib), as a delegate of the team mailbox.

The service account (`[mailbox] username`) needs Full Access and Send As on the shared mailbox
`[mailbox] address`; with `auth = "oauth"` the Entra ID app needs EWS app access
(full_access_as_app) limited to that mailbox. No autodiscover: `[mailbox] endpoint` is used as is.

exchangelib is imported at the top: this module is loaded only when `backend = "ews"` is chosen
(`open_mailbox`) or for `check`, never at package import time. exchangelib's own retries are off
(a fail-fast policy that keeps the server's wait hint); every operation runs through
`with_retries`, bounded by `[mailbox] retries`.

`wait_for_mail` lets the service wake up early: a pull subscription on the inbox (Subscribe, then
GetEvents every few seconds) reports new mail within seconds, without a callback URL (push) or a
long-held connection (streaming).

Why one module: it is one conversation with one server (log-in, list, move, send, look into Sent
Items, wake up early), and each step leans on the same retry policy, error translation and
folder cache; `ews_diagnose` (the `check` steps) lives apart.
"""

from __future__ import annotations

import contextlib
import copy
import email.policy
import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import exchangelib as xl
import requests
from exchangelib import errors as ews_errors
from exchangelib.items import HARD_DELETE
from exchangelib.protocol import BaseProtocol, FailFast, Protocol
from exchangelib.services import CreateFolder
from oauthlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import ConfigError, JugendhausError, MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import raw as raw_mail
from jugendhaus_mail.mailbox import secret_from_env
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage
from jugendhaus_mail.mailbox.retry import TransientError, with_retries

T = TypeVar("T")
log = logging.getLogger(__name__)

# Exchange 2016 schema: Exchange Server 2016, 2019 and SE all accept it. Pinning it saves the
# version probe (ten ConvertId requests) on every start.
SERVER_VERSION = (15, 1, 2507, 6)
FETCH_CHUNK = 5  # mails per GetItem: MIME with attachments can be large
EXCHANGE_ONLINE_HOSTS = ("outlook.office365.com", "outlook.office.com")
DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
EXCHANGE_ONLINE_NOTICE = (
    "{host} ist Exchange Online: Microsoft sperrt EWS dort ab 1. Oktober 2026 für Anwendungen, "
    'die nicht von Microsoft sind. Bitte auf backend = "graph" (Microsoft Graph) umstellen; '
    "EWS bleibt nur für Exchange Server im eigenen Haus."
)
DELEGATION_ERRORS = (
    ews_errors.ErrorAccessDenied,
    ews_errors.ErrorNonExistentMailbox,
    ews_errors.ErrorImpersonateUserDenied,
    ews_errors.ErrorImpersonationDenied,
)
TRANSIENT_ERRORS = (
    ews_errors.ErrorTimeoutExpired,  # exchangelib's name for a refused or dropped connection
    ews_errors.ErrorInternalServerTransientError,
    ews_errors.ErrorMailboxStoreUnavailable,
    ews_errors.ErrorMailboxMoveInProgress,
    ews_errors.ErrorTooManyObjectsOpened,
    ews_errors.ErrorExceededConnectionCount,
    requests.RequestException,  # raised directly only while fetching an OAuth token
    OSError,
)
SCHEMA_ERRORS = (
    ews_errors.ErrorInvalidServerVersion,
    ews_errors.ErrorInvalidSchemaVersionForMailboxVersion,
    ews_errors.ErrorIncorrectSchemaVersion,
)
# Loggers that write credentials (request headers, token requests) or mail content at DEBUG.
CHATTY_LOGGERS = ("exchangelib", "requests_oauthlib", "oauthlib")
EVENT_POLL_SECONDS = 5.0  # between two GetEvents while waiting for new mail
SUBSCRIPTION_MINUTES = 30  # Exchange drops a pull subscription not asked for that long
NEW_MAIL_EVENTS = ("NewMailEvent", "CreatedEvent")
# What may go wrong while waiting; never fatal there (the scheduled intake reports it properly).
WAIT_ERRORS = (
    JugendhausError,
    ews_errors.EWSError,
    requests.RequestException,
    OAuth2Error,
    OSError,
    ValueError,
    LookupError,
)


class _Throttled(ews_errors.ErrorServerBusy):  # type: ignore[misc]
    """HTTP 429/503 with the server's Retry-After hint, if it sent one."""

    def __init__(self, status: int, server_hint: float | None) -> None:
        super().__init__(f"HTTP {status}", back_off=server_hint)
        self.status = status
        self.server_hint = server_hint


class _FailFastWithHint(FailFast):  # type: ignore[misc]
    """exchangelib's fail-fast policy, but 429/503 keep the Retry-After header for with_retries."""

    def raise_response_errors(self, response: requests.Response) -> None:
        hint = _retry_after(response)
        if response.status_code == 429:
            raise _Throttled(429, hint)
        try:
            super().raise_response_errors(response)
        except (ews_errors.ErrorServerBusy, ews_errors.ErrorInternalServerTransientError) as exc:
            raise _Throttled(response.status_code, hint) from exc


class _EntraCredentials(xl.OAuth2Credentials):  # type: ignore[misc]
    """Client credentials for the on-premises server's resource (hybrid modern authentication)."""

    def __init__(self, *, token_url: str, resource: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._token_url = token_url
        self._resource = resource

    @property
    def token_url(self) -> str:
        return self._token_url

    @property
    def scope(self) -> list[str]:
        return [self._resource + "/.default"]


class _RedactRequestDumps(logging.Filter):
    """exchangelib.util logs the whole SOAP request (mail content) at ERROR on unexpected errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 4 and "\n" in str(record.msg):
            record.msg, record.args = "%s: %s", record.args[:2]
        return True


def _retry_after(response: requests.Response) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None  # absent, or an HTTP date: the doubling backoff applies
    return seconds if seconds >= 0 else None


def _guard_library_logging() -> None:
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) included
            logger.setLevel(logging.INFO)
    util = logging.getLogger("exchangelib.util")
    if not any(isinstance(f, _RedactRequestDumps) for f in util.filters):
        util.addFilter(_RedactRequestDumps())


def _trust_ca_file(ca_file: Path | None, endpoint: str) -> None:
    """Verify the endpoint's certificate against `ca_file` (process-wide in exchangelib).

    Other hosts (the OAuth token endpoint) keep the default trust store.
    """
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"[mailbox] ca_file = {ca_file}: Datei nicht gefunden (PEM-Datei).")
    netloc = urlsplit(endpoint).netloc

    class TrustCaFileAdapter(requests.adapters.HTTPAdapter):
        def send(  # type: ignore[override]
            self, request: requests.PreparedRequest, **kwargs: Any
        ) -> requests.Response:
            if ca_file is not None and urlsplit(request.url or "").netloc == netloc:
                kwargs["verify"] = str(ca_file)
            return super().send(request, **kwargs)

    BaseProtocol.HTTP_ADAPTER_CLS = TrustCaFileAdapter


class EwsMailbox:
    """The team mailbox on Exchange Server, through EWS. Connects on first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        token_url: str | None = None,
        poll_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._box = settings.mailbox
        self._sleep = sleep
        self._poll_seconds = EVENT_POLL_SECONDS if poll_seconds is None else poll_seconds
        self._monotonic = monotonic
        self._subscription: tuple[str, str] | None = None  # (subscription id, watermark)
        self._token_url = token_url or DEFAULT_TOKEN_URL.format(tenant=self._box.tenant_id)
        self._host = urlsplit(self._box.endpoint).netloc
        self._account: Any = None
        self._folders: dict[str, Any] = {}

    # --- the Mailbox protocol --------------------------------------------------------------------

    def list_new(self) -> Iterator[IncomingMessage]:
        refs = self._call("Posteingang lesen", self._find_inbox_ids)
        for start in range(0, len(refs), FETCH_CHUNK):
            chunk = refs[start : start + FETCH_CHUNK]
            items = self._call("Mails abrufen", functools.partial(self._fetch, chunk))
            for ref, item in zip(chunk, items, strict=True):
                if isinstance(item, ews_errors.ErrorItemNotFound):
                    continue  # moved away (by staff) since the inbox was listed
                if isinstance(item, Exception) or not item.mime_content:
                    # Exchange cannot produce MIME for it; it stays in the inbox for staff to see.
                    log.warning("Mail %s im Posteingang unlesbar (%s)", ref, type(item).__name__)
                    continue
                received = datetime.fromtimestamp(item.datetime_received.timestamp(), tz=UTC)
                yield IncomingMessage(ref, received, bytes(item.mime_content))

    def move(self, handle: str, folder: Folder) -> None:
        self._call(f"Mail nach „{folder.value}“ verschieben", lambda: self._move(handle, folder))

    def send(self, message: EmailMessage) -> None:
        outgoing = self._as_team_mail(message)
        self.send_raw(outgoing.as_bytes(policy=email.policy.SMTP), ())

    def send_raw(self, data: bytes, recipients: Sequence[str]) -> None:
        """`send` for the bytes the outbox stored, uploaded as MimeContent as they are."""
        message_id = raw_mail.message_id(data) or ""
        mime = data

        def send_once() -> None:
            # A dropped connection can hide a send that went through, in this call or in an
            # earlier cycle (the outbox resends the same Message-ID): look before sending.
            if self._in_sent_items(message_id):
                return
            account = self._connect()
            team, sent = xl.Mailbox(email_address=self._settings.mail.team_address), account.sent
            xl.Message(account=account, folder=sent, author=team, mime_content=mime).send_and_save()

        self._call("Mail senden", send_once)

    def list_folder(
        self, folder: Folder, *, before: datetime | None = None, content: bool = True
    ) -> Iterator[IncomingMessage]:
        """Mail in an inbox subfolder (Postausgang: Sent Items), oldest first; the age is
        compared here, so the server needs no date restriction."""

        def listing() -> list[tuple[str, datetime]]:
            query = self._source(folder).all().order_by("datetime_received")
            found = [
                (item.id, datetime.fromtimestamp(item.datetime_received.timestamp(), tz=UTC))
                for item in query.only("datetime_received")
            ]
            return [(ref, at) for ref, at in found if before is None or at < before]

        listed = self._call(f"Ordner „{folder.value}“ lesen", listing)
        for start in range(0, len(listed), FETCH_CHUNK):
            chunk = listed[start : start + FETCH_CHUNK]
            if not content:
                yield from (IncomingMessage(ref, at, b"") for ref, at in chunk)
                continue
            ids = [ref for ref, _ in chunk]
            items = self._call("Mails abrufen", functools.partial(self._fetch_from, folder, ids))
            for (ref, at), item in zip(chunk, items, strict=True):
                if not isinstance(item, Exception) and item.mime_content:
                    yield IncomingMessage(ref, at, bytes(item.mime_content))

    def _source(self, folder: Folder) -> Any:
        return self._connect().sent if folder is Folder.POSTAUSGANG else self._folder(folder)

    def _fetch_from(self, folder: Folder, ids: list[str]) -> list[Any]:
        refs, where = [(i, None) for i in ids], self._source(folder)
        return list(self._connect().fetch(ids=refs, folder=where, only_fields=["mime_content"]))

    def delete(self, folder: Folder, handles: list[str]) -> int:
        """Hard delete: gone for good, not into Deleted Items."""
        if not handles:
            return 0

        def hard_delete() -> int:
            results = self._connect().bulk_delete(
                ids=[(h, None) for h in handles], delete_type=HARD_DELETE
            )
            failed = [r for r in results if isinstance(r, Exception)
                      and not isinstance(r, ews_errors.ErrorItemNotFound)]  # fmt: skip
            if failed:
                raise failed[0]
            return sum(1 for r in results if r is True)

        return self._call(f"Mails in „{folder.value}“ löschen", hard_delete)

    def close(self) -> None:
        if self._account is None:
            return
        if self._subscription is not None:
            subscription_id, self._subscription = self._subscription[0], None
            with contextlib.suppress(*WAIT_ERRORS):  # it expires on the server anyway
                self._account.inbox.unsubscribe(subscription_id)
        protocol = self._account.protocol
        self._account, self._folders = None, {}
        with contextlib.suppress(KeyError):
            del Protocol[protocol.config]  # exchangelib caches protocols process-wide
        protocol.close()

    def __enter__(self) -> EwsMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- waiting for new mail (the service's early wake-up) --------------------------------------

    def wait_for_mail(self, timeout: float) -> bool:
        """Wait until new mail arrives in the inbox (True) or `timeout` seconds pass (False).

        The pull subscription lives as long as this object, so mail that arrived between two
        waits counts as well. Any trouble ends the wait with False at once, never an exception:
        the scheduled intake tries again and reports problems properly."""
        deadline = self._monotonic() + timeout
        try:
            while not self._new_mail_events():
                remaining = deadline - self._monotonic()
                if remaining <= 0:
                    return False
                self._sleep(min(self._poll_seconds, remaining))
            return True
        except WAIT_ERRORS as exc:
            self._subscription = None  # subscribe afresh next time
            log.info("Warten auf neue Mail (EWS) unterbrochen: %s", self._wait_problem(exc))
            return False

    def _new_mail_events(self) -> bool:
        inbox = self._connect().inbox
        if self._subscription is None:
            self._subscription = inbox.subscribe_to_pull(
                event_types=list(NEW_MAIL_EVENTS), timeout=SUBSCRIPTION_MINUTES
            )
        subscription_id, watermark = self._subscription
        found = False
        for notification in inbox.get_events(subscription_id, watermark):
            for event in notification.events:
                watermark = event.watermark or watermark
                found = found or type(event).__name__ in NEW_MAIL_EVENTS
        self._subscription = (subscription_id, watermark)
        return found

    def _wait_problem(self, exc: Exception) -> str:
        if isinstance(exc, JugendhausError):
            return str(exc)
        if isinstance(exc, (ews_errors.EWSError, requests.RequestException, OAuth2Error, OSError)):
            return str(self._translate(exc))
        return type(exc).__name__

    # --- for diagnose ----------------------------------------------------------------------------

    def inbox_count(self) -> int:
        return self._call("Posteingang lesen", lambda: int(self._connect().inbox.total_count or 0))

    def ensure_folder(self, folder: Folder) -> bool:
        """Look up (or create) the folder below the inbox; True if it had to be created."""
        existed = self._call("Ordner suchen", lambda: self._lookup(folder.value) is not None)
        self._call("Ordner anlegen", lambda: self._folder(folder))
        return not existed

    # --- EWS operations (each is one attempt; `_call` retries) -----------------------------------

    def _find_inbox_ids(self) -> list[str]:
        query = self._connect().inbox.all().order_by("datetime_received").only("datetime_received")
        return [item.id for item in query[: self._box.batch_size]]

    def _fetch(self, ids: list[str]) -> list[Any]:
        account, fields = self._connect(), ["mime_content", "datetime_received"]
        refs = [(i, None) for i in ids]
        return list(account.fetch(ids=refs, folder=account.inbox, only_fields=fields))

    def _move(self, handle: str, folder: Folder) -> None:
        target = self._folder(folder)
        try:
            (result,) = self._connect().bulk_move(ids=[(handle, None)], to_folder=target)
        except ews_errors.ErrorFolderNotFound:
            self._folders.pop(folder.value, None)  # deleted by someone: look up or create again
            raise TransientError(f"Ordner „{folder.value}“ ist verschwunden") from None
        if isinstance(result, ews_errors.ErrorItemNotFound):
            log.info("Mail %s ist nicht mehr im Posteingang (schon verschoben)", handle)
        elif isinstance(result, Exception):
            raise result

    def _folder(self, folder: Folder) -> Any:
        if folder.value not in self._folders:
            found = self._lookup(folder.value)
            if found is None:
                with contextlib.suppress(ews_errors.ErrorFolderExists):  # someone was quicker
                    inbox = self._connect().inbox
                    new = xl.Folder(parent=inbox, name=folder.value)
                    CreateFolder(account=self._connect()).get(parent_folder=inbox, folders=[new])
                found = self._lookup(folder.value)
            if found is None:
                raise MailboxError(f"Ordner „{folder.value}“ im Posteingang fehlt nach dem Anlegen")
            self._folders[folder.value] = found
        return self._folders[folder.value]

    def _lookup(self, name: str) -> Any:
        try:
            return self._connect().inbox // name  # one shallow FindFolder, no tree walk
        except ews_errors.ErrorFolderNotFound:
            return None

    def _in_sent_items(self, message_id: str) -> bool:
        return bool(self._connect().sent.filter(message_id=message_id).exists())

    def _as_team_mail(self, message: EmailMessage) -> EmailMessage:
        outgoing = copy.deepcopy(message)
        team = self._settings.mail.team_address
        if "From" not in outgoing:
            outgoing["From"] = team
        if "Message-ID" not in outgoing:
            outgoing["Message-ID"] = make_msgid(domain=team.rpartition("@")[2] or None)
        if "Auto-Submitted" not in outgoing:
            outgoing["Auto-Submitted"] = "auto-generated"
        return outgoing

    # --- connection, retries, errors -------------------------------------------------------------

    def _connect(self) -> Any:
        if self._account is None:
            _guard_library_logging()
            _trust_ca_file(self._box.ca_file, self._box.endpoint)
            if urlsplit(self._box.endpoint).hostname in EXCHANGE_ONLINE_HOSTS:
                log.warning(EXCHANGE_ONLINE_NOTICE.format(host=self._host))
            credentials, auth_type, access_type = self._credentials()
            config = xl.Configuration(
                service_endpoint=self._box.endpoint,
                credentials=credentials,
                auth_type=auth_type,
                version=xl.Version(build=xl.Build(*SERVER_VERSION)),
                retry_policy=_FailFastWithHint(),
                max_connections=2,
            )
            self._account = xl.Account(
                self._box.address, config=config, autodiscover=False, access_type=access_type
            )
        return self._account

    def _credentials(self) -> tuple[Any, str, str]:
        box = self._box
        if box.auth != "oauth":
            password = secret_from_env(box.password_env, "password_env")
            auth_type = xl.NTLM if box.auth == "ntlm" else xl.BASIC
            return xl.Credentials(box.username, password), auth_type, xl.DELEGATE
        for key in ("tenant_id", "client_id", "client_secret_env"):
            if not getattr(box, key):
                raise ConfigError(f'[mailbox] {key} fehlt; für auth = "oauth" nötig')
        endpoint = urlsplit(box.endpoint)
        credentials = _EntraCredentials(
            token_url=self._token_url,
            resource=f"{endpoint.scheme}://{endpoint.netloc}",
            client_id=box.client_id,
            client_secret=secret_from_env(box.client_secret_env, "client_secret_env"),
            tenant_id=box.tenant_id,
            identity=xl.Identity(primary_smtp_address=box.address),
        )
        # App-only tokens act through impersonation; the app has no delegate identity of its own.
        return credentials, xl.OAUTH2, xl.IMPERSONATION

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return operation()
            except (ews_errors.EWSError, requests.RequestException, OAuth2Error, OSError) as exc:
                raise self._translate(exc) from exc

        return with_retries(
            attempt,
            what=f"{what} ({self._host})",
            retries=self._box.retries,
            backoff_seconds=self._box.retry_backoff_seconds,
            sleep=self._sleep,
        )

    def _translate(self, exc: Exception) -> JugendhausError:
        host, box = self._host, self._box
        if isinstance(exc, _Throttled):
            busy = f"Exchange-Server {host} ist überlastet oder nicht bereit (HTTP {exc.status})"
            return TransientError(busy, exc.server_hint)
        if isinstance(exc, ews_errors.ErrorServerBusy):  # carries BackOffMilliseconds
            return TransientError(f"Exchange-Server {host} drosselt die Anfragen", exc.back_off)
        if isinstance(exc, (ews_errors.UnauthorizedError, OAuth2Error)):
            return MailboxAuthError(self._auth_message())
        if isinstance(exc, DELEGATION_ERRORS):
            return MailboxAuthError(self._delegation_message(type(exc).__name__))
        if _is_tls_failure(exc):
            hint = "Die CA-Datei (PEM) in [mailbox] ca_file eintragen."
            if box.ca_file:
                hint = f"Passt [mailbox] ca_file = {box.ca_file} zum Zertifikat des Servers?"
            return MailboxError(f"Das TLS-Zertifikat von {host} ist nicht vertrauenswürdig. {hint}")
        if isinstance(exc, TRANSIENT_ERRORS):
            return TransientError(
                f"keine Antwort von {host} (Verbindung abgelehnt, abgebrochen oder Zeitüberschrei"
                "tung); falls das anhält: [mailbox] endpoint, Netzwerk und Firewall prüfen"
            )
        if isinstance(exc, ews_errors.RedirectError):
            return MailboxError(f"{box.endpoint} leitet um: [mailbox] endpoint auf die EWS-Adresse "
                                "setzen, meist https://SERVER/EWS/Exchange.asmx")  # fmt: skip
        if isinstance(exc, SCHEMA_ERRORS):
            return MailboxError(f"{host} versteht EWS für Exchange 2016 nicht; unterstützt werden "
                                "Exchange Server 2016, 2019 und SE.")  # fmt: skip
        detail = (str(exc).splitlines() or [""])[0][:200]
        return MailboxError(f"Exchange-Server {host} meldet: {type(exc).__name__} {detail}")

    def _auth_message(self) -> str:
        box = self._box
        if box.auth == "oauth":
            return (
                f"Microsoft Entra ID hat die Anmeldung der App {box.client_id} (Tenant "
                f"{box.tenant_id}) abgelehnt: [mailbox] tenant_id, client_id und das Geheimnis in "
                f"der Umgebungsvariablen {box.client_secret_env} prüfen (abgelaufen?)."
            )
        return (
            f"Anmeldung am Exchange-Server {self._host} als {box.username} abgelehnt: "
            f"Benutzername in [mailbox] username bzw. das Passwort in der Umgebungsvariablen "
            f'{box.password_env} prüfen (auth = "{box.auth}" muss am Server aktiviert sein).'
        )

    def _delegation_message(self, code: str) -> str:
        box = self._box
        if box.auth == "oauth":
            return (
                f"Die App {box.client_id} hat keinen Zugriff auf das Postfach {box.address} "
                f"({code}): EWS-Berechtigung full_access_as_app erteilen und auf dieses Postfach "
                "beschränken; [mailbox] address prüfen."
            )
        return (
            f"Das Dienstkonto hat keinen Vollzugriff (Delegation) auf das Postfach {box.address} "
            f"({code}). Bitte in Exchange für {box.username} Vollzugriff (FullAccess) und "
            "„Senden als“ auf das Postfach erteilen und [mailbox] address prüfen."
        )


def _is_tls_failure(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.SSLError):
        return True
    cause = exc.__context__ or exc.__cause__  # exchangelib re-raises SSLError as TransportError
    return isinstance(exc, ews_errors.TransportError) and (
        isinstance(cause, requests.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc)
    )
