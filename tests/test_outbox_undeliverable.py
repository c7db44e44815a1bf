"""One undeliverable mail must not block all others (issue 12, item 12).

A real SMTP server (aiosmtpd on 127.0.0.1) refuses one recipient with 550, one message with
552 or a recipient for a while with 451; the real `send_smtp_raw` and the real outbox with its
SQLite state do the rest. The Graph side (a mail over the tenant's size limit) is in
test_graph_exchange_online.py. Failed and stuck mail shows in `check`, the watchdog and the
digest of a real site.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jugendhaus_mail.config import Settings, load_settings
from jugendhaus_mail.mailbox.smtp import send_smtp_raw
from jugendhaus_mail.notify.outbox import Outbox, undelivered_mail
from jugendhaus_mail.service.health import Status
from jugendhaus_mail.service.watchdog import run_watchdog
from jugendhaus_mail.state import StateDB
from tests.site import STAFF, Site, make_site, outgoing, set_staff

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)
GONE = "ehemalig@rostock.de"


@dataclass
class Refusing:
    """aiosmtpd handler: 550 for GONE, 451 for addresses in `busy` (while > 0), 552 over
    `max_bytes`; keeps what it accepted."""

    max_bytes: int = 10_000_000
    busy: dict[str, int] = field(default_factory=dict)
    accepted: list[EmailMessage] = field(default_factory=list)
    rcpt: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.rcpt.append(address)
        if address == GONE:
            return "550 5.1.1 <ehemalig@rostock.de>: Recipient address rejected"
        if self.busy.get(address, 0) > 0:
            self.busy[address] -= 1
            return "451 4.3.0 Mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if len(envelope.content) > self.max_bytes:
            return "552 5.3.4 Message size exceeds fixed limit"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.accepted.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Refusing, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    handler = Refusing()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


class SmtpOnly:
    """The outbox's mailbox: only sending the stored bytes, through the real send_smtp_raw
    (as the IMAP backend does)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send_raw(self, data: bytes, recipients: Sequence[str]) -> None:
        send_smtp_raw(self.settings, data, recipients, sleep=lambda _seconds: None)


def smtp_settings(config: Path, port: int) -> Settings:
    settings = load_settings(config)
    mailbox = replace(
        settings.mailbox,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        username="",
        smtp_username="",
        retries=0,
    )
    return replace(settings, mailbox=mailbox)


def plain_site(tmp_path: Path) -> Path:
    config = tmp_path / "jugendhaus-mail.toml"
    config.write_text(
        '[office]\nholiday_region = "DE-MV"\n[workbook]\npath = "Anfrageliste.xlsx"\n'
        '[mail]\nteam_address = "fm-jugendhaus@rostock.de"\ninternal_domains = ["rostock.de"]\n'
        '[mailbox]\nbackend = "maildir"\npath = "postfach"\n',
        encoding="utf-8",
    )
    return config


def mail(to: str, subject: str, attachment: bytes = b"") -> bytes:
    message = EmailMessage()
    message["From"] = "fm-jugendhaus@rostock.de"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash(subject))}@rostock.de>"
    message.set_content("Bitte ansehen.\n")
    if attachment:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="a.pdf")
    return message.as_bytes(policy=SMTP)


def flush(settings: Settings, state: StateDB, now: datetime) -> int:
    return Outbox(settings, state, now).flush(SmtpOnly(settings))  # type: ignore[arg-type]


def subjects(handler: Refusing) -> list[str]:
    return [str(m["Subject"]) for m in handler.accepted]


def test_a_recipient_refused_with_550_is_recorded_and_the_rest_is_sent(
    smtp: tuple[Refusing, int], tmp_path: Path
) -> None:
    handler, port = smtp
    settings = smtp_settings(plain_site(tmp_path), port)
    with StateDB(settings.state_dir) as state:
        state.queue_mail("2026-0001|reminder", mail("jana.krueger@rostock.de", "Erinnerung"), T0)
        state.queue_mail("2026-0002|escalation", mail(GONE, "Eskalation"), T0)
        state.queue_mail("2026-0003|kinderschutz", mail("jsb@rostock.de", "Kinderschutz"), T0)
        assert flush(settings, state, T0) == 2
        assert subjects(handler) == ["Erinnerung", "Kinderschutz"]
        assert flush(settings, state, T0 + timedelta(hours=1)) == 0
        assert handler.rcpt.count(GONE) == 1  # refused for good: never tried again
        (failed,) = undelivered_mail(state, T0 + timedelta(hours=1))
    assert failed.failed and failed.key == "2026-0002|escalation"
    assert "nicht zustellbar" in failed.line() and "550" in failed.line()
    assert GONE in failed.line()


