"""Exchange Online as it really behaves (issue 18), against the project's Graph fake taught the
behaviour Microsoft documents: late Sent Items copies, lasting throttling, revoked tokens,
case-insensitive folder names, national clouds and immutable ids.

The real GraphMailbox, the real outbox and SQLite state, the real msal where sign-in matters.
Time is a parameter: the fake's clock and the outbox's `now` are moved by hand, nothing sleeps.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from fake_graph import FakeGraphServer, start_server
from test_mailbox_graph import T0, Sleeps, deliver, mailbox_for

from jugendhaus_mail.config import Settings, load_settings
from jugendhaus_mail.errors import ConfigError
from jugendhaus_mail.mailbox import Folder, graph_auth, open_mailbox
from jugendhaus_mail.mailbox.graph import GraphMailbox
from jugendhaus_mail.mailbox.retry import lasting_throttling
from jugendhaus_mail.notify.outbox import Outbox, undelivered_mail
from jugendhaus_mail.state import StateDB

TEAM = "team@jugendhaus.example"


@pytest.fixture
def server() -> Iterator[FakeGraphServer]:
    with start_server(TEAM) as fake:
        yield fake


class Clock:
    """The fake's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def settings_for(server: FakeGraphServer, tmp_path: Path, **mailbox: object) -> Settings:
    config = tmp_path / "jugendhaus-mail.toml"
    config.write_text(
        '[office]\nholiday_region = "DE-MV"\n[workbook]\npath = "Anfrageliste.xlsx"\n'
        f'[mail]\nteam_address = "{TEAM}"\ninternal_domains = ["jugendhaus.example"]\n'
        + server.config_toml(**mailbox),
        encoding="utf-8",
    )
    return load_settings(config)


def file_all(box: GraphMailbox) -> int:
    filed = 0
    for message in box.list_new():
        box.move(message.handle, Folder.ERFASST)
        filed += 1
    return filed


def outgoing(number: int, attachment: bytes = b"") -> bytes:
    message = EmailMessage()
    message["From"] = TEAM
    message["To"] = f"jsb{number}@jugendhaus.example"
    message["Subject"] = f"Erinnerung {number}"
    message["Message-ID"] = f"<erinnerung-{number}@jugendhaus.example>"
    message.set_content(f"Bitte an Fall {number} denken.\n")
    if attachment:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="a.pdf")
    return message.as_bytes(policy=SMTP)


def message_ids(copies: list[bytes]) -> list[str]:
    return sorted(str(email.message_from_bytes(c)["Message-ID"]) for c in copies)


def send_posts(server: FakeGraphServer) -> int:
    return sum(1 for r in server.requests if r.endswith("/sendMail"))


# -- 1. Sent Items appears late ------------------------------------------------------------------


