"""The HTTP side of the Graph backend: one session, the bearer token, and Graph's answers
turned into the domain's exceptions.

A 401 from Graph is usually a token that was revoked or expired early (or a skewed clock): the
token is fetched anew and the request sent once more. Only the token endpoint's own refusal
(AADSTS…, raised by the token provider) is a credentials problem. Every request asks for
immutable ids (`Prefer: IdType="ImmutableId"`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox.graph_auth import SECRET_EXPIRY_HINT, PinnedSession
from jugendhaus_mail.mailbox.retry import TransientError

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

TIMEOUT = (10.0, 120.0)  # connect, read (seconds)
THROTTLED = (429, 503, 504)
IMMUTABLE_IDS = 'IdType="ImmutableId"'


class GraphHttp:
    """Requests to Graph for one mailbox, without retries (see `with_retries` for those)."""

    def __init__(self, settings: Settings, tokens: Callable[[], str], host: str) -> None:
        self._settings = settings
        self._tokens = tokens
        self._host = host
        self._address = settings.mailbox.address
        self._session: PinnedSession | None = None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
        allowed: tuple[int, ...] = (),
    ) -> requests.Response:
        """One request without retries (but once more with a new token after a 401);
        failures become the domain's exceptions."""
        response = self._send_once(method, url, what, params, json_body, data, content_type)
        invalidate = getattr(self._tokens, "invalidate", None)
        if response.status_code == 401 and 401 not in allowed and callable(invalidate):
            # Revoked, expired early or clock skew: the token endpoint decides, not Graph.
            log.info("%s: Microsoft Graph lehnt das Token ab; neues Token, neuer Versuch", what)
            invalidate()
            response = self._send_once(method, url, what, params, json_body, data, content_type)
            if response.status_code == 401:
                invalidate()
                raise MailboxError(
                    f"{what}: Microsoft Graph lehnt auch ein frisch ausgestelltes Token ab "
                    f"(HTTP 401, {error_code(response) or 'ohne Code'}). Meist geht die Uhr "
                    "dieses Rechners falsch (Zeitsynchronisation prüfen) oder die App wurde im "
                    "Mandanten gerade deaktiviert; der nächste Durchgang versucht es erneut."
                )
        if response.ok or response.status_code in allowed:
            return response
        raise self._failure(response, what)

    def _send_once(
        self,
        method: str,
        url: str,
        what: str,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        data: bytes | None,
        content_type: str | None,
    ) -> requests.Response:
        import requests

        headers = {"Authorization": f"Bearer {self._tokens()}", "Prefer": IMMUTABLE_IDS}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = self._http().request(
                method,
                url,
                params=params,
                json=json_body,
                data=data,
                headers=headers,
            )
        except requests.exceptions.SSLError:
            raise MailboxError(
                f"{what}: TLS-Zertifikat von {self._host} wird nicht vertraut; bei einem "
                "TLS-prüfenden Proxy dessen CA-Zertifikat in [mailbox] ca_file eintragen."
            ) from None
        except requests.exceptions.RequestException as exc:
            raise TransientError(
                f"{self._host} nicht erreichbar oder Verbindung abgebrochen ({type(exc).__name__})"
            ) from None
        return response

    def _failure(self, response: requests.Response, what: str) -> Exception:
        status, code = response.status_code, error_code(response)
        detail = f"HTTP {status}" + (f", {code}" if code else "")
        if status in THROTTLED:
            return TransientError(
                f"Microsoft Graph ausgelastet ({detail})", retry_after(response), throttled=True
            )
        if status >= 500:
            return TransientError(f"Microsoft Graph gestört ({detail})")
        if status == 401:
            return MailboxAuthError(
                f"{what}: Microsoft Graph hat die Anmeldung der App für {self._address} abgelehnt "
                f"({detail}). tenant_id und client_id in [mailbox] prüfen. " + SECRET_EXPIRY_HINT
            )
        if status == 403:
            return MailboxAuthError(
                f"{what}: Zugriff auf das Postfach {self._address} verweigert ({detail}). Der App "
                "fehlen die Anwendungsberechtigungen Mail.ReadWrite und Mail.Send (mit "
                "Administratorzustimmung), oder die Anwendungszugriffsrichtlinie bzw. RBAC für "
                "Anwendungen in Exchange Online schließt dieses Postfach aus."
            )
        if status == 404:
            return MailboxError(
                f"{what}: Postfach {self._address} bei Microsoft Graph nicht gefunden ({detail}). "
                "[mailbox] address prüfen; es muss ein Postfach in Exchange Online sein (für "
                'Exchange Server im eigenen Haus: backend = "ews").'
            )
        if status == 413:
            return MailboxError(f"{what}: Anfrage zu groß für Microsoft Graph ({detail}).")
        return MailboxError(f"{what}: Microsoft Graph meldet einen Fehler ({detail}).")

    def _http(self) -> PinnedSession:
        if self._session is None:
            self._session = PinnedSession(self._settings.mailbox.ca_file, TIMEOUT)
        return self._session


def json_of(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise TransientError("unvollständige Antwort von Microsoft Graph") from None
    if not isinstance(data, dict):
        raise MailboxError(f"{what}: unerwartete Antwort von Microsoft Graph")
    return data


def error_code(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return ""
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date; the doubling backoff is good enough then