def test_a_refused_mail_stored_packed_names_its_recipient(
    smtp: tuple[Refusing, int], tmp_path: Path
) -> None:
    """An acknowledgement a batch stored packed (mailpack.py), refused, and listed by another
    process (check, the digest): its recipient is read from the unpacked mail."""
    handler, port = smtp
    settings = smtp_settings(plain_site(tmp_path), port)
    pattern = mail("team@rostock.de", "Eingangsbestätigung")
    with StateDB(settings.state_dir) as state:
        key = "2026-0004|acknowledgement"
        state.record_batch([], {key: mail(GONE, "Eingangsbestätigung")}, T0, {}, {key: pattern})
    with StateDB(settings.state_dir) as state:
        assert flush(settings, state, T0) == 0
    assert handler.rcpt == [GONE]  # the mail itself went to the server, unpacked
    with StateDB(settings.state_dir) as state:
        (failed,) = undelivered_mail(state, T0 + timedelta(hours=1))
    assert failed.key == key and failed.to == GONE


def test_a_message_refused_with_552_does_not_stop_the_queue(
    smtp: tuple[Refusing, int], tmp_path: Path
) -> None:
    handler, port = smtp
    handler.max_bytes = 50_000
    settings = smtp_settings(plain_site(tmp_path), port)
    with StateDB(settings.state_dir) as state:
        state.queue_mail("a|letter", mail("jsb@rostock.de", "Brief", bytes(80_000)), T0)
        state.queue_mail("b|kinderschutz", mail("jsb@rostock.de", "Kinderschutz"), T0)
        assert flush(settings, state, T0) == 1
        (failed,) = undelivered_mail(state, T0)
    assert subjects(handler) == ["Kinderschutz"]
    assert failed.key == "a|letter" and "552" in failed.reason


def test_a_transient_refusal_is_retried_next_cycle_then_with_backoff(
    smtp: tuple[Refusing, int], tmp_path: Path
) -> None:
    handler, port = smtp
    handler.busy["voll@rostock.de"] = 2
    settings = smtp_settings(plain_site(tmp_path), port)
    with StateDB(settings.state_dir) as state:
        state.queue_mail("a|reminder", mail("voll@rostock.de", "Erinnerung"), T0)
        state.queue_mail("b|reminder", mail("jsb@rostock.de", "Andere"), T0)
        assert flush(settings, state, T0) == 1  # 451 for the first; the second goes
        assert flush(settings, state, T0 + timedelta(minutes=2)) == 0  # again 451: backoff
        (stuck,) = undelivered_mail(state, T0 + timedelta(minutes=2))
        assert not stuck.failed and stuck.attempts == 2 and "451" in stuck.reason
        assert "hängt seit" in stuck.line()
        assert flush(settings, state, T0 + timedelta(minutes=3)) == 0  # not yet due
        assert handler.rcpt.count("voll@rostock.de") == 2
        assert flush(settings, state, T0 + timedelta(minutes=4)) == 1
        assert undelivered_mail(state, T0 + timedelta(minutes=4)) == []
    assert subjects(handler) == ["Andere", "Erinnerung"]


def test_failed_mail_is_shown_by_check_the_watchdog_and_the_digest(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _handler, port = smtp
    site: Site = make_site(tmp_path / "site", 'admin_address = "it-jugendhaus@rostock.de"\n')
    set_staff(site, STAFF)
    settings = smtp_settings(site.config, port)
    with StateDB(settings.state_dir) as state:
        state.queue_mail("2026-0007|escalation", mail(GONE, "Eskalation 2026-0007"), T0)
        flush(settings, state, T0)

    assert site.run("check", now="2026-03-30T09:05") == 1
    lines = capsys.readouterr().out.splitlines()
    assert [x for x in lines if x.startswith("PROBLEM Mail 2026-0007|escalation an " + GONE)]

    app = site.app(T0 + timedelta(minutes=10))
    with app.state() as state:
        report = run_watchdog(app, state, Status(started=app.now.isoformat()))
    assert "undelivered" in report.raised
    [alert] = [
        m for m in outgoing(site) if "nicht zugestellt" in m.get_body(("plain",)).get_content()
    ]
    assert str(alert["To"]) == "it-jugendhaus@rostock.de"
    assert "2026-0007|escalation" in alert.get_body(("plain",)).get_content()

    assert site.run("digest", now="2026-03-31T07:00") == 0
    [digest] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    text = digest.get_body(("plain",)).get_content()
    assert "2026-0007|escalation" in text.split("NICHT ZUGESTELLTE MITTEILUNGEN")[1]
