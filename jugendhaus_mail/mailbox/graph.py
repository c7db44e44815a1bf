"""Exchange Online through the Microsoft Graph REST API (`[mailbox] backend = "graph"`).

The app signs in with client credentials (see `graph_auth`) and works on the team mailbox
through `/users/{address}/...`: it lists the inbox oldest first, reads each mail's MIME through
`$value`, moves processed mail into child folders of the inbox and sends with `sendMail` in MIME
form (Exchange keeps the copy in Sent Items).

How real tenants behave, and what this backend does about it:
- Throttling (429/503/504) is waited out as long as the server's Retry-After asks, within
  `[mailbox] throttle_budget_seconds` per cycle; then the cycle stops cleanly (what was done is
  kept) and the next one goes on. Dropped connections are retried `[mailbox] retries` times.
- A 401 from Graph is usually a token revoked or expired early: a new token is fetched and the
  request tried once more. Only the token endpoint's own refusal (AADSTS…) blocks the mailbox.
- `sendMail`'s 202 does not mean sent, and the Sent Items copy appears only once Exchange has
  sent the mail, which can take a while: when the answer to a `sendMail` is lost and no copy is
  there yet, `SendOutcomeUnknown` tells the outbox to look again later instead of sending twice.
- Folder names are compared case-insensitively, as Exchange does.
- Ids are requested as immutable ids (`Prefer: IdType="ImmutableId"`), so a handle stays valid
  across a move; a tenant that ignores this (no `Preference-Applied`) works as before.
`[mailbox] endpoint` and `authority_host` point to a national cloud (or to tests). requests and
msal are imported only inside this backend.

`wait_for_mail` lets the service wake up early. Graph's push (change notifications) needs a
webhook that Microsoft can reach from the internet, which an office service behind a firewall
does not have; so it looks at the newest inbox mail every `poll_seconds` (one small request: id
and receipt time of one message) and reports mail received after the newest one seen so far.

Why one module: the mailbox operations above are one conversation with Graph; the HTTP side
(`graph_http`), sign-in (`graph_auth`) and the `check` steps (`graph_diagnose`) live apart.
"""

from __future__ import annotations

import base64
import copy
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import JugendhausError, MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import raw as raw_mail
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage
from jugendhaus_mail.mailbox.graph_auth import MsalTokenProvider
from jugendhaus_mail.mailbox.graph_http import GraphHttp, error_code, json_of
from jugendhaus_mail.mailbox.retry import (
    MailRefusedError,
    SendOutcomeUnknown,
    ThrottleBudget,
    ThrottledError,
    TransientError,
    note_throttled_cycle,
    with_retries,
)

if TYPE_CHECKING:
    import requests

T = TypeVar("T")
log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/v1.0"
PAGE_SIZE = 100
# Graph refuses requests over 4 MB; sendMail carries the MIME base64-encoded.
MAX_SENDMAIL_BYTES = 4 * 1024 * 1024
LOOK_SECONDS = 15.0  # between two looks at the newest inbox mail while waiting
# Graph's answers when one mail is refused for good (too large, bad recipients, bad MIME).
_REFUSED_SEND = (400, 413)


