"""Nothing personal where it is not needed: the state database is 0600 (also when it was
created readable by others), and the service warns at start when the state folder or the
workbook can be read by every account on the machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jugendhaus_mail.state import DB_NAME, StateDB
from tests.site import STAFF, make_site, set_staff

NOW = "2026-03-30T08:50"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_state_database_is_private_even_with_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        with StateDB(tmp_path / "state") as state:
            state.put("x", "y")
        db = tmp_path / "state" / DB_NAME
        assert db.stat().st_mode & 0o777 == 0o600
        db.chmod(0o644)  # an older version, or a copy made by hand
        StateDB(tmp_path / "state").close()
        assert db.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_service_warns_at_start_when_everyone_can_read_the_data(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    set_staff(site, STAFF)
    (site.root / "state").mkdir(mode=0o755, exist_ok=True)
    (site.root / "state").chmod(0o755)
    site.workbook.chmod(0o644)
    result = site.cli("run", "--max-seconds", "3", now=NOW, check=False)
    assert (
        "Anfrageliste" in result.stderr and "für alle Benutzer des Rechners lesbar" in result.stderr
    )
    assert f"chmod o-rwx {site.root / 'state'}" in result.stderr
    (site.root / "state").chmod(0o750)
    site.workbook.chmod(0o640)
    quiet = site.cli("run", "--max-seconds", "3", now=NOW, check=False)
    assert "lesbar" not in quiet.stderr
