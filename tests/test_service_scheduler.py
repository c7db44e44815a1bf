"""The timetable of `run`, driven by an injected clock: no test here waits for real time.

The timetable registers and orders the jobs; the clock decides what time it is. Days
are in Europe/Berlin (DE-MV): Good Friday 3 April and Easter Monday 6 April 2026 are holidays;
daylight saving time starts on Sunday 29 March 2026 and ends on Sunday 25 October 2026.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.service.loop import Service, StopSignal
from jugendhaus_mail.service.scheduler import build_schedule, missed, next_slot, remember_run
from jugendhaus_mail.service.watcher import Sleeper
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workdays import WorkCalendar
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


class FakeClock:
    """Jumps instead of sleeping. `naps` are (when, until): the machine sleeps through them."""

    rate = 1.0

    def __init__(self, start: datetime, naps: tuple[tuple[datetime, datetime], ...] = ()) -> None:
        self.moment = start
        self.naps = list(naps)

    def now(self) -> datetime:
        return self.moment

    def wait(self, seconds: float, stop: threading.Event) -> None:
        self.moment += timedelta(seconds=max(0.0, seconds))
        for nap in list(self.naps):
            if self.moment >= nap[0]:
                self.moment = max(self.moment, nap[1])
                self.naps.remove(nap)

    def step(self, seconds: float) -> None:
        self.wait(seconds, threading.Event())


def recorder(clock: FakeClock) -> tuple[list[tuple[str, datetime]], Callable[[str], None]]:
    runs: list[tuple[str, datetime]] = []
    return runs, lambda name: runs.append((name, clock.now().astimezone(BERLIN)))


def test_interval_and_daily_jobs_run_on_the_injected_clock() -> None:
    clock = FakeClock(berlin(2026, 3, 30, 6, 55))
    runs, run = recorder(clock)
    scheduler = build_schedule(
        clock, BERLIN, 2, {"digest": (time(7, 0),), "remind": (time(8, 0), time(14, 0))}, run
    )
    while clock.now() < berlin(2026, 3, 30, 15, 0):
        scheduler.run_pending()
        clock.step(min(scheduler.seconds_until_next() or 60, 60))
    timed = [(name, f"{at:%H:%M}") for name, at in runs if name != "intake"]
    assert timed == [("digest", "07:00"), ("remind", "08:00"), ("remind", "14:00")]
    intakes = [at for name, at in runs if name == "intake"]
    assert len(intakes) == (15 * 60 - (6 * 60 + 55)) // 2  # every 2 minutes, none twice
    assert all(b - a == timedelta(minutes=2) for a, b in itertools.pairwise(intakes))


def test_jobs_missed_while_the_machine_slept_run_once_on_waking() -> None:
    clock = FakeClock(berlin(2026, 3, 30, 6, 0))
    runs, run = recorder(clock)
    scheduler = build_schedule(clock, BERLIN, 2, {"digest": (time(7, 0),)}, run)
    clock.step(timedelta(days=2, hours=3).total_seconds())  # asleep until Wednesday 09:00
    scheduler.run_pending()
    assert sorted(name for name, _ in runs) == ["digest", "intake"]
    digest_job = next(job for job in scheduler.jobs if job.name == "digest")
    assert digest_job.next_run == berlin(2026, 4, 2, 7, 0)


def test_daily_times_stay_office_time_across_daylight_saving() -> None:
    spring = next_slot(berlin(2026, 3, 28, 8, 0), time(7, 0), BERLIN)
    assert spring == berlin(2026, 3, 29, 7, 0)
    assert spring.utcoffset() == timedelta(hours=2)
    autumn = next_slot(berlin(2026, 10, 24, 8, 0), time(7, 0), BERLIN)
    assert (autumn.astimezone(BERLIN).hour, autumn.utcoffset()) == (7, timedelta(hours=1))
    # a server in UTC: 05:00 UTC is 07:00 in Berlin in summer
    assert next_slot(utc(2026, 6, 1, 4, 59), time(7, 0), BERLIN) == utc(2026, 6, 1, 5, 0)


def test_a_slot_missed_while_stopped_is_caught_up_once_and_only_today(tmp_path: Path) -> None:
    with StateDB(tmp_path) as state:
        times = (time(7, 0),)
        assert missed("digest", times, berlin(2026, 3, 31, 9, 15), BERLIN, state)
        assert not missed("digest", times, berlin(2026, 3, 31, 6, 30), BERLIN, state)
        remember_run(state, "digest", berlin(2026, 3, 30, 7, 0))  # yesterday
        assert missed("digest", times, berlin(2026, 3, 31, 9, 15), BERLIN, state)
        remember_run(state, "digest", berlin(2026, 3, 31, 9, 15))  # caught up
        assert not missed("digest", times, berlin(2026, 3, 31, 11, 0), BERLIN, state)


EASTER_CONFIG = """
[schedule]
intake_minutes = 360
reminder_times = ["08:00"]
digest_time = "07:00"
[watchdog]
intake_overdue_minutes = 720
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site", EASTER_CONFIG)
    set_staff(site, STAFF)
    return site


