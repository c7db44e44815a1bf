"""The outbox does not read back the bytes this process queued itself (issue 15): `unsent_mail`
takes them from memory, but only for keys whose batch transaction committed those very bytes,
and only while no other connection has changed the database. Anything else is read as before."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from jugendhaus_mail.failpoints import ENV
from jugendhaus_mail.state import StateDB, StateError

NOW = datetime(2026, 3, 10, 8, 0)


def read_fresh(path: Path) -> list[tuple[str, bytes]]:
    """What a new connection reads: the database's truth."""
    with StateDB(path) as other:
        return other.unsent_mail()


def mail(n: int, fill: bytes = b"x") -> bytes:
    return b"To: a@rostock.de\r\nMessage-ID: <%d@x>\r\n\r\n" % n + fill * 5000


def test_held_bytes_are_the_committed_ones_in_queue_order(tmp_path: Path) -> None:
    with StateDB(tmp_path) as state:
        assert state.queue_mail("b|early", mail(0), NOW)  # queued directly: read back
        state.record_batch([], {"d|1": mail(1), "c|2": mail(2)}, NOW, {})
        # queued before with other bytes: the database keeps those, the new ones are dropped
        state.record_batch([], {"b|early": mail(0, b"y"), "a|3": mail(3)}, NOW, {})
        unsent = state.unsent_mail()
        assert unsent == read_fresh(tmp_path)
        assert dict(unsent)["b|early"] == mail(0)
        state.mark_mails_sent(["d|1"], NOW, {"d|1": dict(unsent)["d|1"]})
        assert state.unsent_mail() == read_fresh(tmp_path)
        assert [key for key, _ in state.unsent_mail()] == ["a|3", "b|early", "c|2"]


def test_held_bytes_are_not_read_back(tmp_path: Path) -> None:
    message = mail(1)
    with StateDB(tmp_path) as state:
        state.record_batch([], {"k": message}, NOW, {})
        ((key, sent),) = state.unsent_mail()
        assert key == "k" and sent is message  # the very object: no copy from the database


def test_a_batch_whose_transaction_failed_is_never_sent_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StateDB(tmp_path) as state:
        monkeypatch.setenv(ENV, "state:ENOSPC")
        with pytest.raises(StateError):
            state.record_batch([], {"k": mail(1, b"A")}, NOW, {})
        monkeypatch.delenv(ENV)
        assert state.unsent_mail() == []
        state.record_batch([], {"other": mail(2)}, NOW, {})  # memory in use from here on
        # the key queued again, with other bytes of the same length
        assert state.queue_mail("k", mail(1, b"B"), NOW)
        assert dict(state.unsent_mail())["k"] == mail(1, b"B")
        assert state.unsent_mail() == read_fresh(tmp_path)


def test_a_change_by_another_connection_is_read_from_the_database(tmp_path: Path) -> None:
    with StateDB(tmp_path) as state:
        state.record_batch([], {"k": mail(1, b"A"), "j": mail(2)}, NOW, {})
        other = sqlite3.connect(state.path, isolation_level=None)
        try:  # same length, so only the database can tell
            other.execute("UPDATE outbox SET message = ? WHERE key = 'k'", (mail(1, b"B"),))
        finally:
            other.close()
        assert dict(state.unsent_mail())["k"] == mail(1, b"B")
        # and later batches of this connection do not bring the old bytes back
        state.record_batch([], {"i": mail(3)}, NOW, {})
        assert state.unsent_mail() == read_fresh(tmp_path)
        assert dict(state.unsent_mail())["k"] == mail(1, b"B")


def test_mail_sent_by_another_process_is_not_listed(tmp_path: Path) -> None:
    with StateDB(tmp_path) as state:
        state.record_batch([], {"k": mail(1), "j": mail(2)}, NOW, {})
        with StateDB(tmp_path) as other:
            other.mark_mails_sent(["k"], NOW)
        assert [key for key, _ in state.unsent_mail()] == ["j"]
        with sqlite3.connect(state.path) as look:
            assert look.execute("SELECT message FROM outbox WHERE key = 'k'").fetchone() == (None,)
