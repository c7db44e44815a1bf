"""Office time everywhere people read a time: `check`, log lines, the status file and backup
names show Europe/Berlin time (the configured office zone), even on a server that runs in UTC
or elsewhere, as the poll table does."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc

BERLIN = ZoneInfo("Europe/Berlin")
ELSEWHERE = {"TZ": "America/New_York"}  # the server's own zone must not leak into the output


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(
        tmp_path / "site",
        'admin_address = "it@rostock.de"\n[logging]\nfile = "logs/jhm.log"\njson = true\n',
    )
    set_staff(site, STAFF)
    site.deliver(request_mail("Fallanfrage", "x", message_id="<f@x>"), utc(2026, 3, 30, 6), "f")
    auto = request_mail(
        "Abwesend", "bin weg", message_id="<a@x>", headers=[("Auto-Submitted", "auto-replied")]
    )
    site.deliver(auto, utc(2026, 3, 30, 6, 30), "auto")
    return site


def test_log_lines_carry_office_time_on_a_server_in_another_zone(site: Site) -> None:
    before = datetime.now(BERLIN).replace(tzinfo=None)
    result = site.cli("-v", "poll", now="2026-03-30T09:00", env=ELSEWHERE)
    after = datetime.now(BERLIN).replace(tzinfo=None)
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d{3} ", result.stderr, re.MULTILINE)
    assert stamps, result.stderr
    for stamp in stamps:
        logged = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
        assert before - timedelta(seconds=1) <= logged <= after + timedelta(seconds=1), stamp
    entries = [
        json.loads(line)
        for line in (site.root / "logs" / "jhm.log").read_text(encoding="utf-8").splitlines()
    ]
    offset = datetime.now(BERLIN).isoformat()[-6:]  # +01:00 in winter, +02:00 in summer
    assert entries and all(entry["time"].endswith(offset) for entry in entries), entries[0]


def test_the_status_file_and_backup_names_are_in_office_time(site: Site) -> None:
    site.cli("poll", now="2026-03-30T09:00", env=ELSEWHERE)  # summer time: UTC+2
    status = json.loads((site.root / "state" / "status.json").read_text(encoding="utf-8"))
    assert status["timezone"] == "Europe/Berlin"
    assert status["updated"] == "2026-03-30T09:00:00+02:00"
    assert status["jobs"]["intake"]["last_run"] == "2026-03-30T09:00:00+02:00"
    assert status["jobs"]["intake"]["last_success"] == "2026-03-30T09:00:00+02:00"
    backups = sorted(p.name for p in (site.root / "state" / "backups").iterdir())
    assert "Anfrageliste.2026-03-30_09-00-00.xlsx" in backups, backups


def test_check_shows_every_time_in_office_time(site: Site) -> None:
    site.cli("poll", now="2026-03-30T09:00", env=ELSEWHERE)
    out = site.cli("check", now="2026-03-30T09:05", env=ELSEWHERE).stdout
    assert "Nicht erfasst (Eingang 30.03.2026 08:30): Automatische Antwort" in out
    assert "Abruf des Postfachs: in Ordnung (30.03.2026 09:00)" in out
    assert "06:30" not in out and "07:00" not in out


def test_a_failed_job_in_the_status_file_is_dated_in_office_time(site: Site) -> None:
    (site.root / "postfach").rename(site.root / "weg")
    result = site.cli("poll", now="2026-03-30T09:00", env=ELSEWHERE, check=False)
    assert result.returncode != 0
    status = json.loads((site.root / "state" / "status.json").read_text(encoding="utf-8"))
    assert status["last_error"].startswith("Abruf des Postfachs, 30.03.2026 09:00: ")


def test_who_has_the_workbook_open_since_when_is_told_in_office_time(site: Site) -> None:
    """Excel's lock file holds no time: its modification time is read in office time, not in
    the server's zone. LibreOffice writes the staff PC's office time itself and is kept."""
    excel_lock = site.workbook.with_name(f"~${site.workbook.name}")
    excel_lock.write_bytes(b"\x0dLena Kowalski" + b" " * 40)
    opened = datetime(2026, 3, 30, 8, 15, tzinfo=BERLIN).timestamp()
    os.utime(excel_lock, (opened, opened))
    result = site.cli("check", now="2026-03-30T09:00", env=ELSEWHERE, check=False)
    assert "(seit 30.03.2026 08:15)" in result.stdout, result.stdout
    excel_lock.unlink()
    libre_lock = site.workbook.with_name(f".~lock.{site.workbook.name}#")
    libre_lock.write_text("Lena Kowalski,lena,PC-12,30.03.2026 08:20,file:///x;", encoding="utf-8")
    result = site.cli("check", now="2026-03-30T09:00", env=ELSEWHERE, check=False)
    assert "(seit 30.03.2026 08:20)" in result.stdout, result.stdout
