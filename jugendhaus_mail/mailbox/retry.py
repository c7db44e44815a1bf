"""Bounded retries with backoff, shared by the network backends.

Transient failures (connection dropped, server busy, HTTP 429/503) are retried up to
`[mailbox] retries` times. A server's own wait hint (Retry-After, BackOffMilliseconds) wins over
the doubling backoff. Authentication failures are never retried here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from jugendhaus_mail.errors import MailboxAuthError, MailboxError

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_SERVER_WAIT_SECONDS = 300.0


class TransientError(MailboxError):
    """A failure worth retrying. `retry_after` is the server's own hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def with_retries(
    operation: Callable[[], T],
    *,
    what: str,
    retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`; on TransientError wait and try again, at most `retries` more times."""
    attempt = 0
    while True:
        try:
            return operation()
        except MailboxAuthError:
            raise
        except TransientError as exc:
            if attempt >= retries:
                raise MailboxError(
                    f"{what}: nach {attempt + 1} Versuchen aufgegeben ({exc})"
                ) from exc
            wait = backoff_seconds * (2**attempt)
            if exc.retry_after is not None:
                wait = min(max(exc.retry_after, 0.0), MAX_SERVER_WAIT_SECONDS)
            attempt += 1
            log.warning("%s: %s – neuer Versuch %d/%d in %.1f s", what, exc, attempt, retries, wait)
            sleep(wait)