def serve(site: Site, clock: FakeClock, until: datetime) -> Service:
    settings = load_settings(site.config)
    calendar = WorkCalendar.from_settings(settings.office)
    stop = StopSignal()
    service = Service(
        settings, calendar, clock, stop, until=until, watcher=Sleeper(clock, stop.event)
    )
    assert service.serve() == 0
    return service


def digest_days(site: Site) -> list[date]:
    return [
        m["Date"].datetime.astimezone(BERLIN).date()
        for m in outgoing(site)
        if str(m["Subject"]).startswith("Tagesüberblick")
    ]


def reminder_runs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Erinnerungen")]


def test_over_easter_digest_and_reminders_run_on_working_days_only(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jugendhaus_mail")
    site.deliver(
        request_mail("Fallanfrage", "Hallo", message_id="<e1@x.de>"), utc(2026, 4, 2), "e1"
    )
    clock = FakeClock(berlin(2026, 4, 2, 6, 50))
    serve(site, clock, until=berlin(2026, 4, 7, 9, 0))
    assert len(site.folder("Erfasst")) == 1  # taken in at start
    assert digest_days(site) == [date(2026, 4, 2), date(2026, 4, 7)]
    runs = reminder_runs(caplog)
    assert len([r for r in runs if "übersprungen: kein Arbeitstag" in r]) == 4  # Fr, Sa, So, Mo
    assert len([r for r in runs if r.startswith("Erinnerungen:")]) == 2  # Thursday, Tuesday


def test_a_night_asleep_costs_one_catch_up_not_one_run_per_missed_slot(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jugendhaus_mail")
    nap = (berlin(2026, 3, 31, 6, 0), berlin(2026, 4, 1, 9, 30))  # Tuesday 06:00 to Wed 09:30
    clock = FakeClock(berlin(2026, 3, 30, 6, 50), naps=(nap,))
    serve(site, clock, until=berlin(2026, 4, 2, 10, 0))
    assert digest_days(site) == [date(2026, 3, 30), date(2026, 4, 1), date(2026, 4, 2)]
    assert len([r for r in reminder_runs(caplog) if r.startswith("Erinnerungen:")]) == 3


def test_a_restart_after_the_digest_time_catches_up_once(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jugendhaus_mail")
    serve(site, FakeClock(berlin(2026, 3, 30, 9, 15)), until=berlin(2026, 3, 30, 9, 20))
    serve(site, FakeClock(berlin(2026, 3, 30, 9, 25)), until=berlin(2026, 3, 30, 9, 30))
    assert digest_days(site) == [date(2026, 3, 30)]
    caught_up = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Nachgeholt")]
    assert len(caught_up) == 2  # digest and reminder, at the first start only
