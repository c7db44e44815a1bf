"""A protocol-level fake Exchange (EWS) server on 127.0.0.1 that unmodified exchangelib talks to.

It answers the SOAP operations the EWS backend uses (GetFolder, FindFolder, CreateFolder,
FindItem, GetItem with MimeContent, MoveItem with new ItemIds, CreateItem with SendAndSaveCopy,
and pull notifications on the inbox: Subscribe, GetEvents, Unsubscribe) for one shared mailbox
and can inject faults. Authentication: Basic (default) or NTLM (checked with pyspnego), or a
Bearer token from its own OAuth2 client-credentials endpoint (`token_url`, client
`oauth_client`). Plain HTTP, or HTTPS with `tls=(cert, key)`.

Fixture API (for this module's tests and for the intake end-to-end tests)::

    from tests.fake_ews import start_server

    with start_server(address="team@example.org") as server:  # random port, stopped on exit
        server.deliver(raw_mime_bytes, received)     # received: aware datetime; returns the ItemId
        server.config_toml(**extra_keys)             # the [mailbox] section for this server (str)
        server.env()                                 # {password_env: password} for the environment
        server.folder_contents("Erfasst")            # MIME bytes below the inbox ("Inbox" = inbox)
        server.sent_messages()                       # MIME bytes in Sent Items
        server.sent_authors()                        # the From (send-as) mailbox of each send
        server.inject_fault("busy", count=1, operation="MoveItem", skip=0)
        server.operations                            # names of the SOAP operations received so far
        server.subscriptions()                       # ids of the live pull subscriptions

Fault kinds: "busy" (SOAP ErrorServerBusy with BackOffMilliseconds), "http503" and "http429"
(with Retry-After), "drop" (close the socket without answering, before the operation runs),
"drop_after" (run the operation, then close without answering), "http401", and the mailbox
errors "access_denied", "no_mailbox" (ErrorAccessDenied, ErrorNonExistentMailbox in the reply).
`skip` lets that many matching requests pass first; `operation` limits the fault to one SOAP
operation. A wrong password always gets HTTP 401 (counted in `refused_logins`).

Faults and state are shared by all connections; the server is thread-safe.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import socket
import ssl
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"

BACKOFF_MILLISECONDS = 1500
RETRY_AFTER_SECONDS = 7
FAULT_KINDS = (
    "busy", "http503", "http429", "drop", "drop_after", "http401", "access_denied", "no_mailbox",
)  # fmt: skip
DISTINGUISHED = {"root": "", "msgfolderroot": "Oberste Ebene", "inbox": "Posteingang",
                 "sentitems": "Gesendete Elemente"}  # fmt: skip


@dataclass
class FakeFolder:
    id: str
    name: str
    parent: str | None
    distinguished: str | None = None


@dataclass
class FakeItem:
    id: str
    folder: str
    mime: bytes
    received: datetime
    message_id: str
    changekey: str = field(default_factory=lambda: "CQAAAB" + uuid.uuid4().hex[:8])


@dataclass
class Fault:
    kind: str
    count: int
    operation: str | None
    skip: int


class EwsError(Exception):
    """A response-message error (ResponseClass="Error") for one element of a request."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.text = text or code


