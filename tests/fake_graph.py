"""A fake Microsoft Graph mail API and Entra ID token endpoint on 127.0.0.1, for the Graph backend.

It answers the requests `GraphMailbox` makes for one mailbox (`/v1.0/users/{address}/...`):
inbox listing (oldest first, or newest first with `$orderby=receivedDateTime desc`) with
`$top`/`$skip` paging and `@odata.nextLink`, `$value` MIME, message lookup,
`move` (a moved message gets a NEW id, the old one answers 404 ErrorItemNotFound), child folders
of the inbox (`$filter=displayName eq '…'`, create, 409 ErrorFolderExists), `sendMail` with base64
MIME (`Content-Type: text/plain`, answered 202, copy filed in Sent Items) and a Sent Items search
by `internetMessageId`. Every Graph request needs `Authorization: Bearer <server.token>`.

For msal it also serves `/{tenant}/v2.0/.well-known/openid-configuration` and the token endpoint
`/{tenant}/oauth2/v2.0/token` (client credentials with the client secret, or a certificate whose
signed client assertion is verified against the registered certificate and its x5t thumbprint).
msal only talks HTTPS, so the server uses TLS with a self-signed certificate for 127.0.0.1;
`server.ca_file` is that certificate (config_toml() puts it in `[mailbox] ca_file`).

Fixture API (for this module's tests and for the intake end-to-end tests)::

    from fake_graph import start_server

    with start_server() as server:                    # random port, stopped on exit
        server.deliver(raw_mime_bytes, received)      # received: aware datetime; returns the id
        server.config_toml()                          # the [mailbox] section for this server (str)
        server.env()                                  # {client_secret_env: secret}
        server.token                                  # the bearer token Graph accepts
        server.folder_contents("Erfasst")             # MIME below the inbox ("inbox" = the inbox)
        server.sent_messages()                        # MIME of the copies in Sent Items
        server.inject_fault("http429", count=1, match="/move", skip=0)
        server.requests                               # "METHOD /path" of every request so far
        server.faults_served                          # kinds of the faults answered so far

To run the real msal sign-in against the server (what `open_mailbox(settings)` does), set the
environment from `server.env()` and `monkeypatch.setattr(graph_auth, "AUTHORITY_HOST",
server.url)`. Without msal, pass `token_provider=lambda: server.token` to `GraphMailbox`.

Behaviour of real tenants, switched by attributes of `server.state` (see MailboxState):
`sent_copy_delay` (seconds until a sent mail's copy shows in Sent Items, on the fake's `clock`),
`honour_immutable_ids` (answer `Prefer: IdType="ImmutableId"`: ids survive a move),
`max_send_bytes` (the tenant's message size limit: 400 ErrorMessageSizeExceeded). Display
names are compared case-insensitively (filter and 409), as Exchange does. `server.retry_after`
is the Retry-After of throttling faults; `server.revoke_token()` makes Graph refuse the token
issued so far and the identity endpoint issue a new one. `server.identity.scopes` records
the scopes asked for.

Fault kinds: "http429" and "http503" (with Retry-After: server.retry_after), "drop" (close the
socket without answering, before anything happens), "drop_after" (do the request, then close
without answering), "http401" (token refused), "http404" (ErrorItemNotFound) and "http403"
(ErrorAccessDenied). `match` is a substring of "METHOD /path" (default: any Graph request, not the
token endpoint); `skip` lets that many matching requests pass first. The server is thread-safe.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import secrets
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

RETRY_AFTER_SECONDS = 7
FAULT_KINDS = ("http429", "http503", "drop", "drop_after", "http401", "http404", "http403")
GRAPH_MATCH = " /v1.0/"
WELL_KNOWN = {"inbox": "Posteingang", "sentitems": "Gesendete Elemente"}


@dataclass
class Fault:
    kind: str
    count: int
    match: str
    skip: int


@dataclass
class FakeMessage:
    id: str
    folder: str
    raw: bytes
    received: datetime
    internet_message_id: str
    visible_from: datetime | None = None  # a Sent Items copy that Exchange has not made yet


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message or code


Reply = tuple[int, Any]  # status, JSON-able body (or bytes for $value)


class MailboxState:
    """Folders and messages of the one mailbox; every access holds `lock`."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.lock = threading.Lock()
        # folder id -> (display name, parent id); well-known folders use fixed ids
        self.folders: dict[str, tuple[str, str | None]] = {
            "AQMkInbox": (WELL_KNOWN["inbox"], None),
            "AQMkSent": (WELL_KNOWN["sentitems"], None),
        }
        self.well_known = {"inbox": "AQMkInbox", "sentitems": "AQMkSent"}
        self.messages: dict[str, FakeMessage] = {}
        self.sequence = 0
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.sent_copy_delay = 0.0
        self.honour_immutable_ids = True
        self.max_send_bytes: int | None = None

    def new_id(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}{self.sequence:06d}{secrets.token_urlsafe(9)}="

    def folder_id(self, name: str) -> str:
        folder = self.well_known.get(name.lower(), name)
        if folder not in self.folders:
            raise GraphError(404, "ErrorItemNotFound", "The specified folder was not found.")
        return folder

    def in_folder(self, folder: str, *, all_copies: bool = False) -> list[FakeMessage]:
        now = self.clock()
        found = [
            m
            for m in self.messages.values()
            if m.folder == folder
            and (all_copies or m.visible_from is None or m.visible_from <= now)
        ]
        return sorted(found, key=lambda m: m.received)

    def child_named(self, parent: str, name: str) -> str | None:
        """Exchange compares folder names case-insensitively."""
        wanted = name.casefold()
        return next(
            (f for f, (n, p) in self.folders.items() if p == parent and n.casefold() == wanted),
            None,
        )

    def message(self, message_id: str) -> FakeMessage:
        if message_id not in self.messages:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found.")
        return self.messages[message_id]

    def add(self, folder: str, raw: bytes, received: datetime) -> FakeMessage:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        msg_id = str(parsed.get("Message-ID", "")).strip()
        message = FakeMessage(self.new_id("AAMkAGI"), folder, raw, received, msg_id)
        self.messages[message.id] = message
        return message


