"""The timetable of `run`, built on the `schedule` library but driven by our clock.

`schedule` 1.2 reads the machine's wall clock (`datetime.now()`, naive, in the machine's time
zone) inside `Job`. A server often runs in UTC while the office lives in Europe/Berlin, and
tests must not depend on the real time, so `ClockJob` asks the injected `Clock` instead and
computes its next run as an aware moment: interval jobs run `interval` after the last run,
daily jobs at HH:MM office time (correct across daylight saving changes). Everything else —
registering with `every(...).do(...)`, ordering and `run_pending` — is the library's own.

A job whose time passed while the machine slept runs once when it wakes (its next run is then
computed from the new now, not by adding intervals until it catches up). At start, `missed`
compares today's slots with the last run recorded in the state database, so a digest or
reminder missed while the service was stopped is also caught up once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import schedule

from jugendhaus_mail.service.clock import Clock
from jugendhaus_mail.state import StateDB

LAST_RUN_KEY = "service.last_run."


class ClockScheduler(schedule.Scheduler):
    def __init__(self, clock: Clock, zone: ZoneInfo) -> None:
        super().__init__()
        self.clock = clock
        self.zone = zone

    def every(self, interval: int = 1) -> ClockJob:
        return ClockJob(interval, self)

    def seconds_until_next(self) -> float | None:
        """Clock seconds until the earliest job is due (0 when one is due already)."""
        upcoming = [job.next_run for job in self.jobs if job.next_run is not None]
        if not upcoming:
            return None
        return max(0.0, (min(upcoming) - self.clock.now()).total_seconds())


class ClockJob(schedule.Job):
    scheduler: ClockScheduler

    def __init__(self, interval: int, scheduler: ClockScheduler) -> None:
        super().__init__(interval, scheduler)
        self.scheduler = scheduler

    @property
    def should_run(self) -> bool:
        assert self.next_run is not None
        return bool(self.scheduler.clock.now() >= self.next_run)

    def run(self) -> Any:
        assert self.job_func is not None
        result = self.job_func()
        self.last_run = self.scheduler.clock.now()
        self._schedule_next_run()
        return result

    def _schedule_next_run(self) -> None:
        now = self.scheduler.clock.now()
        if self.at_time is not None and self.unit == "days":
            self.next_run = next_slot(now, self.at_time, self.scheduler.zone)
        elif self.unit in ("seconds", "minutes", "hours", "days"):
            self.next_run = now + timedelta(**{self.unit: self.interval})
        else:
            raise schedule.ScheduleValueError(f"unsupported unit {self.unit!r}")


def next_slot(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first moment after `now` when the office clock shows `at`."""
    day = now.astimezone(zone).date()
    while True:
        candidate = datetime.combine(day, at, tzinfo=zone)
        if candidate > now:
            return candidate
        day += timedelta(days=1)


def last_slot_today(now: datetime, times: tuple[time, ...], zone: ZoneInfo) -> datetime | None:
    """The latest of today's slots (office time) that is not in the future."""
    today: date = now.astimezone(zone).date()
    passed = [datetime.combine(today, at, tzinfo=zone) for at in times]
    passed = [slot for slot in passed if slot <= now]
    return max(passed) if passed else None


def missed(
    name: str, times: tuple[time, ...], now: datetime, zone: ZoneInfo, state: StateDB
) -> bool:
    """True when today's latest slot of job `name` passed without a run (service stopped or
    machine off). Only today counts: yesterday's digest is no use this morning."""
    slot = last_slot_today(now, times, zone)
    if slot is None:
        return False
    last = last_run(state, name)
    return last is None or last < slot


def last_run(state: StateDB, name: str) -> datetime | None:
    raw = state.get(LAST_RUN_KEY + name)
    return datetime.fromisoformat(raw) if raw else None


def remember_run(state: StateDB, name: str, at: datetime) -> None:
    state.put(LAST_RUN_KEY + name, at.isoformat())


def build_schedule(
    clock: Clock,
    zone: ZoneInfo,
    intake_minutes: int,
    timed: dict[str, tuple[time, ...]],
    run: Callable[[str], object],
) -> ClockScheduler:
    """Intake every `intake_minutes`; each timed job (name -> office times) daily at its times."""
    scheduler = ClockScheduler(clock, zone)
    scheduler.every(intake_minutes).minutes.do(run, "intake").tag("intake")
    for name, times in timed.items():
        for at in times:
            scheduler.every().day.at(f"{at:%H:%M}").do(run, name).tag(name)
    return scheduler
