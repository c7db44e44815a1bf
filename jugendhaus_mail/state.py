"""The service's own durable memory: an SQLite database in the state folder.

It records every mail the service has seen (by message key) with its outcome and case number,
keeps rows that could not be written to the workbook yet (the pending queue), counts case
numbers per year, queues outgoing mail, and keeps a copy of every row it wrote so that a restored
older workbook loses nothing (`written_rows`, cleared by retention and erasure). Every change is
one transaction; SQLite with synchronous=FULL survives kill -9.

Why one module: every table and every SQL statement of the service stand in one place, so a
reader (and a data protection officer, see docs/datenschutz.md) sees all that is stored and how
each transaction keeps it consistent.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.failpoints import ENV as FAILPOINT_ENV
from jugendhaus_mail.failpoints import failpoint
from jugendhaus_mail.mailbox import raw as raw_mail
from jugendhaus_mail.mailpack import ID_SIZE, MARK, pack, packed_with, pattern_id, unpack
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
CREATE TABLE IF NOT EXISTS written_rows (  -- every row the service wrote, to notice a restore
    key         TEXT PRIMARY KEY,
    nr          TEXT NOT NULL,
    row_json    TEXT NOT NULL,          -- the row as written; purged by retention
    written_at  TEXT NOT NULL,
    restored_at TEXT                    -- last time it was written again after vanishing
);
CREATE INDEX IF NOT EXISTS written_rows_nr ON written_rows(nr);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    key         TEXT PRIMARY KEY,       -- (case, rule, stage, due date) or similar: sent once
    queued_at   TEXT NOT NULL,
    message     BLOB,                   -- the complete mail (maybe packed); NULL once sent
    sent_at     TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(queued_at, key) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS outbox_patterns (  -- see mailpack.py: template text, no person
    id          BLOB PRIMARY KEY,       -- SHA-256 of data
    data        BLOB NOT NULL           -- dropped with the last unsent mail packed with it
);
CREATE TABLE IF NOT EXISTS unaddressed (
    key         TEXT PRIMARY KEY,       -- the outbox key of a mail nobody could receive
    subject     TEXT NOT NULL,
    reason      TEXT NOT NULL,          -- German, names what to fill in
    recorded_at TEXT NOT NULL,
    digest_at   TEXT                    -- when a digest listed it
);
CREATE TABLE IF NOT EXISTS sent_log (   -- who received which mail (SGB X), never its content
    key         TEXT PRIMARY KEY,       -- the outbox key: case number and kind
    recipients  TEXT NOT NULL,          -- To and Cc addresses (staff of the offices)
    attachments INTEGER NOT NULL,
    sent_at     TEXT NOT NULL
);
"""

DB_NAME = "jugendhaus-mail.sqlite3"
FEEDBACK = "Rückmeldung"  # reason of a reply that counts as feedback on its case
CHECKED_WORKBOOK = "restore.checked_sha256"  # kv: see StateDB.checked_workbook
_SQL_CHUNK = 500  # keys per IN (…) query; SQLite allows 999 parameters in old builds


@dataclass(frozen=True)
class SeenMessage:
    key: str
    outcome: str
    nr: str | None
    reason: str | None
    filed: bool
    received: datetime


@dataclass(frozen=True)
class Unaddressed:
    """A mail the service wanted to send but could address to nobody allowed."""

    key: str
    subject: str
    reason: str
    recorded_at: datetime
    in_digest: bool


@dataclass(frozen=True)
class Record:
    """One mail of a batch as `record_batch` stores it."""

    key: str
    outcome: str  # request | reply | set_aside
    received: datetime
    nr: str | None = None
    reason: str | None = None
    row: Row | None = None  # the pending row of a request


@dataclass(frozen=True)
class PendingRow:
    key: str
    nr: str
    row: Row
    recorded_at: datetime


class StateError(JugendhausError):
    """The state database cannot be written (full disk) or read."""


class StateDamaged(StateError):
    """The state database is damaged; it is never replaced silently."""


_CHECKED: set[Path] = set()  # databases found intact by this process


