"""sd_notify(3) without a dependency: tell systemd (`Type=notify`, `WatchdogSec=`) that the
service is ready, still alive, and what it is doing.

The protocol is one datagram of `KEY=value` lines to the AF_UNIX socket named in
`$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket). Without that variable (a
terminal, Windows, tests) every call does nothing. A failing send is logged once and never
stops the service: systemd notices a missing heartbeat by itself.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if raw.startswith("@"):
            self.address = "\0" + raw[1:]  # Linux abstract namespace
        elif raw.startswith("/"):
            self.address = raw
        self.interval = _watchdog_interval(env)
        self._socket: socket.socket | None = None
        self._failed = False
        self.ready_sent = False

    @property
    def active(self) -> bool:
        return self.address is not None

    def ready(self, status: str) -> None:
        """READY=1, once: the configuration is valid and the loop is about to start."""
        if not self.ready_sent:
            self.ready_sent = True
            self._send("READY=1", f"MAINPID={os.getpid()}", f"STATUS={status}")

    def alive(self, status: str | None = None) -> None:
        """WATCHDOG=1 (and a new STATUS line): the loop is still turning."""
        self._send("WATCHDOG=1", *([f"STATUS={status}"] if status else []))

    def stopping(self, status: str) -> None:
        self._send("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _send(self, *fields: str) -> None:
        if self.address is None:
            return
        payload = "\n".join(" ".join(field.split()) for field in fields).encode("utf-8")
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(payload, self.address)
        except OSError as exc:
            if not self._failed:
                self._failed = True
                log.warning(
                    "Meldung an systemd nicht möglich (NOTIFY_SOCKET %s): %s",
                    self.address.replace("\0", "@"),
                    exc,
                )


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between two WATCHDOG=1: half of WatchdogSec, as sd_watchdog_enabled(3) advises;
    None when systemd expects no heartbeat from this process."""
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2_000_000