def _new_id(prefix: str) -> str:
    return prefix + base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _ews_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class MailboxState:
    """Folders and items of the one shared mailbox; every access holds the lock."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.lock = threading.RLock()
        self.folders: dict[str, FakeFolder] = {}
        self.items: dict[str, FakeItem] = {}
        self.by_distinguished: dict[str, str] = {}
        for key, name in DISTINGUISHED.items():
            parent = {"root": None, "msgfolderroot": "root"}.get(key, "msgfolderroot")
            parent_id = None if parent is None else self.by_distinguished[parent]
            folder = FakeFolder(_new_id("AQMk"), name, parent_id, key)
            self.folders[folder.id] = folder
            self.by_distinguished[key] = folder.id
        self.sent_log: list[tuple[bytes, str | None]] = []  # (MIME, From mailbox) per send
        # pull subscriptions on the inbox: id -> (event types, events not yet fetched)
        self.subscriptions: dict[str, tuple[set[str], list[str]]] = {}
        self.watermarks = 0

    def next_watermark(self) -> str:
        self.watermarks += 1
        return base64.b64encode(f"watermark-{self.watermarks}".encode()).decode()

    def notify_new_mail(self, item: FakeItem) -> None:
        """Queue NewMailEvent/CreatedEvent for every subscription that asked for them."""
        stamp = _ews_time(datetime.now(UTC))
        for event_types, pending in self.subscriptions.values():
            for kind in ("NewMailEvent", "CreatedEvent"):
                if kind in event_types:
                    pending.append(
                        f"<t:{kind}><t:Watermark>{self.next_watermark()}</t:Watermark>"
                        f"<t:TimeStamp>{stamp}</t:TimeStamp>"
                        f'<t:ItemId Id="{item.id}" ChangeKey="{item.changekey}"/>'
                        f'<t:ParentFolderId Id="{item.folder}" ChangeKey="AQAAAA=="/></t:{kind}>'
                    )

    def folder_by_name(self, name: str) -> FakeFolder | None:
        if name.lower() == "inbox":
            return self.folders[self.by_distinguished["inbox"]]
        inbox = self.by_distinguished["inbox"]
        for folder in self.folders.values():
            if folder.parent == inbox and folder.name.lower() == name.lower():
                return folder
        return None

    def resolve_folder(self, elem: ET.Element) -> FakeFolder:
        """A t:FolderId or t:DistinguishedFolderId -> the folder, else ErrorFolderNotFound."""
        if _local(elem.tag) == "DistinguishedFolderId":
            mailbox = elem.find(f"{{{T}}}Mailbox/{{{T}}}EmailAddress")
            if mailbox is not None and (mailbox.text or "").lower() != self.address.lower():
                raise EwsError("ErrorNonExistentMailbox", "No mailbox with such guid.")
            folder_id = self.by_distinguished.get(elem.get("Id", ""))
        else:
            folder_id = elem.get("Id")
        if folder_id is None or folder_id not in self.folders:
            raise EwsError("ErrorFolderNotFound", "The specified folder could not be found.")
        return self.folders[folder_id]

    def items_in(self, folder_id: str) -> list[FakeItem]:
        return sorted(
            (i for i in self.items.values() if i.folder == folder_id),
            key=lambda i: (i.received, i.id),
        )


# --- XML rendering -----------------------------------------------------------------------------


def _envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:m="{M}" xmlns:t="{T}"><s:Body>{body}'
        "</s:Body></s:Envelope>"
    ).encode()


def _response(operation: str, messages: list[str]) -> bytes:
    return _envelope(
        f"<m:{operation}Response><m:ResponseMessages>{''.join(messages)}"
        f"</m:ResponseMessages></m:{operation}Response>"
    )


def _ok(operation: str, content: str = "") -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Success">'
        f"<m:ResponseCode>NoError</m:ResponseCode>{content}</m:{operation}ResponseMessage>"
    )


def _error(operation: str, exc: EwsError) -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{escape(exc.text)}</m:MessageText>"
        f"<m:ResponseCode>{exc.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
        f"</m:{operation}ResponseMessage>"
    )


def _server_busy_fault() -> bytes:
    return _envelope(
        "<s:Fault><faultcode>a:ErrorServerBusy</faultcode>"
        "<faultstring>The server cannot service this request right now.</faultstring>"
        f'<detail><e:ResponseCode xmlns:e="{E}">ErrorServerBusy</e:ResponseCode>'
        f'<e:Message xmlns:e="{E}">The server cannot service this request right now.</e:Message>'
        f'<t:MessageXml><t:Value Name="BackOffMilliseconds">{BACKOFF_MILLISECONDS}</t:Value>'
        "</t:MessageXml></detail></s:Fault>"
    )


def _folder_xml(state: MailboxState, folder: FakeFolder) -> str:
    count = len(state.items_in(folder.id))
    children = sum(1 for f in state.folders.values() if f.parent == folder.id)
    parent = f'<t:ParentFolderId Id="{folder.parent}"/>' if folder.parent else ""
    distinguished = (
        f"<t:DistinguishedFolderId>{folder.distinguished}</t:DistinguishedFolderId>"
        if folder.distinguished
        else ""
    )
    return (
        f'<t:Folder><t:FolderId Id="{folder.id}" ChangeKey="AQAAAA=="/>{parent}'
        f"<t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>{escape(folder.name)}"
        f"</t:DisplayName><t:TotalCount>{count}</t:TotalCount><t:ChildFolderCount>{children}"
        f"</t:ChildFolderCount><t:UnreadCount>0</t:UnreadCount>{distinguished}</t:Folder>"
    )


def _item_xml(item: FakeItem, fields: set[str]) -> str:
    parts = [f'<t:ItemId Id="{item.id}" ChangeKey="{item.changekey}"/>']
    if "item:MimeContent" in fields:
        encoded = base64.b64encode(item.mime).decode()
        parts.append(f'<t:MimeContent CharacterSet="UTF-8">{encoded}</t:MimeContent>')
    if "item:DateTimeReceived" in fields:
        parts.append(f"<t:DateTimeReceived>{_ews_time(item.received)}</t:DateTimeReceived>")
    if "message:InternetMessageId" in fields:
        parts.append(f"<t:InternetMessageId>{escape(item.message_id)}</t:InternetMessageId>")
    return f"<t:Message>{''.join(parts)}</t:Message>"


def _requested_fields(shape: ET.Element | None) -> set[str]:
    if shape is None:
        return set()
    return {e.get("FieldURI", "") for e in shape.iter(f"{{{T}}}FieldURI")}


def _children(req: ET.Element, name: str) -> list[ET.Element]:
    container = req.find(f"{{{M}}}{name}")
    return [] if container is None else list(container)


def _each(operation: str, elems: list[ET.Element], answer: Callable[[ET.Element], str]) -> bytes:
    """One response message per request element; an EwsError fails only that element."""
    messages = []
    for elem in elems:
        try:
            messages.append(_ok(operation, answer(elem)))
        except EwsError as exc:
            messages.append(_error(operation, exc))
    return _response(operation, messages)


def _wanted_value(req: ET.Element) -> str | None:
    """The constant of an IsEqualTo restriction (folder name, or InternetMessageId)."""
    constant = req.find(f".//{{{T}}}IsEqualTo/{{{T}}}FieldURIOrConstant/{{{T}}}Constant")
    return None if constant is None else constant.get("Value", "")


# --- operations --------------------------------------------------------------------------------


def op_get_folder(state: MailboxState, req: ET.Element) -> bytes:
    def answer(elem: ET.Element) -> str:
        return f"<m:Folders>{_folder_xml(state, state.resolve_folder(elem))}</m:Folders>"

    return _each("GetFolder", _children(req, "FolderIds"), answer)


def op_find_folder(state: MailboxState, req: ET.Element) -> bytes:
    wanted = _wanted_value(req)

    def answer(elem: ET.Element) -> str:
        parent = state.resolve_folder(elem)
        found = [f for f in state.folders.values() if f.parent == parent.id
                 and (wanted is None or f.name.lower() == wanted.lower())]  # fmt: skip
        return (
            f'<m:RootFolder TotalItemsInView="{len(found)}" IncludesLastItemInRange="true">'
            f"<t:Folders>{''.join(_folder_xml(state, f) for f in found)}</t:Folders></m:RootFolder>"
        )

    return _each("FindFolder", _children(req, "ParentFolderIds"), answer)


def op_create_folder(state: MailboxState, req: ET.Element) -> bytes:
    parent = state.resolve_folder(_children(req, "ParentFolderId")[0])

    def answer(elem: ET.Element) -> str:
        name = elem.findtext(f"{{{T}}}DisplayName") or ""
        if any(f.parent == parent.id and f.name.lower() == name.lower()
               for f in state.folders.values()):  # fmt: skip
            raise EwsError("ErrorFolderExists", "A folder with the specified name already exists.")
        folder = FakeFolder(_new_id("AQMkF"), name, parent.id)
        state.folders[folder.id] = folder
        return f'<m:Folders><t:Folder><t:FolderId Id="{folder.id}"/></t:Folder></m:Folders>'

    return _each("CreateFolder", _children(req, "Folders"), answer)


def op_find_item(state: MailboxState, req: ET.Element) -> bytes:
    fields = _requested_fields(req.find(f"{{{M}}}ItemShape"))
    page = req.find(f"{{{M}}}IndexedPageItemView")
    offset = int(page.get("Offset", "0")) if page is not None else 0
    limit = int(page.get("MaxEntriesReturned", "1000")) if page is not None else 1000
    descending = req.find(f".//{{{T}}}FieldOrder[@Order='Descending']") is not None
    wanted = _wanted_value(req)  # the only item restriction the backend uses: InternetMessageId

    def answer(elem: ET.Element) -> str:
        items = state.items_in(state.resolve_folder(elem).id)
        items = [i for i in items if wanted is None or i.message_id == wanted]
        shown = (items[::-1] if descending else items)[offset : offset + limit]
        last = "true" if offset + len(shown) >= len(items) else "false"
        return (
            f'<m:RootFolder IndexedPagingOffset="{offset + len(shown)}" '
            f'TotalItemsInView="{len(items)}" IncludesLastItemInRange="{last}">'
            f"<t:Items>{''.join(_item_xml(i, fields) for i in shown)}</t:Items></m:RootFolder>"
        )

    return _each("FindItem", _children(req, "ParentFolderIds"), answer)


def op_get_item(state: MailboxState, req: ET.Element) -> bytes:
    fields = _requested_fields(req.find(f"{{{M}}}ItemShape"))

    def answer(elem: ET.Element) -> str:
        item = state.items.get(elem.get("Id", ""))
        if item is None:
            raise EwsError("ErrorItemNotFound")
        return f"<m:Items>{_item_xml(item, fields)}</m:Items>"

    return _each("GetItem", _children(req, "ItemIds"), answer)


def op_move_item(state: MailboxState, req: ET.Element) -> bytes:
    target = state.resolve_folder(_children(req, "ToFolderId")[0])

    def answer(elem: ET.Element) -> str:
        item = state.items.pop(elem.get("Id", ""), None)
        if item is None:
            raise EwsError("ErrorItemNotFound")
        # Exchange gives a moved item a new ItemId; the old one is no longer valid.
        item.id, item.folder = _new_id("AAMkM"), target.id
        state.items[item.id] = item
        new_id = f'<t:ItemId Id="{item.id}" ChangeKey="{item.changekey}"/>'
        return f"<m:Items><t:Message>{new_id}</t:Message></m:Items>"

    return _each("MoveItem", _children(req, "ItemIds"), answer)


def op_delete_item(state: MailboxState, req: ET.Element) -> bytes:
    if req.get("DeleteType") != "HardDelete":
        raise EwsError("ErrorInvalidRequest", "Only HardDelete is faked.")

    def answer(elem: ET.Element) -> str:
        if state.items.pop(elem.get("Id", ""), None) is None:
            raise EwsError("ErrorItemNotFound")
        return ""

    return _each("DeleteItem", _children(req, "ItemIds"), answer)


def op_create_item(state: MailboxState, req: ET.Element) -> bytes:
    saved = _children(req, "SavedItemFolderId")
    if req.get("MessageDisposition") != "SendAndSaveCopy" or not saved:
        raise EwsError("ErrorInvalidRequest", "Only SendAndSaveCopy is faked.")
    folder = state.resolve_folder(saved[0])

    def answer(elem: ET.Element) -> str:
        mime = base64.b64decode(elem.findtext(f"{{{T}}}MimeContent") or "")
        parsed = email.message_from_bytes(mime, policy=email.policy.default)
        item = FakeItem(_new_id("AAMkS"), folder.id, mime, datetime.now(UTC),
                        str(parsed.get("Message-ID", "")))  # fmt: skip
        state.items[item.id] = item
        author = elem.findtext(f"{{{T}}}From/{{{T}}}Mailbox/{{{T}}}EmailAddress")
        state.sent_log.append((mime, author))
        return "<m:Items/>"

    return _each("CreateItem", _children(req, "Items"), answer)


def op_subscribe(state: MailboxState, req: ET.Element) -> bytes:
    pull = req.find(f"{{{M}}}PullSubscriptionRequest")
    if pull is None:
        raise EwsError("ErrorInvalidSubscriptionRequest", "Only pull subscriptions are faked.")
    folders = [state.resolve_folder(e) for e in pull.iterfind(f"{{{T}}}FolderIds/*")]
    if [f.distinguished for f in folders] != ["inbox"]:
        raise EwsError("ErrorInvalidSubscriptionRequest", "Only the inbox is faked.")
    event_types = {e.text or "" for e in pull.iterfind(f"{{{T}}}EventTypes/{{{T}}}EventType")}
    subscription_id = _new_id("JABzAHUAYgBz")
    state.subscriptions[subscription_id] = (event_types, [])
    content = (
        f"<m:SubscriptionId>{subscription_id}</m:SubscriptionId>"
        f"<m:Watermark>{state.next_watermark()}</m:Watermark>"
    )
    return _response("Subscribe", [_ok("Subscribe", content)])


def _subscription(state: MailboxState, req: ET.Element) -> tuple[str, list[str]]:
    subscription_id = req.findtext(f"{{{M}}}SubscriptionId") or ""
    if subscription_id not in state.subscriptions:
        raise EwsError("ErrorSubscriptionNotFound", "The specified subscription was not found.")
    return subscription_id, state.subscriptions[subscription_id][1]


def op_get_events(state: MailboxState, req: ET.Element) -> bytes:
    subscription_id, pending = _subscription(state, req)
    previous = req.findtext(f"{{{M}}}Watermark") or ""
    events = "".join(pending) or (
        f"<t:StatusEvent><t:Watermark>{state.next_watermark()}</t:Watermark></t:StatusEvent>"
    )
    pending.clear()
    content = (
        f"<m:Notification><t:SubscriptionId>{subscription_id}</t:SubscriptionId>"
        f"<t:PreviousWatermark>{previous}</t:PreviousWatermark><t:MoreEvents>false</t:MoreEvents>"
        f"{events}</m:Notification>"
    )
    return _response("GetEvents", [_ok("GetEvents", content)])


def op_unsubscribe(state: MailboxState, req: ET.Element) -> bytes:
    subscription_id, _ = _subscription(state, req)
    del state.subscriptions[subscription_id]
    return _response("Unsubscribe", [_ok("Unsubscribe")])


OPERATIONS = {
    "GetFolder": op_get_folder,
    "FindFolder": op_find_folder,
    "CreateFolder": op_create_folder,
    "FindItem": op_find_item,
    "GetItem": op_get_item,
    "MoveItem": op_move_item,
    "CreateItem": op_create_item,
    "DeleteItem": op_delete_item,
    "Subscribe": op_subscribe,
    "GetEvents": op_get_events,
    "Unsubscribe": op_unsubscribe,
}


# --- HTTP ----------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: FakeEwsServer
    disable_nagle_algorithm = True  # without it each request costs ~40 ms on localhost
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.endswith("/token"):
            self._answer_token_request(body)
            return
        if not self._authorised():
            return
        try:
            envelope = ET.fromstring(body)
            request = envelope.find(f"{{{SOAP}}}Body")[0]  # type: ignore[index]
        except (ET.ParseError, IndexError, TypeError):
            self._send(400, b"bad request")
            return
        operation = _local(request.tag)
        acting_as = envelope.findtext(f".//{{{T}}}ExchangeImpersonation//{{{T}}}PrimarySmtpAddress")
        self.server.record(operation, acting_as)
        fault = self.server.take_fault(operation)
        if fault is not None and self._answer_fault(fault, operation):
            return
        handler = OPERATIONS.get(operation)
        if handler is None:
            exc = EwsError("ErrorInvalidRequest", f"{operation} is not faked")
            self._send(200, _response(operation, [_error(operation, exc)]))
            return
        with self.server.state.lock:
            try:
                answer = handler(self.server.state, request)
            except EwsError as exc:
                answer = _response(operation, [_error(operation, exc)])
        if fault == "drop_after":
            self._drop()
            return
        self._send(200, answer)

    def _authorised(self) -> bool:
        """True if the request may go on; otherwise the 401 (refusal or challenge) is sent."""
        header = self.headers.get("Authorization", "")
        accepted: bool | None
        if header.startswith("Bearer "):
            accepted = header[7:] in self.server.issued_tokens
        elif self.server.auth == "ntlm":
            accepted = self._ntlm_step(header)
        else:
            expected = f"{self.server.username}:{self.server.password}".encode()
            accepted = header == "Basic " + base64.b64encode(expected).decode()
        if accepted is False:
            self.server.refused_logins += 1
            scheme = "NTLM" if self.server.auth == "ntlm" else 'Basic realm="fake-ews"'
            self._send(401, b"", {"WWW-Authenticate": scheme})
        return accepted is True

    def _ntlm_step(self, header: str) -> bool | None:
        """NTLM authenticates the connection (this handler): negotiate, challenge, authenticate.

        None: a challenge was sent and the client answers on the same connection.
        """
        import spnego  # exchangelib's NTLM library; needs NTLM_USER_FILE (see start_server)

        if getattr(self, "ntlm_user", None):
            return True
        if not header.startswith("NTLM "):
            self._send(401, b"", {"WWW-Authenticate": "NTLM"})  # the usual first round trip
            return None
        context = getattr(self, "ntlm_context", None) or spnego.server(protocol="ntlm")
        try:
            answer = context.step(base64.b64decode(header[5:]))
        except spnego.exceptions.SpnegoError:
            self.ntlm_context = None
            return False
        if not context.complete:
            self.ntlm_context = context
            challenge = base64.b64encode(answer or b"").decode()
            self._send(401, b"", {"WWW-Authenticate": "NTLM " + challenge})
            return None
        self.ntlm_user = context.client_principal
        return True

    def _answer_token_request(self, body: bytes) -> None:
        """A minimal OAuth2 client-credentials token endpoint (like Entra ID's)."""
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        self.server.token_requests.append({k: v for k, v in form.items() if k != "client_secret"})
        if (form.get("client_id"), form.get("client_secret")) != self.server.oauth_client:
            reason = "AADSTS7000215: Invalid client secret provided."
            error = {"error": "invalid_client", "error_description": reason}
            self._send(401, json.dumps(error).encode(), content_type="application/json")
            return
        token = uuid.uuid4().hex
        self.server.issued_tokens.add(token)
        answer = {"token_type": "Bearer", "expires_in": 3599, "access_token": token}
        self._send(200, json.dumps(answer).encode(), content_type="application/json")

    def _answer_fault(self, fault: str, operation: str) -> bool:
        """Answer with the fault; False if the operation must run first (drop_after)."""
        retry_after = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if fault == "busy":
            self._send(500, _server_busy_fault())
        elif fault == "http503":
            self._send(503, b"Service Unavailable", retry_after)
        elif fault == "http429":
            self._send(429, b"Too Many Requests", retry_after)
        elif fault == "http401":
            self._send(401, b"", {"WWW-Authenticate": 'Basic realm="fake-ews"'})
        elif fault == "drop":
            self._drop()
        elif fault in ("access_denied", "no_mailbox"):
            code = "ErrorAccessDenied" if fault == "access_denied" else "ErrorNonExistentMailbox"
            self._send(200, _response(operation, [_error(operation, EwsError(code))]))
        else:
            return False
        return True

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "text/xml; charset=utf-8",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


class FakeEwsServer(ThreadingHTTPServer):
    """The fake server; see the module docstring for the fixture API."""

    daemon_threads = True

    def __init__(self, address: str, username: str, password: str, auth: str = "basic") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = MailboxState(address)
        self.username = username
        self.password = password
        self.auth = auth
        self.oauth_client = ("jugendhaus-app", "App-Geheimnis-0815")  # (client_id, secret)
        self.issued_tokens: set[str] = set()
        self.token_requests: list[dict[str, str]] = []  # form fields, without the secret
        self.operations: list[str] = []
        self.impersonated: list[str | None] = []  # ExchangeImpersonation address per request
        self.scheme = "http"
        self.refused_logins = 0
        self._faults: list[Fault] = []
        self._fault_lock = threading.Lock()

    def use_tls(self, certfile: Path, keyfile: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.scheme = "https"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/EWS/Exchange.asmx"

    @property
    def token_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/tenant/oauth2/v2.0/token"

    @property
    def address(self) -> str:
        return self.state.address

    def record(self, operation: str, acting_as: str | None) -> None:
        with self._fault_lock:
            self.operations.append(operation)
            self.impersonated.append(acting_as)

    def deliver(self, raw: bytes, received: datetime) -> str:
        """Put a mail into the inbox as if the mailbox had received it at `received`."""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = str(parsed.get("Message-ID", ""))
        with self.state.lock:
            inbox = self.state.by_distinguished["inbox"]
            item = FakeItem(_new_id("AAMkI"), inbox, raw, received, message_id)
            self.state.items[item.id] = item
            self.state.notify_new_mail(item)
            return item.id

    def folder_contents(self, name: str) -> list[bytes]:
        """MIME of the mail in the inbox ("Inbox") or in a folder directly below it."""
        with self.state.lock:
            folder = self.state.folder_by_name(name)
            return [] if folder is None else [i.mime for i in self.state.items_in(folder.id)]

    def folder_names(self) -> list[str]:
        """Names of the folders directly below the inbox."""
        with self.state.lock:
            inbox = self.state.by_distinguished["inbox"]
            return sorted(f.name for f in self.state.folders.values() if f.parent == inbox)

    def subscriptions(self) -> list[str]:
        """Ids of the pull subscriptions not yet unsubscribed."""
        with self.state.lock:
            return list(self.state.subscriptions)

    def sent_messages(self) -> list[bytes]:
        """MIME of the copies in Sent Items."""
        with self.state.lock:
            sent = self.state.by_distinguished["sentitems"]
            return [i.mime for i in self.state.items_in(sent)]

    def sent_authors(self) -> list[str | None]:
        """The From mailbox exchangelib set on each CreateItem (send-as), in order."""
        with self.state.lock:
            return [author for _, author in self.state.sent_log]

    def inject_fault(
        self, kind: str, count: int = 1, operation: str | None = None, skip: int = 0
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._fault_lock:
            self._faults.append(Fault(kind, count, operation, skip))

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._faults.clear()

    def take_fault(self, operation: str) -> str | None:
        with self._fault_lock:
            for fault in self._faults:
                if fault.operation not in (None, operation) or fault.count <= 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.count -= 1
                return fault.kind
        return None

    def config_toml(self, password_env: str = "EWS_TEST_PASSWORD", **extra: object) -> str:
        """The [mailbox] section that points the EWS backend at this server."""
        values: dict[str, object] = {
            "backend": "ews",
            "endpoint": self.endpoint,
            "address": self.address,
            "username": self.username,
            "password_env": password_env,
            "auth": self.auth,
            "retry_backoff_seconds": 0.0,
        }
        values.update(extra)
        lines = [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        return "[mailbox]\n" + "\n".join(lines) + "\n"

    def env(self, password_env: str = "EWS_TEST_PASSWORD") -> dict[str, str]:
        return {password_env: self.password}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


@contextmanager
def start_server(
    address: str = "team@jugendhaus.example",
    username: str = "svc-jugendhaus@jugendhaus.example",
    password: str = "Geheim-Passwort-4711",
    tls: tuple[Path, Path] | None = None,
    auth: str = "basic",
) -> Iterator[FakeEwsServer]:
    """Run a fake EWS server on 127.0.0.1 (random port) for the duration of the block.

    `tls` = (certificate, key) PEM files makes it speak HTTPS. `auth` = "basic" or "ntlm" (then
    `username` is DOMAIN\\user, and NTLM_USER_FILE is set for the duration).
    """
    server = FakeEwsServer(address, username, password, auth)
    if tls is not None:
        server.use_tls(*tls)
    saved_user_file = os.environ.get("NTLM_USER_FILE")
    user_dir = tempfile.TemporaryDirectory()
    if auth == "ntlm":  # pyspnego's NTLM acceptor reads DOMAIN:USER:PASSWORD lines from there
        user_file = Path(user_dir.name) / "ntlm-users"
        user_file.write_text(f"{username.replace(chr(92), ':')}:{password}\n")
        os.environ["NTLM_USER_FILE"] = str(user_file)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        user_dir.cleanup()
        if auth == "ntlm":
            os.environ.pop("NTLM_USER_FILE", None)
            if saved_user_file is not None:
                os.environ["NTLM_USER_FILE"] = saved_user_file
