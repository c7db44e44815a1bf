"""Bounded retries with backoff, shared by the network backends.

Transient failures (connection dropped, server busy, HTTP 5xx) are retried up to
`[mailbox] retries` times. A server's own wait hint (Retry-After, BackOffMilliseconds) wins over
the doubling backoff. Throttling (HTTP 429/503/504) is different: it can last minutes on a busy
tenant, so with a `ThrottleBudget` it is waited out as long as the server asks, within the
cycle's budget (`[mailbox] throttle_budget_seconds`); then `ThrottledError` ends the cycle
cleanly. Authentication failures are never retried here.

Sending knows two more outcomes: `MailRefusedError` (the server refused this one mail for good,
e.g. SMTP 5xx or over a size limit; the rest of the queue goes on) and `SendOutcomeUnknown`
(the answer was lost, the mail may have gone out; the outbox looks for its copy later).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from jugendhaus_mail.errors import JugendhausError, MailboxAuthError, MailboxError

if TYPE_CHECKING:
    from jugendhaus_mail.config import Settings
    from jugendhaus_mail.state import StateDB

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_SERVER_WAIT_SECONDS = 300.0


class TransientError(MailboxError):
    """A failure worth retrying. `retry_after` is the server's own hint in seconds, if any;
    `throttled` marks the server's "too many requests" (waited out within a budget)."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, throttled: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.throttled = throttled


class ThrottledError(MailboxError):
    """The server kept throttling longer than this cycle's budget; the next cycle goes on."""


class MailRefusedError(MailboxError):
    """The server refused this one mail for good (unknown recipient, too large, …)."""


class SendOutcomeUnknown(MailboxError):
    """The answer to a send was lost: the mail may or may not have gone out."""


class ThrottleBudget:
    """How long one cycle may wait for a throttling server, in seconds."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.waited = 0.0
        self.exhausted = False

    def take(self, wait: float) -> bool:
        """Spend `wait` seconds if the budget allows; False (and exhausted) otherwise."""
        if self.waited + wait > self.seconds:
            self.exhausted = True
            return False
        self.waited += wait
        return True


def with_retries(
    operation: Callable[[], T],
    *,
    what: str,
    retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    budget: ThrottleBudget | None = None,
) -> T:
    """Run `operation`; on TransientError wait and try again, at most `retries` more times
    (throttling with a `budget`: as long as the budget lasts)."""
    attempt = 0
    throttled = 0
    while True:
        try:
            return operation()
        except MailboxAuthError:
            raise
        except TransientError as exc:
            if budget is not None and exc.throttled:
                wait = _server_wait(exc, backoff_seconds * (2 ** min(throttled, 8)))
                if not budget.take(wait):
                    raise ThrottledError(
                        f"{what}: der Server drosselt die Anfragen ({exc}); nach "
                        f"{budget.waited:.0f} s Warten in diesem Durchgang aufgehört "
                        "([mailbox] throttle_budget_seconds). Der nächste Durchgang macht weiter."
                    ) from exc
                throttled += 1
                log.warning("%s: %s – gedrosselt, neuer Versuch in %.1f s", what, exc, wait)
                sleep(wait)
                continue
            if attempt >= retries:
                raise MailboxError(
                    f"{what}: nach {attempt + 1} Versuchen aufgegeben ({exc})"
                ) from exc
            wait = _server_wait(exc, backoff_seconds * (2**attempt))
            attempt += 1
            log.warning("%s: %s – neuer Versuch %d/%d in %.1f s", what, exc, attempt, retries, wait)
            sleep(wait)


def _server_wait(exc: TransientError, backoff: float) -> float:
    """The server's own wait hint (within reason) wins over the doubling backoff."""
    if exc.retry_after is None:
        return backoff
    return min(max(exc.retry_after, 0.0), MAX_SERVER_WAIT_SECONDS)


THROTTLE_KEY = "mailbox.throttled"


def note_throttled_cycle(settings: Settings, *, throttled: bool) -> None:
    """Remember (in the state database) how many cycles in a row were cut short by throttling,
    for the watchdog; a cycle that got through clears it. Never fails the caller."""
    from jugendhaus_mail.state import StateDB

    try:
        with StateDB(settings.state_dir) as state:
            previous = throttled_cycles(state)
            if not throttled:
                if previous is not None:
                    state.put(THROTTLE_KEY, "")
                return
            since, cycles = previous or (datetime.now(UTC), 0)
            state.put(THROTTLE_KEY, json.dumps({"since": since.isoformat(), "cycles": cycles + 1}))
    except (OSError, sqlite3.Error, JugendhausError) as exc:
        log.warning("Drosselung nicht vermerkt: %s", exc)


def throttled_cycles(state: StateDB) -> tuple[datetime, int] | None:
    """(first throttled cycle, cycles in a row) while cycles keep being cut short."""
    raw = state.get(THROTTLE_KEY)
    if not raw:
        return None
    data = json.loads(raw)
    return datetime.fromisoformat(data["since"]), int(data["cycles"])


def lasting_throttling(state: StateDB, min_cycles: int = 2) -> str | None:
    """A German sentence for the watchdog when throttling lasts across cycles, else None."""
    found = throttled_cycles(state)
    if found is None or found[1] < min_cycles:
        return None
    since, cycles = found
    return (
        f"Microsoft Graph drosselt den Dienst seit {since:%d.%m.%Y %H:%M} UTC; "
        f"{cycles} Abrufe in Folge mussten vorzeitig enden."
    )