def test_a_lost_send_answer_with_the_copy_appearing_8_s_later_gives_exactly_one_mail(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    clock = Clock(T0)
    server.state.clock = clock
    server.state.sent_copy_delay = 8  # Exchange files the copy 8 s after the 202
    server.inject_fault("drop_after", match="/sendMail")  # the first sendMail's answer is lost
    settings = settings_for(server, tmp_path)
    with StateDB(settings.state_dir) as state:
        for number in (1, 2, 3):
            state.queue_mail(f"mail-{number}", outgoing(number), T0)
        for seconds in (0, 4, 8, 60):  # cycles, each with its own session
            clock.now = T0 + timedelta(seconds=seconds)
            with mailbox_for(server, settings) as box:
                Outbox(settings, state, clock.now).flush(box)
            if seconds == 0:  # the rest of the queue was not held up
                assert [key for key, _ in state.unsent_mail()] == ["mail-1"]
        assert state.unsent_mail() == []
        assert undelivered_mail(state, clock.now) == []
    assert message_ids(server.sent_messages()) == [
        f"<erinnerung-{n}@jugendhaus.example>" for n in (1, 2, 3)
    ]
    assert send_posts(server) == 3


def test_a_lost_send_whose_copy_never_appears_is_sent_again_after_the_grace_period(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    clock = Clock(T0)
    server.state.clock = clock
    server.inject_fault("drop", match="/sendMail")  # cut before Exchange saw it
    settings = settings_for(server, tmp_path)  # sent_copy_grace_minutes = 10 by default
    with StateDB(settings.state_dir) as state:
        state.queue_mail("mail-1", outgoing(1), T0)
        for minutes in (0, 5, 9):
            clock.now = T0 + timedelta(minutes=minutes)
            with mailbox_for(server, settings) as box:
                Outbox(settings, state, clock.now).flush(box)
            assert server.sent_messages() == []
        assert send_posts(server) == 1
        clock.now = T0 + timedelta(minutes=10, seconds=1)
        with mailbox_for(server, settings) as box:
            Outbox(settings, state, clock.now).flush(box)
        assert state.unsent_mail() == []
    assert message_ids(server.sent_messages()) == ["<erinnerung-1@jugendhaus.example>"]
    assert send_posts(server) == 2


# -- 2. Throttling that lasts --------------------------------------------------------------------


def test_five_throttled_listings_in_a_row_still_end_in_a_complete_intake(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    server.retry_after = 1
    mails = deliver(server, 4)
    server.inject_fault("http429", count=5, match="/mailFolders/inbox/messages")
    sleeps = Sleeps()
    settings = settings_for(server, tmp_path, retries=3)  # fewer than the throttled answers
    with mailbox_for(server, settings, sleeps) as box:
        assert file_all(box) == 4
    assert sleeps == [1.0] * 5
    assert server.folder_contents("Erfasst") == mails
    assert server.folder_contents("inbox") == []


def test_throttling_past_the_budget_stops_cleanly_and_the_watchdog_hears_when_it_lasts(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(server, 4)
    settings = settings_for(server, tmp_path, throttle_budget_seconds=30)
    for _ in range(2):  # two cycles in a row: the second mail's fetch is throttled for minutes
        server.inject_fault("http429", count=10, match="/$value", skip=1)
        sleeps = Sleeps()
        with mailbox_for(server, settings, sleeps) as box:
            assert file_all(box) == 1  # what was done is kept, nothing raised
        assert sum(sleeps) <= 30
        server.clear_faults()
    with StateDB(settings.state_dir) as state:
        text = lasting_throttling(state)
    assert text is not None and "2 Abrufe in Folge" in text
    with mailbox_for(server, settings) as box:  # the next cycle gets through
        assert file_all(box) == 2
    assert server.folder_contents("Erfasst") == mails
    with StateDB(settings.state_dir) as state:
        assert lasting_throttling(state) is None


# -- 3. A token refused by Graph is not a wrong password ----------------------------------------


@pytest.fixture
def via_msal(server: FakeGraphServer, monkeypatch: pytest.MonkeyPatch) -> FakeGraphServer:
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return server


def test_a_token_revoked_in_the_middle_of_a_cycle_costs_no_block(
    via_msal: FakeGraphServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph_auth, "AUTHORITY_HOST", via_msal.url)
    mails = deliver(via_msal, 3)
    settings = settings_for(via_msal, tmp_path)
    with open_mailbox(settings) as box:
        for number, message in enumerate(box.list_new()):
            if number == 1:
                via_msal.revoke_token()  # revoked by the tenant's admin, or expired early
            box.move(message.handle, Folder.ERFASST)
    assert via_msal.folder_contents("Erfasst") == mails
    assert via_msal.identity.token_requests == 2


def test_a_refusal_by_the_token_endpoint_still_is_a_credentials_problem(
    via_msal: FakeGraphServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jugendhaus_mail.errors import MailboxAuthError

    deliver(via_msal, 2)
    settings = settings_for(via_msal, tmp_path, authority_host=via_msal.url)
    with open_mailbox(settings) as box, pytest.raises(MailboxAuthError, match="AADSTS7000215"):
        for message in box.list_new():
            via_msal.revoke_token()
            monkeypatch.setenv("GRAPH_TEST_SECRET", "zurückgezogen")  # secret deleted meanwhile
            box.move(message.handle, Folder.ERFASST)


# -- 4. Folder names as Exchange compares them ---------------------------------------------------


def test_an_existing_folder_in_another_case_is_used(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    with server.state.lock:
        server.state.folders["AQMkStaff"] = ("erfasst", server.state.well_known["inbox"])
    mails = deliver(server, 2)
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        assert file_all(box) == 2
    assert server.folder_names() == ["erfasst"]
    assert server.folder_contents("erfasst") == mails
    assert not [r for r in server.requests if r.startswith("POST") and r.endswith("childFolders")]


# -- 5. National clouds ---------------------------------------------------------------------------


def test_a_config_with_authority_host_signs_in_there(
    via_msal: FakeGraphServer, tmp_path: Path
) -> None:
    assert graph_auth.AUTHORITY_HOST == "https://login.microsoftonline.com"  # not patched
    mails = deliver(via_msal, 1)
    settings = settings_for(via_msal, tmp_path, authority_host=via_msal.url + "/")
    assert settings.mailbox.authority_host == via_msal.url
    with open_mailbox(settings) as box:
        assert [m.raw for m in box.list_new()] == mails
    assert via_msal.identity.token_requests == 1
    # the permission is asked for on the cloud's own Graph host
    assert via_msal.identity.scopes == [f"{via_msal.url}/.default"]


@pytest.mark.parametrize(
    "value", ["login.microsoftonline.us", "http://login.example", "https://a/b"]
)
def test_authority_host_must_be_an_https_host(
    server: FakeGraphServer, tmp_path: Path, value: str
) -> None:
    with pytest.raises(ConfigError, match=r"\[mailbox\] authority_host .*login\.microsoftonline"):
        settings_for(server, tmp_path, authority_host=value)


# -- 6. Immutable ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("honoured", [True, False], ids=["immutable", "tenant-ignores-it"])
def test_immutable_ids_are_asked_for_and_filing_works_either_way(
    server: FakeGraphServer, tmp_path: Path, honoured: bool
) -> None:
    server.state.honour_immutable_ids = honoured
    mails = deliver(server, 3)
    server.inject_fault("drop_after", match="/move")  # the first move's answer is lost
    settings = settings_for(server, tmp_path)
    with mailbox_for(server, settings) as box:
        handles = [m.handle for m in box.list_new()]
        for handle in handles:
            box.move(handle, Folder.ERFASST)
    graph_calls = [r for r in server.requests if " /v1.0/" in r]
    assert server.immutable_id_requests == len(graph_calls)
    with server.state.lock:
        filed_ids = {m.id for m in server.state.messages.values()}
    assert (set(handles) == filed_ids) is honoured  # the id survived the move
    with mailbox_for(server, settings) as box:  # a stale handle in a later session
        box.move(handles[0], Folder.NICHT_ERFASST)
    assert server.folder_contents("Erfasst") == mails
    assert server.folder_names() == ["Erfasst"]


# -- issue 12, item 12: one undeliverable mail does not block the others --------------------------


def test_a_mail_over_the_tenants_size_limit_is_listed_and_the_rest_is_sent(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    server.state.max_send_bytes = 60_000  # the tenant's MaxSendSize, far below Graph's 4 MB
    settings = settings_for(server, tmp_path)
    with StateDB(settings.state_dir) as state:
        state.queue_mail("2026-0001|reminder", outgoing(1), T0)
        state.queue_mail("2026-0002|letter", outgoing(2, attachment=bytes(80_000)), T0)
        state.queue_mail("2026-0003|kinderschutz", outgoing(3), T0)
        for minutes in (0, 30):
            with mailbox_for(server, settings) as box:
                Outbox(settings, state, T0 + timedelta(minutes=minutes)).flush(box)
        (failed,) = undelivered_mail(state, T0 + timedelta(hours=2))
    assert failed.key == "2026-0002|letter" and failed.failed
    assert "ErrorMessageSizeExceeded" in failed.line()
    assert "jsb2@jugendhaus.example" in failed.line()
    assert message_ids(server.sent_messages()) == [
        "<erinnerung-1@jugendhaus.example>",
        "<erinnerung-3@jugendhaus.example>",
    ]
    assert send_posts(server) == 3  # the refused mail was not tried again


def test_the_watchdog_reports_throttling_that_lasts_across_cycles_and_the_all_clear(
    tmp_path: Path,
) -> None:
    from jugendhaus_mail.mailbox.retry import note_throttled_cycle
    from jugendhaus_mail.service.health import Status
    from jugendhaus_mail.service.watchdog import run_watchdog
    from tests.site import STAFF, make_site, outgoing, set_staff

    site = make_site(tmp_path / "site", 'admin_address = "it-jugendhaus@rostock.de"\n')
    set_staff(site, STAFF)
    settings = load_settings(site.config)
    now = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    note_throttled_cycle(settings, throttled=True)
    app = site.app(now)
    with app.state() as state:  # one cut-short cycle is no news yet
        assert "throttled" not in run_watchdog(app, state, Status()).raised
    note_throttled_cycle(settings, throttled=True)
    with app.state() as state:
        assert "throttled" in run_watchdog(app, state, Status()).raised
    alerts = [m.get_body(("plain",)).get_content() for m in outgoing(site)]  # type: ignore[union-attr]
    assert any("drosselt den Dienst" in text and "2 Abrufe in Folge" in text for text in alerts)
    note_throttled_cycle(settings, throttled=False)  # a cycle got through
    app = site.app(now + timedelta(minutes=5))
    with app.state() as state:
        assert "throttled" in run_watchdog(app, state, Status()).cleared
