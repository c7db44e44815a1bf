"""Nothing lost, nothing doubled: the intake process dies at every step, and at random moments.

Each test runs the real CLI in a subprocess (so a crash is a real process death, like kill -9)
and then checks the workbook, the Maildir folders and a clean follow-up cycle.

On Maildir every mail the service sends is stored exactly once in `Postausgang`: before storing,
the backend looks there for the Message-ID, so a crash between storing a mail and noting it as
sent ("after_send") does not store it twice. (Plain SMTP without a Sent folder to look into
stays at least once; see README.)
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
from tests.site import Site, make_site, request_mail, utc

NOW = "2026-03-10T08:00"
FAILPOINTS = ["after_record", "after_move", "after_workbook_save", "after_send"]


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
    """The case numbers of the acknowledgements in Postausgang (new/ and cur/), one per copy."""
    import email
    import email.policy

    folder = site.maildir / ".Postausgang"
    paths = [
        p for sub in ("new", "cur") if (folder / sub).is_dir() for p in (folder / sub).iterdir()
    ]
    subjects = [
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"])
        for p in paths
    ]
    return sorted(s[1:10] for s in subjects if "Eingangsbestätigung" in s)


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


def test_a_crash_between_storing_and_noting_an_acknowledgement_keeps_one_copy(
    tmp_path: Path,
) -> None:
    """The crash the outbox cannot see: the mail is in Postausgang, the state database still
    holds it as unsent. The next cycle hands it over again; the Maildir finds its Message-ID."""
    site = make_site(tmp_path / "site")
    fill_inbox(site, 3)
    crashed = site.cli("poll", now=NOW, env={ENV: "after_send"}, check=False)
    assert crashed.returncode == 137, crashed.stderr
    assert acknowledgements(site) == ["2026-0001"]  # stored, then the process died
    # a mail client (or Dovecot) moves what it has shown to cur/: still found there
    [stored] = list((site.maildir / ".Postausgang" / "new").iterdir())
    os.rename(stored, site.maildir / ".Postausgang" / "cur" / (stored.name + ":2,S"))
    site.cli("poll", now=NOW)
    site.cli("poll", now=NOW)
    assert_exactly_once(site, 3)
    assert acknowledgements(site) == ["2026-0001", "2026-0002", "2026-0003"]


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
    # every request acknowledged exactly once: a kill between storing a mail in Postausgang
    # and noting it as sent is caught by the Message-ID lookup in Postausgang
    assert acknowledgements(site) == [f"2026-{n:04d}" for n in range(1, count + 1)]
