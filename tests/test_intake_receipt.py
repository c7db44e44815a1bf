"""When a mail was received: the Maildir file's mtime, and never an absurd time.

Dovecot serves a Maildir file's mtime as INTERNALDATE; mbsync, imapsync and Python's `mailbox`
keep the arrival there. A mail copied into the inbox later carries the copy time in its file
name only. A receipt time no mailbox can have had (before 2000, or after tomorrow) is set aside
with a reason on every backend, never turned into case number 1970-0001 or 5138-0001.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from jugendhaus_mail.intake.context import IntakeContext
from jugendhaus_mail.intake.cycle import run_intake
from jugendhaus_mail.jobs.intake import poll
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage
from tests.listed_mailbox import ListedMailbox
from tests.site import Site, make_site, request_mail, utc

NOW = utc(2026, 3, 10, 8, 0)  # Tuesday


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def test_a_mail_copied_into_the_inbox_later_counts_from_its_arrival(site: Site) -> None:
    arrived = utc(2026, 3, 2, 9, 30)  # Monday 10:30 in Rostock
    site.deliver(
        request_mail("Fallanfrage", "Name: Lea Koch\n", message_id="<copy@jobcenter-ge.de>"),
        utc(2026, 3, 10, 7, 55),  # the copy: this is what the file name says
        "copied",
    )
    [path] = site.inbox()
    os.utime(path, (arrived.timestamp(), arrived.timestamp()))
    report = poll(site.app(NOW))
    assert [(m.outcome, m.received) for m in report.mails] == [("request", arrived)]
    [row] = site.requests()
    assert row["Eingang"].value == datetime(2026, 3, 2, 10, 30)
    # 5 working days after Monday 2 March: Monday 9 March (Frauentag 8.3. is a Sunday)
    assert row["Frist Ansprechpartner"].value.date() == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("name", "mtime", "shown"),
    [
        ("0000003600", 3600, "01.01.1970"),  # a copy tool that lost every time
        ("0946677600", 946677600, "31.12.1999"),
        # the 11-digit name the old code read as seconds (5138), beside a lost mtime
        ("99999999999", 0, "16.11.5138"),
        ("4102444800", 4102444800, "01.01.2100"),
        ("1773219600", 1773219600, "11.03.2026"),  # after tomorrow 08:00
    ],
)
def test_an_absurd_receipt_time_is_set_aside_with_a_reason(
    site: Site, name: str, mtime: int, shown: str
) -> None:
    odd = site.maildir / "new" / f"{name}.M1P1.mx"
    odd.write_bytes(request_mail("Fallanfrage", "x", message_id="<odd@x.de>"))
    os.utime(odd, (mtime, mtime))
    site.deliver(request_mail("Fallanfrage", "y", message_id="<ok@x.de>"), utc(2026, 3, 9), "ok")
    report = poll(site.app(NOW))
    [result] = [m for m in report.mails if m.outcome != "request"]
    assert result.outcome == "set_aside" and result.nr is None
    assert "Eingangszeit unplausibel" in (result.reason or "") and shown in (result.reason or "")
    assert [r["Nr."].value for r in site.requests()] == ["2026-0001"]
    assert len(site.folder("Nicht erfasst")) == 1 and site.inbox() == []
    with site.app(NOW).state() as state:
        assert any("Eingangszeit unplausibel" in reason for _, reason, _ in state.set_aside())


def test_a_mail_within_a_day_ahead_is_still_taken_in(site: Site) -> None:
    """Clocks differ a little between mail server and service: up to a day ahead is fine."""
    site.deliver(request_mail("Fallanfrage", "x", message_id="<s@x.de>"), utc(2026, 3, 10, 9), "s")
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["request"]


def test_the_check_holds_for_every_backend(site: Site) -> None:
    app = site.app(NOW)
    epoch = IncomingMessage("1", datetime(1970, 1, 1, tzinfo=UTC), request_mail("Fallanfrage", "x"))
    mailbox = ListedMailbox([epoch])
    with app.state() as state:
        ctx = IntakeContext(app.settings, app.calendar, state, app.store(), app.now)
        report = run_intake(ctx, mailbox)
    assert [m.outcome for m in report.mails] == ["set_aside"]
    assert mailbox.moved == {"1": Folder.NICHT_ERFASST}
    assert site.requests() == []
