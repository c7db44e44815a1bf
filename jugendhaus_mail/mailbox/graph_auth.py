"""App-only sign-in at Microsoft Entra ID for the Graph backend (msal, client credentials).

The service signs in as an app registration with either a client secret (from the environment
variable named in `[mailbox] client_secret_env`) or a certificate (`[mailbox] certificate_path`,
a PEM file with the private key and the certificate). Access tokens are cached until shortly
before they expire. msal is imported here only, so other backends never load it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import ConfigError, MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import secret_from_env
from jugendhaus_mail.mailbox.retry import TransientError

if TYPE_CHECKING:
    import requests

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Read when a provider is built, so tests can point msal at a local fake identity provider.
AUTHORITY_HOST = "https://login.microsoftonline.com"
EXPIRY_MARGIN_SECONDS = 300.0
TOKEN_TIMEOUT_SECONDS = 30.0

SECRET_EXPIRY_HINT = (
    "Client-Geheimnisse laufen ab (je nach Einstellung nach 6 bis 24 Monaten): im Entra Admin "
    "Center unter App-Registrierungen → Zertifikate & Geheimnisse das Ablaufdatum prüfen und ggf. "
    "ein neues Geheimnis anlegen."
)

# AADSTS codes that tell the admin exactly which setting is wrong.
_AADSTS_HINTS = {
    7000215: "das Client-Geheimnis ist falsch: den Wert (nicht die Geheimnis-ID) in der "
    "Umgebungsvariablen aus [mailbox] client_secret_env prüfen. " + SECRET_EXPIRY_HINT,
    7000222: "das Client-Geheimnis ist abgelaufen: in der App-Registrierung ein neues anlegen "
    "und in der Umgebungsvariablen aus [mailbox] client_secret_env hinterlegen.",
    700016: "die App ([mailbox] client_id) ist im Mandanten ([mailbox] tenant_id) nicht bekannt: "
    "beide IDs mit der Übersichtsseite der App-Registrierung vergleichen.",
    90002: "der Mandant ([mailbox] tenant_id) existiert nicht: die Verzeichnis-ID (Mandanten-ID) "
    "aus dem Entra Admin Center eintragen.",
    700027: "das Zertifikat wird nicht anerkannt: den öffentlichen Teil des Zertifikats aus "
    "[mailbox] certificate_path in der App-Registrierung hochladen (Zertifikate & Geheimnisse).",
}
_TRANSIENT_ERRORS = ("temporarily_unavailable", "server_error")


class MsalTokenProvider:
    """Callable that returns a Graph access token, cached until shortly before it expires."""

    def __init__(
        self,
        settings: Settings,
        *,
        authority_host: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._authority_host = authority_host_for(settings, authority_host)
        self._clock = clock
        self._app: Any = None
        self._token = ""
        self._valid_until = 0.0

    def __call__(self) -> str:
        now = self._clock()
        if self._token and now < self._valid_until:
            return self._token
        # msal keeps its own token cache; a new application object starts with an empty one, so
        # an expired or refused token is really fetched anew (and a renewed certificate read).
        self._app = None
        result = self._acquire()
        self._token = str(result["access_token"])
        lifetime = float(result.get("expires_in", 3599))
        self._valid_until = now + max(lifetime - EXPIRY_MARGIN_SECONDS, 0.0)
        return self._token

    def invalidate(self) -> None:
        """Forget the cached token (Graph refused it); the next call signs in again."""
        self._token = ""
        self._valid_until = 0.0

    def _acquire(self) -> dict[str, Any]:
        import requests

        try:
            try:
                app = self._application()
            except ValueError:  # msal could not read the tenant's OpenID configuration
                raise MailboxAuthError(
                    f"Anmeldung: Microsoft Entra ID liefert für den Mandanten "
                    f"{self._settings.mailbox.tenant_id} keine Anmeldedaten. [mailbox] tenant_id "
                    "prüfen (Verzeichnis-ID aus dem Entra Admin Center); bei einem Proxy prüfen, "
                    f"ob er {self._authority_host} durchlässt."
                ) from None
            scopes = [graph_scope(self._settings)]
            result: dict[str, Any] = app.acquire_token_for_client(scopes=scopes)
        except requests.exceptions.SSLError:
            raise MailboxError(
                f"Anmeldung bei {self._authority_host}: TLS-Zertifikat wird nicht vertraut; bei "
                "einem TLS-prüfenden Proxy dessen CA-Zertifikat in [mailbox] ca_file eintragen."
            ) from None
        except requests.exceptions.RequestException as exc:
            raise TransientError(
                f"Anmeldedienst {self._authority_host} nicht erreichbar ({type(exc).__name__})"
            ) from None
        except ValueError:  # the token endpoint answered with something that is not JSON
            raise TransientError(
                f"Anmeldedienst {self._authority_host} antwortet unverständlich"
            ) from None
        if "access_token" in result:
            return result
        raise self._error(result)

    def _error(self, result: dict[str, Any]) -> Exception:
        error = str(result.get("error", "unbekannt"))
        codes = [int(c) for c in result.get("error_codes", []) if isinstance(c, int)]
        code_text = ", ".join(f"AADSTS{c}" for c in codes) or error
        if error in _TRANSIENT_ERRORS:
            return TransientError(f"Anmeldedienst vorübergehend gestört ({code_text})")
        hints = [_AADSTS_HINTS[c] for c in codes if c in _AADSTS_HINTS]
        advice = " ".join(hints) or (
            "tenant_id, client_id und client_secret_env bzw. certificate_path in [mailbox] "
            "prüfen. " + SECRET_EXPIRY_HINT
        )
        return MailboxAuthError(
            f"Anmeldung der App {self._settings.mailbox.client_id} bei Microsoft Entra ID "
            f"abgelehnt ({code_text}): {advice}"
        )

    def _application(self) -> Any:
        if self._app is None:
            import msal

            mailbox = self._settings.mailbox
            self._app = msal.ConfidentialClientApplication(
                mailbox.client_id,
                client_credential=client_credential(self._settings),
                authority=f"{self._authority_host}/{mailbox.tenant_id}",
                # The authority comes from our own config; skip the discovery round trip.
                instance_discovery=False,
                http_client=PinnedSession(mailbox.ca_file, TOKEN_TIMEOUT_SECONDS),
            )
        return self._app


def graph_scope(settings: Settings) -> str:
    """The app's permissions on the Graph host it talks to (a national cloud has its own)."""
    endpoint = urlsplit(settings.mailbox.endpoint)
    if endpoint.scheme and endpoint.netloc:
        return f"{endpoint.scheme}://{endpoint.netloc}/.default"
    return GRAPH_SCOPE


