"""`poll --backfill`: a large old inbox, taken in batch after batch, with a progress bar.

Each batch is one ordinary intake cycle (at most `[mailbox] batch_size` mails, one workbook
write), so everything the exactly-once design guarantees holds between batches. Ctrl-C asks to
stop after the current batch (a second Ctrl-C stops at once, which is safe as well); running
`poll --backfill` again goes on where it stopped, because taken-in mail has left the inbox.

Case numbers follow `Eingang` across batches: each cycle orders what it takes in by receipt,
and every backend lists the oldest `batch_size` mails of the inbox first. A mail that enters the
inbox after a later one was numbered gets the next free number; numbers are never reassigned.

The bar goes to stderr and only to a terminal; elsewhere (a log, a pipe) only the summary is
printed.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import FrameType
from typing import TextIO

from jugendhaus_mail.app import App
from jugendhaus_mail.config import Settings
from jugendhaus_mail.intake.context import OUTCOME_LABELS, IntakeReport, Outcome

BAR_WIDTH = 30
INTERRUPTED_EXIT = 130


@dataclass
class BackfillSummary:
    batches: int = 0
    mails: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    written: int = 0
    pending: int = 0
    interrupted: bool = False
    seconds: float = 0.0

    def add(self, report: IntakeReport) -> None:
        self.batches += 1 if report.mails else 0
        self.mails += len(report.mails)
        self.outcomes.update(mail.outcome for mail in report.mails)
        self.written += report.written
        self.pending = report.pending

    def lines(self) -> list[str]:
        detail = ", ".join(
            f"{_number(count)} {OUTCOME_LABELS[outcome]}"
            for outcome, count in self.outcomes.items()
        )
        lines = [
            f"Nachgeholt: {_number(self.mails)} Mails in {self.batches} Stapel(n)"
            + (f" ({detail})" if detail else "")
            + f", Dauer {timedelta(seconds=round(self.seconds))}.",
            f"In die Anfrageliste geschrieben: {_number(self.written)}.",
        ]
        if self.pending:
            lines.append(f"Warten auf die Anfrageliste: {_number(self.pending)}.")
        if self.interrupted:
            lines.append(
                "Unterbrochen nach einem vollständigen Stapel; `jugendhaus-mail poll "
                "--backfill` setzt dort fort."
            )
        return lines


class ProgressBar:
    def __init__(
        self, total: int | None, stream: TextIO, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = total
        self.stream = stream
        self.visible = stream.isatty()
        self._clock = clock
        self._start = clock()

    def show(self, done: int, batches: int) -> None:
        if not self.visible:
            return
        if self.total:
            share = min(done / self.total, 1.0)
            filled = round(share * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            elapsed = self._clock() - self._start
            rest = elapsed / share - elapsed if share else 0.0
            text = (
                f"[{bar}] {_number(done)}/{_number(self.total)} Mails ({share:.0%}), "
                f"Stapel {batches}, noch ca. {timedelta(seconds=round(rest))}"
            )
        else:
            text = f"{_number(done)} Mails, Stapel {batches}"
        self.stream.write(f"\rNachholen: {text} ")
        self.stream.flush()

    def finish(self) -> None:
        if self.visible:
            self.stream.write("\n")
            self.stream.flush()


def backfill(
    app: App,
    poll_once: Callable[[App], IntakeReport],
    *,
    stream: TextIO,
    stop: threading.Event,
    clock: Callable[[], float] = time.monotonic,
) -> BackfillSummary:
    """Run intake cycles until the inbox is empty or `stop` is set after a batch."""
    summary = BackfillSummary()
    bar = ProgressBar(inbox_size(app.settings), stream, clock)
    started = clock()
    bar.show(0, 0)
    try:
        while True:
            elapsed = timedelta(seconds=clock() - started)
            report = poll_once(replace(app, now=app.now + elapsed))
            summary.add(report)
            bar.show(summary.mails, summary.batches)
            if not report.mails:
                break
            if stop.is_set():
                summary.interrupted = True
                break
    finally:
        bar.finish()
        summary.seconds = clock() - started
    return summary


def run_backfill(app: App) -> int:
    from jugendhaus_mail.jobs.intake import poll

    with stop_after_batch() as stop:
        summary = backfill(app, poll, stream=sys.stderr, stop=stop)
    print("\n".join(summary.lines()))
    return INTERRUPTED_EXIT if summary.interrupted else 0


@contextmanager
def stop_after_batch() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the event; the second one interrupts at once."""
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(
            "\nStopp nach dem laufenden Stapel … (nochmals Strg+C bricht sofort ab)",
            file=sys.stderr,
        )

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def inbox_size(settings: Settings) -> int | None:
    """How many mails wait in the inbox, where that is cheap to know (Maildir)."""
    root = settings.mailbox.path
    if settings.mailbox.backend != "maildir" or root is None:
        return None
    count = 0
    for sub in ("new", "cur"):
        folder = root / sub
        if folder.is_dir():
            count += sum(1 for p in folder.iterdir() if not p.name.startswith("."))
    return count


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")
