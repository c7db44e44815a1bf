"""The service loop of `run`.

At start: take in the inbox once, run the watchdog, and catch up today's reminder or digest if
its time passed while the service was stopped. Then: run what the timetable says is due, and
wait until the next job, waking early when the mailbox reports new mail (IMAP IDLE, a look into
the Maildir). SIGTERM/SIGINT let the running job finish; the loop then ends and `run` exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from datetime import time as clock_time
from types import FrameType

from jugendhaus_mail import __version__
from jugendhaus_mail.app import App
from jugendhaus_mail.config import Settings
from jugendhaus_mail.service.clock import Clock
from jugendhaus_mail.service.health import Status, load_status, save_status
from jugendhaus_mail.service.runner import Runner
from jugendhaus_mail.service.scheduler import ClockScheduler, build_schedule, missed
from jugendhaus_mail.service.sdnotify import Notifier
from jugendhaus_mail.service.watcher import MailboxWatcher, Watcher, watcher_for
from jugendhaus_mail.workdays import WorkCalendar

log = logging.getLogger(__name__)

MIN_WAKE_GAP_SECONDS = 2.0  # real seconds after an intake before new mail may wake the loop
MAX_WAIT_SECONDS = 15 * 60.0  # clock seconds; the loop looks at its timetable at least this often


class WaitInterrupted(Exception):
    """Raised by the signal handler to end a blocking wait (IMAP IDLE); never inside a job."""


class StopSignal:
    """Set by SIGTERM/SIGINT. A job in progress finishes; a wait in progress ends."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._interruptible = False

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if not self.event.is_set():
            log.info(
                "%s empfangen: laufender Auftrag wird beendet, dann stoppt der Dienst",
                signal.Signals(signum).name,
            )
        self.event.set()
        if self._interruptible:
            self._interruptible = False
            raise WaitInterrupted

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False


