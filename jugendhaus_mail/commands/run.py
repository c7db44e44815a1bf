"""`run`: the service. Intake every `[schedule] intake_minutes` (and at once when the mailbox
reports new mail), reminders and the digest at their times, the watchdog after every intake.

One instance per configuration; SIGTERM/SIGINT end it cleanly (exit 0) after the running job.
With `--now` the clock starts at that moment (tests and replays); `--max-seconds` ends the loop
after so many real seconds.
"""

from __future__ import annotations

import argparse

HELP = "als Dienst laufen: Abholen, Erinnerungen und Tagesübersicht nach Zeitplan"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-seconds", type=float, default=None,
        help="nach so vielen Sekunden sauber beenden (für Tests und Probeläufe)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.session import app_from_args, configure_logging
    from jugendhaus_mail.service.clock import clock_for
    from jugendhaus_mail.service.lock import instance_lock
    from jugendhaus_mail.service.loop import Service, StopSignal

    app = app_from_args(args)
    configure_logging(app.settings, verbose=True)  # a service logs what it does
    clock = clock_for(args.now, app.now)
    stop = StopSignal()
    stop.install()
    with instance_lock(app.settings, "run", app.now):
        service = Service(app.settings, app.calendar, clock, stop, max_seconds=args.max_seconds)
        return service.serve()
