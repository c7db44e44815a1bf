"""What a command needs around its work: the App built from the command line (settings, the
pretend clock, logging), and for `poll`, `remind` and `digest` started by hand or by a timer the
instance lock (so they never run beside the service), the mailbox unless a refused log-in blocks
it, and their result in the status file (so `check` sees timer-driven sites too)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from jugendhaus_mail.app import App
from jugendhaus_mail.config import Settings, load_settings
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.jobs.guard import current_block, guarded_mailbox
from jugendhaus_mail.mailbox import Mailbox
from jugendhaus_mail.service.clock import parse_now
from jugendhaus_mail.service.health import (
    FAILED,
    OK,
    Status,
    load_status,
    refresh_from_state,
    save_status,
)
from jugendhaus_mail.service.lock import instance_lock
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workdays import WorkCalendar


@dataclass(frozen=True)
class Session:
    state: StateDB
    mailbox: Mailbox | None  # None in a dry run, or while a refused log-in blocks the mailbox
    note: str | None = None  # why the mailbox is not used, for the admin


@contextmanager
def command_session(app: App, job: str, *, dry_run: bool) -> Iterator[Session]:
    with instance_lock(app.settings, job, app.now, skip=dry_run), app.state() as state:
        if dry_run:
            yield Session(state, None)
            return
        block = current_block(state)
        note = None
        if block is not None and block.active(app.now):
            note = block.describe(app.settings.office.timezone) + " Mails bleiben vorgemerkt."
        try:
            with guarded_mailbox(app, state) as mailbox:
                yield Session(state, mailbox, note)
        except JugendhausError as exc:
            record_command(app, state, job, FAILED, str(exc))
            raise
        record_command(app, state, job, OK, "von Hand oder per Zeitgeber gestartet")


def record_command(app: App, state: StateDB, job: str, result: str, detail: str) -> None:
    """Note a single command's run in the status file (it held the lock: no service runs)."""
    status = load_status(app.settings) or Status()
    status.running = False
    status.record(job, app.now, result, detail)
    refresh_from_state(status, state)
    save_status(app.settings, status, app.now)


def app_from_args(args: argparse.Namespace) -> App:
    settings = load_settings(args.config)
    configure_logging(settings, verbose=getattr(args, "verbose", False))
    return App(
        settings,
        parse_now(args.now, settings.office.timezone),
        WorkCalendar.from_settings(settings.office),
    )


def configure_logging(settings: Settings, *, verbose: bool = False) -> None:
    """Console logging: warnings only for one-off commands (their output says what happened),
    everything at the configured level with --verbose (and for `run`). With `[logging] file`,
    also a rotating file at the configured level, as text or JSON lines. Calling it again
    reconfigures; a console handler someone else installed (a test runner) is left alone."""
    from jugendhaus_mail.service import logsetup

    level = getattr(logging, settings.logging.level)
    logsetup.install(
        level,
        timezone=settings.office.timezone,
        console_level=level if verbose else max(level, logging.WARNING),
        file=settings.logging.file,
        json_lines=settings.logging.json,
        console=not logsetup.foreign_handlers(),
    )
