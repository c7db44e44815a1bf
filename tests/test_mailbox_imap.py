"""The IMAP/SMTP backend against a real Dovecot and aiosmtpd on 127.0.0.1 (see imap_server.py)."""

from __future__ import annotations

import contextlib
import email
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from imap_server import (
    PASSWORD,
    PASSWORD_ENV,
    TEAM_ADDRESS,
    ImapTestServer,
    SmtpTestServer,
    start_server,
)

from jugendhaus_mail.config import Settings, load_settings
from jugendhaus_mail.errors import MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import Folder, open_mailbox
from jugendhaus_mail.mailbox.imap import ImapMailbox
from jugendhaus_mail.mailbox.imap_diagnose import diagnose
from jugendhaus_mail.mailbox.smtp import send_smtp

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
CONFIG_HEAD = '[office]\nholiday_region = "DE-MV"\n[workbook]\npath = "Anfrageliste.xlsx"\n'
Start = Callable[..., ImapTestServer]


@pytest.fixture
def start(monkeypatch: pytest.MonkeyPatch) -> Iterator[Start]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    started: list[ImapTestServer] = []

    def start_one(**options: object) -> ImapTestServer:
        started.append(start_server(**options))  # type: ignore[arg-type]
        return started[-1]

    yield start_one
    for server in started:
        server.stop()


@pytest.fixture
def server(start: Start) -> ImapTestServer:
    return start()


def settings_for(tmp_path: Path, server: ImapTestServer, **mailbox: object) -> Settings:
    path = tmp_path / "jugendhaus-mail.toml"
    path.write_text(CONFIG_HEAD + server.mailbox_toml(**mailbox), encoding="utf-8")  # type: ignore[arg-type]
    return load_settings(path)


def request(number: int, subject: str = "Fallanfrage") -> bytes:
    return (
        f"From: ifk{number}@jobcenter-ge.de\r\nTo: {TEAM_ADDRESS}\r\n"
        f"Subject: {subject} {number}\r\nMessage-ID: <anfrage-{number}@jobcenter-ge.de>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Bitte um Rückruf {number}\r\n"
    ).encode()


def subjects(raws: list[bytes]) -> list[str]:
    return sorted(str(email.message_from_bytes(raw)["Subject"]) for raw in raws)


def file_all(mailbox: ImapMailbox, folder: Folder = Folder.ERFASST) -> list[str]:
    """One intake cycle as the service runs it: list, then file each mail."""
    handles = []
    for message in mailbox.list_new():
        mailbox.move(message.handle, folder)
        handles.append(message.handle)
    return handles


BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


# -- reading and filing ----------------------------------------------------------------------


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_lists_inbox_oldest_first_with_internaldate_and_raw_mime(
    server: ImapTestServer, tmp_path: Path, security: str
) -> None:
    server.deliver(request(2), BASE + timedelta(hours=2))
    server.deliver(request(1), datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1))))
    server.deliver(request(3), BASE + timedelta(days=1))
    with open_mailbox(settings_for(tmp_path, server, security=security)) as mailbox:
        listed = list(mailbox.list_new())
    assert [m.received for m in listed] == [
        BASE + timedelta(minutes=30),
        BASE + timedelta(hours=2),
        BASE + timedelta(days=1),
    ]
    assert all(m.received.tzinfo is not None for m in listed)
    assert [email.message_from_bytes(m.raw)["Subject"] for m in listed] == [
        "Fallanfrage 1",
        "Fallanfrage 2",
        "Fallanfrage 3",
    ]
    assert b"Bitte um R\xc3\xbcckruf 1" in listed[0].raw
    validity = server.uidvalidity()
    assert [m.handle for m in listed] == [f"{validity}:2", f"{validity}:1", f"{validity}:3"]
    assert len(server.folder_contents("INBOX")) == 3, "listing must not change the inbox"
    assert all(b"\\Seen" not in flags for _, flags in server.folder_messages("INBOX"))


