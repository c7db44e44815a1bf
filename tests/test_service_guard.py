"""Wrong credentials against a real Dovecot: tried once, then left alone for an hour, reported
once to the admin, shown by `check`, and lifted by a successful log-in."""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.policy import default
from pathlib import Path

import pytest

from jugendhaus_mail.app import App
from jugendhaus_mail.config import load_settings
from jugendhaus_mail.jobs.guard import current_block
from jugendhaus_mail.service.health import Status
from jugendhaus_mail.service.watchdog import run_watchdog
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workdays import WorkCalendar
from tests.imap_server import PASSWORD, PASSWORD_ENV, ImapTestServer, start_server
from tests.site import STAFF, Site, request_mail, set_staff, utc

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
WRONG = "Falsches-Passwort-0815"
HEAD = """[office]
holiday_region = "DE-MV"
domain = "rostock.de"
[workbook]
path = "Anfrageliste.xlsx"
[mail]
team_address = "fm-jugendhaus@rostock.de"
admin_address = "it-jugendhaus@rostock.de"
"""


@dataclass
class ImapSite:
    site: Site
    server: ImapTestServer

    def logins(self) -> int:
        assert self.server.proxy is not None
        return self.server.proxy.commands.count("LOGIN")

    def sent_subjects(self) -> list[str]:
        return [
            str(email.message_from_bytes(raw, policy=default)["Subject"])
            for raw in self.server.sent_messages()
        ]

    def app(self, now: str) -> App:
        settings = load_settings(self.site.config)
        from jugendhaus_mail.service.clock import parse_now

        return App(
            settings, parse_now(now, "Europe/Berlin"), WorkCalendar.from_settings(settings.office)
        )


@pytest.fixture
def imap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapSite]:
    server = start_server()
    try:
        root = tmp_path / "site"
        root.mkdir()
        config = root / "jugendhaus-mail.toml"
        config.write_text(HEAD + server.mailbox_toml(security="none", retries=0), encoding="utf-8")
        build_workbook(root / "Anfrageliste.xlsx", load_schema())
        site = Site(root, config)
        set_staff(site, STAFF)
        monkeypatch.setenv(PASSWORD_ENV, WRONG)
        yield ImapSite(site, server)
    finally:
        server.stop()


def test_a_refused_log_in_is_tried_once_an_hour_and_lifted_by_check(
    imap: ImapSite, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = imap.site
    imap.server.deliver(
        request_mail("Fallanfrage", "Hallo", message_id="<a1@x.de>"), utc(2026, 3, 30, 7)
    )
    assert site.run("poll", now="2026-03-30T09:00") == 2
    assert "Anmeldung" in capsys.readouterr().err and imap.logins() == 1

    assert site.run("poll", now="2026-03-30T09:10") == 2
    refused = capsys.readouterr().err
    assert "versucht der Dienst es erst ab 10:00 Uhr wieder" in refused
    assert imap.logins() == 1  # not tried again within the hour
    assert site.run("remind", now="2026-03-30T09:15") == 0
    assert "Nicht gesendet: Die Anmeldung am Postfach wurde am 30.03.2026 um 09:00" in (
        capsys.readouterr().out
    )
    assert imap.logins() == 1

    # the watchdog reports it once; it stays queued while the mailbox is blocked
    for minute in ("09:20", "09:22"):
        with site_state(imap, f"2026-03-30T{minute}") as (app, state):
            run_watchdog(app, state, Status(started=app.now.isoformat()))
    assert imap.logins() == 1

    assert site.run("check", now="2026-03-30T09:30") == 1
    out = capsys.readouterr().out
    assert "PROBLEM Die Anmeldung am Postfach wurde am 30.03.2026 um 09:00 abgelehnt" in out

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)  # the admin fixes the password
    assert site.run("check", now="2026-03-30T09:40") == 0
    assert "die Sperre ist aufgehoben" in capsys.readouterr().out
    assert site.run("poll", now="2026-03-30T09:41") == 0
    with site_state(imap, "2026-03-30T09:42") as (app, state):
        assert current_block(state) is None
        run_watchdog(app, state, Status(started=app.now.isoformat()))
    subjects = imap.sent_subjects()
    problems = [s for s in subjects if s.startswith("jugendhaus-mail: Störung")]
    clears = [s for s in subjects if s.startswith("jugendhaus-mail: wieder in Ordnung")]
    assert problems == [
        "jugendhaus-mail: Störung – Das Teampostfach lehnt die Anmeldung des Dienstes ab."
    ]
    assert len(clears) == 1
    captured = capsys.readouterr()
    assert WRONG not in captured.out + captured.err and PASSWORD not in captured.out + captured.err


