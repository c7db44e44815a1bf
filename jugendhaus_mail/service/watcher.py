"""Waiting between scheduled ticks, waking up early when new mail arrives.

- IMAP: a separate connection waits with IDLE (`ImapMailbox.wait_for_mail`), so a new request
  is taken in within seconds. Any trouble closes it; until the next intake has run, the loop
  then simply sleeps (the scheduled intake reports the problem).
- Maildir: the inbox folders are local; a look every second costs nothing.
- EWS and Graph: no push here; the scheduled intake picks mail up.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.service.clock import Clock
from jugendhaus_mail.service.guard import current_block

if TYPE_CHECKING:
    from jugendhaus_mail.mailbox.imap import ImapMailbox

log = logging.getLogger(__name__)

MAILDIR_LOOK_SECONDS = 1.0  # real seconds between two looks into a Maildir


class Watcher(Protocol):
    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` of clock time; True as soon as new mail is there."""
        ...

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


class ImapWatcher(Sleeper):
    """IDLE on a connection of its own. `interruptible` lets a stop signal end the wait."""

    def __init__(self, app: App, clock: Clock, stop: threading.Event) -> None:
        super().__init__(clock, stop)
        self.app = app
        self._mailbox: ImapMailbox | None = None
        self.broken = False  # set on trouble; `reset` after the next intake

    def wait(self, seconds: float) -> bool:
        if self.broken or self._blocked():
            return super().wait(seconds)
        try:
            if self._mailbox is None:
                from jugendhaus_mail.mailbox.imap import ImapMailbox

                self._mailbox = ImapMailbox(self.app.settings)
            return self._mailbox.wait_for_mail(seconds / self.clock.rate)
        except (JugendhausError, OSError) as exc:
            # the next scheduled intake tries (and reports) properly; no log-in storm from here
            log.info("Warten auf neue Mail per IMAP IDLE unterbrochen: %s", exc)
            self.broken = True
            self.close()
            return False

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


def watcher_for(app: App, clock: Clock, stop: threading.Event) -> Sleeper:
    backend = app.settings.mailbox.backend
    if backend == "imap":
        return ImapWatcher(app, clock, stop)
    if backend == "maildir" and app.settings.mailbox.path is not None:
        return MaildirWatcher(clock, stop, app.settings.mailbox.path)
    return Sleeper(clock, stop)
