"""`retention`: clear the personal columns of cases closed longer than `[retention] months`."""

from __future__ import annotations

import argparse

from jugendhaus_mail.app import app_from_args
from jugendhaus_mail.service.lock import instance_lock
from jugendhaus_mail.service.retention import apply_retention


def run(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    with instance_lock(app.settings, "retention", app.now, skip=args.dry_run):
        report = apply_retention(app, dry_run=args.dry_run)
    print("\n".join(report.lines()))
    return 0
