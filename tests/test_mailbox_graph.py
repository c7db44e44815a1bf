"""The Graph backend: the real GraphMailbox HTTP code and real msal against a fake Graph server.

Only the token provider is replaced in most tests; the msal tests run the real client-credentials
flow (secret and certificate) against the fake identity endpoints over TLS.
"""

from __future__ import annotations

import email
import email.policy
import logging
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fake_graph import FakeGraphServer, self_signed_certificate, start_server

from jugendhaus_mail.config import Settings, load_settings
from jugendhaus_mail.errors import ConfigError, MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import Folder, Mailbox, graph, graph_auth, open_mailbox
from jugendhaus_mail.mailbox.graph import GraphMailbox
from jugendhaus_mail.mailbox.graph_auth import MsalTokenProvider
from jugendhaus_mail.mailbox.graph_diagnose import diagnose
from jugendhaus_mail.mailbox.retry import ThrottledError

T0 = datetime(2026, 3, 9, 7, 45, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FakeGraphServer]:
    with start_server() as fake:
        yield fake


def settings_for(server: FakeGraphServer, tmp_path: Path, **mailbox: object) -> Settings:
    config = tmp_path / "jugendhaus-mail.toml"
    config.write_text(
        '[office]\nholiday_region = "DE-MV"\n[workbook]\npath = "Anfrageliste.xlsx"\n'
        + server.config_toml(**mailbox),
        encoding="utf-8",
    )
    return load_settings(config)


def raw_mail(number: int) -> bytes:
    return (
        f"From: ifk{number}@jobcenter-ge.de\r\nTo: team@jugendhaus.example\r\n"
        f"Message-ID: <anfrage-{number}@jobcenter-ge.de>\r\nSubject: Anfrage {number}\r\n\r\n"
        f"Bitte um Beratung, Fall {number}.\r\n"
    ).encode()


def deliver(server: FakeGraphServer, count: int) -> list[bytes]:
    mails = [raw_mail(n) for n in range(count)]
    for n, raw in enumerate(mails):
        server.deliver(raw, T0 + timedelta(minutes=n))
    return mails


