"""The privacy tables in the state database: what was erased (never the data), erasures still
to finish, and the letters the service wrote to disk (so they can be deleted)."""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from pathlib import Path

from jugendhaus_mail.state import StateDB

SCHEMA = """
CREATE TABLE IF NOT EXISTS deletions (      -- what was erased, when, on whose command
    id          INTEGER PRIMARY KEY,
    nr          TEXT NOT NULL,
    what        TEXT NOT NULL,              -- stores and counts, never the data itself
    at          TEXT NOT NULL,
    by_whom     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS erase_pending (  -- stores an erasure could not reach yet
    nr          TEXT NOT NULL,
    store       TEXT NOT NULL,              -- workbook | mailbox
    since       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    traces      TEXT,                       -- salted digests of names (see person.Traces)
    PRIMARY KEY (nr, store)
);
CREATE TABLE IF NOT EXISTS letters_written (  -- letter files on disk, deleted after a while
    path        TEXT PRIMARY KEY,
    nr          TEXT NOT NULL,
    written_at  TEXT NOT NULL
);
"""
TABLES = ("deletions", "erase_pending", "letters_written")


def ensure(state: StateDB) -> None:
    state.conn.executescript(SCHEMA)


def operator() -> str:
    """Who gave the command: the account that runs it (sudo: the person behind it)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unbekannt"
    sudo = os.environ.get("SUDO_USER")
    return f"{sudo} (als {user})" if sudo and sudo != user else user


def record_deletion(state: StateDB, nr: str, what: str, now: datetime, by: str) -> None:
    ensure(state)
    with state.transaction() as tx:
        tx.execute(
            "INSERT INTO deletions(nr, what, at, by_whom) VALUES (?, ?, ?, ?)",
            (nr, what, now.isoformat(), by),
        )


def deletions(state: StateDB, nr: str) -> list[tuple[str, str, str]]:
    ensure(state)
    rows = state.conn.execute(
        "SELECT at, what, by_whom FROM deletions WHERE nr = ? ORDER BY id", (nr,)
    ).fetchall()
    return [(str(a), str(w), str(b)) for a, w, b in rows]


def note_pending(
    state: StateDB, nr: str, store: str, reason: str, now: datetime, traces: str
) -> None:
    ensure(state)
    with state.transaction() as tx:
        tx.execute(
            "INSERT OR REPLACE INTO erase_pending(nr, store, since, reason, traces) VALUES "
            "(?, ?, COALESCE((SELECT since FROM erase_pending WHERE nr = ? AND store = ?), ?), "
            "?, ?)",
            (nr, store, nr, store, now.isoformat(), reason, traces),
        )


def pending_traces(state: StateDB, nr: str) -> str | None:
    ensure(state)
    row = state.conn.execute(
        "SELECT traces FROM erase_pending WHERE nr = ? AND traces IS NOT NULL LIMIT 1", (nr,)
    ).fetchone()
    return None if row is None else str(row[0])


def clear_pending(state: StateDB, nr: str, store: str) -> None:
    ensure(state)
    with state.transaction() as tx:
        tx.execute("DELETE FROM erase_pending WHERE nr = ? AND store = ?", (nr, store))


def pending(state: StateDB) -> list[tuple[str, str, str, str]]:
    """(Nr., store, since, reason) of erasures still to finish."""
    ensure(state)
    rows = state.conn.execute(
        "SELECT nr, store, since, reason FROM erase_pending ORDER BY since, nr"
    ).fetchall()
    return [(str(n), str(s), str(t), str(r)) for n, s, t, r in rows]


def record_letter(state: StateDB, path: Path, nr: str, now: datetime) -> None:
    ensure(state)
    with state.transaction() as tx:
        tx.execute(
            "INSERT OR REPLACE INTO letters_written(path, nr, written_at) VALUES (?, ?, ?)",
            (str(path.resolve()), nr, now.isoformat()),
        )


def letters(state: StateDB, *, nr: str | None = None, before: datetime | None = None) -> list[Path]:
    ensure(state)
    query, params = "SELECT path FROM letters_written WHERE 1", list[str]()
    if nr is not None:
        query, params = query + " AND nr = ?", [*params, nr]
    if before is not None:
        query, params = query + " AND written_at < ?", [*params, before.isoformat()]
    return [Path(p) for (p,) in state.conn.execute(query + " ORDER BY path", params)]


def forget_letters(state: StateDB, paths: list[Path]) -> None:
    with state.transaction() as tx:
        tx.executemany("DELETE FROM letters_written WHERE path = ?", [(str(p),) for p in paths])


def compact(state: StateDB) -> None:
    """Make deleted bytes really gone: rebuild the file and empty the write-ahead log."""
    state.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    state.conn.execute("VACUUM")
    state.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
