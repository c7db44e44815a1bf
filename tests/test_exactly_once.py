"""Nothing lost, nothing doubled: the intake process dies at every step, and at random moments.

Each test runs the real CLI in a subprocess (so a crash is a real process death, like kill -9)
and then checks the workbook, the Maildir folders and a clean follow-up cycle.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from jugendhaus_mail.failpoints import ENV
from tests.site import Site, make_site, outgoing, request_mail, utc

NOW = "2026-03-10T08:00"
FAILPOINTS = ["after_record", "after_move", "after_workbook_save"]


def fill_inbox(
    site: Site, count: int, *, start: int = 0, without_message_id_every: int = 7
) -> None:
    for i in range(start, count):
        message_id = None if i % without_message_id_every == 3 else f"<req{i}@jobcenter-ge.de>"
        subject = "Hausbesuch" if i % 5 == 0 else f"Fallanfrage Nummer {i}"
        raw = request_mail(
            subject, f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n", message_id=message_id
        )
        site.deliver(raw, utc(2026, 3, 9, 7, 0) + timedelta(minutes=i), f"m{i:04d}")


def assert_exactly_once(site: Site, count: int) -> None:
    rows = site.requests()
    keys = [r["Dienst-Schlüssel"].value for r in rows]
    numbers = [r["Nr."].value for r in rows]
    subjects = sorted(r["Kundennummer"].value for r in rows)
    assert len(keys) == len(set(keys)) == count, (
        f"{len(keys)} rows, {len(set(keys))} distinct, {count} mails"
    )
    assert len(set(numbers)) == count
    assert subjects == sorted(f"{i:03d}D{i:06d}" for i in range(count))
    assert sorted(numbers) == [f"2026-{n:04d}" for n in range(1, count + 1)]
    assert site.inbox() == []
    assert len(site.folder("Erfasst")) == count
    assert site.folder("Nicht erfasst") == []


def acknowledgements(site: Site) -> list[str]:
    return sorted(
        str(m["Subject"])[1:10]
        for m in outgoing(site)
        if "Eingangsbestätigung" in str(m["Subject"])
    )


@pytest.mark.parametrize("point", FAILPOINTS)
def test_a_process_that_dies_right_after_each_step_loses_and_doubles_nothing(
    tmp_path: Path, point: str
) -> None:
    site = make_site(tmp_path / "site")
    fill_inbox(site, 12)
    crashed = site.cli("poll", now=NOW, env={ENV: point}, check=False)
    assert crashed.returncode == 137, crashed.stderr
    site.cli("poll", now=NOW)
    site.cli("poll", now=NOW)
    assert_exactly_once(site, 12)
    assert acknowledgements(site) == [f"2026-{n:04d}" for n in range(1, 13)]


@pytest.mark.slow
def test_kill_9_at_random_moments_during_a_poll_of_many_mails(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    count = 120
    fill_inbox(site, count)
    rng = random.Random(20261125)
    command = [
        sys.executable,
        "-m",
        "jugendhaus_mail",
        "--config",
        str(site.config),
        "--now",
        NOW,
        "poll",
    ]
    kills = 0
    for _attempt in range(30):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.2))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        if kills >= 6:
            break
        if not site.inbox():  # that poll finished before the kill: give the next one work
            fill_inbox(site, count + 40, start=count)
            count += 40
    assert kills >= 6
    site.cli("poll", now=NOW)
    site.cli("poll", now=NOW)
    assert_exactly_once(site, count)
    # every request acknowledged; a kill between handing a mail to the mailbox and noting it
    # as sent can send one acknowledgement twice, never lose one
    acks = acknowledgements(site)
    assert set(acks) == {f"2026-{n:04d}" for n in range(1, count + 1)}
    assert len(acks) - len(set(acks)) <= kills