class GraphMailbox:
    """The team mailbox in Exchange Online, reached through Microsoft Graph."""

    def __init__(
        self,
        settings: Settings,
        *,
        token_provider: Callable[[], str] | None = None,
        graph_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        poll_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        mailbox = settings.mailbox
        self._settings = settings
        self._address = mailbox.address
        base = (graph_url or mailbox.endpoint or GRAPH_URL).rstrip("/")
        self._host = urlsplit(base).netloc
        self._user_url = f"{base}/users/{quote(mailbox.address)}"
        self._tokens = token_provider or MsalTokenProvider(settings)
        self._sleep = sleep
        self._web = GraphHttp(settings, self._tokens, self._host)
        self._folder_ids: dict[str, str] = {}
        self._poll_seconds = LOOK_SECONDS if poll_seconds is None else poll_seconds
        self._monotonic = monotonic
        self._newest_seen: tuple[datetime, str] | None = None  # (receipt time, id)
        self._looked = False
        self._budget = ThrottleBudget(mailbox.throttle_budget_seconds)
        self._listed_whole_inbox = False
        self._inbox_id = ""
        self._listed: set[str] = set()  # handles listed in this session

    def __enter__(self) -> GraphMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._web.close()
        self._folder_ids.clear()
        if self._budget.exhausted or self._listed_whole_inbox:
            note_throttled_cycle(self._settings, throttled=self._budget.exhausted)
            self._listed_whole_inbox = False

    # -- the Mailbox protocol -------------------------------------------------------------

    def list_new(self) -> Iterator[IncomingMessage]:
        """Yield inbox mail oldest first, at most `[mailbox] batch_size` per call."""
        # All ids are listed before the first move: Graph pages with $skip, so moving mail
        # out of the inbox between two pages would skip messages.
        self._budget = ThrottleBudget(self._settings.mailbox.throttle_budget_seconds)
        listed = self._list_inbox()
        self._listed.update(message_id for message_id, _ in listed)
        for message_id, received in listed:
            try:
                raw = self._fetch_mime(message_id)
            except ThrottledError as exc:
                log.warning("Abruf für diesen Durchgang beendet, der Rest folgt: %s", exc)
                return
            if raw is not None:
                yield IncomingMessage(message_id, received, raw)
        self._listed_whole_inbox = True

    def move(self, handle: str, folder: Folder) -> None:
        """Move the message into the inbox child folder `folder`; gone already is fine."""
        if handle not in self._listed and not self._in_inbox(handle):
            # A handle from an earlier session: an immutable id still finds a mail filed since
            # then, so only a mail that is still in the inbox is moved.
            log.info("Nachricht ist nicht mehr im Posteingang (schon abgelegt)")
            return
        for _ in range(2):
            response = self._request(
                "POST",
                f"{self._user_url}/messages/{_quote_id(handle)}/move",
                what=f"Nachricht nach „{folder.value}“ verschieben",
                json_body={"destinationId": self._folder_id(folder.value)},
                allow_404=True,
            )
            if response.status_code != 404 or not self._in_inbox(handle):
                if response.status_code == 404:
                    log.info("Nachricht ist nicht mehr im Postfach (schon verschoben)")
                return
            # The message is there, so the cached folder must be gone: look it up again.
            self._folder_ids.pop(folder.value, None)
        raise MailboxError(
            f"Nachricht konnte nicht nach „{folder.value}“ verschoben werden: der Ordner "
            f"unter dem Posteingang von {self._address} ist nicht erreichbar."
        )

    def list_folder(
        self, folder: Folder, *, before: datetime | None = None, content: bool = True
    ) -> Iterator[IncomingMessage]:
        """Mail in an inbox child folder (Postausgang: Sent Items), oldest first."""
        name = "sentitems" if folder is Folder.POSTAUSGANG else self._folder_id(folder.value)
        url: str | None = f"{self._user_url}/mailFolders/{_quote_id(name)}/messages"
        params: dict[str, str] | None = {
            "$select": "id,receivedDateTime",
            "$orderby": "receivedDateTime asc",
            "$top": str(PAGE_SIZE),
        }
        if before is not None and params is not None:
            params["$filter"] = f"receivedDateTime lt {before.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        listed: list[tuple[str, datetime]] = []
        while url:
            page = self._get_json(url, params, what=f"Ordner „{folder.value}“ lesen")
            listed += [
                (str(m["id"]), _parse_time(str(m["receivedDateTime"]))) for m in page["value"]
            ]
            url, params = page.get("@odata.nextLink"), None
        for message_id, received in listed:
            raw = self._fetch_mime(message_id) if content else b""
            if raw is not None:
                yield IncomingMessage(message_id, received, raw)

    def delete(self, folder: Folder, handles: list[str]) -> int:
        """permanentDelete: a plain DELETE would only move the mail to Deleted Items."""
        deleted = 0
        for handle in handles:
            response = self._request(
                "POST",
                f"{self._user_url}/messages/{_quote_id(handle)}/permanentDelete",
                what=f"Nachricht in „{folder.value}“ löschen",
                allow_404=True,
            )
            deleted += response.status_code != 404
        return deleted

    def send(self, message: EmailMessage) -> None:
        """Send as the team mailbox via sendMail (MIME); Exchange files the copy in Sent Items.

        Raises MailRefusedError when Graph refuses this mail for good, SendOutcomeUnknown when
        the answer to a sendMail was lost and no copy is in Sent Items yet."""
        prepared = self._prepare(message)
        self.send_raw(prepared.as_bytes(policy=prepared.policy.clone(linesep="\r\n")), ())

    def send_raw(self, data: bytes, recipients: Sequence[str]) -> None:
        """`send` for the bytes the outbox stored (they carry From and Message-ID); Graph
        takes the recipients from the MIME headers."""
        message_id = raw_mail.message_id(data) or ""
        body = base64.b64encode(data)
        if len(body) > MAX_SENDMAIL_BYTES:
            raise MailRefusedError(
                f"Nachricht ist mit Anhängen {len(body) / 1_048_576:.1f} MB groß (Base64); "
                "Microsoft Graph nimmt über sendMail höchstens 4 MB an. Anhänge verkleinern."
            )
        maybe_sent = False

        def attempt() -> None:
            nonlocal maybe_sent
            # A dropped connection may hide a send that went through, in this call or in an
            # earlier cycle (the outbox resends the same Message-ID): look before sending.
            if self.sent_copy_exists(message_id):
                log.info("Nachricht ist schon in „Gesendete Elemente“; nicht erneut gesendet")
                return
            if maybe_sent:
                raise _unknown_outcome()
            try:
                response = self._web.call(
                    "POST",
                    f"{self._user_url}/sendMail",
                    what="Nachricht senden",
                    data=body,
                    content_type="text/plain",
                    allowed=_REFUSED_SEND,
                )
            except TransientError as exc:
                maybe_sent = not exc.throttled  # a throttled request was not taken
                raise
            if response.status_code in _REFUSED_SEND:
                code = error_code(response)
                raise MailRefusedError(
                    f"Microsoft Graph nimmt die Nachricht nicht an (HTTP {response.status_code}"
                    + (f", {code}" if code else "")
                    + "): zu groß für das Postfach oder ungültige Empfänger."
                )
            if response.status_code != 202:
                raise MailboxError(
                    f"Nachricht senden: Microsoft Graph hat mit HTTP {response.status_code} statt "
                    "202 geantwortet, die Nachricht wurde vermutlich nicht angenommen (bekannt bei "
                    "großen MIME-Nachrichten); Anhänge verkleinern."
                )

        try:
            self._retry(attempt, "Nachricht senden")
        except (SendOutcomeUnknown, ThrottledError, MailboxAuthError, MailRefusedError):
            raise
        except MailboxError as exc:
            if maybe_sent:
                raise _unknown_outcome() from exc
            raise

    def sent_copy_exists(self, message_id: str) -> bool:
        """True when Sent Items holds a mail with this Message-ID (internetMessageId)."""
        escaped = message_id.replace("'", "''")
        response = self._web.call(
            "GET",
            f"{self._user_url}/mailFolders/sentitems/messages",
            what="Gesendete Elemente prüfen",
            params={"$filter": f"internetMessageId eq '{escaped}'", "$select": "id"},
        )
        return bool(json_of(response, "Gesendete Elemente prüfen").get("value"))

    # -- waiting for new mail (the service's early wake-up) --------------------------------

    def wait_for_mail(self, timeout: float) -> bool:
        """Wait until mail newer than any seen before is in the inbox (True) or `timeout`
        seconds pass (False).

        The first look only notes the newest mail. Any trouble ends the wait with False at
        once, never an exception: the scheduled intake tries again and reports problems."""
        deadline = self._monotonic() + timeout
        try:
            while not self._newer_mail():
                remaining = deadline - self._monotonic()
                if remaining <= 0:
                    return False
                self._sleep(min(self._poll_seconds, remaining))
            return True
        except JugendhausError as exc:
            log.info("Warten auf neue Mail (Microsoft Graph) unterbrochen: %s", exc)
            return False

    def _newer_mail(self) -> bool:
        newest = self._newest_in_inbox()
        first_look, self._looked = not self._looked, True
        if newest is None or not _is_newer(newest, self._newest_seen):
            return False  # moving mail out of the inbox only makes the newest one older
        self._newest_seen = newest
        return not first_look

    def _newest_in_inbox(self) -> tuple[datetime, str] | None:
        what = "Posteingang prüfen"
        url = f"{self._user_url}/mailFolders/inbox/messages"
        params = {
            "$select": "id,receivedDateTime",
            "$orderby": "receivedDateTime desc",
            "$top": "1",
        }
        page = json_of(self._web.call("GET", url, what=what, params=params), what)
        try:
            found = [(_parse_time(m["receivedDateTime"]), str(m["id"])) for m in page["value"]]
        except (KeyError, TypeError, ValueError):
            raise MailboxError(f"{what}: unerwartete Antwort von Microsoft Graph") from None
        return found[0] if found else None

    # -- steps used by `check` --------------------------------------------------------------

    def sign_in(self) -> None:
        self._retry(self._tokens, "Anmeldung")

    def inbox_count(self) -> int:
        folder = self._get_json(
            f"{self._user_url}/mailFolders/inbox",
            {"$select": "totalItemCount"},
            what="Posteingang lesen",
        )
        return int(folder.get("totalItemCount", 0))

    def ensure_folder(self, name: str) -> bool:
        """Make sure the inbox child folder exists; True if it had to be created."""
        existed = self._find_folder(name) is not None
        self._folder_id(name)
        return not existed

    # -- reading -----------------------------------------------------------------------------

    def _list_inbox(self) -> list[tuple[str, datetime]]:
        limit = self._settings.mailbox.batch_size
        url: str | None = f"{self._user_url}/mailFolders/inbox/messages"
        params: dict[str, str] | None = {
            "$select": "id,receivedDateTime",
            "$orderby": "receivedDateTime asc",
            "$top": str(min(limit, PAGE_SIZE)),
        }
        found: list[tuple[str, datetime]] = []
        while url and len(found) < limit:
            page = self._get_json(url, params, what="Posteingang lesen")
            found += [
                (str(m["id"]), _parse_time(str(m["receivedDateTime"]))) for m in page["value"]
            ]
            url, params = page.get("@odata.nextLink"), None  # the link carries all parameters
        return found[:limit]

    def _fetch_mime(self, message_id: str) -> bytes | None:
        response = self._request(
            "GET",
            f"{self._user_url}/messages/{_quote_id(message_id)}/$value",
            what="Nachricht abrufen",
            allow_404=True,
        )
        if response.status_code == 404:
            log.info("Nachricht wurde zwischen Auflisten und Abrufen verschoben; übersprungen")
            return None
        return response.content

    def _in_inbox(self, message_id: str) -> bool:
        what = "Nachricht prüfen"
        response = self._request(
            "GET",
            f"{self._user_url}/messages/{_quote_id(message_id)}",
            what=what,
            params={"$select": "id,parentFolderId"},
            allow_404=True,
        )
        if response.status_code == 404:
            return False
        if not self._inbox_id:
            url = f"{self._user_url}/mailFolders/inbox"
            self._inbox_id = str(self._get_json(url, {"$select": "id"}, what=what).get("id", ""))
        return json_of(response, what).get("parentFolderId") == self._inbox_id

    # -- folders -----------------------------------------------------------------------------

    def _folder_id(self, name: str) -> str:
        if name not in self._folder_ids:
            self._folder_ids[name] = self._find_folder(name) or self._create_folder(name)
        return self._folder_ids[name]

    def _find_folder(self, name: str) -> str | None:
        escaped = name.replace("'", "''")
        page = self._get_json(
            f"{self._user_url}/mailFolders/inbox/childFolders",
            {"$filter": f"displayName eq '{escaped}'", "$select": "id,displayName"},
            what=f"Ordner „{name}“ suchen",
        )
        # Exchange compares folder names case-insensitively: an existing "erfasst" is ours.
        wanted = name.casefold()
        found = (str(f["id"]) for f in page["value"] if str(f["displayName"]).casefold() == wanted)
        return next(found, None)

    def _create_folder(self, name: str) -> str:
        response = self._request(
            "POST",
            f"{self._user_url}/mailFolders/inbox/childFolders",
            what=f"Ordner „{name}“ anlegen",
            json_body={"displayName": name},
            allow_status=(409,),
        )
        if response.status_code == 409:  # created meanwhile (or by our own dropped request)
            found = self._find_folder(name)
            if found is None:
                raise MailboxError(f"Ordner „{name}“ anlegen: Graph meldet einen Konflikt.")
            return found
        return str(json_of(response, f"Ordner „{name}“ anlegen")["id"])

    # -- HTTP --------------------------------------------------------------------------------

    def _get_json(self, url: str, params: dict[str, str] | None, *, what: str) -> dict[str, Any]:
        # Parsed inside the retried operation: a body cut off mid-transfer is worth a retry.
        return self._retry(
            lambda: json_of(self._web.call("GET", url, what=what, params=params), what), what
        )

    def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        allow_404: bool = False,
        allow_status: tuple[int, ...] = (),
    ) -> requests.Response:
        allowed = (*allow_status, 404) if allow_404 else allow_status
        return self._retry(
            lambda: self._web.call(
                method, url, what=what, params=params, json_body=json_body, allowed=allowed
            ),
            what,
        )

    def _retry(self, operation: Callable[[], T], what: str) -> T:
        return with_retries(
            operation,
            what=what,
            retries=self._settings.mailbox.retries,
            backoff_seconds=self._settings.mailbox.retry_backoff_seconds,
            sleep=self._sleep,
            budget=self._budget,
        )

    def _prepare(self, message: EmailMessage) -> EmailMessage:
        prepared = copy.deepcopy(message)
        if prepared["From"] is None:
            prepared["From"] = self._settings.mail.team_address
        if prepared["Message-ID"] is None:
            domain = self._settings.mail.team_address.rpartition("@")[2] or "localhost"
            prepared["Message-ID"] = make_msgid(domain=domain)
        return prepared


def _unknown_outcome() -> SendOutcomeUnknown:
    return SendOutcomeUnknown(
        "Nachricht senden: die Antwort von Microsoft Graph ging verloren und in „Gesendete "
        "Elemente“ ist noch keine Kopie; ob Exchange die Nachricht angenommen hat, zeigt sich "
        "später. Der Dienst sieht dort wieder nach und sendet erst nach [mailbox] "
        "sent_copy_grace_minutes erneut."
    )


def _is_newer(newest: tuple[datetime, str], seen: tuple[datetime, str] | None) -> bool:
    """Receipt times have whole seconds: a different mail in the same second counts as new."""
    return seen is None or newest[0] > seen[0] or (newest[0] == seen[0] and newest[1] != seen[1])


def _quote_id(message_id: str) -> str:
    return quote(message_id, safe="=-_")


def _parse_time(value: object) -> datetime:
    """Graph's receivedDateTime, e.g. 2024-03-01T08:15:00Z, as an aware UTC datetime."""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
