"""`poll --backfill`: an old inbox taken in batch by batch, with a progress bar on a terminal and
a summary everywhere; Ctrl-C stops after the current batch, and a new run goes on from there."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from jugendhaus_mail.mailbox.maildir import deliver
from tests.site import Site, make_site, request_mail, utc

BATCH = 25


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(
        text.replace('path = "postfach"\n', f'path = "postfach"\nbatch_size = {BATCH}\n', 1),
        encoding="utf-8",
    )
    return site


def fill(site: Site, count: int) -> None:
    for number in range(1, count + 1):
        raw = request_mail(
            f"Fallanfrage {number}", "Hallo", sender="ifk@extern.example",
            message_id=f"<alt{number}@extern.example>",
        )  # fmt: skip
        deliver(site.maildir, raw, utc(2025, 1, 1) + timedelta(minutes=number), f"o{number}")


def command(site: Site, *args: str) -> list[str]:
    return [sys.executable, "-m", "jugendhaus_mail", "--config", str(site.config),
            "--now", "2026-03-30T09:00", *args]  # fmt: skip


def numbers(site: Site) -> list[str]:
    return [str(row["Nr."].value) for row in site.requests()]


def test_without_a_terminal_only_the_summary_is_printed(site: Site) -> None:
    fill(site, 110)
    result = site.cli("poll", "--backfill", now="2026-03-30T09:00")
    assert result.stdout.splitlines()[0].startswith(
        "Nachgeholt: 110 Mails in 5 Stapel(n) (110 erfasst), Dauer "
    )
    assert "In die Anfrageliste geschrieben: 110." in result.stdout
    assert "Nachholen:" not in result.stderr and "\r" not in result.stderr
    assert sorted(numbers(site)) == [f"2025-{n:04d}" for n in range(1, 111)]
    assert site.inbox() == []


def test_on_a_terminal_a_progress_bar_counts_up_to_all_mails(site: Site) -> None:
    fill(site, 60)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command(site, "poll", "--backfill"), stdout=subprocess.PIPE, stderr=follower, text=True
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        try:
            chunk = os.read(leader, 4096) if ready else b""
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    text = shown.decode("utf-8")
    assert "\rNachholen: [" in text
    assert "] 25/60 Mails (42%), Stapel 1" in text
    assert "[" + "#" * 30 + "] 60/60 Mails (100%), Stapel 3" in text
    assert (
        process.stdout is not None
        and "Nachgeholt: 60 Mails in 3 Stapel(n)" in process.stdout.read()
    )


def test_ctrl_c_stops_after_the_running_batch_and_a_new_run_goes_on(site: Site) -> None:
    fill(site, 400)
    process = subprocess.Popen(
        command(site, "poll", "--backfill"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(site.folder("Erfasst")) < BATCH and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Stopp nach dem laufenden Stapel" in err
    assert "Unterbrochen nach einem vollständigen Stapel" in out
    done = len(site.folder("Erfasst"))
    assert 0 < done < 400 and done % BATCH == 0  # whole batches only
    assert len(numbers(site)) == done  # each batch is in the workbook before the next starts

    resumed = site.cli("poll", "--backfill", now="2026-03-30T09:30")
    assert f"Nachgeholt: {400 - done} Mails" in resumed.stdout
    assert sorted(numbers(site)) == [f"2025-{n:04d}" for n in range(1, 401)]
    assert site.inbox() == [] and len(site.folder("Erfasst")) == 400
