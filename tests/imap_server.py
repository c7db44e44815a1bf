"""A private Dovecot (IMAP) and aiosmtpd (SMTP) on 127.0.0.1 for tests, with fault injection.

Usage::

    server = start_server()                      # skips the test if Dovecot is not installed
    try:
        monkeypatch.setenv(server.password_env, server.password)   # or pass it to a subprocess
        server.deliver(raw_bytes, received=datetime(..., tzinfo=UTC))
        config_text = OTHER_SECTIONS + server.mailbox_toml()      # a "[mailbox]" section
        ...
        server.folder_contents("Erfasst")        # raw bytes of every mail in INBOX<sep>Erfasst
        server.folder_contents("Sent")           # the sent copies
        server.sent_messages()                   # raw bytes the SMTP server accepted
    finally:
        server.stop()

`start_server(separator=".", without=(), smtp_security="starttls")` starts Dovecot 2.3 (the
config syntax of Debian 12's package) from a generated config in a fresh temp dir (own
base_dir, passwd-file user, Maildir, self-signed certificate that is also the CA in
`server.ca_file`) with a plain/STARTTLS and an implicit-TLS listener, a fault proxy in front of
the plain listener, and an SMTP server with STARTTLS (or implicit TLS) and AUTH PLAIN/LOGIN.
`without` removes capabilities (e.g. "MOVE", "IDLE") from what Dovecot announces, to test
fallbacks; `separator` is the hierarchy delimiter. As root, Dovecot's processes run as `nobody`;
as another user, as that user. Starting takes about 0.3 s; `stop()` finishes in the background.

`mailbox_toml(security="tls")` connects straight to Dovecot over TLS (with `ca_file`);
`security="starttls"` uses the plain port with STARTTLS; `security="none"` goes through the fault
proxy (plain text, so the proxy can see commands). Extra keyword arguments become extra keys.

Faults, `inject_fault(kind, count=1, command=None, skip=0)`; `command` is a regex matched against
client command lines without the tag (e.g. "UID MOVE", "LOGIN", r"UID FETCH .*BODY"), `skip`
lets that many matches pass first. Proxy faults need `security="none"`:
- "drop_before": cut the connection instead of passing the command on;
- "drop_after": pass it on, wait for the server's tagged reply, then cut without passing it back;
- "unavailable": answer the command with `NO [UNAVAILABLE]` (server busy) without passing it on;
- "bye": greet the next connection with `* BYE [UNAVAILABLE]` and close it.
SMTP faults: "smtp_busy" (451 on DATA), "smtp_drop" (cut the connection at DATA).

Other faults: `restart()` (Dovecot stops and starts again on the same ports), `stop_imap()`,
`recreate_inbox()` (new UIDVALIDITY, and the old UIDs now name other mails), a wrong password
(set the environment variable to something else). `proxy.commands` records command names seen.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.conftest import find_tool, require_tool

DOVEADM = find_tool("doveadm") or "/usr/bin/doveadm"
USER = "fm-jugendhaus"
PASSWORD = "Jh-Test-Passwort-7431!"
PASSWORD_ENV = "JHM_TEST_IMAP_PASSWORT"
TEAM_ADDRESS = "fm-jugendhaus@rostock.de"
# Dovecot 2.3's post-login list; only used to write imap_capability without some of them.
DOVECOT_23_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
    "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW "
    "STATUS=SIZE SAVEDATE LITERAL+ NOTIFY"
)


def require_dovecot() -> str:
    return require_tool("dovecot")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mutf7(name: str) -> str:
    """Modified UTF-7 (RFC 3501 5.1.3), written independently of the client under test."""

    def encode(run: re.Match[str]) -> str:
        data = base64.b64encode(run[0].encode("utf-16-be")).decode().rstrip("=")
        return "&" + data.replace("/", ",") + "-"

    return re.sub(r"[^\x20-\x7e]+", encode, name.replace("&", "&-"))


# -- fault proxy -----------------------------------------------------------------------------


@dataclass
class _Rule:
    kind: str
    pattern: re.Pattern[bytes] | None
    count: int
    skip: int


class FaultProxy:
    """Plain TCP proxy in front of Dovecot that reads the command stream and injects faults."""

    _COMMAND = re.compile(rb"^(\S+) (.+?)\r?$")

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.commands: list[str] = []
        self.fired = 0
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def stop(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._open:
                _close(sock)

    def _take(self, kinds: tuple[str, ...], line: bytes | None) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.kind not in kinds or rule.count <= 0:
                    continue
                if line is not None and rule.pattern is not None and not rule.pattern.search(line):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.count -= 1
                self.fired += 1
                return rule
        return None

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._take(("bye",), None):
                client.sendall(b"* BYE [UNAVAILABLE] Server ausgelastet, bitte spaeter erneut\r\n")
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                _close(client)
                continue
            for sock in (client, upstream):  # without this, Nagle adds 40 ms per literal
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open += [client, upstream]
            state: dict[str, bytes | None] = {"await": None}
            threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._down, args=(client, upstream, state), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket, state: dict[str, Any]) -> None:
        buffer, literal = b"", 0
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buffer += data
            while buffer:
                if literal:
                    part, buffer = buffer[:literal], buffer[literal:]
                    literal -= len(part)
                    upstream.sendall(part)
                    continue
                end = buffer.find(b"\n")
                if end < 0:
                    break
                line, buffer = buffer[: end + 1], buffer[end + 1 :]
                if match := re.search(rb"\{(\d+)\+?\}\r?\n$", line):
                    literal = int(match[1])
                if not self._forward(line, client, upstream, state):
                    return
        _close(client)
        _close(upstream)

    def _forward(
        self, line: bytes, client: socket.socket, upstream: socket.socket, state: dict[str, Any]
    ) -> bool:
        command = self._COMMAND.match(line)
        if command is None or command[1] in (b"DONE",):
            upstream.sendall(line)
            return True
        tag, text = command[1], command[2]
        words = text.upper().split(b" ")
        self.commands.append(b" ".join(words[:2] if words[0] == b"UID" else words[:1]).decode())
        rule = self._take(("drop_before", "drop_after", "unavailable"), text)
        if rule is not None and rule.kind == "drop_before":
            _close(client)
            _close(upstream)
            return False
        if rule is not None and rule.kind == "unavailable":
            client.sendall(tag + b" NO [UNAVAILABLE] Server ausgelastet, bitte spaeter erneut\r\n")
            return True
        if rule is not None:
            state["await"] = tag
        upstream.sendall(line)
        return True

    def _down(self, client: socket.socket, upstream: socket.socket, state: dict[str, Any]) -> None:
        seen = b""
        while True:
            try:
                data = upstream.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            tag = state["await"]
            if tag is None:
                try:
                    client.sendall(data)
                except OSError:
                    break
                continue
            seen += data
            done = re.search(rb"(^|\n)" + re.escape(tag) + rb" (OK|NO|BAD)", seen)
            # pass on everything before the tagged reply (e.g. "+" for a literal), not the reply
            cut = seen.rfind(b"\n") + 1 if done is None else done.start() + len(done[1])
            try:
                client.sendall(seen[:cut])
            except OSError:
                break
            seen = seen[cut:]
            if done is not None:
                break  # the server has done it; the client never hears about it
        _close(client)
        _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# -- SMTP ------------------------------------------------------------------------------------


class SmtpTestServer:
    """aiosmtpd with STARTTLS (or implicit TLS) and AUTH; keeps what it accepted."""

    def __init__(self, cert: Path, key: Path, security: str, without: tuple[str, ...] = ()) -> None:
        """`without`: AUTH mechanisms not offered (Exchange offers LOGIN, not PLAIN)."""
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[bytes] = []
        self.recipients: list[list[str]] = []
        self.faults: list[str] = []
        self.login_attempts = 0
        self.password = PASSWORD  # what AUTH accepts (a test may set one with umlauts)
        self.mechanisms: list[str] = []  # the AUTH mechanism of each attempt
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> Any:
            self.login_attempts += 1
            self.mechanisms.append(mechanism)
            ok = isinstance(data, LoginPassword) and data.password == self.password.encode()
            return AuthResult(success=ok and data.login == USER.encode(), handled=False)

        # aiosmtpd only counts STARTTLS as "TLS" for AUTH; with implicit TLS all of it is TLS.
        tls: dict[str, Any] = {"tls_context": context}
        if security == "tls":
            tls = {"ssl_context": context, "auth_require_tls": False}
        self.port = _free_port()
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            auth_exclude_mechanism=without,
            require_starttls=security == "starttls",
            **tls,
        )
        self._controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "smtp_busy":
            return "451 4.3.2 Server ausgelastet, bitte spaeter erneut versuchen"
        if fault == "smtp_drop":
            server.transport.close()
            return "451 4.3.0 Verbindung getrennt"
        self.messages.append(bytes(envelope.original_content or envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 OK"

    def stop(self) -> None:
        self._controller.stop()


# -- Dovecot ---------------------------------------------------------------------------------


@dataclass
class ImapTestServer:
    root: Path
    separator: str
    without: tuple[str, ...]
    smtp_security: str
    imap_port: int = field(default_factory=_free_port)
    imaps_port: int = field(default_factory=_free_port)
    user: str = USER
    password: str = PASSWORD
    password_env: str = PASSWORD_ENV
    process: subprocess.Popen[bytes] | None = None
    proxy: FaultProxy | None = None
    smtp: SmtpTestServer | None = None

    @property
    def ca_file(self) -> Path:
        return self.root / "cert.pem"

    @property
    def maildir(self) -> Path:
        return self.root / "home" / self.user / "Maildir"

    # -- life cycle

    def start_imap(self) -> None:
        log = (self.root / "dovecot.stdout").open("ab")
        self.process = subprocess.Popen(
            [require_dovecot(), "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), 0.5) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("Dovecot startet nicht:\n" + self.log_text())

    def stop_imap(self) -> None:
        """Stop Dovecot and every process it started, so that open connections really drop."""
        process, self.process = self.process, None
        if process is not None:
            _finish_stop(process, _begin_stop(process), None)

    def restart(self) -> None:
        self.stop_imap()
        self.start_imap()

    def stop(self) -> None:
        """Stop everything; Dovecot's own shutdown (about 1 s) finishes in the background."""
        if self.proxy is not None:
            self.proxy.stop()
        if self.smtp is not None:
            self.smtp.stop()
        process, self.process = self.process, None
        if process is None:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        children = _begin_stop(process)
        finishing = threading.Thread(target=_finish_stop, args=(process, children, self.root))
        finishing.start()
        _FINISHING.append(finishing)

    def clear_faults(self) -> None:
        """Disarm faults that have not fired yet (before a fault-free run)."""
        if self.proxy is not None:
            self.proxy.clear()
        if self.smtp is not None:
            self.smtp.faults.clear()

    def log_text(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- mail

    def _admin(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.login(self.user, self.password)
        return client

    def folder(self, name: str) -> str:
        """IMAP name of a folder: "INBOX", a service folder below it, or a top-level name."""
        if name == "INBOX" or name.startswith("INBOX" + self.separator):
            return mutf7(name)
        if name in ("Erfasst", "Nicht erfasst"):
            return mutf7(f"INBOX{self.separator}{name}")
        return mutf7(name)

    def deliver(self, raw: bytes, received: datetime, folder: str = "INBOX") -> int:
        """Put a mail into a folder with INTERNALDATE = `received`; returns its UID."""
        client = self._admin()
        try:
            typ, data = client.append(
                _quoted(self.folder(folder)), None, imaplib.Time2Internaldate(received), raw
            )
            assert typ == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            return int(match[1]) if match else 0
        finally:
            client.logout()

    def folder_contents(self, name: str) -> list[bytes]:
        return [raw for raw, _ in self.folder_messages(name)]

    def folder_messages(self, name: str) -> list[tuple[bytes, bytes]]:
        """(raw, flags) of every mail in the folder, by UID; [] if the folder does not exist."""
        client = self._admin()
        try:
            typ, _ = client.select(_quoted(self.folder(name)), readonly=True)
            if typ != "OK":
                return []
            typ, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
            return [
                (item[1], re.search(rb"FLAGS \(([^)]*)\)", item[0])[1])  # type: ignore[index]
                for item in data
                if isinstance(item, tuple)
            ]
        finally:
            client.logout()

    def folder_names(self) -> list[str]:
        client = self._admin()
        try:
            _, data = client.list()
            lines = [line for line in data if isinstance(line, bytes)]
            names = [re.search(rb'\) (?:"."|NIL) (.*)$', line) for line in lines]
            return [m[1].decode().strip('"') for m in names if m]
        finally:
            client.logout()

    def uidvalidity(self) -> int:
        client = self._admin()
        try:
            client.select("INBOX", readonly=True)
            _, data = client.response("UIDVALIDITY")
            return int(str(data[0], "ascii"))
        finally:
            client.logout()

    def recreate_inbox(self) -> None:
        """As if the inbox were recreated: new UIDVALIDITY, UIDs handed out in reverse order."""
        old = self.uidvalidity()
        self.stop_imap()
        for name in os.listdir(self.maildir):
            if name == "dovecot-uidlist" or name.startswith("dovecot.index"):
                (self.maildir / name).unlink()
        files = sorted((self.maildir / "cur").iterdir()) + sorted((self.maildir / "new").iterdir())
        for number, path in enumerate(reversed(files)):
            path.rename(self.maildir / "cur" / f"{1000 + number}.M1P1.recreated:2,")
        self.start_imap()
        if self.uidvalidity() == old:
            subprocess.run(
                [DOVEADM, "-c", str(self.root / "dovecot.conf"), "mailbox", "update",
                 "-u", self.user, "--uid-validity", str(old + 1000), "INBOX"],
                check=True,
            )  # fmt: skip

    def sent_messages(self) -> list[bytes]:
        assert self.smtp is not None
        return list(self.smtp.messages)

    def inject_fault(
        self, kind: str, count: int = 1, command: str | None = None, skip: int = 0
    ) -> None:
        if kind.startswith("smtp_"):
            assert self.smtp is not None
            self.smtp.faults += [kind] * count
            return
        assert self.proxy is not None
        pattern = re.compile(command.encode(), re.IGNORECASE) if command else None
        self.proxy.add(_Rule(kind, pattern, count, skip))

    def mailbox_toml(self, security: str = "tls", **extra: object) -> str:
        port = {"tls": self.imaps_port, "starttls": self.imap_port}.get(security)
        if port is None:
            assert self.proxy is not None
            port = self.proxy.port
        assert self.smtp is not None
        keys: dict[str, object] = {
            "backend": "imap",
            "host": "127.0.0.1",
            "port": port,
            "security": security,
            "username": self.user,
            "password_env": self.password_env,
            "address": TEAM_ADDRESS,
            "ca_file": str(self.ca_file),
            "smtp_port": self.smtp.port,
            "smtp_security": self.smtp_security,
            "retry_backoff_seconds": 0.5,
            **extra,
        }
        lines = ["[mailbox]"]
        lines += [f"{key} = {_toml(value)}" for key, value in keys.items() if value is not None]
        return "\n".join(lines) + "\n"


_FINISHING: list[threading.Thread] = []


@atexit.register
def _wait_for_stops() -> None:
    for thread in _FINISHING:
        thread.join(15)


def _begin_stop(process: subprocess.Popen[bytes]) -> list[int]:
    """Ask Dovecot's master to stop; returns the pids of the processes it had started."""
    children = [pid for pid, parent in _processes() if parent == process.pid]
    process.terminate()
    return children


def _finish_stop(process: subprocess.Popen[bytes], children: list[int], root: Path | None) -> None:
    # The master takes about a second, and does not always end its imap processes: those
    # would keep serving old connections, so they are ended by pid.
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in children:
        with contextlib.suppress(OSError):  # gone already; the check guards against pid reuse
            if b"dovecot" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def _processes() -> list[tuple[int, int]]:
    """(pid, parent pid) of every process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                found.append((int(entry.name), int(stat.rsplit(")", 1)[1].split()[1])))
    return found


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config(server: ImapTestServer, user: pwd.struct_passwd, group: str) -> str:
    root = server.root
    capability = ""
    if server.without:
        caps = DOVECOT_23_CAPABILITIES.split()
        capability = "imap_capability = " + " ".join(c for c in caps if c not in server.without)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {user.pw_name}
default_internal_user = {user.pw_name}
default_internal_group = {group}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
mail_fsync = never
{capability}
namespace inbox {{
  inbox = yes
  separator = {server.separator}
}}
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user.pw_uid} gid={user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {server.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {server.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def _certificate(root: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip


def start_server(
    *,
    separator: str = ".",
    without: tuple[str, ...] = (),
    smtp_security: str = "starttls",
) -> ImapTestServer:
    """Start Dovecot + fault proxy + SMTP; the caller must `stop()` it. Skips without Dovecot."""
    require_dovecot()
    # Outside pytest's 0700 tmp_path, so that Dovecot's unprivileged processes can enter it.
    root = Path(tempfile.mkdtemp(prefix="jhm-dovecot-"))
    root.chmod(0o755)
    server = ImapTestServer(
        root=root, separator=separator, without=without, smtp_security=smtp_security
    )
    if os.getuid() == 0:
        user, group = pwd.getpwnam("nobody"), "nogroup"
    else:
        user = pwd.getpwuid(os.getuid())
        group = grp.getgrgid(os.getgid()).gr_name
    _certificate(root)
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.password}:::::\n")
    home = root / "home" / server.user
    home.mkdir(parents=True)
    for path in (root / "home", home):
        os.chown(path, user.pw_uid, user.pw_gid)
    (root / "dovecot.conf").write_text(_config(server, user, group))
    try:
        server.start_imap()
        server.proxy = FaultProxy(server.imap_port)
        server.smtp = SmtpTestServer(root / "cert.pem", root / "key.pem", smtp_security)
    except BaseException:
        server.stop()
        raise
    return server
