"""Waiting between scheduled ticks, waking up early when new mail arrives.

- IMAP, EWS and Graph: a mailbox connection of its own waits (`wait_for_mail`), so a new
  request is taken in within seconds: IMAP with IDLE, EWS with a pull subscription (GetEvents
  every few seconds), Graph with a small look at the newest inbox mail every 15 seconds (push
  would need a webhook reachable from the internet). Any trouble closes it; until the next
  intake has run, the loop then simply sleeps (the scheduled intake reports the problem).
- Maildir: the inbox folders are local; a look every second costs nothing.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.jobs.guard import current_block
from jugendhaus_mail.service.clock import Clock

log = logging.getLogger(__name__)

MAILDIR_LOOK_SECONDS = 1.0  # real seconds between two looks into a Maildir
EARLY_RETURN_SECONDS = 1.0  # real seconds: a wait that ended sooner without mail hit trouble
WAITING_BACKENDS = ("imap", "ews", "graph")


class Watcher(Protocol):
    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` of clock time; True as soon as new mail is there."""
        ...

    def close(self) -> None: ...


class MailWaiter(Protocol):
    """A mailbox that can wait for new mail (ImapMailbox, EwsMailbox, GraphMailbox)."""

    def wait_for_mail(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class Sleeper:
    """No way to see new mail early: just wait."""

    def __init__(self, clock: Clock, stop: threading.Event) -> None:
        self.clock, self.stop = clock, stop

    def wait(self, seconds: float) -> bool:
        self.clock.wait(seconds, self.stop)
        return False

    def close(self) -> None:
        pass


class MaildirWatcher(Sleeper):
    def __init__(self, clock: Clock, stop: threading.Event, root: Path) -> None:
        super().__init__(clock, stop)
        self.root = root

    def wait(self, seconds: float) -> bool:
        step = MAILDIR_LOOK_SECONDS * self.clock.rate
        start = self.clock.now()
        while not self.stop.is_set():
            if self._has_mail():
                return True
            remaining = seconds - (self.clock.now() - start).total_seconds()
            if remaining <= 0:
                return False
            self.clock.wait(min(step, remaining), self.stop)
        return False

    def _has_mail(self) -> bool:
        for sub in ("new", "cur"):
            try:
                if any(not p.name.startswith(".") for p in (self.root / sub).iterdir()):
                    return True
            except OSError:
                continue
        return False


class MailboxWatcher(Sleeper):
    """Waits on a mailbox connection of its own. `interruptible` lets a stop signal end it."""

    def __init__(self, app: App, clock: Clock, stop: threading.Event) -> None:
        super().__init__(clock, stop)
        self.app = app
        self._mailbox: MailWaiter | None = None
        self.broken = False  # set on trouble; `reset` after the next intake

    def wait(self, seconds: float) -> bool:
        if self.broken or self._blocked():
            return super().wait(seconds)
        backend = self.app.settings.mailbox.backend
        start = self.clock.now()
        try:
            if self._mailbox is None:
                self._mailbox = _open_waiter(self.app)
            if self._mailbox.wait_for_mail(seconds / self.clock.rate):
                return True
        except (JugendhausError, OSError) as exc:
            # the next scheduled intake tries (and reports) properly; no log-in storm from here
            log.info("Warten auf neue Mail (%s) unterbrochen: %s", backend, exc)
            self._give_up()
            return False
        waited = (self.clock.now() - start).total_seconds()
        if seconds - waited > EARLY_RETURN_SECONDS * self.clock.rate:
            self._give_up()  # EWS and Graph end a wait early (and quietly) on trouble
        return False

    def _give_up(self) -> None:
        self.broken = True
        self.close()

    def reset(self) -> None:
        self.broken = False

    def close(self) -> None:
        mailbox, self._mailbox = self._mailbox, None
        if mailbox is not None:
            mailbox.close()

    def _blocked(self) -> bool:
        with self.app.state() as state:
            block = current_block(state)
        return block is not None


def _open_waiter(app: App) -> MailWaiter:
    """The backend's mailbox class, imported only when needed (exchangelib is heavy)."""
    settings = app.settings
    if settings.mailbox.backend == "ews":
        from jugendhaus_mail.mailbox.ews import EwsMailbox

        return EwsMailbox(settings)
    if settings.mailbox.backend == "graph":
        from jugendhaus_mail.mailbox.graph import GraphMailbox

        return GraphMailbox(settings)
    from jugendhaus_mail.mailbox.imap import ImapMailbox

    return ImapMailbox(settings)


def watcher_for(app: App, clock: Clock, stop: threading.Event) -> Sleeper:
    backend = app.settings.mailbox.backend
    if backend in WAITING_BACKENDS:
        return MailboxWatcher(app, clock, stop)
    if backend == "maildir" and app.settings.mailbox.path is not None:
        return MaildirWatcher(clock, stop, app.settings.mailbox.path)
    return Sleeper(clock, stop)
