"""`retention`: delete personal data after the periods in `[retention]`, store by store."""

from __future__ import annotations

import argparse

from jugendhaus_mail.commands.options import add_dry_run

HELP = "personenbezogene Daten abgeschlossener Fälle nach Frist löschen"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dry_run(parser)


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.session import app_from_args
    from jugendhaus_mail.privacy.retention import run_retention
    from jugendhaus_mail.service.lock import instance_lock

    app = app_from_args(args)
    with instance_lock(app.settings, "retention", app.now, skip=args.dry_run):
        lines, _summary = run_retention(app, dry_run=args.dry_run)
    print("\n".join(lines))
    return 0