def test_batch_size_limits_a_cycle_and_wait_reports_the_backlog(
    server: ImapTestServer, tmp_path: Path
) -> None:
    for number in range(5):
        server.deliver(request(number), BASE + timedelta(minutes=number))
    with ImapMailbox(settings_for(tmp_path, server, batch_size=2)) as mailbox:
        first = file_all(mailbox)
        assert len(first) == 2
        started = time.monotonic()
        assert mailbox.wait_for_mail(30) is True
        assert time.monotonic() - started < 1
        file_all(mailbox)
        file_all(mailbox)
    assert subjects(server.folder_contents("Erfasst")) == [f"Fallanfrage {n}" for n in range(5)]
    assert server.folder_contents("INBOX") == []


def test_a_burst_with_a_large_mail_is_fetched_in_chunks_in_order(
    server: ImapTestServer, tmp_path: Path
) -> None:
    large = request(7).replace(b"Bitte um R", b"A" * 3_000_000 + b"\r\nBitte um R")
    for number in range(45):
        raw = large if number == 7 else request(number)
        server.deliver(raw, BASE + timedelta(minutes=number))
    with ImapMailbox(settings_for(tmp_path, server)) as mailbox:
        listed = [(message.received, len(message.raw)) for message in mailbox.list_new()]
    assert [received for received, _ in listed] == [
        BASE + timedelta(minutes=number) for number in range(45)
    ]
    assert listed[7][1] > 3_000_000


@pytest.mark.parametrize(("separator", "without"), [(".", ()), ("/", ("MOVE",))])
def test_moves_into_folders_below_the_inbox_created_on_first_use(
    start: Start, tmp_path: Path, separator: str, without: tuple[str, ...]
) -> None:
    server = start(separator=separator, without=without)
    server.deliver(request(1), BASE)
    server.deliver(request(2, "Abwesenheitsnotiz"), BASE + timedelta(minutes=1))
    with ImapMailbox(settings_for(tmp_path, server, security="none")) as mailbox:
        first, second = list(mailbox.list_new())
        mailbox.move(first.handle, Folder.ERFASST)
        mailbox.move(second.handle, Folder.NICHT_ERFASST)
        mailbox.move(first.handle, Folder.ERFASST)  # again, e.g. after a crash: no error, no copy
        assert list(mailbox.list_new()) == []
    names = server.folder_names()
    assert f"INBOX{separator}Erfasst" in names
    assert f"INBOX{separator}Nicht erfasst" in names
    assert subjects(server.folder_contents("Erfasst")) == ["Fallanfrage 1"]
    assert subjects(server.folder_contents("Nicht erfasst")) == ["Abwesenheitsnotiz 2"]
    assert server.folder_contents("INBOX") == []
    assert server.proxy is not None
    expected = {"UID COPY", "UID STORE", "UID EXPUNGE"} if without else {"UID MOVE"}
    assert expected <= set(server.proxy.commands)
    assert ("UID MOVE" in server.proxy.commands) is not bool(without)


def test_move_of_a_missing_mail_is_not_an_error_but_a_bad_handle_is(
    server: ImapTestServer, tmp_path: Path
) -> None:
    server.deliver(request(1), BASE)
    with ImapMailbox(settings_for(tmp_path, server)) as mailbox:
        mailbox.move(f"{server.uidvalidity()}:999", Folder.ERFASST)
        with pytest.raises(MailboxError, match="Ungültiger IMAP-Verweis"):
            mailbox.move("Fallanfrage", Folder.ERFASST)
    assert len(server.folder_contents("INBOX")) == 1
    assert server.folder_contents("Erfasst") == []


def test_uidvalidity_change_refinds_the_mail_by_message_id(
    server: ImapTestServer, tmp_path: Path
) -> None:
    server.deliver(request(1), BASE)
    server.deliver(request(2), BASE + timedelta(minutes=1))
    waits: list[float] = []
    with ImapMailbox(settings_for(tmp_path, server), sleep=waits.append) as mailbox:
        first, second = list(mailbox.list_new())
        server.recreate_inbox()  # the old UID of mail 1 now names mail 2
        mailbox.move(first.handle, Folder.ERFASST)
    assert subjects(server.folder_contents("Erfasst")) == ["Fallanfrage 1"]
    assert subjects(server.folder_contents("INBOX")) == ["Fallanfrage 2"]
    assert len(waits) == 1, "the restart drops the connection once; one reconnect"

    # a handle from an earlier session cannot be matched safely: the mail stays in the inbox
    with ImapMailbox(settings_for(tmp_path, server)) as mailbox:
        mailbox.move(second.handle, Folder.ERFASST)
    assert subjects(server.folder_contents("INBOX")) == ["Fallanfrage 2"]