def _graph_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _filter_value(query: dict[str, str], field: str) -> str | None:
    """The quoted value of `$filter=field eq '…'` (OData doubles single quotes)."""
    text = query.get("$filter", "")
    prefix = f"{field} eq '"
    if not text.startswith(prefix) or not text.endswith("'"):
        return None
    return text[len(prefix) : -1].replace("''", "'")


def _message_json(message: FakeMessage) -> dict[str, Any]:
    return {
        "@odata.etag": f'W/"CQAAABYAAA{message.id[-6:]}"',
        "id": message.id,
        "receivedDateTime": _graph_time(message.received),
        "internetMessageId": message.internet_message_id,
        "parentFolderId": message.folder,
    }


def _folder_json(state: MailboxState, folder: str) -> dict[str, Any]:
    name, parent = state.folders[folder]
    return {
        "id": folder,
        "displayName": name,
        "parentFolderId": parent or "AQMkRoot",
        "childFolderCount": sum(1 for _, p in state.folders.values() if p == folder),
        "unreadItemCount": 0,
        "totalItemCount": len(state.in_folder(folder)),
        "isHidden": False,
    }


def graph_route(
    state: MailboxState,
    method: str,
    parts: list[str],
    query: dict[str, str],
    body: bytes,
    content_type: str,
    self_url: str,
    immutable: bool = False,
) -> Reply:
    """Answer one Graph request below /users/{address}/ (`parts` is the rest of the path)."""
    match (method, parts):
        case ("GET", ["mailFolders", folder]):
            return 200, _folder_json(state, state.folder_id(folder))
        case ("GET", ["mailFolders", folder, "messages"]):
            return 200, _list_messages(state, state.folder_id(folder), query, self_url)
        case ("GET", ["mailFolders", folder, "childFolders"]):
            parent = state.folder_id(folder)
            wanted = _filter_value(query, "displayName")
            children = [f for f, (_, p) in state.folders.items() if p == parent]
            if wanted is not None:
                children = [f for f in children if f == state.child_named(parent, wanted)]
            return 200, {"value": [_folder_json(state, f) for f in children]}
        case ("POST", ["mailFolders", folder, "childFolders"]):
            parent = state.folder_id(folder)
            name = str(json.loads(body)["displayName"])
            if state.child_named(parent, name) is not None:
                raise GraphError(
                    409, "ErrorFolderExists", "A folder with the specified name already exists."
                )
            folder_id = state.new_id("AQMkF")
            state.folders[folder_id] = (name, parent)
            return 201, _folder_json(state, folder_id)
        case ("GET", ["messages", message_id]):
            return 200, _message_json(state.message(message_id))
        case ("GET", ["messages", message_id, "$value"]):
            return 200, state.message(message_id).raw
        case ("POST", ["messages", message_id, "move"]):
            old = state.message(message_id)
            target = state.folder_id(str(json.loads(body)["destinationId"]))
            del state.messages[old.id]
            new_id = old.id if immutable else state.new_id("AAMkAGI")
            moved = FakeMessage(new_id, target, old.raw, old.received, old.internet_message_id)
            state.messages[moved.id] = moved
            return 201, _message_json(moved)
        case ("POST", ["messages", message_id, "permanentDelete"]):
            del state.messages[state.message(message_id).id]
            return 204, b""
        case ("POST", ["sendMail"]):
            if content_type != "text/plain":  # Graph takes MIME only as text/plain
                raise GraphError(415, "UnsupportedMediaType", "MIME content needs text/plain")
            try:
                raw = base64.b64decode(body, validate=True)
            except ValueError:
                raise GraphError(400, "ErrorMimeContentInvalidBase64String") from None
            if state.max_send_bytes is not None and len(raw) > state.max_send_bytes:
                raise GraphError(
                    400,
                    "ErrorMessageSizeExceeded",
                    "The message exceeds the maximum supported size.",
                )
            now = state.clock()
            copy = state.add(state.well_known["sentitems"], raw, now)
            if state.sent_copy_delay:
                copy.visible_from = now + timedelta(seconds=state.sent_copy_delay)
            return 202, b""
    raise GraphError(400, "BadRequest", f"{method} {'/'.join(parts)} is not faked")


