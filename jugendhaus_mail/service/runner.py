"""Runs one job of the service and never lets it take the loop down.

Every job gets the clock's moment as `App.now`. An exception is logged with context (which
job, where in the code; never mail content: for unexpected errors only the exception type and
the code location, because their text can carry data), counted in the status file, and the
loop goes on. After each job the status file is rewritten.
"""

from __future__ import annotations

import logging
import sqlite3
import traceback
from collections.abc import Callable
from dataclasses import replace

from jugendhaus_mail.app import App
from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import (
    JugendhausError,
    WorkbookChanged,
    WorkbookError,
    WorkbookLocked,
    describe_unexpected,
)
from jugendhaus_mail.intake.context import IntakeReport
from jugendhaus_mail.jobs.guard import MailboxBlocked, guarded_mailbox
from jugendhaus_mail.service.clock import Clock
from jugendhaus_mail.service.health import (
    FAILED,
    JOB_LABELS,
    OK,
    SKIPPED,
    Status,
    refresh_from_state,
    save_status,
)
from jugendhaus_mail.service.scheduler import remember_run
from jugendhaus_mail.state import StateDamaged
from jugendhaus_mail.workdays import WorkCalendar

log = logging.getLogger(__name__)


class Skipped(Exception):
    """The job had nothing to do this time (not a working day, mailbox blocked, …)."""


class Runner:
    def __init__(
        self, settings: Settings, calendar: WorkCalendar, clock: Clock, status: Status
    ) -> None:
        self.app = App(settings, clock.now(), calendar)
        self.clock = clock
        self.status = status
        self.migration_pending = True
        self.jobs: dict[str, Callable[[App], str]] = {
            "intake": self._intake,
            "remind": self._remind,
            "digest": self._digest,
            "retention": self._retention,
            "watchdog": self._watchdog,
        }

    def run(self, name: str) -> bool:
        """Run job `name` now; True when it succeeded (or had nothing to do)."""
        app = replace(self.app, now=self.clock.now())
        label = JOB_LABELS.get(name, name)
        try:
            with app.state() as state:
                remember_run(state, name, app.now)
            detail = self.jobs[name](app)
        except (Skipped, MailboxBlocked) as exc:
            result, detail = SKIPPED, str(exc)
            log.info("%s übersprungen: %s", label, detail)
        except StateDamaged as exc:
            # Nothing can be recorded safely: stop (the CLI prints the line, exit 2) and tell
            # the admin by a mail sent without the database, if the mailbox lets us.
            log.critical("%s", exc)
            alarm_without_state(app, str(exc))
            raise
        except JugendhausError as exc:
            result, detail = FAILED, str(exc)
            log.error("%s fehlgeschlagen: %s", label, detail)
        except Exception as exc:
            result, detail = FAILED, describe_unexpected(exc)
            log.error(
                "%s fehlgeschlagen: %s\n%s",
                label,
                detail,
                "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__))).rstrip(),
            )
        else:
            result = OK
            log.info("%s: %s", label, detail)
        self.status.record(name, app.now, result, detail)
        try:
            self._refresh(app)
        except (OSError, sqlite3.Error) as exc:
            log.error("Statusdatei nicht geschrieben: %s", exc)
        return result != FAILED

    def _refresh(self, app: App) -> None:
        with app.state() as state:
            refresh_from_state(self.status, state)
        save_status(app.settings, self.status, app.now)

    # --- the jobs: each returns a few words for the log and the status file ------------------

    def _intake(self, app: App) -> str:
        from jugendhaus_mail.jobs.intake import poll

        if self.migration_pending:
            self._migrate(app)
        report = poll(app)
        self.status.pending_reason = report.waiting_reason or "" if report.pending else ""
        return intake_summary(report)

    def _migrate(self, app: App) -> None:
        """New schema columns, once per start; retried while the workbook is open. A problem
        never blocks the intake: it runs on the old layout (the writer finds columns by name)."""
        from jugendhaus_mail.jobs.upgrade import upgrade_workbook

        try:
            upgrade_workbook(app)
        except (WorkbookLocked, WorkbookChanged) as exc:
            log.info("Neue Spalten der Anfrageliste folgen später: %s", exc)
            return
        except WorkbookError as exc:
            log.warning("Anfrageliste nicht auf neue Spalten umgestellt: %s", exc)
        except Exception as exc:
            log.error("Anfrageliste nicht umgestellt: %s", describe_unexpected(exc))
        self.migration_pending = False

    def _remind(self, app: App) -> str:
        from jugendhaus_mail.jobs.remind import run_remind

        self._working_day(app)
        with app.state() as state, guarded_mailbox(app, state) as mailbox:
            report = run_remind(app, state, mailbox)
        text = f"{len(report.outbox.planned)} Mail(s), {report.updates} Frist(en) berechnet"
        if mailbox is None:
            text += "; Versand wartet (Postfach gesperrt)"
        if report.waiting_reason:
            text += "; Anfrageliste nicht geschrieben (geöffnet oder gesperrt)"
        return text

    def _digest(self, app: App) -> str:
        from jugendhaus_mail.jobs.digest import run_digest

        with app.state() as state, guarded_mailbox(app, state) as mailbox:
            report = run_digest(app, state, mailbox)
        if report.skipped_reason:
            raise Skipped(report.skipped_reason)
        return "versandt" if mailbox is not None else "vorgemerkt (Postfach gesperrt)"

    def _retention(self, app: App) -> str:
        from jugendhaus_mail.privacy.retention import run_retention

        return run_retention(app, dry_run=False)[1]

    def _watchdog(self, app: App) -> str:
        from jugendhaus_mail.service.watchdog import run_watchdog

        with app.state() as state:
            report = run_watchdog(app, state, self.status)
        return report.summary()

    def _working_day(self, app: App) -> None:
        calendar = app.calendar
        today = calendar.local_date(app.now)
        if not calendar.is_working_day(today):
            raise Skipped(f"kein Arbeitstag ({calendar.non_working_reason(today)})")


