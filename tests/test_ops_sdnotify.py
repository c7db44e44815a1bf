"""`run` under systemd (`Type=notify`, `WatchdogSec=`): READY=1 once, WATCHDOG=1 at least every
WatchdogSec/2, a STATUS line in office time, STOPPING=1 at the end. systemd's side is played by
a real AF_UNIX datagram socket, as a path and as an abstract name."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jugendhaus_mail.service.sdnotify import Notifier
from tests.site import STAFF, Site, make_site, set_staff

WATCHDOG_SECONDS = 2.0


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    set_staff(site, STAFF)
    return site


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """AF_UNIX paths are limited to 108 bytes; pytest's tmp_path can be longer."""
    folder = Path(tempfile.mkdtemp(prefix="jhm-sd-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class FakeSystemd:
    """Receives what the service sends, with the arrival time of each datagram."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.2)
        self.received: list[tuple[float, dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            fields = dict(line.split("=", 1) for line in data.decode("utf-8").splitlines())
            self.received.append((time.monotonic(), fields))

    def close(self) -> None:
        time.sleep(0.3)
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def times_of(self, key: str) -> list[float]:
        return [at for at, fields in self.received if key in fields]


def run_service(site: Site, notify_socket: str, seconds: float) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NOTIFY_SOCKET": notify_socket,
        "WATCHDOG_USEC": str(int(WATCHDOG_SECONDS * 1_000_000)),
    }
    command = [sys.executable, "-m", "jugendhaus_mail", "--config", str(site.config)]
    command += ["--now", "2026-03-30T09:00", "run", "--max-seconds", str(seconds)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_run_reports_ready_once_then_a_heartbeat_with_status_then_stopping(
    site: Site, short_dir: Path
) -> None:
    systemd = FakeSystemd(str(short_dir / "notify"))
    started = time.monotonic()
    result = run_service(site, str(short_dir / "notify"), seconds=5)
    systemd.close()
    assert result.returncode == 0, result.stderr
    messages = [fields for _at, fields in systemd.received]
    assert messages[0]["READY"] == "1"
    assert messages[0]["MAINPID"].isdigit()
    assert [m for m in messages if "READY" in m] == messages[:1]
    beats = systemd.times_of("WATCHDOG")
    assert len(beats) >= 4, messages
    # systemd kills the service when WatchdogSec passes without a heartbeat: never here
    gaps = [later - earlier for earlier, later in zip([started, *beats], beats, strict=False)]
    assert max(gaps[1:]) < WATCHDOG_SECONDS, gaps
    assert max(gaps[2:]) < WATCHDOG_SECONDS / 2 + 0.5, gaps  # waits are cut to WatchdogSec/2
    statuses = [m["STATUS"] for m in messages if "WATCHDOG" in m and "STATUS" in m]
    assert statuses and statuses[-1].startswith("letzter Abruf 30.03. 09:00 (ok)"), statuses
    assert messages[-1] == {"STOPPING": "1", "STATUS": "Dienst wird beendet"}


def test_an_abstract_socket_works_too(site: Site) -> None:
    name = f"jhm-sd-test-{os.getpid()}"
    systemd = FakeSystemd("\0" + name)
    result = run_service(site, "@" + name, seconds=1.5)
    systemd.close()
    assert result.returncode == 0, result.stderr
    assert systemd.received[0][1]["READY"] == "1"
    assert systemd.times_of("WATCHDOG")


def test_without_notify_socket_nothing_is_sent_and_a_dead_socket_does_not_stop_the_service(
    site: Site, short_dir: Path
) -> None:
    silent = Notifier({})
    assert not silent.active and silent.interval is None
    silent.ready("x")
    silent.alive("x")  # no socket, no error
    other_pid = Notifier({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"})
    assert other_pid.interval is None  # the heartbeat is expected from another process
    assert Notifier({"WATCHDOG_USEC": "2000000"}).interval == 1.0

    result = run_service(site, str(short_dir / "nobody-listens"), seconds=1.5)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Meldung an systemd nicht möglich") == 1
