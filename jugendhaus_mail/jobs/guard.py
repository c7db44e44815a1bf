"""Wrong credentials are tried once, then left alone for an hour.

Mail servers lock an account after a few failed log-ins, and a service that retries every two
minutes would do that within the hour. So a `MailboxAuthError` is recorded in the state
database; until `BLOCK_MINUTES` have passed, every job that needs the mailbox skips it with one
log line instead of trying again. The watchdog reports the block once (see `watchdog.py`),
`check` shows it. A successful log-in (an intake cycle, or `check` after the admin fixed the
password) ends it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import JugendhausError, MailboxAuthError
from jugendhaus_mail.mailbox import Mailbox, open_mailbox
from jugendhaus_mail.state import StateDB

log = logging.getLogger(__name__)

BLOCK_KEY = "mailbox.auth_block"
BLOCK_MINUTES = 60


class MailboxBlocked(JugendhausError):
    """The mailbox is not tried while a recent log-in was refused."""


@dataclass(frozen=True)
class AuthBlock:
    since: datetime  # first refusal of this episode
    last: datetime  # latest refusal
    until: datetime  # no new attempt before this moment
    message: str  # the backend's explanation (names server and variable, never a secret)
    failures: int

    def active(self, now: datetime) -> bool:
        return now < self.until

    def describe(self, timezone: str) -> str:
        zone = ZoneInfo(timezone)
        return (
            f"Die Anmeldung am Postfach wurde am {self.last.astimezone(zone):%d.%m.%Y um %H:%M} "
            f"abgelehnt ({self.message.rstrip('.')}). Damit das Konto nicht gesperrt wird, "
            f"versucht der Dienst es erst ab {self.until.astimezone(zone):%H:%M} Uhr wieder. "
            "Nach dem Korrigieren der Zugangsdaten hebt `jugendhaus-mail check` die Sperre auf."
        )


def current_block(state: StateDB) -> AuthBlock | None:
    """The recorded refusal (active or expired) until a log-in succeeds."""
    raw = state.get(BLOCK_KEY)
    if not raw:
        return None
    data = json.loads(raw)
    return AuthBlock(
        since=datetime.fromisoformat(data["since"]),
        last=datetime.fromisoformat(data["last"]),
        until=datetime.fromisoformat(data["until"]),
        message=str(data["message"]),
        failures=int(data["failures"]),
    )


def record_auth_failure(state: StateDB, error: MailboxAuthError, now: datetime) -> AuthBlock:
    previous = current_block(state)
    block = AuthBlock(
        since=previous.since if previous else now,
        last=now,
        until=now + timedelta(minutes=BLOCK_MINUTES),
        message=str(error),
        failures=(previous.failures if previous else 0) + 1,
    )
    state.put(
        BLOCK_KEY,
        json.dumps(
            {
                "since": block.since.isoformat(),
                "last": block.last.isoformat(),
                "until": block.until.isoformat(),
                "message": block.message,
                "failures": block.failures,
            }
        ),
    )
    # INFO: the caller reports the error itself (the CLI's "Fehler:" line, the job wrapper of
    # `run`); repeating it at ERROR would show the admin the same message twice
    log.info(
        "Anmeldung am Postfach abgelehnt: %s – nächster Versuch frühestens in %d Minuten",
        error,
        BLOCK_MINUTES,
    )
    return block


def clear_auth_block(state: StateDB) -> AuthBlock | None:
    """A log-in worked: forget the refusal. Returns what was recorded, if anything."""
    previous = current_block(state)
    if previous is not None:
        state.put(BLOCK_KEY, "")
        log.info("Anmeldung am Postfach wieder erfolgreich; Sperre aufgehoben")
    return previous


@contextmanager
def guarded_mailbox(
    app: App, state: StateDB, *, required: bool = False, proves_login: bool = False
) -> Iterator[Mailbox | None]:
    """The mailbox, or None while a refused log-in blocks it (one log line). `required` raises
    MailboxBlocked instead; `proves_login` ends a block when the block ran through (only for
    work that always logs in, such as listing the inbox)."""
    block = current_block(state)
    if block is not None and block.active(app.now):
        if required:
            raise MailboxBlocked(block.describe(app.settings.office.timezone))
        until = block.until.astimezone(ZoneInfo(app.settings.office.timezone))
        log.info(
            "Postfach übersprungen: Anmeldung abgelehnt, nächster Versuch ab %s", f"{until:%H:%M}"
        )
        yield None
        return
    try:
        with open_mailbox(app.settings) as mailbox:
            yield mailbox
    except MailboxAuthError as exc:
        record_auth_failure(state, exc, app.now)
        raise
    if proves_login:
        clear_auth_block(state)
