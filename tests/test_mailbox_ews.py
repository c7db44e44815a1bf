"""The EWS backend against a protocol-level fake Exchange server that real exchangelib talks to."""

from __future__ import annotations

import base64
import email
import email.policy
import logging
import random
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from jugendhaus_mail.config import Settings, parse_settings
from jugendhaus_mail.errors import ConfigError, MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import open_mailbox
from jugendhaus_mail.mailbox.base import Folder
from jugendhaus_mail.mailbox.ews import EwsMailbox
from jugendhaus_mail.mailbox.ews_diagnose import diagnose
from tests.fake_ews import BACKOFF_MILLISECONDS, RETRY_AFTER_SECONDS, FakeEwsServer, start_server

T0 = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
PASSWORD_ENV = "EWS_TEST_PASSWORD"


def mail(n: int, subject: str = "Fallanfrage") -> bytes:
    return (
        f"From: ifk{n}@jobcenter-ge.de\r\nTo: team@jugendhaus.example\r\n"
        f"Subject: {subject} {n}\r\nMessage-ID: <anfrage-{n}@jobcenter-ge.de>\r\n"
        f"Date: Mon, 02 Nov 2026 09:00:00 +0100\r\n\r\nBitte um Rückruf, Vorgang {n}.\r\n"
    ).encode()


def make_settings(server: FakeEwsServer, tmp_path: Path, **mailbox: object) -> Settings:
    text = (
        '[office]\nholiday_region = "DE-MV"\n[workbook]\npath = "Anfrageliste.xlsx"\n'
        + server.config_toml(PASSWORD_ENV, **mailbox)
    )
    return parse_settings(tomllib.loads(text), tmp_path / "jugendhaus-mail.toml")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEwsServer]:
    with start_server() as fake:
        monkeypatch.setenv(PASSWORD_ENV, fake.password)
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


def open_ews(settings: Settings, sleeps: list[float]) -> EwsMailbox:
    return EwsMailbox(settings, sleep=sleeps.append)


def run_cycle(box: EwsMailbox) -> None:
    for message in box.list_new():
        box.move(message.handle, Folder.ERFASST)


# --- reading and filing --------------------------------------------------------------------------


