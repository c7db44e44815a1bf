"""New mail wakes the service within seconds on EWS (pull notifications) and Graph (a small look
at the newest inbox mail), against the fake servers that real exchangelib and requests talk to."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jugendhaus_mail.app import App
from jugendhaus_mail.config import Settings, parse_settings
from jugendhaus_mail.mailbox import ews as ews_module
from jugendhaus_mail.mailbox import graph as graph_module
from jugendhaus_mail.mailbox.ews import EwsMailbox
from jugendhaus_mail.mailbox.graph import GraphMailbox
from jugendhaus_mail.service.clock import SystemClock
from jugendhaus_mail.service.watcher import MailboxWatcher, watcher_for
from jugendhaus_mail.workdays import WorkCalendar
from tests import fake_ews, fake_graph

PASSWORD_ENV = "EWS_TEST_PASSWORD"
POLL = 0.1  # seconds between two looks; production uses 5 s (EWS) and 15 s (Graph)
T0 = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
HEAD = '[office]\nholiday_region = "DE-MV"\n[workbook]\npath = "Anfrageliste.xlsx"\n'


def mail(n: int) -> bytes:
    return (
        f"From: ifk{n}@jobcenter-ge.de\r\nTo: team@jugendhaus.example\r\nSubject: Anfrage {n}\r\n"
        f"Message-ID: <anfrage-{n}@jobcenter-ge.de>\r\n\r\nBitte um Rückruf, Vorgang {n}.\r\n"
    ).encode()


def later(seconds: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def timed(wait: Callable[[float], bool], timeout: float) -> tuple[bool, float]:
    start = time.monotonic()
    return wait(timeout), time.monotonic() - start


@pytest.fixture
def ews(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[EwsMailbox, fake_ews.FakeEwsServer]]:
    with fake_ews.start_server() as server:
        monkeypatch.setenv(PASSWORD_ENV, server.password)
        text = HEAD + server.config_toml(PASSWORD_ENV)
        settings = parse_settings(tomllib.loads(text), tmp_path / "jugendhaus-mail.toml")
        box = EwsMailbox(settings, poll_seconds=POLL)
        yield box, server
        box.close()


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[tuple[GraphMailbox, fake_graph.FakeGraphServer]]:
    with fake_graph.start_server() as server:
        text = HEAD + server.config_toml()
        settings = parse_settings(tomllib.loads(text), tmp_path / "jugendhaus-mail.toml")
        box = GraphMailbox(settings, token_provider=lambda: server.token, poll_seconds=POLL)
        yield box, server
        box.close()


def test_ews_new_mail_ends_the_wait_within_a_second(
    ews: tuple[EwsMailbox, fake_ews.FakeEwsServer],
) -> None:
    box, server = ews
    server.deliver(mail(0), T0)  # already there: the scheduled intake takes it
    assert box.wait_for_mail(0.3) is False
    later(0.5, lambda: server.deliver(mail(1), T0 + timedelta(minutes=1)))
    woke, took = timed(box.wait_for_mail, 10.0)
    assert woke is True
    assert 0.4 < took < 2.0
    assert server.operations.count("Subscribe") == 1  # one subscription for all waits
    box.close()
    assert server.subscriptions() == []  # closing unsubscribes


def test_ews_mail_between_two_waits_counts(ews: tuple[EwsMailbox, fake_ews.FakeEwsServer]) -> None:
    box, server = ews
    assert box.wait_for_mail(0.2) is False
    server.deliver(mail(1), T0)  # while the service was busy with an intake
    woke, took = timed(box.wait_for_mail, 10.0)
    assert woke is True and took < 1.0


def test_ews_without_mail_waits_until_the_timeout(
    ews: tuple[EwsMailbox, fake_ews.FakeEwsServer],
) -> None:
    box, server = ews
    woke, took = timed(box.wait_for_mail, 0.6)
    assert woke is False
    assert 0.55 < took < 1.2
    assert server.operations.count("GetEvents") >= 3


@pytest.mark.parametrize("fault", ["busy", "drop", "http401"])
def test_ews_server_trouble_while_waiting_returns_false_without_raising(
    ews: tuple[EwsMailbox, fake_ews.FakeEwsServer], fault: str
) -> None:
    box, server = ews
    assert box.wait_for_mail(0.2) is False
    server.inject_fault(fault, count=1, operation="GetEvents")
    woke, took = timed(box.wait_for_mail, 10.0)
    assert woke is False and took < 2.0
    later(0.3, lambda: server.deliver(mail(1), T0))  # the next wait subscribes afresh
    assert box.wait_for_mail(10.0) is True
    assert server.operations.count("Subscribe") == 2


def test_ews_unreachable_server_returns_false_without_raising(tmp_path: Path) -> None:
    with fake_ews.start_server() as server:
        text = HEAD + server.config_toml(PASSWORD_ENV)
    settings = parse_settings(tomllib.loads(text), tmp_path / "jugendhaus-mail.toml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, "irrelevant")
        box = EwsMailbox(settings, poll_seconds=POLL)
        woke, took = timed(box.wait_for_mail, 10.0)
        box.close()
    assert woke is False and took < 5.0


def test_graph_new_mail_ends_the_wait_within_a_second(
    graph: tuple[GraphMailbox, fake_graph.FakeGraphServer],
) -> None:
    box, server = graph
    server.deliver(mail(0), T0)  # already there: the scheduled intake takes it
    assert box.wait_for_mail(0.3) is False
    later(0.5, lambda: server.deliver(mail(1), T0 + timedelta(minutes=1)))
    woke, took = timed(box.wait_for_mail, 10.0)
    assert woke is True
    assert 0.4 < took < 2.0


def test_graph_mail_filed_away_is_no_reason_to_wake(
    graph: tuple[GraphMailbox, fake_graph.FakeGraphServer],
) -> None:
    box, server = graph
    for n in range(2):
        server.deliver(mail(n), T0 + timedelta(minutes=n))
    assert box.wait_for_mail(0.2) is False
    with server.state.lock:  # the intake files the newest mail: the inbox gets "older"
        newest = server.state.in_folder("AQMkInbox")[-1]
        newest.folder = "AQMkSent"
    assert box.wait_for_mail(0.5) is False
    server.deliver(mail(2), T0 + timedelta(minutes=5))  # arrived between two waits
    woke, took = timed(box.wait_for_mail, 10.0)
    assert woke is True and took < 1.0


def test_graph_without_mail_waits_until_the_timeout(
    graph: tuple[GraphMailbox, fake_graph.FakeGraphServer],
) -> None:
    box, server = graph
    woke, took = timed(box.wait_for_mail, 0.6)
    assert woke is False
    assert 0.55 < took < 1.2
    assert len([r for r in server.requests if "inbox/messages" in r]) >= 3


@pytest.mark.parametrize("fault", ["http503", "drop", "http403"])
def test_graph_server_trouble_while_waiting_returns_false_without_raising(
    graph: tuple[GraphMailbox, fake_graph.FakeGraphServer], fault: str
) -> None:
    box, server = graph
    assert box.wait_for_mail(0.2) is False
    server.inject_fault(fault, count=1, match="inbox/messages")
    woke, took = timed(box.wait_for_mail, 10.0)
    assert woke is False and took < 2.0
    later(0.3, lambda: server.deliver(mail(1), T0))
    assert box.wait_for_mail(10.0) is True


def watcher(settings: Settings) -> MailboxWatcher:
    app = App(settings, datetime.now(UTC), WorkCalendar.from_settings(settings.office))
    found = watcher_for(app, SystemClock(), threading.Event())
    assert isinstance(found, MailboxWatcher)
    return found


def test_the_service_watcher_wakes_on_new_ews_mail_and_sleeps_after_trouble(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ews_module, "EVENT_POLL_SECONDS", POLL)
    with fake_ews.start_server() as server:
        monkeypatch.setenv(PASSWORD_ENV, server.password)
        text = HEAD + server.config_toml(PASSWORD_ENV)
        waiting = watcher(parse_settings(tomllib.loads(text), tmp_path / "jugendhaus-mail.toml"))
        try:
            assert waiting.wait(0.3) is False
            later(0.5, lambda: server.deliver(mail(1), T0))
            woke, took = timed(waiting.wait, 10.0)
            assert woke is True and took < 2.0
            server.inject_fault("busy", count=1, operation="GetEvents")
            woke, took = timed(waiting.wait, 10.0)  # trouble: back to the loop at once
            assert woke is False and took < 2.0 and waiting.broken
            asked = server.operations.count("GetEvents")
            woke, took = timed(waiting.wait, 0.4)  # until the next intake: only the timetable
            assert woke is False and took > 0.35
            assert server.operations.count("GetEvents") == asked
            waiting.reset()  # after the next intake it listens again
            later(0.3, lambda: server.deliver(mail(2), T0))
            assert waiting.wait(10.0) is True
        finally:
            waiting.close()


def test_the_service_watcher_wakes_on_new_graph_mail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(graph_module, "LOOK_SECONDS", POLL)
    with fake_graph.start_server() as server:
        monkeypatch.setenv("GRAPH_TEST_SECRET", server.env()["GRAPH_TEST_SECRET"])
        monkeypatch.setattr(
            graph_module, "MsalTokenProvider", lambda settings: lambda: server.token
        )
        text = HEAD + server.config_toml()
        waiting = watcher(parse_settings(tomllib.loads(text), tmp_path / "jugendhaus-mail.toml"))
        try:
            assert waiting.wait(0.3) is False
            later(0.5, lambda: server.deliver(mail(1), T0))
            woke, took = timed(waiting.wait, 10.0)
            assert woke is True and took < 2.0
        finally:
            waiting.close()
