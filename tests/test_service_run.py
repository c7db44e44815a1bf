"""`jugendhaus-mail run` as a real process: intake at start, the timetable, new mail within
seconds, one instance per config, a clean SIGTERM, and the watchdog's alerts and all-clears.

The service's clock starts at `--now` and runs 60 times as fast as real time
(JUGENDHAUS_MAIL_CLOCK_RATE=60, honoured only with --now): one clock minute is one real second.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from jugendhaus_mail.mailbox.maildir import deliver
from jugendhaus_mail.service.clock import RATE_ENV
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

SERVICE_CONFIG = """admin_address = "it-jugendhaus@rostock.de"
[schedule]
intake_minutes = 1
reminder_times = ["08:00"]
digest_time = "07:00"
[watchdog]
intake_overdue_minutes = 3
pending_minutes = 2
"""


class Running:
    """A `run` process whose log (stderr) is collected line by line."""

    def __init__(self, site: Site, now: str, *args: str) -> None:
        command = [sys.executable, "-m", "jugendhaus_mail", "--config", str(site.config)]
        self.process = subprocess.Popen(
            [*command, "--now", now, "run", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, RATE_ENV: "60"},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{what}: nicht eingetreten\n{self.log}")
            time.sleep(0.05)

    def logged(self, text: str) -> Callable[[], bool]:
        return lambda: any(text in line for line in self.lines)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=5)
        return code


@pytest.fixture
def started() -> Iterator[Callable[..., Running]]:
    processes: list[Running] = []

    def start(site: Site, now: str, *args: str) -> Running:
        processes.append(Running(site, now, *args))
        return processes[-1]

    yield start
    for running in processes:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site", SERVICE_CONFIG)  # admin_address lands in [mail]
    set_staff(site, STAFF)
    return site


def subjects(site: Site) -> list[str]:
    return [str(m["Subject"]) for m in outgoing(site)]


def sent(site: Site, start: str) -> list[EmailMessage]:
    return [m for m in outgoing(site) if str(m["Subject"]).startswith(start)]


def mail(number: int) -> bytes:
    return request_mail(f"Fallanfrage {number}", "Hallo", message_id=f"<r{number}@jobcenter-ge.de>")


def test_run_takes_in_at_start_keeps_its_timetable_and_is_the_only_instance(
    site: Site, started: Callable[..., Running]
) -> None:
    site.deliver(mail(1), utc(2026, 3, 30, 5, 0), "m1")
    running = started(site, "2026-03-30T07:56")
    running.wait_for("Abruf beim Start", lambda: len(site.folder("Erfasst")) == 1)
    running.wait_for("Tagesüberblick nachgeholt", lambda: bool(sent(site, "Tagesüberblick")))
    assert "Nachgeholt (Zeitpunkt verpasst, während der Dienst nicht lief): digest" in running.log
    running.wait_for("Erinnerungen um 08:00", running.logged("Erinnerungen: "))
    assert (
        "Nachgeholt (Zeitpunkt verpasst, während der Dienst nicht lief): remind" not in running.log
    )
    running.wait_for(
        "Abruf alle Minute",
        lambda: (
            sum("Abruf des Postfachs: keine neuen Mails" in line for line in running.lines) >= 2
        ),
    )
    site.deliver(mail(2), utc(2026, 3, 30, 6, 0), "m2")
    running.wait_for(
        "neue Mail innerhalb von Sekunden", lambda: len(site.folder("Erfasst")) == 2, 5
    )

    second = site.cli("run", now="2026-03-30T08:00", check=False)
    assert second.returncode == 2
    assert "arbeitet bereits mit dieser Konfiguration" in second.stderr
    assert "Befehl `run`" in second.stderr
    for command in ("poll", "remind", "digest"):
        refused = site.cli(command, now="2026-03-30T08:00", check=False)
        assert refused.returncode == 2 and "startet deshalb nicht" in refused.stderr, command
    assert site.cli("poll", "--dry-run", now="2026-03-30T08:00").returncode == 0

    assert running.stop() == 0
    assert running.lines[-1].endswith("Dienst beendet")
    assert len(sent(site, "Tagesüberblick")) == 1
    status = json.loads((site.root / "state" / "status.json").read_text(encoding="utf-8"))
    assert status["running"] is False
    assert {"intake", "watchdog", "digest", "remind"} <= set(status["jobs"])
    assert all(job["result"] == "ok" for job in status["jobs"].values())


def test_sigterm_lets_the_running_intake_finish_then_exits_zero(
    site: Site, started: Callable[..., Running]
) -> None:
    running = started(site, "2026-03-30T09:00")
    running.wait_for("Start", running.logged("Abruf des Postfachs"))
    staging = site.root / "staging"
    for number in range(1, 121):
        deliver(staging, mail(number), utc(2026, 3, 30, 6, 0), f"m{number}")
    for path in sorted((staging / "new").iterdir()):  # all at once: one intake takes them all
        path.rename(site.maildir / "new" / path.name)
    running.wait_for("Abruf läuft", running.logged("Mail 2026-0001: erfasst"))
    assert running.stop() == 0
    log = running.log
    assert log.index("SIGTERM empfangen") < log.index("Abruf des Postfachs: 120 Mail(s)")
    assert log.rstrip().endswith("Dienst beendet")
    assert len(site.folder("Erfasst")) == 120 and site.inbox() == []
    numbers = [row["Nr."].value for row in site.requests()]
    assert len(numbers) == 120 and len(set(numbers)) == 120


def test_workbook_open_too_long_asks_the_jsb_to_close_it_once_then_gives_the_all_clear(
    site: Site, started: Callable[..., Running]
) -> None:
    lock = site.root / ".~lock.Anfrageliste.xlsx#"
    lock.write_text(",Maria Meier,pc1,30.03.2026 08:55,file:///x;", encoding="utf-8")
    site.deliver(mail(1), utc(2026, 3, 30, 6, 50), "m1")
    running = started(site, "2026-03-30T09:00")
    running.wait_for("Bitte an die JSB", lambda: bool(sent(site, "Bitte Anfrageliste schließen")))
    [ask] = sent(site, "Bitte Anfrageliste schließen")
    assert str(ask["Subject"]) == "Bitte Anfrageliste schließen – 1 Anfrage wartet"
    assert str(ask["To"]) == "lena.kowalski@rostock.de"
    assert str(ask["Cc"]) == "it-jugendhaus@rostock.de"
    assert "Maria Meier" in ask.get_body(("plain",)).get_content()
    assert site.requests() == []

    lock.unlink()
    running.wait_for("Entwarnung", lambda: bool(sent(site, "jugendhaus-mail: wieder in Ordnung")))
    assert [row["Nr."].value for row in site.requests()] == ["2026-0001"]
    time.sleep(1.5)  # more cycles: nothing is sent twice
    assert running.stop() == 0
    assert len(sent(site, "Bitte Anfrageliste schließen")) == 1
    assert len(sent(site, "jugendhaus-mail: wieder in Ordnung")) == 1


def test_mailbox_down_is_reported_once_and_cleared_when_it_is_back(
    site: Site, started: Callable[..., Running]
) -> None:
    running = started(site, "2026-03-30T09:00")
    running.wait_for("Start und Nachholen", running.logged("Erinnerungen: "))
    away = site.root / "postfach-weg"
    site.maildir.rename(away)
    running.wait_for("Warnung", running.logged("Warnung: Seit"))
    status_file = site.root / "state" / "status.json"
    status = json.loads(status_file.read_text(encoding="utf-8"))
    assert status["jobs"]["intake"]["result"] == "fehlgeschlagen"
    # a minute after the file's last report: the watchdog saw the gap a moment after the intake
    # that wrote the file, so at that very moment it may have been just under the limit
    later = datetime.fromisoformat(status["updated"]) + timedelta(minutes=1)
    check = site.cli("check", now=later.isoformat(), check=False)
    assert check.returncode == 1
    assert "kein erfolgreicher Abruf des Postfachs" in check.stdout
    assert "Abruf des Postfachs: letzter Lauf" in check.stdout

    away.rename(site.maildir)  # the alert could not go out meanwhile: it was queued
    running.wait_for("Entwarnung", lambda: bool(sent(site, "jugendhaus-mail: wieder in Ordnung")))
    assert running.stop() == 0
    [alert] = sent(site, "jugendhaus-mail: Störung")
    assert str(alert["To"]) == "it-jugendhaus@rostock.de"
    assert "kein erfolgreicher Abruf des Teampostfachs" in str(alert["Subject"])
    assert "ist kein Maildir" in alert.get_body(("plain",)).get_content()
    assert len(sent(site, "jugendhaus-mail: wieder in Ordnung")) == 1


def test_a_killed_service_leaves_no_lock_behind(
    site: Site, started: Callable[..., Running]
) -> None:
    running = started(site, "2026-03-30T09:00")
    running.wait_for("Start", running.logged("Abruf des Postfachs"))
    running.process.kill()  # SIGKILL: no cleanup at all
    running.process.wait()
    assert site.cli("poll", now="2026-03-30T09:05").returncode == 0
    check = site.cli("check", now="2026-03-30T09:05")
    assert "Dienst läuft gerade nicht" in check.stdout