class Sleeps(list[float]):
    """Records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def mailbox_for(
    server: FakeGraphServer, settings: Settings, sleeps: Sleeps | None = None
) -> GraphMailbox:
    """The real backend; only the token comes straight from the fake instead of from msal."""
    return GraphMailbox(
        settings,
        token_provider=lambda: server.token,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def file_all(box: GraphMailbox) -> None:
    """One intake cycle as the service runs it: list, then file each mail."""
    for message in box.list_new():
        box.move(message.handle, Folder.ERFASST)


def graph_requests(server: FakeGraphServer, part: str) -> list[str]:
    return [r for r in server.requests if part in r]


# -- reading ------------------------------------------------------------------------------------


def test_lists_oldest_first_with_receipt_time_and_full_mime(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    later, earlier = raw_mail(1), raw_mail(2)
    server.deliver(later, T0 + timedelta(hours=2))
    server.deliver(earlier, T0)
    box: Mailbox = mailbox_for(server, settings_for(server, tmp_path))  # fits the protocol
    with box:
        messages = list(box.list_new())
    assert [m.raw for m in messages] == [earlier, later]
    assert [m.received for m in messages] == [T0, T0 + timedelta(hours=2)]
    assert messages[0].received.tzinfo is not None


def test_follows_next_link_paging_up_to_the_batch_size(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(server, 250)
    with mailbox_for(server, settings_for(server, tmp_path, batch_size=230)) as box:
        messages = list(box.list_new())
    assert [m.raw for m in messages] == mails[:230]
    assert len(graph_requests(server, "/mailFolders/inbox/messages")) == 3


def test_filing_mail_while_iterating_skips_none(
    server: FakeGraphServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Graph pages with $skip: moving mail between two pages must not hide the next page.
    monkeypatch.setattr(graph, "PAGE_SIZE", 10)
    mails = deliver(server, 35)
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        file_all(box)
    assert server.folder_contents("Erfasst") == mails
    assert server.folder_contents("inbox") == []


# -- filing -------------------------------------------------------------------------------------


def test_move_creates_each_folder_once_and_tolerates_repeats(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(server, 3)
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        first, second, third = box.list_new()
        box.move(first.handle, Folder.ERFASST)
        box.move(second.handle, Folder.ERFASST)
        box.move(third.handle, Folder.NICHT_ERFASST)
        box.move(first.handle, Folder.ERFASST)  # crash between move and bookkeeping
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        box.move(first.handle, Folder.NICHT_ERFASST)  # stale handle in a later session
        assert list(box.list_new()) == []
    assert server.folder_names() == ["Erfasst", "Nicht erfasst"]
    assert server.folder_contents("Erfasst") == mails[:2]
    assert server.folder_contents("Nicht erfasst") == mails[2:]
    assert len(graph_requests(server, "POST /v1.0/users/team@jugendhaus.example/mailFolders")) == 2


def test_folder_created_by_someone_else_meanwhile_is_used(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(server, 1)
    # The create request goes through but its answer is lost; the retry gets 409 and looks up.
    server.inject_fault("drop_after", match="POST /v1.0/users/team@jugendhaus.example/mailFolders")
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        file_all(box)
    assert server.folder_names() == ["Erfasst"]
    assert server.folder_contents("Erfasst") == mails


def test_a_404_on_move_while_the_mail_is_still_there_is_not_taken_as_done(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(server, 1)
    server.inject_fault("http404", match="/move")
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        file_all(box)
    assert server.folder_contents("Erfasst") == mails
    assert server.folder_contents("inbox") == []


# -- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http429", "http503"])
def test_throttling_waits_as_long_as_the_server_asks(
    server: FakeGraphServer, tmp_path: Path, kind: str
) -> None:
    mails = deliver(server, 2)
    server.inject_fault(kind, match="/messages")
    server.inject_fault(kind, match="/$value", skip=1)
    sleeps = Sleeps()
    with mailbox_for(server, settings_for(server, tmp_path), sleeps) as box:
        assert [m.raw for m in box.list_new()] == mails
    assert sleeps == [7.0, 7.0]


def test_dropped_connections_are_retried_and_a_lost_move_answer_is_harmless(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(server, 2)
    server.inject_fault("drop", match="/$value")
    server.inject_fault("drop_after", match="/move")
    sleeps = Sleeps()
    with mailbox_for(server, settings_for(server, tmp_path), sleeps) as box:
        file_all(box)
    assert server.folder_contents("Erfasst") == mails
    assert server.folder_contents("inbox") == []
    assert len(sleeps) == 2


def test_persistent_throttling_stops_the_cycle_when_its_budget_is_spent(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    deliver(server, 1)
    server.inject_fault("http503", count=10)
    sleeps = Sleeps()
    settings = settings_for(server, tmp_path, retries=2, throttle_budget_seconds=20)
    with (
        mailbox_for(server, settings, sleeps) as box,
        pytest.raises(ThrottledError, match="throttle_budget_seconds"),
    ):
        list(box.list_new())
    assert sleeps == [7.0, 7.0]  # a third wait would pass the 20 s
    assert len(server.requests) == 3


def test_a_server_error_without_throttling_gives_up_after_the_configured_retries(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    deliver(server, 1)
    server.inject_fault("drop", count=10)
    sleeps = Sleeps()
    with (
        mailbox_for(server, settings_for(server, tmp_path, retries=2), sleeps) as box,
        pytest.raises(MailboxError, match="nach 3 Versuchen"),
    ):
        list(box.list_new())
    assert len(sleeps) == 2
    assert len(server.requests) == 3


def test_refused_token_is_reported_once_and_not_retried(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    deliver(server, 1)
    sleeps = Sleeps()
    box = GraphMailbox(
        settings_for(server, tmp_path), token_provider=lambda: "abgelaufen", sleep=sleeps
    )
    with box, pytest.raises(MailboxAuthError) as failure:
        list(box.list_new())
    assert "6 bis 24 Monaten" in str(failure.value)
    assert len(server.requests) == 1
    assert sleeps == []


def test_missing_permission_says_which_rights_the_app_needs(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    server.inject_fault("http403")
    with (
        mailbox_for(server, settings_for(server, tmp_path)) as box,
        pytest.raises(MailboxAuthError, match=r"Mail\.ReadWrite und Mail\.Send") as failure,
    ):
        list(box.list_new())
    assert "team@jugendhaus.example" in str(failure.value)


def test_unknown_mailbox_names_the_address(server: FakeGraphServer, tmp_path: Path) -> None:
    settings = settings_for(server, tmp_path, address="gibtsnicht@jugendhaus.example")
    with (
        mailbox_for(server, settings) as box,
        pytest.raises(MailboxError, match=r"gibtsnicht@jugendhaus\.example.*ErrorInvalidUser"),
    ):
        list(box.list_new())


@pytest.mark.parametrize("seed", range(12))
def test_a_fault_at_any_point_loses_and_doubles_nothing(
    server: FakeGraphServer, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    mails = deliver(server, 8)
    kind = rng.choice(["http429", "http503", "drop", "drop_after", "http404", "http401"])
    # 8 mails: 1 listing, 8 MIME reads, 2 folder requests, 8 moves
    server.inject_fault(kind, skip=rng.randint(0, 18))
    settings = settings_for(server, tmp_path, retries=0)
    try:
        with mailbox_for(server, settings) as box:
            file_all(box)
    except MailboxError:
        pass  # the cycle failed; the service simply runs the next one
    assert server.faults_served == [kind]
    server.clear_faults()
    for _ in range(3):  # the next cycles run clean
        with mailbox_for(server, settings) as box:
            file_all(box)
    assert sorted(server.folder_contents("Erfasst")) == sorted(mails)
    assert server.folder_contents("inbox") == []


# -- sending ------------------------------------------------------------------------------------


def reminder(attachment: bytes = b"%PDF-1.7 Einladung") -> EmailMessage:
    message = EmailMessage()
    message["To"] = "ifk@jobcenter-ge.de"
    message["Subject"] = "Erinnerung: Frist Ansprechpartner"
    message.set_content("Guten Tag,\nbitte denken Sie an die Frist.\n")
    message.add_attachment(
        attachment, maintype="application", subtype="pdf", filename="Einladung.pdf"
    )
    return message


def test_send_goes_out_as_the_team_mailbox_with_attachment_and_a_copy(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    original = reminder()
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        box.send(original)
    (copy,) = server.sent_messages()
    sent = email.message_from_bytes(copy, policy=email.policy.default)
    assert sent["From"] == "team@jugendhaus.example"
    assert sent["Message-ID"]
    (attachment,) = sent.iter_attachments()
    assert attachment.get_filename() == "Einladung.pdf"
    assert attachment.get_content() == b"%PDF-1.7 Einladung"
    assert original["Message-ID"] is None  # the caller's message is left as it was


def test_send_whose_answer_was_lost_is_not_sent_twice(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    server.inject_fault("drop_after", match="/sendMail")
    with mailbox_for(server, settings_for(server, tmp_path)) as box:
        box.send(reminder())
    assert len(server.sent_messages()) == 1
    assert graph_requests(server, "GET /v1.0/users/team@jugendhaus.example/mailFolders/sentitems")


def test_throttled_send_waits_and_then_sends_once(server: FakeGraphServer, tmp_path: Path) -> None:
    server.inject_fault("http429", match="/sendMail")
    sleeps = Sleeps()
    with mailbox_for(server, settings_for(server, tmp_path), sleeps) as box:
        box.send(reminder())
    assert sleeps == [7.0]
    assert len(server.sent_messages()) == 1


def test_mail_over_the_graph_size_limit_is_refused_before_sending(
    server: FakeGraphServer, tmp_path: Path
) -> None:
    with (
        mailbox_for(server, settings_for(server, tmp_path)) as box,
        pytest.raises(MailboxError, match="höchstens 4 MB"),
    ):
        box.send(reminder(attachment=bytes(3_200_000)))
    assert server.requests == []


# -- real msal sign-in --------------------------------------------------------------------------


@pytest.fixture
def via_msal(server: FakeGraphServer, monkeypatch: pytest.MonkeyPatch) -> FakeGraphServer:
    """Point the real msal at the fake identity endpoints (no network beyond 127.0.0.1)."""
    monkeypatch.setattr(graph_auth, "AUTHORITY_HOST", server.url)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return server


def test_msal_signs_in_with_the_client_secret_and_reuses_the_token(
    via_msal: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(via_msal, 3)
    with open_mailbox(settings_for(via_msal, tmp_path)) as box:
        for message in box.list_new():
            box.move(message.handle, Folder.ERFASST)
    assert via_msal.folder_contents("Erfasst") == mails
    assert via_msal.identity.token_requests == 1


def test_msal_signs_in_with_a_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certificate, key = self_signed_certificate("jugendhaus-mail")
    pem = tmp_path / "jugendhaus-mail.pem"
    pem.write_bytes(key + certificate)
    with start_server(client_secret="", certificate_pem=certificate) as fake:
        monkeypatch.setattr(graph_auth, "AUTHORITY_HOST", fake.url)
        mails = deliver(fake, 1)
        settings = settings_for(fake, tmp_path, client_secret_env="", certificate_path=str(pem))
        with open_mailbox(settings) as box:
            assert [m.raw for m in box.list_new()] == mails
        assert fake.identity.token_requests == 1


def test_certificate_not_registered_at_the_app_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered, _ = self_signed_certificate("registriert")
    other, other_key = self_signed_certificate("anderes")
    pem = tmp_path / "anderes.pem"
    pem.write_bytes(other_key + other)
    with start_server(client_secret="", certificate_pem=registered) as fake:
        monkeypatch.setattr(graph_auth, "AUTHORITY_HOST", fake.url)
        settings = settings_for(fake, tmp_path, client_secret_env="", certificate_path=str(pem))
        with open_mailbox(settings) as box, pytest.raises(MailboxAuthError, match="AADSTS700027"):
            list(box.list_new())


def test_wrong_secret_is_explained_once_and_never_shown(
    via_msal: FakeGraphServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "Falsches~Geheimnis~0815"
    monkeypatch.setenv("GRAPH_TEST_SECRET", wrong)
    caplog.set_level(logging.DEBUG)
    with (
        open_mailbox(settings_for(via_msal, tmp_path)) as box,
        pytest.raises(MailboxAuthError) as failure,
    ):
        list(box.list_new())
    text = str(failure.value)
    assert "AADSTS7000215" in text and "Client-Geheimnis" in text and "laufen ab" in text
    assert wrong not in text and wrong not in caplog.text
    assert all(wrong not in str(arg) for r in caplog.records for arg in (r.args or ()))
    assert via_msal.identity.token_requests == 1
    assert graph_requests(via_msal, "/v1.0/") == []


def test_unknown_tenant_is_named(via_msal: FakeGraphServer, tmp_path: Path) -> None:
    settings = settings_for(via_msal, tmp_path, tenant_id="vertippt-0000")
    with open_mailbox(settings) as box, pytest.raises(MailboxAuthError, match="vertippt-0000"):
        list(box.list_new())


def test_missing_secret_variable_names_it(
    server: FakeGraphServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUGENDHAUS_GRAPH_SECRET", raising=False)
    settings = settings_for(server, tmp_path, client_secret_env="JUGENDHAUS_GRAPH_SECRET")
    with open_mailbox(settings) as box, pytest.raises(ConfigError, match="JUGENDHAUS_GRAPH_SECRET"):
        list(box.list_new())


def test_token_is_cached_until_shortly_before_it_expires(
    via_msal: FakeGraphServer, tmp_path: Path
) -> None:
    now = [1000.0]
    provider = MsalTokenProvider(settings_for(via_msal, tmp_path), clock=lambda: now[0])
    assert provider() == via_msal.token
    now[0] += 3599 - 301
    provider()
    assert via_msal.identity.token_requests == 1
    now[0] += 2
    provider()
    assert via_msal.identity.token_requests == 2


def test_token_refused_by_graph_is_fetched_anew_within_the_same_call(
    via_msal: FakeGraphServer, tmp_path: Path
) -> None:
    mails = deliver(via_msal, 1)
    via_msal.inject_fault("http401")
    with open_mailbox(settings_for(via_msal, tmp_path)) as box:
        assert [m.raw for m in box.list_new()] == mails
    assert via_msal.identity.token_requests == 2


@pytest.mark.parametrize("endpoint", ["/.well-known/openid-configuration", "/oauth2/v2.0/token"])
def test_unreachable_sign_in_service_is_retried_then_reported(
    via_msal: FakeGraphServer, tmp_path: Path, endpoint: str
) -> None:
    via_msal.inject_fault("drop", count=10, match=endpoint)
    sleeps = Sleeps()
    box = GraphMailbox(settings_for(via_msal, tmp_path, retries=2), sleep=sleeps)
    with box, pytest.raises(MailboxError, match=r"Anmeldedienst .* nicht erreichbar"):
        list(box.list_new())
    assert len(sleeps) == 2
    assert graph_requests(via_msal, "/v1.0/") == []


# -- check --------------------------------------------------------------------------------------


def test_diagnose_walks_through_every_step(via_msal: FakeGraphServer, tmp_path: Path) -> None:
    deliver(via_msal, 2)
    lines = diagnose(settings_for(via_msal, tmp_path), send_test_to="admin@jugendhaus.example")
    assert [ok for ok, _ in lines] == [True] * 6
    texts = "\n".join(text for _, text in lines)
    assert f"Anmeldung bei {via_msal.url}, Postfach über {via_msal.graph_url}" in texts
    assert "Posteingang von team@jugendhaus.example lesbar: 2 Nachrichten" in texts
    assert "„Erfasst“ unter dem Posteingang: neu angelegt" in texts
    assert "Testnachricht an admin@jugendhaus.example gesendet" in texts
    assert via_msal.folder_names() == ["Erfasst", "Nicht erfasst"]
    (test_mail,) = via_msal.sent_messages()
    assert b"To: admin@jugendhaus.example" in test_mail


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda s: s.inject_fault("http403"), "Mail.ReadWrite"),
        (lambda s: s.inject_fault("drop", count=10, match="/token"), "nicht erreichbar"),
    ],
)
def test_diagnose_stops_at_the_first_failure_with_advice(
    via_msal: FakeGraphServer,
    tmp_path: Path,
    break_it: Callable[[FakeGraphServer], None],
    expected: str,
) -> None:
    break_it(via_msal)
    lines = diagnose(settings_for(via_msal, tmp_path, retries=0), send_test_to="a@b.example")
    assert lines[-1][0] is False and expected in lines[-1][1]
    assert all(ok for ok, _ in lines[:-1])
    assert via_msal.sent_messages() == []
