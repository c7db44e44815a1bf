"""Every mail the service sends goes through the outbox.

A mail is rendered, checked against `[mail] internal_domains`, and queued in the state database
under a key that names what it is about (e.g. "2026-0042|contact_person|reminder|2026-03-13").
A key is queued once and only once, so each notice is sent exactly once however often a cycle
runs; a changed due date is a new key. `flush` then hands queued mail to the mailbox and marks
it sent. A dry run renders and reports but queues nothing.

One mail must never block the others (Kinderschutz alerts go out even when a reminder is
refused). Each mail's trouble is recorded in `outbox_trouble`:
- refused for good (SMTP 5xx, over Graph's size limit): never tried again, listed as failed;
- a transient failure: tried again in the next cycle, then with a doubling backoff;
- the answer to a send was lost (Graph): its copy in Sent Items is looked for during
  `[mailbox] sent_copy_grace_minutes`; only when none has appeared is it sent again.
Throttling or a refused log-in stop the flush; the rest waits for the next cycle.
`undelivered_mail` lists failed and stuck mail for `check`, the watchdog and the digest.

Why one module: queueing, sending and the trouble records together make "exactly once, one
failure never blocks the rest"; split, that promise would have to be read across files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import overload

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import raw as raw_mail
from jugendhaus_mail.mailbox.base import Mailbox
from jugendhaus_mail.mailbox.retry import MailRefusedError, SendOutcomeUnknown, ThrottledError
from jugendhaus_mail.notify.mime import build_raw
from jugendhaus_mail.notify.outgoing import RecipientPolicy
from jugendhaus_mail.notify.render import MailData, MailRenderer, RenderedMail, for_recipients
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
    # the next office hours by (calendar, moment): the same for every mail of a cycle
    office_slots: dict[tuple[object, datetime], tuple[datetime, datetime] | None] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.renderer = MailRenderer.from_settings(self.settings)
        self.policy = RecipientPolicy(self.settings.mail.internal_domains)
        self._held: dict[str, bytes] | None = None  # see hold()
        self._held_patterns: dict[str, bytes] = {}  # key -> pattern bytes (mailpack.py)
        self._pattern_bytes: dict[RenderedMail, bytes | None] = {}  # built once per stencil

    def hold(self) -> None:
        """Keep what `queue` builds in memory until `take_held`, so that the caller records it
        in the same transaction as the mails it answers (one commit for a whole batch)."""
        self._held = {}

    def take_held(self) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """The mail queued since `hold` (key -> message) and the patterns to store it packed
        with (key -> pattern, see mailpack.py); holding goes on."""
        held, self._held = self._held or {}, {}
        patterns, self._held_patterns = self._held_patterns, {}
        return held, patterns

    def release(self) -> None:
        """Queue directly again; mail still held was never recorded and is dropped."""
        self._held = None
        self._held_patterns = {}

    def queue(
        self,
        key: str,
        mail: MailData,
        to: list[str],
        cc: list[str] | None = None,
        attachments: tuple[tuple[str, bytes, str], ...] = (),
    ) -> bool:
        """Queue `mail` once under `key`. Returns True when it is (or in a dry run would be) new."""
        queued, unaddressed = self._known(key)
        if queued:
            return False
        allowed_to, refused_to = self.policy.split(_unique(to))
        allowed_cc: list[str] = []
        refused_cc: list[str] = []
        if cc:  # an acknowledgement has none
            allowed_cc, refused_cc = self.policy.split(
                a for a in _unique(cc) if a not in allowed_to
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
        office = self.settings.office.domain or self.settings.mail.team_address.split("@")[-1]
        mail = for_recipients(mail, [*allowed_to, *allowed_cc], office)
        rendered = self.renderer.render_mail(mail)
        if not allowed_to:
            hint = "nur fremde Domains" if refused else "Blatt Mitarbeitende prüfen"
            log.warning("%s: kein zulässiger Empfänger (%s)", key, hint)
            if not self.dry_run:
                self.state.record_unaddressed(key, rendered.subject, _why(refused, key), self.now)
            return False
        if unaddressed and not self.dry_run:
            self.state.resolve_unaddressed(key)
        self.planned.append(
            PlannedMail(key, rendered.subject, tuple(allowed_to), tuple(allowed_cc), refused)
        )
        if self.dry_run:
            return True
        message = build_raw(
            rendered,
            sender=self.settings.mail.team_address,
            sender_name=self.settings.mail.from_name,
            to=allowed_to,
            cc=allowed_cc,
            attachments=attachments,
            now=self.now,
            domain=self.settings.mail.team_address.split("@")[-1],
        )
        if self._held is not None:
            self._hold(key, message, rendered.pattern)
            return True
        return self.state.queue_mail(key, message, self.now)

    def _hold(self, key: str, message: bytes, pattern: RenderedMail | None) -> None:
        assert self._held is not None
        self._held[key] = message
        built = self._built_pattern(pattern)
        if built is not None:
            self._held_patterns[key] = built

    def _built_pattern(self, pattern: RenderedMail | None) -> bytes | None:
        """The pattern of a stencil's mails built like them, once per stencil; addressed to
        the team itself, so that it holds no recipient either."""
        if pattern is None:
            return None
        if pattern not in self._pattern_bytes:
            team = self.settings.mail.team_address
            try:
                raw: bytes | None = build_raw(
                    pattern,
                    sender=team,
                    sender_name=self.settings.mail.from_name,
                    to=[team],
                    now=self.now,
                    domain=team.split("@")[-1],
                )
            except ValueError:
                raw = None  # the mails are stored as they are
            self._pattern_bytes[pattern] = raw
        return self._pattern_bytes[pattern]

    def _known(self, key: str) -> tuple[bool, bool]:
        """Whether `key` is queued (or held), and whether it is noted as unaddressed: one
        look-up for both."""
        if self._held is not None and key in self._held:
            return True, False
        queued, unaddressed = self.state.conn.execute(
            "SELECT EXISTS(SELECT 1 FROM outbox WHERE key = ?), "
            "EXISTS(SELECT 1 FROM unaddressed WHERE key = ?)",
            (key, key),
        ).fetchone()
        return bool(queued), bool(unaddressed)

    def flush(self, mailbox: Mailbox) -> int:
        """Send what is queued and due; a mail that fails is recorded, the rest goes on."""
        if self.dry_run:
            return 0
        grace = timedelta(minutes=self.settings.mailbox.sent_copy_grace_minutes)
        trouble = _trouble(self.state)
        sent = transient_in_a_row = 0
        # a backend that stores a whole batch at once (Maildir: one sync for all files, then
        # the folder) is told when the batch ends; only then is the batch noted as sent
        commit = getattr(mailbox, "commit_sent", None)
        batch: dict[str, bytes] = {}
        for key, raw in self.state.unsent_mail():
            known = trouble.get(key)
            if known is not None and not known.due(self.now):
                continue
            if known is not None and known.unknown_since is not None:
                found = self._look_for_copy(mailbox, key, raw, known.unknown_since, grace)
                if found != "send again":
                    sent += found == "found"
                    continue  # found, or the copy may still appear: the rest goes on
            try:
                _send(mailbox, raw)
            except MailRefusedError as exc:
                log.error("Mail %s endgültig abgelehnt, nicht erneut versucht: %s", key, exc)
                _note(self.state, key, self.now, reason=str(exc), failed=True)
                continue
            except SendOutcomeUnknown as exc:
                log.warning("Mail %s: Ausgang ungewiss, später prüfen: %s", key, exc)
                _note(self.state, key, self.now, reason=str(exc), unknown=True)
                continue
            except (ThrottledError, MailboxAuthError) as exc:
                log.warning("Versand für diesen Durchgang beendet, der Rest wartet: %s", exc)
                break
            except MailboxError as exc:
                transient_in_a_row += 1
                retry_at = _note(self.state, key, self.now, reason=str(exc))
                log.warning("Mail %s nicht gesendet, neuer Versuch ab %s: %s", key, retry_at, exc)
                if transient_in_a_row >= 2:  # the server itself is down: stop for this cycle
                    break
                continue
            transient_in_a_row = 0
            if callable(commit):
                batch[key] = raw
            else:
                self._sent(key, "gesendet", key in trouble)
            sent += 1
        if batch:
            assert callable(commit)
            sent -= self._commit_batch(commit, batch, trouble)
        return sent

    def _look_for_copy(
        self, mailbox: Mailbox, key: str, raw: bytes, unknown_since: datetime, grace: timedelta
    ) -> str:
        """A mail whose send outcome is unknown: "found" (its copy is in Sent Items, so it was
        sent), "wait" (no copy yet, within the grace period) or "send again"."""
        copy = _sent_copy_exists(mailbox, raw)
        if copy:
            self._sent(key, "Kopie in „Gesendete Elemente“ gefunden")
            return "found"
        if copy is None or self.now - unknown_since < grace:
            return "wait"
        return "send again"

    def _commit_batch(
        self, commit: Callable[[], object], batch: dict[str, bytes], trouble: dict[str, Trouble]
    ) -> int:
        """End a batch the backend stores at once; returns how many stay unconfirmed."""
        try:
            commit()
        except MailboxError as exc:
            log.warning("Versand nicht abgeschlossen, der nächste Durchgang holt nach: %s", exc)
            return len(batch)
        self.state.mark_mails_sent(list(batch), self.now, batch)
        for key in batch:
            if key in trouble:
                _clear(self.state, key)
            log.info("Mail gesendet: %s", key)
        return 0

    def _sent(self, key: str, how: str, troubled: bool = True) -> None:
        self.state.mark_mail_sent(key, self.now)
        if troubled:
            _clear(self.state, key)
        log.info("Mail %s: %s", how, key)


# how the reason of an acknowledgement to a requester outside the office's domains begins
EXTERNAL_REQUESTER = "nicht bestätigt (externe Adresse"


def _why(refused: tuple[str, ...], key: str = "") -> str:
    if refused and key.endswith("|acknowledgement"):
        # a youth workshop or a school asked: nobody else will answer them, so staff do
        return (
            f"{EXTERNAL_REQUESTER} {', '.join(refused)}) – bitte von Hand "
            "antworten und die Nr. in den Betreff schreiben"
        )
    if refused:
        return (
            "nur Empfänger außerhalb von [mail] internal_domains – bitte die Adresse im Blatt "
            "Mitarbeitende oder die Domain in [mail] internal_domains prüfen"
        )
    return (
        "kein Empfänger – bitte im Blatt Mitarbeitende die passenden Personen (Rolle, Aktiv) "
        "eintragen"
    )


def _unique(addresses: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        if address and address.strip().lower() not in seen:
            seen[address.strip().lower()] = address.strip()
    return list(seen.values())


# --- mail that could not be sent: recorded per mail ------------------------------------------

TROUBLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_trouble (
    key           TEXT PRIMARY KEY,     -- the outbox key
    attempts      INTEGER NOT NULL,
    reason        TEXT NOT NULL,        -- the last failure, German
    first_at      TEXT NOT NULL,
    last_at       TEXT NOT NULL,
    next_try_at   TEXT,                 -- transient: not before this moment
    failed_at     TEXT,                 -- refused for good: never tried again
    unknown_since TEXT                  -- the answer to a send was lost
);
"""
RETRY_MINUTES = 2  # the backoff after the second transient failure; it doubles up to the cap
RETRY_CAP_MINUTES = 120
STUCK_AFTER = timedelta(hours=1)  # unsent this long after queuing: listed as stuck
FAILED_LISTED_FOR = timedelta(days=14)