def test_lists_inbox_oldest_first_with_receipt_time_and_exact_mime(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    for n, minutes in ((1, 30), (2, 10), (3, 20)):
        server.deliver(mail(n), T0 + timedelta(minutes=minutes))
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        listed = list(box.list_new())
    assert [m.raw for m in listed] == [mail(2), mail(3), mail(1)]
    assert [m.received for m in listed] == [T0 + timedelta(minutes=m) for m in (10, 20, 30)]
    assert all(m.received.tzinfo is not None for m in listed)


def test_list_new_returns_at_most_batch_size(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    for n in range(7):
        server.deliver(mail(n), T0 + timedelta(minutes=n))
    with open_ews(make_settings(server, tmp_path, batch_size=3), sleeps) as box:
        assert [m.raw for m in box.list_new()] == [mail(0), mail(1), mail(2)]


def test_open_mailbox_chooses_the_ews_backend(server: FakeEwsServer, tmp_path: Path) -> None:
    server.deliver(mail(1), T0)
    with open_mailbox(make_settings(server, tmp_path)) as box:
        assert isinstance(box, EwsMailbox)
        assert [m.raw for m in box.list_new()] == [mail(1)]


def test_move_creates_folders_below_inbox_and_is_idempotent(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.deliver(mail(1), T0)
    server.deliver(mail(2), T0 + timedelta(minutes=1))
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        first, second = box.list_new()
        box.move(first.handle, Folder.ERFASST)
        box.move(second.handle, Folder.NICHT_ERFASST)
        box.move(first.handle, Folder.ERFASST)  # already moved: a crash-recovery replay
    assert server.folder_names() == ["Erfasst", "Nicht erfasst"]
    assert server.folder_contents("Erfasst") == [mail(1)]
    assert server.folder_contents("Nicht erfasst") == [mail(2)]
    assert server.folder_contents("Inbox") == []


def test_existing_folder_is_found_not_created_twice(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    settings = make_settings(server, tmp_path)
    for n in range(2):
        server.deliver(mail(n), T0)
        with open_ews(settings, sleeps) as box:
            run_cycle(box)
    assert server.folder_names() == ["Erfasst"]
    assert server.operations.count("CreateFolder") == 1
    assert len(server.folder_contents("Erfasst")) == 2


def test_folder_deleted_by_staff_is_created_again(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.deliver(mail(1), T0)
    server.deliver(mail(2), T0 + timedelta(minutes=1))
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        first, second = box.list_new()
        box.move(first.handle, Folder.ERFASST)
        with server.state.lock:  # staff delete "Erfasst" (with its content) in Outlook
            gone = server.state.folder_by_name("Erfasst")
            assert gone is not None
            del server.state.folders[gone.id]
        box.move(second.handle, Folder.ERFASST)
    assert server.folder_contents("Erfasst") == [mail(2)]
    assert server.folder_contents("Inbox") == []


# --- sending -------------------------------------------------------------------------------------


def outgoing(subject: str = "Erinnerung: Anfrage 2026-0042") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "team@jugendhaus.example"
    message["To"] = "jsb@jugendhaus.example"
    message["Cc"] = "leitung@jugendhaus.example"
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"
    message["Message-ID"] = "<erinnerung-42@jugendhaus.example>"
    message.set_content("Die Frist für Anfrage 2026-0042 endet morgen.")
    message.add_attachment(b"%PDF-1.4 Brief", maintype="application", subtype="pdf",
                           filename="Einladung.pdf")  # fmt: skip
    return message


def test_send_goes_out_as_team_mailbox_with_attachment_and_copy_in_sent_items(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        box.send(outgoing())
    assert server.sent_authors() == ["team@jugendhaus.example"]
    (copy,) = server.sent_messages()
    sent = email.message_from_bytes(copy, policy=email.policy.default)
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["To"] == "jsb@jugendhaus.example"
    assert sent["Cc"] == "leitung@jugendhaus.example"
    (attachment,) = list(sent.iter_attachments())
    assert attachment.get_filename() == "Einladung.pdf"
    assert attachment.get_content() == b"%PDF-1.4 Brief"


def test_send_adds_message_id_and_auto_submitted_when_missing(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    message = EmailMessage()
    message["To"] = "jsb@jugendhaus.example"
    message["Subject"] = "Hinweis"
    message.set_content("Text")
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        box.send(message)
    sent = email.message_from_bytes(server.sent_messages()[0], policy=email.policy.default)
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["From"] == "team@jugendhaus.example"
    assert str(sent["Message-ID"]).endswith("@jugendhaus.example>")
    assert "Message-ID" not in message  # the caller's message is left alone


def test_send_whose_answer_was_lost_is_not_sent_twice(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.inject_fault("drop_after", operation="CreateItem")
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        box.send(outgoing())
    assert len(server.sent_messages()) == 1
    assert len(sleeps) == 1


def test_send_refused_by_busy_server_is_retried_once_it_recovers(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.inject_fault("http503", operation="CreateItem")
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        box.send(outgoing())
    assert len(server.sent_messages()) == 1
    assert sleeps == [RETRY_AFTER_SECONDS]


# --- throttling, outages, credentials ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected_wait"),
    [
        ("busy", BACKOFF_MILLISECONDS / 1000),
        ("http503", RETRY_AFTER_SECONDS),
        ("http429", RETRY_AFTER_SECONDS),
        ("drop", 0.5),  # no hint from the server: our backoff
    ],
)
def test_transient_faults_are_retried_honouring_the_servers_wait_hint(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float], kind: str, expected_wait: float
) -> None:
    server.deliver(mail(1), T0)
    server.inject_fault(kind, operation="FindItem")
    with open_ews(make_settings(server, tmp_path, retry_backoff_seconds=0.5), sleeps) as box:
        assert [m.raw for m in box.list_new()] == [mail(1)]
    assert sleeps == [expected_wait]
    assert server.operations.count("FindItem") == 2


def test_retries_are_bounded_and_the_next_cycle_succeeds(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.deliver(mail(1), T0)
    server.inject_fault("busy", count=100, operation="MoveItem")
    settings = make_settings(server, tmp_path, retries=2)
    with open_ews(settings, sleeps) as box, pytest.raises(MailboxError, match="3 Versuchen"):
        run_cycle(box)
    assert len(sleeps) == 2
    assert server.folder_contents("Inbox") == [mail(1)]
    server.clear_faults()
    with open_ews(settings, sleeps) as box:
        run_cycle(box)
    assert server.folder_contents("Erfasst") == [mail(1)]


def test_move_whose_answer_was_lost_counts_as_done(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.deliver(mail(1), T0)
    server.inject_fault("drop_after", operation="MoveItem")
    with open_ews(make_settings(server, tmp_path), sleeps) as box:
        run_cycle(box)
    assert server.folder_contents("Erfasst") == [mail(1)]
    assert server.folder_contents("Inbox") == []


def test_wrong_password_is_reported_once_and_never_leaks(
    server: FakeEwsServer,
    tmp_path: Path,
    sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "Falsches-Passwort-1234"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    caplog.set_level(logging.DEBUG)
    server.deliver(mail(1), T0)
    settings = make_settings(server, tmp_path)
    with open_ews(settings, sleeps) as box, pytest.raises(MailboxAuthError) as caught:
        list(box.list_new())
    message = str(caught.value)
    assert "abgelehnt" in message and PASSWORD_ENV in message and server.username in message
    assert server.refused_logins == 1 and sleeps == []  # refused once, not retried
    secrets = (wrong, base64.b64encode(f"{server.username}:{wrong}".encode()).decode())
    chain: BaseException | None = caught.value
    while chain is not None:
        assert not any(s in str(chain) for s in secrets)
        chain = chain.__cause__ or chain.__context__
    assert not any(s in record.getMessage() for record in caplog.records for s in secrets)


def test_http_401_from_the_server_is_an_auth_error_not_retried(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.inject_fault("http401", count=5)
    settings = make_settings(server, tmp_path)
    with open_ews(settings, sleeps) as box, pytest.raises(MailboxAuthError):
        list(box.list_new())
    assert len(server.operations) == 1 and sleeps == []


@pytest.mark.parametrize("kind", ["access_denied", "no_mailbox"])
def test_missing_delegation_says_what_to_grant(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float], kind: str
) -> None:
    server.inject_fault(kind, count=100)
    settings = make_settings(server, tmp_path)
    with open_ews(settings, sleeps) as box, pytest.raises(MailboxAuthError) as caught:
        list(box.list_new())
    assert "keinen Vollzugriff (Delegation) auf das Postfach team@jugendhaus.example" in str(
        caught.value
    )
    assert sleeps == []


def test_missing_password_variable_is_a_config_error(
    server: FakeEwsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    box = EwsMailbox(make_settings(server, tmp_path))
    with box, pytest.raises(ConfigError, match=PASSWORD_ENV):
        list(box.list_new())


# --- nothing lost, nothing doubled ---------------------------------------------------------------

FAULTS = ["busy", "http503", "http429", "drop", "drop_after"]


@pytest.mark.parametrize("seed", range(15))
def test_a_fault_anywhere_leaves_the_mailbox_recoverable(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float], seed: int
) -> None:
    rng = random.Random(seed)
    mails = [mail(n) for n in range(9)]
    for n, raw in enumerate(mails):
        server.deliver(raw, T0 + timedelta(minutes=n))
    # Three cycles need more than 15 requests, so the fault always hits (and, without retries,
    # ends the run) at a random point: before, during or after any operation.
    server.inject_fault(FAULTS[seed % len(FAULTS)], skip=rng.randrange(15))
    settings = make_settings(server, tmp_path, retries=0, batch_size=4)
    with open_ews(settings, sleeps) as box, pytest.raises(MailboxError):
        for _ in range(3):
            run_cycle(box)
    with open_ews(settings, sleeps) as box:
        for _ in range(3):
            run_cycle(box)
    assert sorted(server.folder_contents("Erfasst")) == sorted(mails)
    assert server.folder_contents("Inbox") == []


def test_with_retries_a_faulty_server_still_gets_everything_filed(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    mails = [mail(n) for n in range(6)]
    for n, raw in enumerate(mails):
        server.deliver(raw, T0 + timedelta(minutes=n))
    for skip, kind in enumerate(FAULTS):
        server.inject_fault(kind, skip=skip)
    with open_ews(make_settings(server, tmp_path, retries=3), sleeps) as box:
        run_cycle(box)
    assert sorted(server.folder_contents("Erfasst")) == sorted(mails)
    assert server.folder_contents("Inbox") == []
    assert len(sleeps) == len(FAULTS)


# --- check (diagnose) ----------------------------------------------------------------------------


def test_diagnose_reports_login_inbox_folders_and_test_mail(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.deliver(mail(1), T0)
    settings = make_settings(server, tmp_path)
    lines = diagnose(settings, send_test_to="admin@jugendhaus.example", sleep=sleeps.append)
    assert all(ok for ok, _ in lines), lines
    text = "\n".join(line for _, line in lines)
    assert "1 Mail(s)" in text
    assert "„Erfasst“ im Posteingang wurde angelegt" in text
    assert "„Nicht erfasst“ im Posteingang wurde angelegt" in text
    assert "Testmail an admin@jugendhaus.example gesendet" in text
    (test_mail,) = server.sent_messages()
    assert b"To: admin@jugendhaus.example" in test_mail
    again = diagnose(settings, sleep=sleeps.append)
    assert "„Erfasst“ im Posteingang ist vorhanden" in "\n".join(line for _, line in again)
    assert server.folder_names() == ["Erfasst", "Nicht erfasst"]


def test_diagnose_names_a_wrong_password_without_showing_it(
    server: FakeEwsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "Falsches-Passwort-1234")
    lines = diagnose(make_settings(server, tmp_path), sleep=lambda _: None)
    assert len(lines) == 1 and lines[0][0] is False
    assert "abgelehnt" in lines[0][1] and PASSWORD_ENV in lines[0][1]
    assert "Falsches-Passwort-1234" not in lines[0][1]


def test_diagnose_warns_that_exchange_online_blocks_ews(
    server: FakeEwsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy nobody listens on: the check fails fast and nothing leaves this machine.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    endpoint = "https://outlook.office365.com/EWS/Exchange.asmx"
    settings = make_settings(server, tmp_path, endpoint=endpoint, retries=0)
    lines = diagnose(settings, sleep=lambda _: None)
    assert lines[0][0] is False
    assert "1. Oktober 2026" in lines[0][1] and 'backend = "graph"' in lines[0][1]
    assert lines[1][0] is False and "keine Antwort von outlook.office365.com" in lines[1][1]


# --- TLS with the office's own CA ----------------------------------------------------------------


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    key_options = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    command = ["openssl", "req", "-x509", "-days", "2", *key_options, *subject, *files]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def test_ca_file_makes_the_servers_own_certificate_trusted(
    tmp_path: Path, sleeps: list[float], monkeypatch: pytest.MonkeyPatch,
    certificate: tuple[Path, Path],
) -> None:  # fmt: skip
    with start_server(tls=certificate) as tls_server:
        monkeypatch.setenv(PASSWORD_ENV, tls_server.password)
        tls_server.deliver(mail(1), T0)
        untrusted = make_settings(tls_server, tmp_path)
        with open_ews(untrusted, sleeps) as box, pytest.raises(MailboxError) as caught:
            list(box.list_new())
        assert "nicht vertrauenswürdig" in str(caught.value) and "ca_file" in str(caught.value)
        assert sleeps == []  # a certificate problem does not go away by retrying
        trusted = make_settings(tls_server, tmp_path, ca_file=str(certificate[0]))
        with open_ews(trusted, sleeps) as box:
            assert [m.raw for m in box.list_new()] == [mail(1)]


# --- OAuth (client credentials) ------------------------------------------------------------------


def oauth_settings(server: FakeEwsServer, tmp_path: Path) -> Settings:
    return make_settings(
        server,
        tmp_path,
        auth="oauth",
        tenant_id="jugendhaus-tenant",
        client_id=server.oauth_client[0],
        client_secret_env="EWS_TEST_SECRET",
    )


def test_oauth_fetches_a_token_and_acts_for_the_team_mailbox(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks plain HTTP
    monkeypatch.setenv("EWS_TEST_SECRET", server.oauth_client[1])
    server.deliver(mail(1), T0)
    box = EwsMailbox(
        oauth_settings(server, tmp_path), sleep=sleeps.append, token_url=server.token_url
    )
    with box:
        run_cycle(box)
    assert server.folder_contents("Erfasst") == [mail(1)]
    (token_request,) = server.token_requests
    assert token_request["grant_type"] == "client_credentials"
    assert token_request["scope"] == server.endpoint.split("/EWS")[0] + "/.default"
    assert set(server.impersonated) == {"team@jugendhaus.example"}


def test_oauth_token_refused_is_an_auth_error_that_hides_the_secret(
    server: FakeEwsServer, tmp_path: Path, sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("EWS_TEST_SECRET", "Abgelaufenes-Geheimnis-99")
    caplog.set_level(logging.DEBUG)
    box = EwsMailbox(
        oauth_settings(server, tmp_path), sleep=sleeps.append, token_url=server.token_url
    )
    with box, pytest.raises(MailboxAuthError) as caught:
        list(box.list_new())
    assert "Entra ID" in str(caught.value) and "EWS_TEST_SECRET" in str(caught.value)
    chain: BaseException | None = caught.value
    while chain is not None:
        assert "Abgelaufenes-Geheimnis-99" not in str(chain)
        chain = chain.__cause__ or chain.__context__
    assert not any("Abgelaufenes-Geheimnis-99" in r.getMessage() for r in caplog.records)
    assert sleeps == [] and server.operations == []


# --- import hygiene ------------------------------------------------------------------------------


def test_package_import_does_not_load_exchangelib() -> None:
    code = "import sys, jugendhaus_mail.mailbox; print('exchangelib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# --- NTLM (the default) --------------------------------------------------------------------------


def test_ntlm_login_with_domain_account(
    tmp_path: Path, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_server(username="JUGENDHAUS\\svc-jugendhaus", auth="ntlm") as ntlm_server:
        ntlm_server.deliver(mail(1), T0)
        monkeypatch.setenv(PASSWORD_ENV, ntlm_server.password)
        settings = make_settings(ntlm_server, tmp_path)
        assert settings.mailbox.auth == "ntlm"
        with open_ews(settings, sleeps) as box:
            run_cycle(box)
        assert ntlm_server.folder_contents("Erfasst") == [mail(1)]
        monkeypatch.setenv(PASSWORD_ENV, "Falsches-Passwort-1234")
        with open_ews(settings, sleeps) as box, pytest.raises(MailboxAuthError):
            list(box.list_new())
        assert ntlm_server.refused_logins == 1 and sleeps == []