def test_server_restart_between_cycles(server: ImapTestServer, tmp_path: Path) -> None:
    server.deliver(request(1), BASE)
    waits: list[float] = []
    with ImapMailbox(settings_for(tmp_path, server), sleep=waits.append) as mailbox:
        file_all(mailbox)
        server.restart()
        server.deliver(request(2), BASE + timedelta(hours=1))
        file_all(mailbox)
    assert subjects(server.folder_contents("Erfasst")) == ["Fallanfrage 1", "Fallanfrage 2"]
    assert waits == [0.5]


# -- faults ----------------------------------------------------------------------------------


def test_wrong_password_is_raised_once_and_never_leaks(
    server: ImapTestServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "Falsches-Passwort-0815"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    caplog.set_level(logging.DEBUG)
    waits: list[float] = []
    with (
        ImapMailbox(settings_for(tmp_path, server, security="none"), sleep=waits.append) as mailbox,
        pytest.raises(MailboxAuthError) as raised,
    ):
        list(mailbox.list_new())
    message = str(raised.value)
    assert "abgelehnt" in message and PASSWORD_ENV in message and "127.0.0.1" in message
    assert waits == []
    assert server.proxy is not None and server.proxy.commands.count("LOGIN") == 1
    texts = [message, repr(raised.value)] + [r.getMessage() for r in caplog.records]
    chain: BaseException | None = raised.value
    while chain is not None:
        texts.append(str(chain))
        chain = chain.__cause__ or chain.__context__
    assert caplog.records, "debug logging was on, so imapclient logged the dialogue"
    assert not [text for text in texts if wrong in text or PASSWORD in text]


def test_busy_server_is_retried_with_backoff(server: ImapTestServer, tmp_path: Path) -> None:
    server.deliver(request(1), BASE)
    server.inject_fault("unavailable", count=2, command="LOGIN")  # NO [UNAVAILABLE]
    server.inject_fault("bye", count=1)  # BYE [UNAVAILABLE] greeting
    waits: list[float] = []
    with ImapMailbox(settings_for(tmp_path, server, security="none"), sleep=waits.append) as box:
        assert len(file_all(box)) == 1
    assert waits == [0.5, 1.0, 2.0]
    assert subjects(server.folder_contents("Erfasst")) == ["Fallanfrage 1"]


@pytest.mark.parametrize(
    ("kind", "command"),
    [("drop_before", r"UID FETCH .*BODY"), ("drop_after", "UID MOVE"), ("drop_before", "SELECT")],
)
def test_dropped_connection_is_retried_without_loss_or_double(
    server: ImapTestServer, tmp_path: Path, kind: str, command: str
) -> None:
    for number in range(3):
        server.deliver(request(number), BASE + timedelta(minutes=number))
    server.inject_fault(kind, command=command)
    waits: list[float] = []
    with ImapMailbox(settings_for(tmp_path, server, security="none"), sleep=waits.append) as box:
        file_all(box)
    assert server.proxy is not None and server.proxy.fired == 1
    assert waits == [0.5]
    assert subjects(server.folder_contents("Erfasst")) == [f"Fallanfrage {n}" for n in range(3)]
    assert server.folder_contents("INBOX") == []


@pytest.mark.parametrize("cut_after", ["UID COPY", "UID STORE"])
def test_copy_fallback_cut_between_copy_and_expunge_files_exactly_once(
    start: Start, tmp_path: Path, cut_after: str
) -> None:
    server = start(without=("MOVE",))
    server.deliver(request(1), BASE)
    server.inject_fault("drop_after", command=cut_after)
    settings = settings_for(tmp_path, server, security="none", retries=0)
    with ImapMailbox(settings) as mailbox:
        with pytest.raises(MailboxError):
            file_all(mailbox)
        assert server.proxy is not None and server.proxy.fired == 1
        file_all(mailbox)  # the next cycle
    assert subjects(server.folder_contents("Erfasst")) == ["Fallanfrage 1"]
    assert server.folder_contents("INBOX") == []
    assert "MOVE" not in server.proxy.commands


def test_unreachable_server_gives_up_after_the_configured_retries(
    server: ImapTestServer, tmp_path: Path
) -> None:
    server.stop_imap()
    waits: list[float] = []
    settings = settings_for(tmp_path, server, retries=2)
    with ImapMailbox(settings, sleep=waits.append) as box, pytest.raises(MailboxError) as raised:
        list(box.list_new())
    assert not isinstance(raised.value, MailboxAuthError)
    assert "nicht erreichbar" in str(raised.value) and "127.0.0.1" in str(raised.value)
    assert waits == [0.5, 1.0]


def test_untrusted_certificate_is_reported_not_retried(
    server: ImapTestServer, tmp_path: Path
) -> None:
    waits: list[float] = []
    settings = settings_for(tmp_path, server, ca_file=None)
    with (
        ImapMailbox(settings, sleep=waits.append) as box,
        pytest.raises(MailboxError, match="ca_file"),
    ):
        list(box.list_new())
    assert waits == []


@pytest.mark.parametrize("without", [(), ("MOVE",)])
def test_no_mail_lost_or_doubled_when_a_cycle_fails_at_a_random_point(
    start: Start, tmp_path: Path, without: tuple[str, ...]
) -> None:
    server = start(without=without)
    assert server.proxy is not None
    settings = settings_for(tmp_path, server, security="none", retries=0)
    chance = random.Random(20260302)
    per_round, rounds = 5, 12

    def deliver_round(round_number: int) -> range:
        numbers = range(round_number * 100, round_number * 100 + per_round)
        for number in numbers:
            server.deliver(request(number), BASE + timedelta(minutes=number))
        return numbers

    for warm_up in (98, 99):  # clean cycles first: the folder exists, commands are counted
        before = len(server.proxy.commands)
        deliver_round(warm_up)
        with ImapMailbox(settings) as mailbox:
            file_all(mailbox)
    commands_per_cycle = len(server.proxy.commands) - before
    for round_number in range(rounds):
        numbers = deliver_round(round_number)
        kind = chance.choice(["drop_before", "drop_after"])
        server.inject_fault(kind, skip=chance.randrange(commands_per_cycle))
        with ImapMailbox(settings) as mailbox, contextlib.suppress(MailboxError):
            file_all(mailbox)
        assert server.proxy.fired == round_number + 1, "the fault must have struck"
        with ImapMailbox(settings) as mailbox:  # the next cycle, without faults
            file_all(mailbox)
        filed = subjects(server.folder_contents("Erfasst"))
        for number in numbers:
            assert filed.count(f"Fallanfrage {number}") == 1, (round_number, kind)
        assert server.folder_contents("INBOX") == [], (round_number, kind)


# -- waiting for mail ------------------------------------------------------------------------


def test_idle_returns_as_soon_as_mail_arrives(server: ImapTestServer, tmp_path: Path) -> None:
    with ImapMailbox(settings_for(tmp_path, server)) as mailbox:
        assert list(mailbox.list_new()) == []
        started = time.monotonic()
        assert mailbox.wait_for_mail(0.4) is False
        assert 0.35 < time.monotonic() - started < 2
        timer = threading.Timer(0.3, server.deliver, (request(1), BASE))
        timer.start()
        started = time.monotonic()
        assert mailbox.wait_for_mail(20) is True
        assert time.monotonic() - started < 5
        assert len(list(mailbox.list_new())) == 1


def test_idle_survives_a_dropped_connection(server: ImapTestServer, tmp_path: Path) -> None:
    server.inject_fault("drop_before", command="^IDLE")
    waits: list[float] = []
    settings = settings_for(tmp_path, server, security="none")
    with ImapMailbox(settings, sleep=waits.append) as mailbox:
        timer = threading.Timer(0.5, server.deliver, (request(1), BASE))
        timer.start()
        assert mailbox.wait_for_mail(20) is True
    assert server.proxy is not None and server.proxy.fired == 1 and waits == [0.5]


def test_without_idle_it_polls(start: Start, tmp_path: Path) -> None:
    server = start(without=("IDLE",))
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds
        if len(waits) == 3:
            server.deliver(request(1), BASE)

    mailbox = ImapMailbox(settings_for(tmp_path, server), sleep=sleep, clock=lambda: now[0])
    with mailbox:
        assert mailbox.wait_for_mail(45) is False
        assert waits == [30.0, 15.0]
        assert mailbox.wait_for_mail(100) is True
        assert waits == [30.0, 15.0, 30.0]


# -- sending ---------------------------------------------------------------------------------


def outgoing(subject: str = "Eingangsbestätigung Anfrage 2026-0042") -> EmailMessage:
    message = EmailMessage()
    message["To"] = "ifk@jobcenter-ge.de"
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("Ihre Anfrage ist eingegangen.\n")
    message.add_attachment(
        b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="Brief.pdf"
    )
    return message


@pytest.mark.parametrize("smtp_security", ["starttls", "tls"])
def test_send_goes_out_over_smtp_and_a_seen_copy_lands_in_the_sent_folder(
    start: Start, tmp_path: Path, smtp_security: str
) -> None:
    server = start(smtp_security=smtp_security)
    settings = settings_for(tmp_path, server, sent_folder="Gesendete Einträge")
    with open_mailbox(settings) as mailbox:
        mailbox.send(outgoing())
    (sent,) = server.sent_messages()
    assert server.smtp is not None and server.smtp.recipients == [["ifk@jobcenter-ge.de"]]
    parsed = email.message_from_bytes(sent, policy=default)
    assert parsed["From"] == TEAM_ADDRESS
    assert parsed["Subject"] == "Eingangsbestätigung Anfrage 2026-0042"
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["Brief.pdf"]
    assert "Gesendete Eintr&AOQ-ge" in server.folder_names()
    ((copy, flags),) = server.folder_messages("Gesendete Einträge")
    assert b"\\Seen" in flags
    assert email.message_from_bytes(copy)["Message-ID"] == parsed["Message-ID"]


def test_sent_copy_is_not_doubled_when_the_append_reply_is_lost(
    server: ImapTestServer, tmp_path: Path
) -> None:
    server.inject_fault("drop_after", command="APPEND")
    waits: list[float] = []
    settings = settings_for(tmp_path, server, security="none")
    with ImapMailbox(settings, sleep=waits.append) as mailbox:
        mailbox.send(outgoing())
    assert server.proxy is not None and server.proxy.fired == 1 and waits == [0.5]
    assert len(server.sent_messages()) == 1
    assert len(server.folder_contents("Sent")) == 1


def test_smtp_busy_and_dropped_are_retried_and_sent_once(
    server: ImapTestServer, tmp_path: Path
) -> None:
    server.inject_fault("smtp_busy")
    server.inject_fault("smtp_drop")
    waits: list[float] = []
    send_smtp(settings_for(tmp_path, server), outgoing(), sleep=waits.append)
    assert len(server.sent_messages()) == 1
    assert waits == [0.5, 1.0]


def test_smtp_wrong_password_is_raised_once_without_the_secret(
    server: ImapTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JHM_TEST_SMTP_PASSWORT", "Falsches-SMTP-Passwort")
    settings = settings_for(tmp_path, server, smtp_password_env="JHM_TEST_SMTP_PASSWORT")
    waits: list[float] = []
    with pytest.raises(MailboxAuthError) as raised:
        send_smtp(settings, outgoing(), sleep=waits.append)
    assert "JHM_TEST_SMTP_PASSWORT" in str(raised.value) and "SMTP" in str(raised.value)
    assert "Falsches-SMTP-Passwort" not in str(raised.value)
    assert waits == [] and server.smtp is not None and server.smtp.login_attempts == 1
    assert server.sent_messages() == []


@pytest.mark.parametrize(
    ("smtp_security", "mechanism"), [("starttls", "PLAIN"), ("tls", "PLAIN"), ("starttls", "LOGIN")]
)
def test_an_smtp_password_with_umlauts_logs_in_as_utf8(
    start: Start,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_security: str,
    mechanism: str,
) -> None:
    """smtplib encodes AUTH as ASCII: a password with ß or € failed every mail with an
    "unerwarteter Fehler (UnicodeEncodeError)", retried forever. Exchange offers LOGIN only."""
    server = start(smtp_security=smtp_security)
    assert server.smtp is not None
    if mechanism == "LOGIN":
        server.smtp.stop()
        cert, key = server.root / "cert.pem", server.root / "key.pem"
        server.smtp = SmtpTestServer(cert, key, smtp_security, without=("PLAIN",))
    server.smtp.password = "Jugendhaus-Grüße-ß€-2026"
    monkeypatch.setenv("JHM_TEST_SMTP_PASSWORT", "Jugendhaus-Grüße-ß€-2026")
    settings = settings_for(tmp_path, server, smtp_password_env="JHM_TEST_SMTP_PASSWORT")
    send_smtp(settings, outgoing(), sleep=lambda _seconds: None)
    assert len(server.sent_messages()) == 1 and server.smtp.mechanisms == [mechanism]
    monkeypatch.setenv("JHM_TEST_SMTP_PASSWORT", "Jugendhaus-Grüsse-falsch")
    with pytest.raises(MailboxAuthError) as raised:
        send_smtp(settings, outgoing(), sleep=lambda _seconds: None)
    assert "Jugendhaus-Grüsse-falsch" not in str(raised.value)
    assert server.smtp.login_attempts == 2 and len(server.sent_messages()) == 1


# -- check -----------------------------------------------------------------------------------


def test_diagnose_reports_each_step_in_plain_words(server: ImapTestServer, tmp_path: Path) -> None:
    server.deliver(request(1), BASE)
    lines = diagnose(settings_for(tmp_path, server), send_test_to="ifk@jobcenter-ge.de")
    assert all(ok for ok, _ in lines), lines
    text = "\n".join(line for _, line in lines)
    assert "Anmeldung" in text and "1 Nachricht(en)" in text and "IDLE" in text
    assert "INBOX.Erfasst" in text and "Testmail an ifk@jobcenter-ge.de versendet" in text
    assert len(server.sent_messages()) == 1 and len(server.folder_contents("Sent")) == 1


def test_diagnose_names_the_problem(
    server: ImapTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "Falsches-Passwort-0815")
    lines = diagnose(settings_for(tmp_path, server))
    assert lines[0][0] is False and PASSWORD_ENV in lines[0][1]
    assert "Falsches-Passwort-0815" not in repr(lines)
    server.stop_imap()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    lines = diagnose(settings_for(tmp_path, server))
    assert lines[0][0] is False and "nicht erreichbar" in lines[0][1]


def test_plain_connection_logs_a_warning(
    server: ImapTestServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with ImapMailbox(settings_for(tmp_path, server, security="none")) as mailbox:
        assert list(mailbox.list_new()) == []
    assert any("unverschlüsselt" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("security", ["tls", "none"])
def test_a_password_with_umlauts_logs_in_with_authenticate_plain_utf8(
    start: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    server = start()
    password = "Jugendhaus-Grüße-ß€-2026"
    server.deliver(request(1), datetime(2026, 3, 9, 8, tzinfo=UTC))  # the test's own ASCII login
    passwd = server.root / "passwd"
    passwd.write_text(f"{server.user}:{{PLAIN}}{password}:::::\n", encoding="utf-8")
    time.sleep(1.1)  # Dovecot re-reads the file when its mtime (in seconds) changed
    monkeypatch.setenv(PASSWORD_ENV, password)
    with open_mailbox(settings_for(tmp_path, server, security=security)) as mailbox:
        assert [m.handle for m in mailbox.list_new()] != []
    monkeypatch.setenv(PASSWORD_ENV, "Jugendhaus-Grüsse-falsch")
    with (
        pytest.raises(MailboxAuthError, match="abgelehnt"),
        open_mailbox(settings_for(tmp_path, server, security=security)) as mailbox,
    ):
        list(mailbox.list_new())