@dataclass(frozen=True)
class Trouble:
    attempts: int
    reason: str
    next_try_at: datetime | None
    failed_at: datetime | None
    unknown_since: datetime | None

    def due(self, now: datetime) -> bool:
        return self.failed_at is None and (self.next_try_at is None or self.next_try_at <= now)


@dataclass(frozen=True)
class UndeliveredMail:
    """A queued mail that did not go out: `failed` (refused for good) or stuck."""

    key: str
    to: str
    queued_at: datetime
    failed: bool
    attempts: int
    reason: str

    def line(self) -> str:
        """One German line without mail content (the key names case and purpose only)."""
        if self.failed:
            what = "nicht zustellbar"
        elif self.reason:
            what = f"hängt seit {self.queued_at:%d.%m.%Y %H:%M} ({self.attempts} Versuche)"
        else:
            what = f"wartet seit {self.queued_at:%d.%m.%Y %H:%M} auf den Versand"
        reason = f": {self.reason}" if self.reason else ""
        return f"Mail {self.key} an {self.to or '?'} {what}{reason}"


def undelivered_mail(state: StateDB, now: datetime) -> list[UndeliveredMail]:
    """Failed mail (refused for good, for FAILED_LISTED_FOR) and stuck mail (queued longer
    than STUCK_AFTER, or with a failed attempt), oldest first."""
    _ensure(state)
    rows = state.conn.execute(
        "SELECT o.key, o.queued_at, o.message, o.sent_at, t.attempts, t.reason, t.failed_at "
        "FROM outbox o LEFT JOIN outbox_trouble t ON t.key = o.key "
        "WHERE o.sent_at IS NULL ORDER BY o.queued_at, o.key"
    ).fetchall()
    found = []
    for key, queued_at, message, _sent, attempts, reason, failed_at in rows:
        queued = datetime.fromisoformat(queued_at)
        failed = failed_at is not None
        if failed and now - datetime.fromisoformat(failed_at) > FAILED_LISTED_FOR:
            continue
        if not failed and not attempts and now - queued < STUCK_AFTER:
            continue
        found.append(
            UndeliveredMail(
                str(key),
                _recipients(None if message is None else state.readable(key, message)),
                queued,
                failed,
                int(attempts or 0),
                reason or "",
            )
        )
    return found


