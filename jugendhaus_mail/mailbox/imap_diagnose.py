"""`check` for the IMAP/SMTP backend: log-in, inbox, folders, SMTP and optionally a test mail.

It walks through the backend's own steps one by one (its private helpers, on purpose: the same
code that runs in a cycle, so `check` proves what the service will do).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from email.policy import SMTP
from typing import Any

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import ConfigError, MailboxError
from jugendhaus_mail.mailbox import imap
from jugendhaus_mail.mailbox.base import Folder
from jugendhaus_mail.mailbox.diagnose import test_message
from jugendhaus_mail.mailbox.smtp import check_smtp, send_smtp


def diagnose(settings: Settings, send_test_to: str | None = None) -> list[tuple[bool, str]]:
    """The `check` command for IMAP/SMTP: login, inbox, folders, SMTP (and a test mail)."""
    quick = replace(settings, mailbox=replace(settings.mailbox, retries=0))
    lines: list[tuple[bool, str]] = []
    mailbox = imap.ImapMailbox(quick)
    host, port = mailbox._server
    steps: list[tuple[str, Callable[[Any], str]]] = [
        ("Anmeldung", lambda c: f"Anmeldung am IMAP-Server {host}:{port} erfolgreich"),
        ("Posteingang lesen", lambda c: _inbox_line(mailbox, c)),
        ("Ordner anlegen", lambda c: f"Ordner {mailbox._ensure_folder(c, Folder.ERFASST)} da"),
        (
            "Ordner anlegen",
            lambda c: f"Ordner {mailbox._ensure_folder(c, Folder.NICHT_ERFASST)} da",
        ),
        ("Gesendet-Ordner anlegen", lambda c: f"Gesendet-Ordner {mailbox._sent_folder(c)} da"),
        ("Fähigkeiten lesen", lambda c: _idle_line(c.has_capability("IDLE"))),
    ]
    try:
        for what, step in steps:
            lines.append((True, mailbox._call(what, step)))
    except (MailboxError, ConfigError) as exc:
        lines.append((False, str(exc)))
    lines.append(_smtp_line(quick, mailbox, send_test_to))
    mailbox.close()
    return lines


def _idle_line(idle: bool) -> str:
    if idle:
        return "Server meldet neue Mail sofort (IDLE)"
    return f"Server kann kein IDLE; neue Mail wird alle {imap.POLL_SECONDS:.0f} s abgefragt"


def _inbox_line(mailbox: imap.ImapMailbox, client: Any) -> str:
    mailbox._select_inbox(client)
    count = len(client.search(["UNDELETED"]))
    return f"Posteingang {mailbox._inbox} lesbar: {count} Nachricht(en) warten auf Erfassung"


def _smtp_line(
    settings: Settings, mailbox: imap.ImapMailbox, send_test_to: str | None
) -> tuple[bool, str]:
    try:
        if not send_test_to:
            return True, check_smtp(settings)
        message = test_message(settings, send_test_to, "IMAP/SMTP")
        outgoing = mailbox._prepared(message)
        send_smtp(settings, outgoing)
        message_id, data = str(outgoing["Message-ID"]), outgoing.as_bytes(policy=SMTP)
        folder = mailbox._call("Kopie ablegen", lambda c: mailbox._append_sent(c, message_id, data))
        return True, f"Testmail an {send_test_to} versendet, Kopie im Ordner {folder} abgelegt"
    except (MailboxError, ConfigError) as exc:
        return False, str(exc)
