"""A complete office site whose `[mailbox]` points at a mail server on 127.0.0.1.

The site is what an admin would set up: a config file, the workbook made by `init`, staff in the
sheet `Mitarbeitende`. Its mailbox is one of the four backends, each with its own test server:
Maildir (a folder), the fake EWS server (`fake_ews`), the fake Graph server with its Entra ID
token endpoint (`fake_graph`), or Dovecot + aiosmtpd (`imap_server`, skipped without Dovecot).

Fixture API (import `backend_site_fixture` and `imap_server_for_sites_fixture` into the test
module; the fixtures are named `backend_site` and `imap_server_for_sites`)::

    @pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
    def test_x(backend_site: BackendSite) -> None:
        site = backend_site
        site.run("poll", now="2026-03-10T08:00")     # the CLI in this process
        site.process("poll", now=...)                # the CLI in a real process
        site.configure(retries=0)                    # extra [mailbox] keys, config rewritten
        site.sleeps                                  # waits the backend asked for (not slept)
        site.site.requests()                         # the workbook rows (tests/site.py)
        server = site.mailbox                        # the test server, asked the same way:
        server.deliver(raw, received, unique)        # into its inbox
        server.folder("Erfasst")                     # MIME bytes; "inbox", "Nicht erfasst"
        server.transmitted()                         # mail that left through the backend
        server.kept_copies()                         # Postausgang / Sent Items / Sent
        server.inject("drop_after", at="send")       # a fault, see FAULTS and PLACES

The backends run unmodified; only their `sleep` is replaced by a recorder (a constructor
parameter of each network backend) and, for Graph, msal's authority host points at the fake.
"""

from __future__ import annotations

import base64
import email
import email.policy
import imaplib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import pytest

from jugendhaus_mail.mailbox import ews, graph, graph_auth, imap
from jugendhaus_mail.mailbox.maildir import deliver as maildir_deliver
from tests import fake_ews, fake_graph, imap_server
from tests.site import STAFF, Site, set_staff

NETWORK_BACKENDS = ["ews", "graph", "imap"]
ALL_BACKENDS = ["maildir", *NETWORK_BACKENDS]
TEAM = "FM-Jugendhaus@rostock.de"
INTERNAL_DOMAINS = {"rostock.de", "jobcenter-ge.de", "arbeitsagentur.de"}
FAULTS = ("busy", "http503", "http429", "drop", "drop_after")
# Where a fault hits: "any" is every request to the mailbox after signing in (EWS: every
# request, Graph: every Graph call, IMAP: every command but LOGIN); "login" is the sign-in
# itself (EWS: the first request, Graph: the token request, IMAP: LOGIN); "copy" is IMAP's
# APPEND of the sent copy.
PLACES = ("list", "fetch", "move", "send", "copy", "login", "any")
AUTHORITY_ENV = "JHM_TEST_AUTHORITY_HOST"

CONFIG_HEAD = f"""[office]
holiday_region = "DE-MV"
domain = "rostock.de"
[workbook]
path = "Anfrageliste.xlsx"
[mail]
team_address = "{TEAM}"
admin_address = "it-jugendhaus@rostock.de"
"""