def _recipients(raw: bytes | None) -> str:
    if not raw:
        return ""
    headers = message_from_bytes(bytes(raw).split(b"\r\n\r\n", 1)[0], policy=default_policy)
    return ", ".join(str(headers[name]) for name in ("To", "Cc") if headers[name])


def _ensure(state: StateDB) -> None:
    state.conn.executescript(TROUBLE_SCHEMA)


def _trouble(state: StateDB) -> dict[str, Trouble]:
    _ensure(state)
    rows = state.conn.execute(
        "SELECT key, attempts, reason, next_try_at, failed_at, unknown_since FROM outbox_trouble"
    ).fetchall()
    return {
        str(key): Trouble(int(attempts), str(reason), _moment(nxt), _moment(failed), _moment(unk))
        for key, attempts, reason, nxt, failed, unk in rows
    }


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _note(
    state: StateDB,
    key: str,
    now: datetime,
    *,
    reason: str,
    failed: bool = False,
    unknown: bool = False,
) -> datetime:
    """Record one failed attempt; returns when the mail is due again."""
    with state.transaction() as tx:
        row = tx.execute(
            "SELECT attempts, unknown_since FROM outbox_trouble WHERE key = ?", (key,)
        ).fetchone()
        attempts = (int(row[0]) if row else 0) + 1
        # the first transient failure is tried again next cycle, later ones back off
        wait = 0 if attempts == 1 else RETRY_MINUTES * 2 ** min(attempts - 2, 10)
        retry_at = now + timedelta(minutes=min(wait, RETRY_CAP_MINUTES))
        at = now.isoformat()
        next_try = None if failed or unknown else retry_at.isoformat()
        failed_at, unknown_since = (at if failed else None), (at if unknown else None)
        tx.execute(
            "INSERT INTO outbox_trouble(key, attempts, reason, first_at, last_at, next_try_at, "
            "failed_at, unknown_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET attempts = excluded.attempts, "
            "reason = excluded.reason, last_at = excluded.last_at, "
            "next_try_at = excluded.next_try_at, failed_at = excluded.failed_at, "
            "unknown_since = excluded.unknown_since",
            (key, attempts, reason, at, at, next_try, failed_at, unknown_since),
        )
    return retry_at


