"""A full disk (simulated with the `…:ENOSPC` failpoints) ends in one line and exit 2, leaves
no half-written or empty file behind, and loses nothing: the next cycle does the work."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from jugendhaus_mail.failpoints import ENV
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

NOW = "2026-03-10T08:00"


def _fill(site: Site, count: int) -> None:
    for i in range(count):
        raw = request_mail(f"Fallanfrage {i}", f"Name: Person {i}\n", message_id=f"<d{i}@x.de>")
        site.deliver(raw, utc(2026, 3, 9, 7, 0) + timedelta(minutes=i), f"d{i:03d}")


def _leftovers(root: Path) -> list[Path]:
    """Temp files and empty files anywhere on the site (the state database's -wal/-shm aside)."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", ".lock")):
            continue
        empty = path.stat().st_size == 0 and path.name != "maildirfolder"
        if empty or ".tmp" in path.name or "jhm-" in path.name:
            found.append(path)
    return found


@pytest.mark.parametrize("point", ["durable_write:ENOSPC", "durable_write.backup:ENOSPC"])
def test_a_full_disk_at_the_workbook_write_loses_nothing_and_leaves_no_empty_file(
    tmp_path: Path, point: str
) -> None:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    _fill(site, 3)
    before = site.workbook.read_bytes()
    failed = site.cli("poll", now=NOW, env={ENV: point}, check=False)
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Fehler: "), failed.stderr
    assert "Speicherplatz" in lines[0]
    assert "Traceback" not in failed.stderr
    assert site.workbook.read_bytes() == before
    assert _leftovers(site.root) == []
    site.cli("poll", now=NOW)
    numbers = sorted(r["Nr."].value for r in site.requests())
    assert numbers == ["2026-0001", "2026-0002", "2026-0003"]
    assert _leftovers(site.root) == []


def test_a_full_maildir_keeps_the_mail_queued_and_leaves_no_empty_file(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    _fill(site, 2)
    result = site.cli("poll", now=NOW, env={ENV: "durable_write.maildir:ENOSPC"}, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(site.requests()) == 2  # the workbook write was not affected
    assert outgoing(site) == []
    assert _leftovers(site.root) == []
    site.cli("poll", now=NOW)
    assert len([m for m in outgoing(site) if "Eingangsbestätigung" in str(m["Subject"])]) == 2


def test_the_service_keeps_running_on_a_full_disk_and_catches_up_afterwards(
    tmp_path: Path,
) -> None:
    """`run` on a full disk: each intake ends in one line saying what to do, the service goes
    on to the next cycle, and once there is room again nothing is lost."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from jugendhaus_mail.service.clock import RATE_ENV

    site = make_site(
        tmp_path / "site",
        'admin_address = "it-jugendhaus@rostock.de"\n[schedule]\nintake_minutes = 1\n',
    )
    set_staff(site, STAFF)
    _fill(site, 2)
    command = [sys.executable, "-m", "jugendhaus_mail", "--config", str(site.config)]
    process = subprocess.Popen(
        [*command, "--now", NOW, "run"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, RATE_ENV: "60", ENV: "durable_write:ENOSPC"},
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        while sum("Speicherplatz" in line for line in lines) < 2:
            assert process.poll() is None, "\n".join(lines)
            assert time.monotonic() < deadline, "\n".join(lines)
            lines.append(process.stderr.readline().rstrip("\n"))
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[1]
        lines += rest.splitlines()
        # stopping, it cannot save its status either: it says so in one line, exit 2
        assert process.returncode == 2
        assert lines[-1].startswith("Fehler: Kein Speicherplatz mehr frei"), lines[-1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    failures = [line for line in lines if "Speicherplatz" in line]
    assert all("Traceback" not in line for line in lines)
    assert len(failures) >= 2  # two cycles tried, the service went on after the first
    assert site.requests() == []
    assert _leftovers(site.root) == []
    site.cli("poll", now=NOW)
    assert sorted(r["Nr."].value for r in site.requests()) == ["2026-0001", "2026-0002"]
