"""Group commit keeps exactly once: the process dies inside a batch, at every step of it.

A batch of mails is recorded in one transaction (with its case numbers and acknowledgements),
then filed, then noted as filed; acknowledgements are written to `Postausgang`, synced once,
moved into `new/` and noted as sent together. Each test kills the real CLI (like kill -9) at
one point inside such a batch, runs two clean cycles and checks workbook, folders and
`Postausgang`. The mix holds requests, a reply to a request of the same batch, an
out-of-office reply (set aside) and the same request delivered twice.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from jugendhaus_mail.failpoints import ENV
from jugendhaus_mail.intake import batch as batch_module
from jugendhaus_mail.intake.context import IntakeContext
from jugendhaus_mail.intake.cycle import run_intake
from jugendhaus_mail.mailbox import open_mailbox
from jugendhaus_mail.notify.outbox import Outbox
from tests.site import Site, make_site, request_mail, utc
from tests.test_exactly_once import acknowledgements

NOW = "2026-03-10T08:00"
REQUESTS = 9


def fill(site: Site) -> None:
    for i in range(REQUESTS):
        raw = request_mail(
            f"Fallanfrage Nummer {i}",
            f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n",
            message_id=f"<req{i}@jobcenter-ge.de>",
        )
        site.deliver(raw, utc(2026, 3, 9, 7, 0) + timedelta(minutes=i), f"m{i:04d}")
    # the first request once more (a second delivery): a duplicate, never a second row
    again = request_mail(
        "Fallanfrage Nummer 0",
        "Name: Person 0\nKundennummer: 000D000000\n",
        message_id="<req0@jobcenter-ge.de>",
    )
    site.deliver(again, utc(2026, 3, 9, 7, 30), "again")
    away = request_mail(
        "Abwesenheitsnotiz: Fallanfrage",
        "Ich bin bis Montag nicht im Büro.",
        message_id="<ooo@jobcenter-ge.de>",
        headers=[("Auto-Submitted", "auto-replied")],
    )
    site.deliver(away, utc(2026, 3, 9, 7, 31), "away")
    reply = request_mail(
        "AW: [2026-0002] Eingangsbestätigung",
        "Danke, die Unterlagen folgen.",
        message_id="<reply@jobcenter-ge.de>",
        headers=[("In-Reply-To", "<req1@jobcenter-ge.de>")],
    )
    site.deliver(reply, utc(2026, 3, 9, 7, 32), "reply")


def assert_exactly_once(site: Site) -> None:
    rows = site.requests()
    numbers = sorted(r["Nr."].value for r in rows)
    assert numbers == [f"2026-{n:04d}" for n in range(1, REQUESTS + 1)]
    assert sorted(r["Kundennummer"].value for r in rows) == sorted(
        f"{i:03d}D{i:06d}" for i in range(REQUESTS)
    )
    assert len({r["Dienst-Schlüssel"].value for r in rows}) == REQUESTS
    assert site.inbox() == []
    assert len(site.folder("Erfasst")) == REQUESTS + 1  # the requests and the reply
    assert len(site.folder("Nicht erfasst")) == 2  # the second delivery and the absence note
    assert acknowledgements(site) == numbers
    tmp = site.maildir / ".Postausgang" / "tmp"
    assert not tmp.is_dir() or list(tmp.iterdir()) == []


POINTS = [
    "batch_before_commit",  # inside the transaction: nothing of the batch recorded
    "after_record",  # the batch recorded, nothing filed
    "batch_half_filed",  # half the batch filed
    "after_move",  # all filed, not yet noted as filed
    "batch_written_not_synced",  # acknowledgements written, not synced, not in new/
    "after_send",  # one acknowledgement in new/, the rest of the batch not
    "batch_stored_not_noted",  # all in new/, none noted as sent
]


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_inside_a_batch_loses_and_doubles_nothing(tmp_path: Path, point: str) -> None:
    site = make_site(tmp_path / "site")
    fill(site)
    crashed = site.cli("poll", now=NOW, env={ENV: point}, check=False)
    assert crashed.returncode == 137, crashed.stderr
    inbox = len(site.inbox())
    if point == "batch_before_commit":
        assert inbox == REQUESTS + 3 and acknowledgements(site) == []
    elif point == "batch_half_filed":
        assert 0 < inbox < REQUESTS + 3
    elif point == "after_send":
        assert acknowledgements(site) == ["2026-0001"]
    site.cli("poll", now=NOW)
    site.cli("poll", now=NOW)
    assert_exactly_once(site)


def test_a_crash_after_the_first_of_several_groups_keeps_the_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Groups of 4: the second group dies right after its record; the first is complete, the
    second is only filed by the next cycle, the third is taken in then, numbers unbroken."""
    site = make_site(tmp_path / "site")
    fill(site)
    monkeypatch.setattr(batch_module, "GROUP", 4)
    records = 0

    class Crash(Exception):
        pass

    def failpoint(name: str) -> None:
        nonlocal records
        if name == "after_record":
            records += 1
            if records == 2:
                raise Crash(name)

    monkeypatch.setattr(batch_module, "failpoint", failpoint)
    app = site.app(utc(2026, 3, 10, 7, 0))
    with app.state() as state, open_mailbox(app.settings) as mailbox:
        outbox = Outbox(app.settings, state, app.now)
        ctx = IntakeContext(app.settings, app.calendar, state, app.store(), app.now, outbox)
        with pytest.raises(Crash):
            run_intake(ctx, mailbox)
        assert len(site.inbox()) == REQUESTS + 3 - 4  # the first group is filed
        assert [n for n, _ in state.conn.execute("SELECT nr, 1 FROM messages WHERE nr > ''")]
    monkeypatch.setattr(batch_module, "failpoint", lambda name: None)
    site.cli("poll", now=NOW)
    site.cli("poll", now=NOW)
    assert_exactly_once(site)