# The CLI in a real process; Graph's sign-in host is the one module-level test hook it has.
_BOOT = (
    "import os, sys\n"
    "from jugendhaus_mail.mailbox import graph_auth\n"
    f"graph_auth.AUTHORITY_HOST = os.environ.get({AUTHORITY_ENV!r}, graph_auth.AUTHORITY_HOST)\n"
    "from jugendhaus_mail.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _header_recipients(message: EmailMessage) -> tuple[str, ...]:
    found: list[str] = []
    for header in ("To", "Cc"):
        if message[header] is not None:
            found += [a.addr_spec.lower() for a in message[header].addresses]
    return tuple(found)


@dataclass(frozen=True)
class Sent:
    """One mail that left through the backend, with who it went to (SMTP: the envelope)."""

    message: EmailMessage
    recipients: tuple[str, ...]
    author: str  # the mailbox it was sent as (EWS: send-as mailbox; others: the From header)


# --- one view per test server: the same questions, asked of each ---------------------------------


class MailServer:
    """What a test asks of the backend's server. Defaults fit the Maildir (no network)."""

    name = "maildir"
    secret_env = ""  # the environment variable named in the config that holds the secret
    secrets: tuple[str, ...] = ()  # credentials, also encoded, that must never show up
    env: dict[str, str]  # what the service's environment needs (secrets, test hooks)

    def __init__(self, root: Path) -> None:
        self.path = root / "postfach"
        self.env = {}

    def mailbox_toml(self, **extra: object) -> str:
        keys = {"backend": "maildir", "path": "postfach", **extra}
        return "[mailbox]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in keys.items())

    def deliver(self, raw: bytes, received: datetime, unique: str) -> None:
        maildir_deliver(self.path, raw, received, unique)

    def folder(self, name: str) -> list[bytes]:
        """MIME of the mail in "inbox", "Erfasst", "Nicht erfasst" (or another folder)."""
        subs = ["new", "cur"] if name == "inbox" else [f".{name}/cur", f".{name}/new"]
        return [
            p.read_bytes()
            for sub in subs
            if (self.path / sub).is_dir()
            for p in sorted((self.path / sub).iterdir())
        ]

    def inbox_count_without_login(self) -> int:
        return len(self.folder("inbox"))

    def kept_copies(self) -> list[bytes]:
        """The copies the mailbox keeps of sent mail (Postausgang, Sent Items, Sent)."""
        return self.folder("Postausgang")

    def transmitted(self) -> list[Sent]:
        """The mail that left through the backend, oldest first."""
        copies = [_parse(raw) for raw in self.kept_copies()]
        return [Sent(m, _header_recipients(m), m["From"].addresses[0].addr_spec) for m in copies]

    def inject(self, kind: str, at: str = "any", count: int = 1, skip: int = 0) -> None:
        """A fault (FAULTS) at a kind of request (PLACES): the `skip`+1-th such request fails."""
        raise NotImplementedError("Maildir has no network faults (see test_exactly_once.py)")

    def clear_faults(self) -> None:
        pass

    def request_log(self) -> list[str]:
        """The requests (EWS operations, Graph calls, IMAP commands) the server has seen."""
        return []

    def is_send(self, request: str) -> bool:
        return False

    def refused_logins(self) -> int:
        """How often the server refused the credentials (Graph: the sign-in service)."""
        return 0


class _Ews(MailServer):
    name = "ews"
    secret_env = "EWS_TEST_PASSWORD"

    def __init__(self, server: fake_ews.FakeEwsServer) -> None:
        self.server = server
        self.env = server.env(self.secret_env)
        basic = f"{server.username}:{server.password}".encode()
        self.secrets = (server.password, base64.b64encode(basic).decode())

    def mailbox_toml(self, **extra: object) -> str:
        return self.server.config_toml(self.secret_env, **extra)

    def deliver(self, raw: bytes, received: datetime, unique: str) -> None:
        self.server.deliver(raw, received)

    def folder(self, name: str) -> list[bytes]:
        return self.server.folder_contents("Inbox" if name == "inbox" else name)

    def kept_copies(self) -> list[bytes]:
        return self.server.sent_messages()

    def transmitted(self) -> list[Sent]:
        copies = [_parse(raw) for raw in self.server.sent_messages()]
        pairs = zip(copies, self.server.sent_authors(), strict=True)  # one copy per CreateItem
        return [Sent(m, _header_recipients(m), author or "") for m, author in pairs]

    def inject(self, kind: str, at: str = "any", count: int = 1, skip: int = 0) -> None:
        operation = {"list": "FindItem", "fetch": "GetItem", "move": "MoveItem",
                     "send": "CreateItem", "login": None, "any": None}[at]  # fmt: skip
        self.server.inject_fault(kind, count=count, operation=operation, skip=skip)

    def clear_faults(self) -> None:
        self.server.clear_faults()

    def request_log(self) -> list[str]:
        return list(self.server.operations)

    def is_send(self, request: str) -> bool:
        return request == "CreateItem"

    def refused_logins(self) -> int:
        return self.server.refused_logins


class _Graph(MailServer):
    name = "graph"
    secret_env = "GRAPH_TEST_SECRET"

    def __init__(self, server: fake_graph.FakeGraphServer) -> None:
        self.server = server
        self.env = {**server.env(self.secret_env), AUTHORITY_ENV: server.url}
        self.secrets = (server.identity.secret, server.token)

    def mailbox_toml(self, **extra: object) -> str:
        return self.server.config_toml(**extra)

    def deliver(self, raw: bytes, received: datetime, unique: str) -> None:
        self.server.deliver(raw, received)

    def folder(self, name: str) -> list[bytes]:
        return self.server.folder_contents(name)

    def kept_copies(self) -> list[bytes]:
        return self.server.sent_messages()  # sendMail leaves no other trace

    def inject(self, kind: str, at: str = "any", count: int = 1, skip: int = 0) -> None:
        match = {"list": "/mailFolders/inbox/messages", "fetch": "/$value", "move": "/move",
                 "send": "/sendMail", "login": "/oauth2/v2.0/token",
                 "any": fake_graph.GRAPH_MATCH}[at]  # fmt: skip
        graph_kind = "http503" if kind == "busy" else kind
        self.server.inject_fault(graph_kind, count=count, match=match, skip=skip)

    def clear_faults(self) -> None:
        self.server.clear_faults()

    def request_log(self) -> list[str]:
        return [r for r in self.server.requests if fake_graph.GRAPH_MATCH in r]

    def is_send(self, request: str) -> bool:
        return request.endswith("/sendMail")

    def refused_logins(self) -> int:
        return self.server.identity.token_requests  # all refused when the secret is wrong


class _Imap(MailServer):
    name = "imap"

    def __init__(self, server: imap_server.ImapTestServer) -> None:
        self.server = server
        self.secret_env = server.password_env
        self.env = {server.password_env: server.password}
        plain = f"\0{server.user}\0{server.password}".encode()
        self.secrets = (server.password, base64.b64encode(plain).decode())

    def mailbox_toml(self, **extra: object) -> str:
        # Faults are injected by a proxy that must read the commands: plain text then.
        security = str(extra.pop("security", "tls"))
        return self.server.mailbox_toml(security=security, **extra)

    def deliver(self, raw: bytes, received: datetime, unique: str) -> None:
        self.server.deliver(raw, received)

    def folder(self, name: str) -> list[bytes]:
        return self.server.folder_contents("INBOX" if name == "inbox" else name)

    def inbox_count_without_login(self) -> int:
        """After a refused login Dovecot delays the next one from the same address by seconds
        (auth penalty): this counts the files of its INBOX instead."""
        maildir = self.server.maildir
        return sum(1 for sub in ("new", "cur") for _ in (maildir / sub).iterdir())

    def kept_copies(self) -> list[bytes]:
        return self.server.folder_contents("Sent")

    def transmitted(self) -> list[Sent]:
        assert self.server.smtp is not None
        sent = []  # the test SMTP server keeps the envelope recipients, not MAIL FROM
        for raw, rcpt in zip(self.server.smtp.messages, self.server.smtp.recipients, strict=True):
            message = _parse(raw)
            sender = message["From"].addresses[0].addr_spec
            sent.append(Sent(message, tuple(r.lower() for r in rcpt), sender))
        return sent

    def inject(self, kind: str, at: str = "any", count: int = 1, skip: int = 0) -> None:
        if at == "send":
            smtp_kind = {"busy": "smtp_busy", "http503": "smtp_busy", "http429": "smtp_busy",
                         "drop": "smtp_drop"}.get(kind)  # fmt: skip
            if smtp_kind is None:  # aiosmtpd cannot lose its answer after accepting a mail
                raise NotImplementedError(f"{kind} at SMTP")
            self.server.inject_fault(smtp_kind, count=count)
            return
        command = {"list": "^UID SEARCH", "fetch": r"^UID FETCH .*BODY", "move": "^UID MOVE",
                   "copy": "^APPEND", "login": "^LOGIN ", "any": "^(?!LOGIN )"}[at]  # fmt: skip
        proxy_kind = {"drop": "drop_before", "drop_after": "drop_after"}.get(kind, "unavailable")
        self.server.inject_fault(proxy_kind, count=count, command=command, skip=skip)

    def clear_faults(self) -> None:
        self.server.clear_faults()

    def request_log(self) -> list[str]:
        assert self.server.proxy is not None  # it sees the commands when security = "none"
        return [c for c in self.server.proxy.commands if c != "LOGIN"]  # as "any" counts

    def is_send(self, request: str) -> bool:
        return False  # sending is SMTP, which the IMAP proxy does not see

    def refused_logins(self) -> int:
        """From Dovecot's log, which it writes when the client has gone (so wait a little)."""
        deadline = time.monotonic() + 3
        while True:
            found = re.findall(r"auth failed, (\d+) attempts", self.server.log_text())
            if found or time.monotonic() > deadline:
                return sum(int(n) for n in found)
            time.sleep(0.02)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the site ----------------------------------------------------------------------------------


@dataclass
class BackendSite:
    """A site (config, workbook, state) whose mailbox is `mailbox`; see the module docstring."""

    site: Site
    mailbox: MailServer
    sleeps: list[float] = field(default_factory=list)
    mailbox_keys: dict[str, object] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return self.mailbox.name

    @property
    def root(self) -> Path:
        return self.site.root

    def configure(self, **mailbox_keys: object) -> None:
        """Rewrite the config with these extra `[mailbox]` keys (e.g. retries=0)."""
        self.mailbox_keys.update(mailbox_keys)
        section = self.mailbox.mailbox_toml(**self.mailbox_keys)
        self.site.config.write_text(CONFIG_HEAD + section, encoding="utf-8")

    def expose_to_faults(self, retries: int = 0) -> None:
        """Bound the retries and, for IMAP, go through the fault proxy (plain IMAP)."""
        keys: dict[str, object] = {"retries": retries}
        if self.backend == "imap":
            keys["security"] = "none"
        self.configure(**keys)

    def run(self, *args: str, now: str) -> int:
        return self.site.run(*args, now=now)

    def process(
        self, *args: str, now: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The CLI in its own process, with the backend's secrets (or `env`) in the environment."""
        command = [sys.executable, "-c", _BOOT, "--config", str(self.site.config), "--now", now]
        environment = {**os.environ, **self.mailbox.env, **(env or {})}
        return subprocess.run(
            [*command, *args], capture_output=True, text=True, env=environment, timeout=120
        )


def _new_site(root: Path, mailbox: MailServer, sleeps: list[float]) -> BackendSite:
    root.mkdir(parents=True, exist_ok=True)
    site = BackendSite(Site(root, root / "jugendhaus-mail.toml"), mailbox, sleeps)
    site.configure()
    assert site.run("init", now="2026-03-02T08:00") == 0
    set_staff(site.site, STAFF)
    return site


def _record_sleeps(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    """Every network backend takes `sleep=`; open_mailbox and diagnose build them by name."""
    recorder: Callable[[float], None] = sleeps.append
    for module, name in ((ews, "EwsMailbox"), (graph, "GraphMailbox"), (imap, "ImapMailbox")):
        monkeypatch.setattr(module, name, partial(getattr(module, name), sleep=recorder))


def _reset_imap(server: imap_server.ImapTestServer) -> None:
    """A fresh mailbox on the shared Dovecot: no mail, no folders but INBOX, no faults."""
    server.clear_faults()
    assert server.smtp is not None
    server.smtp.messages.clear()
    server.smtp.recipients.clear()
    client = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=10)
    try:
        client.login(server.user, server.password)
        for name in sorted(server.folder_names(), key=len, reverse=True):
            if name.upper() != "INBOX":
                client.delete(f'"{name}"')
        _, count = client.select("INBOX")
        if count[0] != b"0":
            client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
            client.expunge()
    finally:
        client.logout()


@pytest.fixture(name="imap_server_for_sites", scope="module")
def imap_server_for_sites_fixture() -> Iterator[imap_server.ImapTestServer]:
    """One Dovecot + aiosmtpd per test module; each site gets an emptied mailbox."""
    server = imap_server.start_server()  # skips the test when Dovecot is not installed
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="backend_site")
def backend_site_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BackendSite]:
    """A fresh site on the backend named by the (indirect) parameter.

    "imap:own" gives the site a Dovecot of its own: Dovecot delays every login from an address
    after a refused one (auth penalty), which would slow down the tests that share it."""
    backend, _, own = str(request.param).partition(":")
    sleeps: list[float] = []
    _record_sleeps(monkeypatch, sleeps)
    with ExitStack() as stack:
        mailbox: MailServer
        if backend == "maildir":
            mailbox = MailServer(tmp_path / "site")
        elif backend == "ews":
            mailbox = _Ews(stack.enter_context(fake_ews.start_server(TEAM, "svc-jugendhaus")))
        elif backend == "graph":
            graph_server = stack.enter_context(fake_graph.start_server(TEAM))
            monkeypatch.setattr(graph_auth, "AUTHORITY_HOST", graph_server.url)
            mailbox = _Graph(graph_server)
        else:
            if own:
                server = imap_server.start_server()
                stack.callback(server.stop)
            else:
                server = request.getfixturevalue("imap_server_for_sites")
                _reset_imap(server)
            mailbox = _Imap(server)
        for name, value in mailbox.env.items():
            monkeypatch.setenv(name, value)
        yield _new_site(tmp_path / "site", mailbox, sleeps)
