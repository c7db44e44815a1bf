"""Time for the service loop. Jobs never read the clock: the loop asks it once per job and
hands the moment in (`App.now`).

- `SystemClock`: the real time.
- `ReplayClock`: starts at `--now` and runs with real time from there; tests may let it run
  faster (environment variable JUGENDHAUS_MAIL_CLOCK_RATE, honoured only together with
  `--now`, so a production service can never run on a fast clock by accident).

Waiting goes through the clock as well (`wait`), so a test clock can jump instead of sleeping.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from jugendhaus_mail.errors import ConfigError

RATE_ENV = "JUGENDHAUS_MAIL_CLOCK_RATE"
MAX_RATE = 3600.0


def parse_now(value: str | None, timezone: str) -> datetime:
    """The pretend clock from --now; a naive value is local office time."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--now {value!r} ist kein Zeitpunkt; erwartet z. B. 2026-11-25T09:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


class Clock(Protocol):
    rate: float  # clock seconds per real second

    def now(self) -> datetime:
        """The current moment, timezone-aware (UTC)."""
        ...

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Let `seconds` of clock time pass, or less if `stop` is set meanwhile."""
        ...


class SystemClock:
    rate = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        if seconds > 0:
            stop.wait(seconds)


class ReplayClock:
    """Shows `start` at creation and advances `rate` times as fast as real time."""

    def __init__(
        self, start: datetime, rate: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self._start = start
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(self._monotonic() - self._origin) * self.rate)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        if seconds > 0:
            stop.wait(seconds / self.rate)


def clock_for(now_option: str | None, start: datetime) -> Clock:
    """The real clock, or with `--now` a clock that starts there (at JUGENDHAUS_MAIL_CLOCK_RATE
    times real speed, default 1)."""
    if now_option is None:
        return SystemClock()
    raw = os.environ.get(RATE_ENV, "").strip()
    try:
        rate = float(raw) if raw else 1.0
    except ValueError:
        rate = 0.0
    if not 0 < rate <= MAX_RATE:
        raise ConfigError(
            f"Umgebungsvariable {RATE_ENV}={raw!r}: erwartet eine Zahl über 0 bis {MAX_RATE:g} "
            "(nur für Tests; im Betrieb nicht setzen)."
        )
    return ReplayClock(start, rate)
