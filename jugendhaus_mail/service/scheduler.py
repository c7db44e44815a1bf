"""The timetable of `run`: interval and daily jobs, driven by an injected clock.

The clock is a parameter, not the machine's wall clock: a server often runs in UTC while the
office lives in Europe/Berlin, and tests must not depend on the real time. Interval jobs run
`interval` after their last run; daily jobs at HH:MM office time (correct across daylight saving
changes). A job whose time passed while the machine slept runs once when it wakes (its next run
is then computed from the new now, not by adding intervals until it catches up). At start,
`missed` compares today's slots with the last run recorded in the state database, so a digest or
reminder missed while the service was stopped is also caught up once.

This used to be built on the `schedule` library, but every part that mattered (what time it is,
when a job runs next) had to replace the library's own; the forty lines below are all it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from jugendhaus_mail.service.clock import Clock
from jugendhaus_mail.state import StateDB

LAST_RUN_KEY = "service.last_run."


@dataclass
class Job:
    """One entry of the timetable: every `interval`, or daily at office time `at`."""

    name: str
    action: Callable[[], object]
    interval: timedelta | None = None
    at: time | None = None
    next_run: datetime | None = None

    def schedule_next(self, now: datetime, zone: ZoneInfo) -> None:
        if self.at is not None:
            self.next_run = next_slot(now, self.at, zone)
        else:
            assert self.interval is not None
            self.next_run = now + self.interval


class ClockScheduler:
    def __init__(self, clock: Clock, zone: ZoneInfo) -> None:
        self.clock = clock
        self.zone = zone
        self.jobs: list[Job] = []

    def add(self, job: Job) -> Job:
        job.schedule_next(self.clock.now(), self.zone)
        self.jobs.append(job)
        return job

    def run_pending(self) -> None:
        """Run every job that is due, earliest first, each once."""
        now = self.clock.now()
        due = sorted(
            (job for job in self.jobs if job.next_run is not None and job.next_run <= now),
            key=lambda job: job.next_run or now,
        )
        for job in due:
            job.action()
            job.schedule_next(self.clock.now(), self.zone)

    def seconds_until_next(self) -> float | None:
        """Clock seconds until the earliest job is due (0 when one is due already)."""
        upcoming = [job.next_run for job in self.jobs if job.next_run is not None]
        if not upcoming:
            return None
        return max(0.0, (min(upcoming) - self.clock.now()).total_seconds())


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
    interval = timedelta(minutes=intake_minutes)
    scheduler.add(Job("intake", partial(run, "intake"), interval=interval))
    for name, times in timed.items():
        for at in times:
            scheduler.add(Job(name, partial(run, name), at=at))
    return scheduler