def authority_host_for(settings: Settings, override: str | None = None) -> str:
    """Where msal signs in: `[mailbox] authority_host`, else the global Entra ID host."""
    return (override or settings.mailbox.authority_host or AUTHORITY_HOST).rstrip("/")


class PinnedSession:
    """A requests session whose CA bundle and timeout always apply.

    requests lets the environment (REQUESTS_CA_BUNDLE) override a session's `verify`; passing it
    with every request keeps `[mailbox] ca_file` in force. Also used as msal's HTTP client.
    """

    def __init__(self, ca_file: Path | None, timeout: float | tuple[float, float]) -> None:
        import requests

        self._session = requests.Session()
        self._verify: str | bool = str(ca_file) if ca_file else True
        self._timeout = timeout

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self._verify)
        kwargs.setdefault("timeout", self._timeout)
        return self._session.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self._session.close()


def client_credential(settings: Settings) -> str | dict[str, str]:
    """The secret from the environment, or the certificate in the form msal expects."""
    mailbox = settings.mailbox
    if mailbox.certificate_path is not None:
        try:
            pem = mailbox.certificate_path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"[mailbox] certificate_path = {mailbox.certificate_path}: Datei nicht lesbar "
                f"({exc.strerror}); Pfad und Leserechte des Dienstkontos prüfen."
            ) from None
        return certificate_credential(pem, mailbox.certificate_path)
    return secret_from_env(mailbox.client_secret_env, "client_secret_env")


def certificate_credential(pem: bytes, source: object) -> dict[str, str]:
    """Split a PEM file into private key and certificate; add the certificate's SHA-1 thumbprint."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    try:
        key = serialization.load_pem_private_key(pem, password=None)
        certificate = x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"[mailbox] certificate_path = {source}: erwartet eine PEM-Datei mit privatem "
            f"Schlüssel (unverschlüsselt) und Zertifikat ({type(exc).__name__})."
        ) from None
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "private_key": private_pem.decode("ascii"),
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex().upper(),
    }
