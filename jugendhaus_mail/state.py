"""The service's own durable memory: an SQLite database in the state folder.

It records every mail the service has seen (by message key) with its outcome and case number,
keeps rows that could not be written to the workbook yet (the pending queue), and counts case
numbers per year. Every change is one transaction; SQLite with synchronous=FULL survives kill -9.
Row contents are kept only while a row is pending and cleared once it is in the workbook.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from jugendhaus_mail.workbook.model import Row

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    key         TEXT PRIMARY KEY,
    outcome     TEXT NOT NULL,          -- request | reply | set_aside
    nr          TEXT,
    reason      TEXT,
    received    TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    row_json    TEXT,                   -- the pending row; NULL once written
    written_at  TEXT,
    filed_at    TEXT
);
CREATE INDEX IF NOT EXISTS messages_pending ON messages(written_at) WHERE outcome = 'request';
CREATE TABLE IF NOT EXISTS counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    key         TEXT PRIMARY KEY,       -- (case, rule, stage, due date) or similar: sent once
    queued_at   TEXT NOT NULL,
    message     BLOB,                   -- the complete mail; NULL once sent
    sent_at     TEXT
);
"""

DB_NAME = "jugendhaus-mail.sqlite3"
FEEDBACK = "Rückmeldung"  # reason of a reply that counts as feedback on its case


@dataclass(frozen=True)
class SeenMessage:
    key: str
    outcome: str
    nr: str | None
    reason: str | None
    filed: bool
    received: datetime


@dataclass(frozen=True)
class PendingRow:
    key: str
    nr: str
    row: Row
    recorded_at: datetime