class Service:
    def __init__(
        self,
        settings: Settings,
        calendar: WorkCalendar,
        clock: Clock,
        stop: StopSignal,
        *,
        max_seconds: float | None = None,
        until: datetime | None = None,
        watcher: Watcher | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        notifier: Notifier | None = None,
    ) -> None:
        """`max_seconds` (real time) and `until` (clock time) end the loop cleanly: for tests
        and trial runs."""
        self.settings, self.calendar, self.clock, self.stop = settings, calendar, clock, stop
        self._monotonic = monotonic
        self._deadline = None if max_seconds is None else monotonic() + max_seconds
        self._until = until
        self.status = self._initial_status()
        self.runner = Runner(settings, calendar, clock, self.status)
        app = App(settings, clock.now(), calendar)
        self.watcher = watcher or watcher_for(app, clock, stop.event)
        self._last_intake = float("-inf")
        self._last_intake_ok = True
        self.notifier = notifier or Notifier()

    def timetable(self) -> dict[str, tuple[clock_time, ...]]:
        schedule = self.settings.schedule
        timed: dict[str, tuple[clock_time, ...]] = {}
        if self.settings.retention.enabled:
            timed["retention"] = (schedule.digest_time,)
        timed["digest"] = (schedule.digest_time,)
        timed["remind"] = schedule.reminder_times
        return timed

    def serve(self) -> int:
        self._announce()
        self.notifier.ready("Dienst gestartet, erster Abruf des Postfachs läuft")
        try:
            self._tick("intake")
            self._catch_up()
            scheduler = build_schedule(
                self.clock,
                self.calendar.tz,
                self.settings.schedule.intake_minutes,
                self.timetable(),
                self._tick,
            )
            while not self._should_stop():
                self.notifier.alive(self.status_text())
                scheduler.run_pending()
                if not self._should_stop() and self._wait(scheduler):
                    self._tick("intake")
        finally:
            self.notifier.stopping("Dienst wird beendet")
            self.watcher.close()
            self.status.running = False
            save_status(self.settings, self.status, self.clock.now())
            self.notifier.close()
            log.info("Dienst beendet")
        return 0

    def status_text(self) -> str:
        """One line for `systemctl status` (office time; no mail content)."""
        intake = self.status.jobs.get("intake")
        if intake is None or intake.last_run is None:
            text = "noch kein Abruf des Postfachs"
        else:
            at = datetime.fromisoformat(intake.last_run).astimezone(self.calendar.tz)
            text = f"letzter Abruf {at:%d.%m. %H:%M} ({intake.result})"
        if self.status.pending:
            text += f", {self.status.pending} Anfrage(n) warten auf die Anfrageliste"
        return text

    def _tick(self, name: str) -> None:
        if self._should_stop():
            return  # a stop came in during the previous job: start nothing new
        if name != "intake":
            self.runner.run(name)
            self.notifier.alive(self.status_text())
            return
        self._last_intake = self._monotonic()
        self._last_intake_ok = self.runner.run("intake")
        self.runner.run("watchdog")
        self.notifier.alive(self.status_text())
        if isinstance(self.watcher, MailboxWatcher):
            self.watcher.reset()

    def _catch_up(self) -> None:
        now = self.clock.now()
        app = App(self.settings, now, self.calendar)
        with app.state() as state:
            due = [
                name
                for name, times in self.timetable().items()
                if missed(name, times, now, self.calendar.tz, state)
            ]
        for name in due:
            log.info("Nachgeholt (Zeitpunkt verpasst, während der Dienst nicht lief): %s", name)
            self._tick(name)

    def _wait(self, scheduler: ClockScheduler) -> bool:
        """Wait until the next job is due; True when new mail should be taken in now."""
        seconds = min(scheduler.seconds_until_next() or MAX_WAIT_SECONDS, MAX_WAIT_SECONDS)
        if self.notifier.interval is not None:  # wake in time for systemd's watchdog
            seconds = min(seconds, self.notifier.interval * self.clock.rate)
        if self._deadline is not None:
            seconds = min(seconds, (self._deadline - self._monotonic()) * self.clock.rate)
        if self._until is not None:
            seconds = min(seconds, (self._until - self.clock.now()).total_seconds())
        if seconds <= 0:
            return False
        gap = (MIN_WAKE_GAP_SECONDS - (self._monotonic() - self._last_intake)) * self.clock.rate
        if gap > 0 or not self._last_intake_ok:
            # Right after an intake, and after a failed one, only the timetable counts: mail
            # that stays in the inbox (a backlog, one that cannot be filed) must not make the
            # loop spin.
            self.clock.wait(
                seconds if not self._last_intake_ok else min(seconds, gap), self.stop.event
            )
            return False
        try:
            with self.stop.interruptible():
                woke = self.watcher.wait(seconds)
        except WaitInterrupted:
            return False
        return woke and not self._should_stop()

    def _should_stop(self) -> bool:
        if self.stop.event.is_set():
            return True
        if self._deadline is not None and self._monotonic() >= self._deadline:
            return True
        return self._until is not None and self.clock.now() >= self._until

    def _initial_status(self) -> Status:
        status = load_status(self.settings) or Status()
        status.started = self.clock.now().isoformat()
        status.pid = os.getpid()
        status.running = True
        status.timezone = self.settings.office.timezone
        return status

    def _announce(self) -> None:
        schedule = self.settings.schedule
        log.info(
            "Dienst gestartet (jugendhaus-mail %s, PID %d, Konfiguration %s): Postfach %s alle "
            "%d Minuten, Erinnerungen %s an Arbeitstagen, Tagesübersicht %s%s",
            __version__,
            os.getpid(),
            self.settings.config_path,
            self.settings.mailbox.backend,
            schedule.intake_minutes,
            ", ".join(f"{t:%H:%M}" for t in schedule.reminder_times),
            f"{schedule.digest_time:%H:%M}",
            f", Löschfrist {self.settings.retention.months} Monate"
            if self.settings.retention.months
            else "",
        )
        from jugendhaus_mail.privacy.perms import exposure_warnings

        for warning in exposure_warnings(self.settings):
            log.warning(warning)
