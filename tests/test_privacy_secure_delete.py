"""A sent mail's bytes are cleared from the state database file, not just freed: SQLite
leaves freed pages as they were unless `secure_delete` is on, and many builds (Windows, macOS)
have it off by default. Simulated here by connections that start with it off."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jugendhaus_mail import state as state_module
from jugendhaus_mail.state import DB_NAME, StateDB

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
MARKER = b"Kundennummer 123A456789-geheim"


@pytest.fixture
def secure_delete_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    connect = sqlite3.connect

    def off(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.execute("PRAGMA secure_delete=OFF")
        return connection

    monkeypatch.setattr(state_module.sqlite3, "connect", off)


def test_a_sent_mail_leaves_no_trace_in_the_database_file(
    tmp_path: Path, secure_delete_off_by_default: None
) -> None:
    mail = b"To: ifk@jobcenter-ge.de\r\nSubject: x\r\n\r\n" + MARKER * 200
    with StateDB(tmp_path) as state:
        assert state.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert state.queue_mail("2026-0001|acknowledgement", mail, NOW)
        state.mark_mails_sent(["2026-0001|acknowledgement"], NOW)
        state.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = (tmp_path / DB_NAME).read_bytes()
    assert MARKER not in stored