def _list_messages(
    state: MailboxState, folder: str, query: dict[str, str], self_url: str
) -> dict[str, Any]:
    found = state.in_folder(folder)
    wanted = _filter_value(query, "internetMessageId")
    if wanted is not None:
        found = [m for m in found if m.internet_message_id == wanted]
    older = query.get("$filter", "")
    if older.startswith("receivedDateTime lt "):
        limit = datetime.fromisoformat(older.removeprefix("receivedDateTime lt "))
        found = [m for m in found if m.received < limit]
    if query.get("$orderby", "").endswith(" desc"):  # only receivedDateTime is ever ordered by
        found = found[::-1]
    top, skip = int(query.get("$top", "10")), int(query.get("$skip", "0"))
    page: dict[str, Any] = {
        "@odata.context": f"{self_url}/$metadata#users('{state.address}')/messages",
        "value": [_message_json(m) for m in found[skip : skip + top]],
    }
    if skip + top < len(found):
        following = {**query, "$skip": str(skip + top)}
        page["@odata.nextLink"] = f"{self_url}?{urlencode(following)}"
    return page


class _Handler(BaseHTTPRequestHandler):
    server: FakeGraphServer
    disable_nagle_algorithm = True  # without it each request costs ~40 ms on localhost
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        self._applied = ""
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests.append(f"{method} {path}")
        fault = self.server.take_fault(f"{method} {path}")
        if fault is not None and fault != "drop_after":
            self._answer_fault(fault)
            return
        try:
            status, answer = self._route(method, path, query, body)
        except GraphError as exc:
            status, answer = exc.status, {"error": {"code": exc.code, "message": exc.message}}
        if fault == "drop_after":
            self._drop()
            return
        applied = getattr(self, "_applied", "")
        self._send(status, answer, {"Preference-Applied": applied} if applied else None)

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        server = self.server
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1.0"]:
            return server.identity.route(method, parts, body, server.url)
        if self.headers.get("Authorization", "") != f"Bearer {server.token}":
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.")
        if len(parts) < 4 or parts[1] != "users" or parts[2].lower() != server.address.lower():
            raise GraphError(404, "ErrorInvalidUser", "The requested user is invalid.")
        self_url = server.url + path
        with server.state.lock:
            content_type = self.headers.get_content_type()
            prefer = self.headers.get("Prefer", "")
            immutable = server.state.honour_immutable_ids and 'IdType="ImmutableId"' in prefer
            if 'IdType="ImmutableId"' in prefer:
                server.immutable_id_requests += 1
            self._applied = 'IdType="ImmutableId"' if immutable else ""
            request = (method, parts[3:], query, body, content_type)
            return graph_route(server.state, *request, self_url, immutable)

    def _answer_fault(self, fault: str) -> None:
        retry_after = {"Retry-After": str(self.server.retry_after)}
        errors = {
            "http429": (429, "ApplicationThrottled", retry_after),
            "http503": (503, "ServiceUnavailable", retry_after),
            "http401": (401, "InvalidAuthenticationToken", {}),
            "http403": (403, "ErrorAccessDenied", {}),
            "http404": (404, "ErrorItemNotFound", {}),
        }
        if fault == "drop":
            self._drop()
            return
        status, code, headers = errors[fault]
        self._send(status, {"error": {"code": code, "message": code}}, headers)

    def _send(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(answer, bytes):
            body, kind = answer, "message/rfc822" if answer else "text/plain"
        else:
            body, kind = json.dumps(answer).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


class FakeIdentity:
    """The Entra ID endpoints msal uses for client credentials, for one app in one tenant."""

    def __init__(
        self, tenant_id: str, client_id: str, secret: str, certificate_pem: bytes | None, token: str
    ) -> None:
        self.tenant_id, self.client_id, self.secret = tenant_id, client_id, secret
        self.certificate_pem = certificate_pem
        self.token = token
        self.token_requests = 0
        self.scopes: list[str] = []

    def route(self, method: str, parts: list[str], body: bytes, base: str) -> Reply:
        issuer = f"{base}/{parts[0]}"
        if method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            if parts[0] != self.tenant_id:
                return _aad_error(400, "invalid_tenant", 90002)
            return 200, {
                "issuer": f"{issuer}/v2.0",
                "authorization_endpoint": f"{issuer}/oauth2/v2.0/authorize",
                "token_endpoint": f"{issuer}/oauth2/v2.0/token",
            }
        if method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
            self.token_requests += 1
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.scopes.append(form.get("scope", ""))
            return self._token(parts[0], form, f"{issuer}/oauth2/v2.0/token")
        raise GraphError(404, "NotFound")

    def _token(self, tenant: str, form: dict[str, str], endpoint: str) -> Reply:
        if tenant != self.tenant_id:
            return _aad_error(400, "invalid_request", 90002)
        if form.get("client_id") != self.client_id:
            return _aad_error(400, "unauthorized_client", 700016)
        if "client_assertion" in form:
            if not self._assertion_ok(form["client_assertion"], endpoint):
                return _aad_error(401, "invalid_client", 700027)
        elif not self.secret or form.get("client_secret") != self.secret:
            return _aad_error(401, "invalid_client", 7000215)
        return 200, {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": self.token,
        }

    def _assertion_ok(self, assertion: str, endpoint: str) -> bool:
        import jwt  # PyJWT, installed with msal
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa

        if self.certificate_pem is None:
            return False
        certificate = x509.load_pem_x509_certificate(self.certificate_pem)
        x5t = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).rstrip(b"=")
        sent_x5t = str(jwt.get_unverified_header(assertion).get("x5t", ""))
        if sent_x5t.rstrip("=") != x5t.decode():  # msal keeps the base64 padding
            return False
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        try:
            jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256", "PS256"],
                audience=endpoint,
                issuer=self.client_id,
            )
        except jwt.PyJWTError:
            return False
        return True