class StateDB:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_NAME
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(SCHEMA)
        self._filed: list[tuple[str, str]] = []

    def close(self) -> None:
        self.flush_filed()
        self.conn.close()

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- messages -------------------------------------------------------------------------

    def seen(self, key: str) -> SeenMessage | None:
        row = self.conn.execute(
            "SELECT key, outcome, nr, reason, filed_at, received FROM messages WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        received = datetime.fromisoformat(row[5])
        return SeenMessage(row[0], row[1], row[2], row[3], row[4] is not None, received)

    def record_request(
        self, key: str, year: int, workbook_max: int, received: datetime, row: Row, now: datetime
    ) -> str:
        """Allocate the next case number of `year` and queue the row, in one transaction."""
        with self.transaction() as tx:
            current = tx.execute("SELECT last FROM counters WHERE year = ?", (year,)).fetchone()
            number = max(current[0] if current else 0, workbook_max) + 1
            if number > 9999:
                raise OverflowError(f"Mehr als 9999 Anfragen im Jahr {year}")
            nr = f"{year}-{number:04d}"
            tx.execute("INSERT OR REPLACE INTO counters(year, last) VALUES (?, ?)", (year, number))
            tx.execute(
                "INSERT INTO messages(key, outcome, nr, received, recorded_at, row_json) "
                "VALUES (?, 'request', ?, ?, ?, ?)",
                (key, nr, received.isoformat(), now.isoformat(), _encode_row({**row, "nr": nr})),
            )
        return nr

    def record_other(
        self,
        key: str,
        outcome: str,
        received: datetime,
        now: datetime,
        reason: str | None = None,
        nr: str | None = None,
    ) -> None:
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO messages(key, outcome, nr, reason, received, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, outcome, nr, reason, received.isoformat(), now.isoformat()),
            )

    def mark_filed(self, key: str, now: datetime) -> None:
        """Note that the mail was filed. Buffered until `flush_filed`: the flag only tells a
        later copy of the mail (a duplicate) from a crash recovery, and a copy with another
        receipt time is a duplicate anyway, so one transaction per cycle is enough."""
        self._filed.append((now.isoformat(), key))

    def flush_filed(self) -> None:
        if not self._filed:
            return
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE messages SET filed_at = ? WHERE key = ? AND filed_at IS NULL", self._filed
            )
        self._filed.clear()

    def pending_feedback(self) -> list[tuple[str, str, datetime]]:
        """Replies from participants whose date is not yet in `Letzte Rückmeldung`:
        (key, Nr., received)."""
        rows = self.conn.execute(
            "SELECT key, nr, received FROM messages WHERE outcome = 'reply' "
            "AND reason = ? AND written_at IS NULL",
            (FEEDBACK,),
        ).fetchall()
        return [(key, nr, datetime.fromisoformat(received)) for key, nr, received in rows]

    def request_known(self, nr: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM messages WHERE nr = ? AND outcome = 'request'", (nr,)
        ).fetchone()
        return row is not None

    def pending_rows(self) -> list[PendingRow]:
        rows = self.conn.execute(
            "SELECT key, nr, row_json, recorded_at FROM messages "
            "WHERE outcome = 'request' AND written_at IS NULL ORDER BY nr"
        ).fetchall()
        return [
            PendingRow(k, nr, _decode_row(data), datetime.fromisoformat(at))
            for k, nr, data, at in rows
        ]

    def mark_written(self, keys: list[str] | tuple[str, ...], now: datetime) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE messages SET written_at = ?, row_json = NULL "
                "WHERE key = ? AND written_at IS NULL",
                [(now.isoformat(), key) for key in keys],
            )

    def set_aside(self, limit: int = 20) -> list[tuple[str, str, str]]:
        """The most recent mails set aside: (received, reason, key)."""
        rows = self.conn.execute(
            "SELECT received, reason, key FROM messages WHERE outcome = 'set_aside' "
            "ORDER BY recorded_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [(r[0], r[1] or "", r[2]) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT outcome, COUNT(*) FROM messages GROUP BY outcome"
        ).fetchall()
        return {outcome: count for outcome, count in rows}

    # --- outgoing mail: queued durably, sent once ---------------------------------------------

    def already_queued(self, key: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM outbox WHERE key = ?", (key,)).fetchone() is not None
        )

    def queue_mail(self, key: str, message: bytes, now: datetime) -> bool:
        """Queue a mail under `key`; False (and nothing queued) when that key was queued before."""
        with self.transaction() as tx:
            cursor = tx.execute(
                "INSERT OR IGNORE INTO outbox(key, queued_at, message) VALUES (?, ?, ?)",
                (key, now.isoformat(), message),
            )
        return cursor.rowcount == 1

    def unsent_mail(self) -> list[tuple[str, bytes]]:
        rows = self.conn.execute(
            "SELECT key, message FROM outbox WHERE sent_at IS NULL ORDER BY queued_at, key"
        ).fetchall()
        return [(key, bytes(message)) for key, message in rows]

    def outbox_log(self) -> list[tuple[str, str | None]]:
        """Every queued mail's key with its sending time (ISO), for statistics."""
        rows = self.conn.execute("SELECT key, sent_at FROM outbox").fetchall()
        return [(str(key), sent_at) for key, sent_at in rows]

    def mark_mail_sent(self, key: str, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE outbox SET sent_at = ?, message = NULL WHERE key = ?",
                (now.isoformat(), key),
            )

    # --- small key/value memory -----------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, value))


def _encode_row(row: Row) -> str:
    def encode(value: object) -> object:
        if isinstance(value, datetime):
            return {"datetime": value.isoformat()}
        if isinstance(value, date):
            return {"date": value.isoformat()}
        return value

    return json.dumps({k: encode(v) for k, v in row.items()}, ensure_ascii=False)


def _decode_row(data: str) -> Row:
    def decode(value: object) -> object:
        if isinstance(value, dict):
            if "datetime" in value:
                return datetime.fromisoformat(value["datetime"])
            if "date" in value:
                return date.fromisoformat(value["date"])
        return value

    return {k: decode(v) for k, v in json.loads(data).items()}  # type: ignore[misc]
