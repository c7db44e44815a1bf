"""Every mail the service sends goes through the outbox.

A mail is rendered, checked against `[mail] internal_domains`, and queued in the state database
under a key that names what it is about (e.g. "2026-0042|contact_person|reminder|2026-03-13").
A key is queued once and only once, so each notice is sent exactly once however often a cycle
runs; a changed due date is a new key. `flush` then hands queued mail to the mailbox and marks
it sent; mail that could not be sent stays queued for the next cycle. A dry run renders and
reports but queues nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import MailboxError
from jugendhaus_mail.mailbox.base import Mailbox
from jugendhaus_mail.notify.outgoing import RecipientPolicy, build_message
from jugendhaus_mail.notify.render import MailData, MailRenderer
from jugendhaus_mail.state import StateDB

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedMail:
    key: str
    subject: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    refused: tuple[str, ...]


@dataclass
class Outbox:
    settings: Settings
    state: StateDB
    now: datetime
    dry_run: bool = False
    planned: list[PlannedMail] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.renderer = MailRenderer.from_settings(self.settings)
        self.policy = RecipientPolicy(self.settings.mail.internal_domains)

    def queue(
        self,
        key: str,
        mail: MailData,
        to: list[str],
        cc: list[str] | None = None,
        attachments: tuple[tuple[str, bytes, str], ...] = (),
    ) -> bool:
        """Queue `mail` once under `key`. Returns True when it is (or in a dry run would be) new."""
        if self.state.already_queued(key):
            return False
        allowed_to, refused_to = self.policy.split(_unique(to))
        allowed_cc, refused_cc = self.policy.split(
            a for a in _unique(cc or []) if a not in allowed_to
        )
        refused = tuple(refused_to + refused_cc)
        if refused:
            log.warning(
                "%s: nicht gesendet an %s (nicht in [mail] internal_domains)",
                key,
                ", ".join(refused),
            )
        if not allowed_to:
            allowed_to, allowed_cc = allowed_cc, []
        if not allowed_to:
            hint = "nur fremde Domains" if refused else "Blatt Mitarbeitende prüfen"
            log.warning("%s: kein zulässiger Empfänger (%s)", key, hint)
            return False
        rendered = self.renderer.render_mail(mail)
        self.planned.append(
            PlannedMail(key, rendered.subject, tuple(allowed_to), tuple(allowed_cc), refused)
        )
        if self.dry_run:
            return True
        message = build_message(
            rendered,
            sender=self.settings.mail.team_address,
            to=allowed_to,
            cc=allowed_cc,
            attachments=attachments,
            now=self.now,
            domain=self.settings.mail.team_address.split("@")[-1],
        )
        return self.state.queue_mail(key, message.as_bytes(policy=SMTP), self.now)

    def flush(self, mailbox: Mailbox) -> int:
        """Send what is queued; a failure leaves the rest queued for the next cycle."""
        if self.dry_run:
            return 0
        sent = 0
        for key, raw in self.state.unsent_mail():
            message = message_from_bytes(raw, policy=default_policy)
            assert isinstance(message, EmailMessage)
            try:
                mailbox.send(message)
            except MailboxError as exc:
                log.warning("Versand gestoppt, %s bleibt in der Warteschlange: %s", key, exc)
                break
            self.state.mark_mail_sent(key, self.now)
            log.info("Mail gesendet: %s", key)
            sent += 1
        return sent


def _unique(addresses: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        if address and address.strip().lower() not in seen:
            seen[address.strip().lower()] = address.strip()
    return list(seen.values())