def _aad_error(status: int, error: str, code: int) -> Reply:
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: fake identity provider refused the request.",
        "error_codes": [code],
    }


class FakeGraphServer(ThreadingHTTPServer):
    """The fake server; see the module docstring for the fixture API."""

    daemon_threads = True

    def __init__(self, address: str, identity: FakeIdentity) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = MailboxState(address)
        self.identity = identity
        self.requests: list[str] = []
        self.faults_served: list[str] = []
        self.retry_after: float = RETRY_AFTER_SECONDS
        self.immutable_id_requests = 0
        self._faults: list[Fault] = []
        self._fault_lock = threading.Lock()
        cert_file, key_file = tls_certificate()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.ca_file = cert_file

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return self.url + "/v1.0"

    @property
    def address(self) -> str:
        return self.state.address

    @property
    def token(self) -> str:
        return self.identity.token

    def revoke_token(self) -> None:
        """Graph refuses the token issued so far; the token endpoint issues a new one."""
        self.identity.token = "fake-graph-token-" + secrets.token_urlsafe(16)

    def deliver(self, raw: bytes, received: datetime) -> str:
        """Put a mail into the inbox as if the mailbox had received it at `received`."""
        with self.state.lock:
            return self.state.add(self.state.well_known["inbox"], raw, received).id

    def folder_contents(self, name: str) -> list[bytes]:
        """MIME in "inbox", "sentitems" or a folder directly below the inbox, oldest first."""
        with self.state.lock:
            inbox = self.state.well_known["inbox"]
            folder = self.state.well_known.get(name.lower()) or next(
                (f for f, (n, p) in self.state.folders.items() if n == name and p == inbox), None
            )
            if folder is None:
                return []
            return [m.raw for m in self.state.in_folder(folder, all_copies=True)]

    def folder_names(self) -> list[str]:
        """Names of the folders directly below the inbox."""
        with self.state.lock:
            inbox = self.state.well_known["inbox"]
            return sorted(n for n, p in self.state.folders.values() if p == inbox)

    def sent_messages(self) -> list[bytes]:
        return self.folder_contents("sentitems")

    def inject_fault(
        self, kind: str, count: int = 1, match: str = GRAPH_MATCH, skip: int = 0
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._fault_lock:
            self._faults.append(Fault(kind, count, match, skip))

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._faults.clear()

    def take_fault(self, request: str) -> str | None:
        with self._fault_lock:
            for fault in self._faults:
                if fault.match not in request or fault.count <= 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.count -= 1
                self.faults_served.append(fault.kind)
                return fault.kind
        return None

    def config_toml(self, **extra: object) -> str:
        """The [mailbox] section that points the Graph backend at this server; `extra` keys
        override or add to it (e.g. `certificate_path=…, client_secret_env=""`)."""
        values: dict[str, object] = {
            "backend": "graph",
            "address": self.address,
            "tenant_id": self.identity.tenant_id,
            "client_id": self.identity.client_id,
            "client_secret_env": "GRAPH_TEST_SECRET",
            "endpoint": self.graph_url,
            "ca_file": self.ca_file,
            "retry_backoff_seconds": 0.0,
        }
        values.update(extra)
        lines = [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        return "[mailbox]\n" + "\n".join(lines) + "\n"

    def env(self, client_secret_env: str = "GRAPH_TEST_SECRET") -> dict[str, str]:
        return {client_secret_env: self.identity.secret}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


@cache
def tls_certificate() -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file), made once per process."""
    pem_cert, pem_key = self_signed_certificate("127.0.0.1", ip=True)
    folder = Path(tempfile.mkdtemp(prefix="fake-graph-tls-"))
    (folder / "cert.pem").write_bytes(pem_cert)
    (folder / "key.pem").write_bytes(pem_key)
    return str(folder / "cert.pem"), str(folder / "key.pem")


def self_signed_certificate(name: str, *, ip: bool = False) -> tuple[bytes, bytes]:
    """(certificate PEM, unencrypted private key PEM) for `name`, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    alt: x509.GeneralName = x509.IPAddress(IPv4Address(name)) if ip else x509.DNSName(name)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@contextmanager
def start_server(
    address: str = "team@jugendhaus.example",
    *,
    tenant_id: str = "0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
    client_id: str = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d",
    client_secret: str = "Geheimes~Client~Secret~4711",
    certificate_pem: bytes | None = None,
) -> Iterator[FakeGraphServer]:
    """Run a fake Graph server on 127.0.0.1 (random port, HTTPS) for the duration of the block.

    `certificate_pem` registers an app certificate (public part) for certificate sign-in.
    """
    identity = FakeIdentity(
        tenant_id,
        client_id,
        client_secret,
        certificate_pem,
        "fake-graph-token-" + secrets.token_urlsafe(16),
    )
    server = FakeGraphServer(address, identity)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-graph", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
