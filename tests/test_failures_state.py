"""The state database: a damaged or truncated one stops the program with one line and is never
replaced; a full disk under it ends in one line; the 10,000th request of a year is 2026-10000."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jugendhaus_mail.failpoints import ENV
from jugendhaus_mail.state import DB_NAME, StateDB
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc

NOW = "2026-03-10T08:00"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    site.deliver(request_mail("Fallanfrage", "Name: A\n", message_id="<a@x.de>"),
                 utc(2026, 3, 9, 8), "a")  # fmt: skip
    assert site.run("poll", now=NOW) == 0
    return site


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_state_database_stops_with_one_line_and_is_never_replaced(
    site: Site, damage: str
) -> None:
    db = site.root / "state" / DB_NAME
    with StateDB(site.root / "state") as state:
        state.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for i in range(300):  # enough pages that a cut goes through data, not only the header
            state.put(f"k{i}", "x" * 200)
        state.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for side in ("-wal", "-shm"):
        (db.parent / (db.name + side)).unlink(missing_ok=True)
    data = db.read_bytes()
    damaged = b"kein SQLite" * 100 if damage == "garbage" else data[: len(data) // 2]
    db.write_bytes(damaged)
    site.deliver(request_mail("Fallanfrage", "Name: B\n", message_id="<b@x.de>"),
                 utc(2026, 3, 9, 9), "b")  # fmt: skip
    result = site.cli("poll", now=NOW, check=False)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "beschädigt" in line and "Sicherung" in line and str(db) in line
    assert db.read_bytes() == damaged  # never silently replaced
    assert len(site.inbox()) == 1  # the new mail stays in the inbox


def test_a_full_disk_under_the_state_folder_ends_in_one_line(site: Site) -> None:
    site.deliver(request_mail("Fallanfrage", "Name: B\n", message_id="<b@x.de>"),
                 utc(2026, 3, 9, 9), "b")  # fmt: skip
    result = site.cli("poll", now=NOW, env={ENV: "state:ENOSPC"}, check=False)
    assert result.returncode == 2
    assert "Speicherplatz" in _one_line(result.stderr)
    site.cli("poll", now=NOW)
    assert [r["Nr."].value for r in site.requests()] == ["2026-0001", "2026-0002"]


def test_the_ten_thousandth_request_of_a_year_is_2026_10000(site: Site) -> None:
    with StateDB(site.root / "state") as state, state.transaction() as tx:
        tx.execute("UPDATE counters SET last = 9999 WHERE year = 2026")
    site.deliver(request_mail("Fallanfrage", "Name: B\n", message_id="<b@x.de>"),
                 utc(2026, 3, 9, 9), "b")  # fmt: skip
    assert site.run("poll", now=NOW) == 0
    site.deliver(
        request_mail("Hausbesuch", "Name: C\n", message_id="<c@x.de>"), utc(2026, 3, 9, 10), "c"
    )
    site.deliver(
        request_mail("AW: [2026-10000] Fallanfrage", "Danke", message_id="<d@x.de>"),
        utc(2026, 3, 9, 11), "d",
    )  # fmt: skip
    assert site.run("poll", now=NOW) == 0
    numbers = [r["Nr."].value for r in site.requests()]
    assert numbers == ["2026-0001", "2026-10000", "2026-10001"]
    with StateDB(site.root / "state") as state:
        seen = state.conn.execute("SELECT nr FROM messages WHERE outcome = 'reply'").fetchall()
    assert seen == [("2026-10000",)]
    assert isinstance(sqlite3.sqlite_version, str)


def test_run_stops_on_a_damaged_database_and_mails_the_admin_without_it(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')  # in [mail]
    set_staff(site, STAFF)
    db = site.root / "state" / DB_NAME
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"kein SQLite" * 100)
    result = site.cli("run", "--max-seconds", "20", now=NOW, check=False)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Fehler: ") and "beschädigt" in last
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == b"kein SQLite" * 100
    from tests.site import outgoing

    alarms = [m for m in outgoing(site) if "Zustandsdatenbank" in str(m["Subject"])]
    assert len(alarms) == 1 and alarms[0]["To"] == "it@rostock.de"