def intake_summary(report: IntakeReport) -> str:
    if not report.mails and not report.written and not report.pending:
        return "keine neuen Mails"
    counts: dict[str, int] = {}
    for mail in report.mails:
        counts[mail.outcome] = counts.get(mail.outcome, 0) + 1
    parts = [f"{len(report.mails)} Mail(s)"]
    parts += [f"{count} {_OUTCOMES.get(outcome, outcome)}" for outcome, count in counts.items()]
    parts.append(f"{report.written} eingetragen")
    if report.pending:
        parts.append(f"{report.pending} warten auf die Anfrageliste")
    return ", ".join(parts)


_OUTCOMES = {
    "request": "neu",
    "set_aside": "nicht erfasst",
    "duplicate": "doppelt",
    "recovered": "nachgeholt",
    "reply": "Antwort(en)",
}


def alarm_without_state(app: App, problem: str) -> bool:
    """A watchdog mail to the admin sent straight through the mailbox (no outbox, no state);
    True when it went out."""
    from jugendhaus_mail.mailbox import open_mailbox
    from jugendhaus_mail.notify.mime import build_raw
    from jugendhaus_mail.notify.outbox import send_now
    from jugendhaus_mail.notify.render import MailRenderer, WatchdogMail

    mail = app.settings.mail
    if not mail.admin_address:
        return False
    try:
        rendered = MailRenderer.from_settings(app.settings).render_mail(
            WatchdogMail(
                problem="Die Zustandsdatenbank ist beschädigt; der Dienst hat angehalten.",
                what_to_do=problem,
                since=app.now,
            )
        )
        raw = build_raw(
            rendered,
            sender=mail.team_address,
            to=[mail.admin_address],
            now=app.now,
            domain=mail.team_address.split("@")[-1],
        )
        with open_mailbox(app.settings) as mailbox:
            send_now(mailbox, raw)
    except Exception as exc:  # the stop line is the message that counts
        log.error("Warnmail an %s nicht versandt (%s)", mail.admin_address, type(exc).__name__)
        return False
    log.info("Warnmail an %s versandt (%d Bytes)", mail.admin_address, len(raw))
    return True