def test_after_an_hour_the_mailbox_is_tried_again(imap: ImapSite) -> None:
    assert imap.site.run("poll", now="2026-03-30T09:00") == 2
    assert imap.site.run("poll", now="2026-03-30T09:59") == 2
    assert imap.logins() == 1
    assert imap.site.run("poll", now="2026-03-30T10:01") == 2
    assert imap.logins() == 2
    with site_state(imap, "2026-03-30T10:02") as (_app, state):
        block = current_block(state)
    assert block is not None and block.failures == 2
    assert f"{block.since:%H:%M}" == "07:00"  # UTC: the episode started at 09:00 Berlin


@contextmanager
def site_state(imap: ImapSite, now: str) -> Iterator[tuple[App, StateDB]]:
    """(app, state) for calling the watchdog directly."""
    app = imap.app(now)
    with app.state() as state:
        yield app, state


ALERT_SCRIPT = """
import os, sys
with open(sys.argv[1], "a", encoding="utf-8") as out:
    out.write(os.environ["JHM_ALERT"] + " " + os.environ["JHM_PROBLEM"] + ": " + sys.stdin.read())
    out.write("\\n---\\n")
"""


def test_the_alert_command_tells_the_admin_while_the_mailbox_refuses_the_service(
    imap: ImapSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A warning about the mailbox cannot go out through that mailbox: `[watchdog]
    alert_command` is the second way out (each warning and all-clear, once)."""
    import sys

    script, received = tmp_path / "alert.py", tmp_path / "alerts.txt"
    script.write_text(ALERT_SCRIPT, encoding="utf-8")
    site = imap.site
    command = [sys.executable, str(script), str(received)]
    with site.config.open("a", encoding="utf-8") as config:
        config.write(f"\n[watchdog]\nalert_command = {json.dumps(command)}\n")  # JSON: TOML
    imap.server.deliver(
        request_mail("Fallanfrage", "Hallo", message_id="<b1@x.de>"), utc(2026, 3, 30, 7)
    )
    assert site.run("poll", now="2026-03-30T09:00") == 2
    for minute in ("09:20", "09:22"):
        with site_state(imap, f"2026-03-30T{minute}") as (app, state):
            run_watchdog(app, state, Status(started=app.now.isoformat()))
    alerts = received.read_text(encoding="utf-8").split("\n---\n")[:-1]
    assert len(alerts) == 1, alerts
    assert alerts[0].startswith("problem auth: ")
    assert "Das Teampostfach lehnt die Anmeldung des Dienstes ab." in alerts[0]
    assert PASSWORD not in alerts[0] and WRONG not in alerts[0]
    assert imap.sent_subjects() == []  # the mail itself still waits

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    site.run("check", now="2026-03-30T09:40")  # the admin's check lifts the block
    assert site.run("poll", now="2026-03-30T09:41") == 0
    with site_state(imap, "2026-03-30T09:42") as (app, state):
        run_watchdog(app, state, Status(started=app.now.isoformat()))
    alerts = received.read_text(encoding="utf-8").split("\n---\n")[:-1]
    assert len(alerts) == 2 and alerts[1].startswith("cleared auth: ")


def test_a_failing_alert_command_is_logged_and_changes_nothing_else(
    imap: ImapSite, caplog: pytest.LogCaptureFixture
) -> None:
    site = imap.site
    with site.config.open("a", encoding="utf-8") as config:
        config.write('\n[watchdog]\nalert_command = ["/nonexistent/jhm-alert"]\n')
    imap.server.deliver(
        request_mail("Fallanfrage", "Hallo", message_id="<b2@x.de>"), utc(2026, 3, 30, 7)
    )
    assert site.run("poll", now="2026-03-30T09:00") == 2
    with site_state(imap, "2026-03-30T09:20") as (app, state):
        report = run_watchdog(app, state, Status(started=app.now.isoformat()))
    assert report.raised == ["auth"]
    assert any("alert_command" in r.getMessage() for r in caplog.records)
