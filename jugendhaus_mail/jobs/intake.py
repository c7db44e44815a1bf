"""The intake job: one cycle from the team inbox into the request list, with the mail it sends.

Used by `poll`, `poll --backfill` and the service; what the cycle does step by step is in
`intake/cycle.py`.
"""

from __future__ import annotations

from jugendhaus_mail.app import App
from jugendhaus_mail.intake.context import IntakeContext, IntakeReport
from jugendhaus_mail.intake.cycle import run_intake
from jugendhaus_mail.jobs.guard import guarded_mailbox
from jugendhaus_mail.jobs.restore import reconcile_workbook
from jugendhaus_mail.notify.outbox import Outbox


def poll(app: App, *, dry_run: bool = False) -> IntakeReport:
    """One intake cycle. Raises MailboxBlocked (without trying) while a refused log-in blocks
    the mailbox; a successful listing ends such a block."""
    with (
        app.state() as state,
        guarded_mailbox(app, state, required=True, proves_login=True) as mailbox,
    ):
        assert mailbox is not None
        outbox = Outbox(app.settings, state, app.now, dry_run=dry_run)
        if not dry_run:  # rows lost to a restored workbook, numbers staff took meanwhile
            reconcile_workbook(app, state, outbox)
        ctx = IntakeContext(app.settings, app.calendar, state, app.store(), app.now, outbox)
        report = run_intake(ctx, mailbox, dry_run=dry_run)
        outbox.flush(mailbox)
        report.planned = outbox.planned
        return report