def _clear(state: StateDB, key: str) -> None:
    with state.transaction() as tx:
        tx.execute("DELETE FROM outbox_trouble WHERE key = ?", (key,))


def _send(mailbox: Mailbox, raw: bytes) -> None:
    """Hand the stored bytes to the backend as they are; only a backend without a bytes path
    (a test double) gets them parsed into a message."""
    send_raw = getattr(mailbox, "send_raw", None)
    if callable(send_raw):
        send_raw(raw, _Recipients(raw))
        return
    message = message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    mailbox.send(message)


class _Recipients(Sequence[str]):
    """To and Cc of the stored bytes, read when a backend asks for them (SMTP does; Maildir,
    Graph and EWS take the bytes alone)."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._read: list[str] | None = None

    def _addresses(self) -> list[str]:
        if self._read is None:
            self._read = raw_mail.recipients(self._raw)
        return self._read

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._addresses()[index]

    def __len__(self) -> int:
        return len(self._addresses())


def send_now(mailbox: Mailbox, raw: bytes) -> None:
    """Send one mail outside the outbox (the watchdog's alarm when the state is damaged):
    handed over as `flush` does, and the backend's batch ended at once."""
    _send(mailbox, raw)
    commit = getattr(mailbox, "commit_sent", None)
    if callable(commit):
        commit()


def _sent_copy_exists(mailbox: Mailbox, raw: bytes) -> bool | None:
    """Whether the mailbox has the copy of `raw` in Sent Items; None when it cannot tell."""
    look = getattr(mailbox, "sent_copy_exists", None)
    message_id = raw_mail.message_id(raw)
    if not callable(look) or not message_id:
        return False
    try:
        return bool(look(str(message_id)))
    except MailboxError as exc:
        log.info("Gesendete Elemente nicht prüfbar, später erneut: %s", exc)
        return None