class StateDB:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_NAME
        _private(self.path)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            # what is deleted or cleared (a sent mail's bytes, an erased person) is overwritten
            # in the file, not just freed: many SQLite builds (Windows, macOS) do not by default
            self.conn.execute("PRAGMA secure_delete=ON")
            self.conn.executescript(SCHEMA)
            if self.path not in _CHECKED:
                result = self.conn.execute("PRAGMA quick_check").fetchone()
                if result is None or result[0] != "ok":
                    raise sqlite3.DatabaseError(str(result[0] if result else "quick_check"))
                _CHECKED.add(self.path)
        except sqlite3.DatabaseError as exc:
            raise _state_error(self.path, exc) from exc
        self._filed: list[tuple[str, str]] = []
        # key -> (size as stored, the bytes) this connection queued under it, in a transaction
        # that committed, while no other connection has changed the database since
        # (`_queued_version`, the connection's data_version then): `unsent_mail` takes them
        # from here (issue 15)
        self._queued: dict[str, tuple[int, bytes]] = {}
        self._queued_version: int | None = None

    def close(self) -> None:
        self._queued.clear()
        self.flush_filed()
        self.conn.close()

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                if os.environ.get(FAILPOINT_ENV) == "state:ENOSPC":
                    raise sqlite3.OperationalError("database or disk is full")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise _state_error(self.path, exc) from exc

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

    def seen_many(self, keys: Collection[str]) -> dict[str, SeenMessage]:
        """`seen` for many keys at once (one query per chunk): key -> record, for those
        recorded."""
        query = (
            "SELECT key, outcome, nr, reason, filed_at, received FROM messages "
            "WHERE key IN ({marks})"
        )
        return {
            row[0]: SeenMessage(
                row[0], row[1], row[2], row[3], row[4] is not None, datetime.fromisoformat(row[5])
            )
            for row in self._by_keys(query, set(keys))
        }

    def record_request(
        self, key: str, year: int, workbook_max: int, received: datetime, row: Row, now: datetime
    ) -> str:
        """Allocate the next case number of `year` and queue the row, in one transaction."""
        with self.transaction() as tx:
            nr = _next_number(tx, year, workbook_max)
            tx.execute(
                "INSERT INTO messages(key, outcome, nr, received, recorded_at, row_json) "
                "VALUES (?, 'request', ?, ?, ?, ?)",
                (key, nr, received.isoformat(), now.isoformat(), _encode_row({**row, "nr": nr})),
            )
        return nr

    def record_batch(
        self,
        records: list[Record],
        mails: dict[str, bytes],
        now: datetime,
        counters: dict[int, int],
        patterns: Mapping[str, bytes] | None = None,
    ) -> None:
        """Record a batch of mails, the case numbers they took (`counters`: year -> last) and
        the mail that answers them, in one transaction: one commit (one fsync) per batch.
        `patterns`: key -> a pattern of that mail's kind, free of personal data, which the
        mail is stored packed with (see mailpack.py)."""
        at = now.isoformat()
        with self.transaction() as tx:
            for year, last in counters.items():
                tx.execute(
                    "INSERT INTO counters(year, last) VALUES (?, ?) ON CONFLICT(year) "
                    "DO UPDATE SET last = max(last, excluded.last)",
                    (year, last),
                )
            tx.executemany(
                "INSERT INTO messages(key, outcome, nr, reason, received, recorded_at, row_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.key,
                        r.outcome,
                        r.nr,
                        r.reason,
                        r.received.isoformat(),
                        at,
                        None if r.row is None else _encode_row({**r.row, "nr": r.nr}),
                    )
                    for r in records
                ],
            )
            known = self._by_keys("SELECT key FROM outbox WHERE key IN ({marks})", mails)
            queued = dict(mails)
            for (key,) in known:  # queued before: those bytes stay, these are dropped
                del queued[key]
            stored = _stored_forms(tx, queued, patterns or {})
            tx.executemany(
                "INSERT OR IGNORE INTO outbox(key, queued_at, message) VALUES (?, ?, ?)",
                [(key, at, stored[key]) for key in queued],
            )
            # taken while this transaction holds the write lock: no other connection can
            # commit before ours, and our own commit leaves the value as it is
            (version,) = tx.execute("PRAGMA data_version").fetchone()
            failpoint("batch_before_commit")
        # only once the commit went through
        self._remember_queued({k: (len(stored[k]), m) for k, m in queued.items()}, int(version))

    def _remember_queued(self, queued: dict[str, tuple[int, bytes]], version: int) -> None:
        if version != self._queued_version:  # another connection wrote: forget the rest
            self._queued = {}
            self._queued_version = version
        self._queued.update(queued)

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

    def seen_message_id(self, message_id: str) -> SeenMessage | None:
        """The first mail with a case number recorded under this Message-ID: keys are
        "mid:<id>#<content digest>", or "mid:<id>" as stored before the digest was added."""
        plain = f"mid:{message_id}"
        rows = self.conn.execute(
            "SELECT key, outcome, nr, reason, filed_at, received FROM messages "
            "WHERE (key = ? OR (key > ? AND key < ?)) AND nr IS NOT NULL ORDER BY recorded_at",
            (plain, plain + "#", plain + "$"),
        ).fetchall()
        for row in rows:
            if row[0] == plain or row[0].rpartition("#")[0] == plain:
                received = datetime.fromisoformat(row[5])
                return SeenMessage(row[0], row[1], row[2], row[3], row[4] is not None, received)
        return None

    def last_number(self, year: int) -> int:
        """The last case number the database handed out in `year` (0: none yet)."""
        row = self.conn.execute("SELECT last FROM counters WHERE year = ?", (year,)).fetchone()
        return int(row[0]) if row else 0

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

    def pending_times(self) -> list[datetime]:
        """When each row still waiting for the workbook was recorded, without decoding the
        rows: how many wait and since when (for the status file, check and monitoring)."""
        rows = self.conn.execute(
            "SELECT recorded_at FROM messages WHERE outcome = 'request' AND written_at IS NULL"
        ).fetchall()
        return [datetime.fromisoformat(at) for (at,) in rows]

    def mark_written(self, keys: list[str] | tuple[str, ...], now: datetime) -> None:
        """The rows are in the workbook: their contents move from the queue to the ledger of
        written rows (so a restored older workbook can be noticed and repaired)."""
        with self.transaction() as tx:
            tx.executemany(
                "INSERT OR REPLACE INTO written_rows(key, nr, row_json, written_at, restored_at) "
                "SELECT key, nr, row_json, ?, (SELECT restored_at FROM written_rows w "
                "WHERE w.key = messages.key) FROM messages "
                "WHERE key = ? AND written_at IS NULL AND row_json IS NOT NULL",
                [(now.isoformat(), key) for key in keys],
            )
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

    def set_aside_since(self, since: datetime) -> int:
        """How many mails were set aside from `since` on (for monitoring)."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM messages WHERE outcome = 'set_aside' AND recorded_at >= ?",
            (since.isoformat(),),
        ).fetchone()
        return int(row[0])

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
        _refuse_packed_look(message)
        with self.transaction() as tx:
            cursor = tx.execute(
                "INSERT OR IGNORE INTO outbox(key, queued_at, message) VALUES (?, ?, ?)",
                (key, now.isoformat(), message),
            )
        return cursor.rowcount == 1

    def unsent_mail(self) -> list[tuple[str, bytes]]:
        """(key, message) of every mail not sent yet, in the order queued. The bytes this
        connection queued itself are not read back (7 MB for 1,000 acknowledgements) as long
        as no other connection changed the database since: the same bytes, without the copy."""
        if not self._queued:
            rows = self.conn.execute(
                "SELECT key, message FROM outbox WHERE sent_at IS NULL ORDER BY queued_at, key"
            ).fetchall()
            unpacked = _Unpacker(self.conn, self.path)
            return [(key, unpacked(key, message)) for key, message in rows]
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")  # one snapshot for the keys, the version and the rest
        try:
            listed = self.conn.execute(
                "SELECT key, length(message) FROM outbox WHERE sent_at IS NULL "
                "ORDER BY queued_at, key"
            ).fetchall()
            (version,) = self.conn.execute("PRAGMA data_version").fetchone()
            if version != self._queued_version:
                self._queued, self._queued_version = {}, None
            held = self._queued
            missing = [key for key, size in listed if key not in held or held[key][0] != size]
            query = "SELECT key, message FROM outbox WHERE key IN ({marks})"
            found: Iterator[tuple[Any, ...]] = self._by_keys(query, missing)
            unpacked = _Unpacker(self.conn, self.path)
            read = {key: unpacked(key, message) for key, message in found}
        finally:
            if own:
                self.conn.execute("COMMIT")
        return [(key, read[key] if key in read else held[key][1]) for key, _size in listed]

    def readable(self, key: str, stored: bytes) -> bytes:
        """A mail as the outbox stored it under `key` (read by the caller's own query), as
        sent: unpacked where it was stored packed (mailpack.py)."""
        return _Unpacker(self.conn, self.path)(key, stored)

    def unsent_queued_at(self) -> list[datetime]:
        """When each unsent mail was queued, without loading the mails (for monitoring)."""
        rows = self.conn.execute("SELECT queued_at FROM outbox WHERE sent_at IS NULL").fetchall()
        return [datetime.fromisoformat(at) for (at,) in rows]

    def outbox_log(self) -> list[tuple[str, str | None]]:
        """Every queued mail's key with its sending time (ISO), for statistics."""
        rows = self.conn.execute("SELECT key, sent_at FROM outbox").fetchall()
        return [(str(key), sent_at) for key, sent_at in rows]

    def mark_mail_sent(self, key: str, now: datetime) -> None:
        self.mark_mails_sent([key], now)

    def mark_mails_sent(
        self, keys: list[str], now: datetime, sent: Mapping[str, bytes] | None = None
    ) -> None:
        """Note mails as sent, all in one transaction (a batch stored in `Postausgang`).
        `sent`: the queued bytes of (some of) the mails, as the caller just read them."""
        at = now.isoformat()
        for key in keys:
            self._queued.pop(key, None)  # sent (or about to be): not held any longer
        with self.transaction() as tx:
            logged = []
            unpacked = _Unpacker(tx, self.path)
            for key in keys:
                message = sent.get(key) if sent is not None else None
                if message is None:
                    row = tx.execute("SELECT message FROM outbox WHERE key = ?", (key,)).fetchone()
                    message = None if row is None or row[0] is None else unpacked(key, row[0])
                if message is not None:
                    logged.append((key, *_addressees(message), at))
            tx.executemany(
                "INSERT OR REPLACE INTO sent_log(key, recipients, attachments, sent_at) "
                "VALUES (?, ?, ?, ?)",
                logged,
            )
            tx.executemany(
                "UPDATE outbox SET sent_at = ?, message = NULL WHERE key = ?",
                [(at, key) for key in keys],
            )
            drop_unused_patterns(tx)

    def queued_mail(self, key: str) -> tuple[datetime, datetime | None] | None:
        """(queued at, sent at) of the mail queued under `key`, None when never queued."""
        row = self.conn.execute(
            "SELECT queued_at, sent_at FROM outbox WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return datetime.fromisoformat(row[0]), (datetime.fromisoformat(row[1]) if row[1] else None)

    # --- mail that could not be addressed: a problem for check, watchdog and digest ----------

    def record_unaddressed(self, key: str, subject: str, reason: str, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO unaddressed(key, subject, reason, recorded_at) "
                "VALUES (?, ?, ?, ?)",
                (key, subject, reason, now.isoformat()),
            )

    def resolve_unaddressed(self, key: str) -> None:
        """The mail found a recipient after all (staff filled the sheet)."""
        if self.conn.execute("SELECT 1 FROM unaddressed WHERE key = ?", (key,)).fetchone():
            with self.transaction() as tx:
                tx.execute("DELETE FROM unaddressed WHERE key = ?", (key,))

    def unaddressed(
        self, since: datetime | None = None, *, not_in_digest: bool = False
    ) -> list[Unaddressed]:
        query = "SELECT key, subject, reason, recorded_at, digest_at FROM unaddressed WHERE 1"
        params: list[str] = []
        if since is not None:
            query += " AND recorded_at >= ?"
            params.append(since.isoformat())
        if not_in_digest:
            query += " AND digest_at IS NULL"
        rows = self.conn.execute(query + " ORDER BY recorded_at, key", params).fetchall()
        return [
            Unaddressed(k, subject, reason, datetime.fromisoformat(at), digest_at is not None)
            for k, subject, reason, at, digest_at in rows
        ]

    def mark_unaddressed_in_digest(self, keys: list[str], now: datetime) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE unaddressed SET digest_at = ? WHERE key = ?",
                [(now.isoformat(), key) for key in keys],
            )

    # --- the ledger of written rows (see jobs/restore.py) --------------------------------------

    def ledger_numbers(self) -> dict[str, str]:
        """key -> Nr. of every written row, without the copies (small on 50,000 rows)."""
        return dict(self.conn.execute("SELECT key, nr FROM written_rows").fetchall())

    def ledger_copies(self, keys: Collection[str]) -> dict[str, tuple[str, str]]:
        """key -> (Nr., the row as stored JSON) of those of `keys` that have a copy."""
        query = "SELECT key, nr, row_json FROM written_rows WHERE key IN ({marks})"
        return {key: (nr, data) for key, nr, data in self._by_keys(query, keys)}

    def written_requests(self, keys: Collection[str]) -> set[str]:
        """Those of `keys` the service wrote as requests (before the ledger existed, too)."""
        query = (
            "SELECT key FROM messages WHERE key IN ({marks}) AND outcome = 'request' "
            "AND written_at IS NOT NULL"
        )
        return {key for (key,) in self._by_keys(query, keys)}

    def _by_keys(self, query: str, keys: Collection[str]) -> Iterator[tuple[str, ...]]:
        """The rows of `query` (its IN list written "{marks}") for `keys`, asked in chunks."""
        ordered = list(keys)
        for start in range(0, len(ordered), _SQL_CHUNK):
            part = ordered[start : start + _SQL_CHUNK]
            yield from self.conn.execute(query.format(marks=",".join("?" * len(part))), part)

    def refresh_written(self, rows: dict[str, tuple[str, str]], now: datetime) -> None:
        """Keep the newest version of written rows as the workbook shows them."""
        with self.transaction() as tx:
            tx.executemany(
                "INSERT INTO written_rows(key, nr, row_json, written_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET nr = excluded.nr, row_json = excluded.row_json",
                [(key, nr, data, now.isoformat()) for key, (nr, data) in rows.items()],
            )

    @staticmethod
    def decode(data: str) -> Row:
        return _decode_row(data)

    def requeue_written(self, key: str, row: Row, now: datetime) -> None:
        """A written row vanished from the workbook: queue it to be written again."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE messages SET written_at = NULL, row_json = ? WHERE key = ?",
                (_encode_row(row), key),
            )
            tx.execute(
                "UPDATE written_rows SET restored_at = ? WHERE key = ?", (now.isoformat(), key)
            )

    def forget_written(self, numbers: list[str] | set[str]) -> None:
        """Deleted on purpose, or cleared by retention: the copy goes too."""
        with self.transaction() as tx:
            tx.executemany("DELETE FROM written_rows WHERE nr = ?", [(nr,) for nr in numbers])

    def restored_rows(self, since: datetime | None = None) -> list[tuple[str, datetime]]:
        """(Nr., when) of rows written again after they vanished."""
        rows = self.conn.execute(
            "SELECT nr, restored_at FROM written_rows WHERE restored_at IS NOT NULL "
            "AND restored_at >= ? ORDER BY restored_at, nr",
            ((since or datetime.min).isoformat(),),
        ).fetchall()
        return [(nr, datetime.fromisoformat(at)) for nr, at in rows]

    def renumber(self, key: str, old: str, year: int, workbook_max: int, row: Row) -> str:
        """Give a waiting row whose Nr. staff used meanwhile the next free number; replies
        recorded to the old number follow it."""
        with self.transaction() as tx:
            nr = _next_number(tx, year, workbook_max)
            tx.execute(
                "UPDATE messages SET nr = ?, row_json = ? WHERE key = ?",
                (nr, _encode_row({**row, "nr": nr}), key),
            )
            tx.execute(
                "UPDATE messages SET nr = ? WHERE nr = ? AND outcome = 'reply' "
                "AND written_at IS NULL",
                (nr, old),
            )
            tx.execute("UPDATE written_rows SET nr = ? WHERE key = ?", (nr, key))
        return nr

    def has_requests(self) -> bool:
        """Has the service ever taken in a request (written or waiting)? Without one there is
        nothing a restored workbook could have lost."""
        row = self.conn.execute(
            "SELECT 1 FROM messages WHERE outcome = 'request' "
            "UNION ALL SELECT 1 FROM written_rows LIMIT 1"
        ).fetchone()
        return row is not None

    def checked_workbook(self) -> str | None:
        """The SHA-256 of the workbook version the restore check last compared (or that the
        service wrote on top of such a version, adding only rows it also keeps)."""
        return self.get(CHECKED_WORKBOOK) or None

    def set_checked_workbook(self, sha256: str | None) -> None:
        self.put(CHECKED_WORKBOOK, sha256 or "")

    # --- small key/value memory -----------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, value))


def _next_number(tx: sqlite3.Connection, year: int, workbook_max: int) -> str:
    """Take the next case number of `year`, above the database's last and the workbook's."""
    current = tx.execute("SELECT last FROM counters WHERE year = ?", (year,)).fetchone()
    number = max(current[0] if current else 0, workbook_max) + 1
    tx.execute("INSERT OR REPLACE INTO counters(year, last) VALUES (?, ?)", (year, number))
    return f"{year}-{number:04d}"  # the 10,000th is 2026-10000


def _private(path: Path) -> None:
    """Social data: the database (and so its -wal and -shm, which SQLite creates with the
    same rights) is readable by the service account only."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError:
        pass  # read-only media or foreign owner: opening reports what is wrong


def _state_error(path: Path, exc: sqlite3.DatabaseError) -> StateError:
    text = str(exc).lower()
    if "full" in text:
        return StateError(
            f"Kein Speicherplatz mehr für die Zustandsdatenbank {path}. Bitte Platz schaffen; "
            "nichts ist verloren, der Dienst macht danach dort weiter, wo er war."
        )
    if "locked" in text or "readonly" in text or "unable to open" in text:
        return StateError(
            f"Die Zustandsdatenbank {path} lässt sich nicht öffnen oder schreiben ({exc}). "
            "Bitte Rechte und Speicherplatz im Ordner prüfen."
        )
    return StateDamaged(
        f"Die Zustandsdatenbank {path} ist beschädigt ({exc}). Der Dienst hält an und ersetzt "
        "sie nicht von selbst: bitte die Datei beiseitelegen und die letzte Sicherung des "
        "Ordners state/ zurückspielen, dann neu starten."
    )


def _stored_forms(
    tx: sqlite3.Connection, mails: Mapping[str, bytes], patterns: Mapping[str, bytes]
) -> dict[str, bytes]:
    """Each mail as the outbox stores it: packed where a pattern is given (the pattern stored
    once, in the same transaction), else as it is."""
    ids: dict[bytes, bytes] = {}  # pattern -> its SHA-256, taken once per pattern
    stored = {}
    for key, message in mails.items():
        _refuse_packed_look(message)
        pattern = patterns.get(key)
        if pattern is None:
            stored[key] = message
            continue
        ident = ids.get(pattern)
        if ident is None:
            ident = ids[pattern] = pattern_id(pattern)
            tx.execute(
                "INSERT OR IGNORE INTO outbox_patterns(id, data) VALUES (?, ?)", (ident, pattern)
            )
        stored[key] = pack(message, pattern, ident)
    return stored


def _refuse_packed_look(message: bytes) -> None:
    if packed_with(message) is not None:
        raise ValueError("eine Mail beginnt nie mit einem NUL-Byte")


class _Unpacker:
    """Stored outbox bytes -> the mail; patterns read once per call site."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn, self._path = conn, path
        self._patterns: dict[bytes, bytes] = {}

    def __call__(self, key: str, stored: bytes) -> bytes:
        stored = bytes(stored)
        ident = packed_with(stored)
        if ident is None:
            return stored
        pattern = self._patterns.get(ident)
        if pattern is None:
            row = self._conn.execute(
                "SELECT data FROM outbox_patterns WHERE id = ?", (ident,)
            ).fetchone()
            if row is None:
                raise self._damaged(f"Muster der wartenden Mail {key} fehlt")
            pattern = self._patterns[ident] = bytes(row[0])
        try:
            return unpack(stored, pattern)
        except ValueError as exc:
            raise self._damaged(f"wartende Mail {key}: {exc}") from exc

    def _damaged(self, what: str) -> StateError:
        return _state_error(self._path, sqlite3.DatabaseError(what))


def drop_unused_patterns(tx: sqlite3.Connection) -> None:
    """Drop the patterns no unsent mail is packed with any longer (inside a transaction that
    cleared or sent mail)."""
    if tx.execute("SELECT EXISTS(SELECT 1 FROM outbox_patterns)").fetchone()[0]:
        tx.execute(
            "DELETE FROM outbox_patterns WHERE id NOT IN (SELECT substr(message, 2, ?) "
            "FROM outbox WHERE sent_at IS NULL AND substr(message, 1, 1) = ?)",
            (ID_SIZE, MARK),
        )


def _addressees(raw: bytes) -> tuple[str, int]:
    """To and Cc of a queued mail, and how many attachments it carries (for `sent_log`)."""
    # from the header lines alone: the mail is not parsed again (issue 15)
    return ", ".join(raw_mail.recipients(raw)), raw_mail.attachment_count(raw)


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


encode_row = _encode_row  # the ledger compares rows by their stored form
