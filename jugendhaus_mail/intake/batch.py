"""Group commit: the durable side of a group of mails in one intake cycle.

Intake decides mail by mail in memory (numbers, replies, duplicates); a `Batch` collects what
the decisions change and makes it durable per group, in the exactly-once order:
1. one transaction records every mail of the group, the case numbers it took and the mail that
   answers it (acknowledgements, Kinderschutz alerts): one commit, one fsync;
2. only then the mails are filed (`Erfasst` / `Nicht erfasst`), each target folder synced once;
3. only then they are noted as filed (which tells a later copy of a mail from a recovery).
A crash before 1 leaves the group unrecorded and in the inbox (taken in again, same numbers);
a crash after 1 leaves recorded mail in the inbox, which the next cycle only files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from jugendhaus_mail.failpoints import failpoint
from jugendhaus_mail.mailbox.base import Folder, Mailbox
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.state import Record, StateDB

GROUP = 500  # mails per transaction: bounded memory, few commits


@dataclass
class Batch:
    state: StateDB
    mailbox: Mailbox
    outbox: Outbox | None
    now: datetime
    records: list[Record] = field(default_factory=list)
    counters: dict[int, int] = field(default_factory=dict)  # year -> last number taken
    moves: list[tuple[str, Folder]] = field(default_factory=list)
    filed: list[str] = field(default_factory=list)
    mails: int = 0

    def __post_init__(self) -> None:
        if self.outbox is not None:
            self.outbox.hold()

    def record(self, record: Record) -> None:
        self.records.append(record)

    def number_taken(self, year: int, number: int) -> None:
        self.counters[year] = max(number, self.counters.get(year, 0))

    def file(self, handle: str, folder: Folder, key: str) -> None:
        """File the mail once the group is recorded; `key` is what the database knows it by."""
        self.moves.append((handle, folder))
        self.filed.append(key)

    def mail_done(self) -> None:
        self.mails += 1
        if self.mails >= GROUP:
            self.commit()

    def commit(self) -> None:
        mails, patterns = self.outbox.take_held() if self.outbox is not None else ({}, {})
        if self.records or mails or self.counters:
            self.state.record_batch(self.records, mails, self.now, self.counters, patterns)
            failpoint("after_record")
        move_all(self.mailbox, self.moves)
        if self.moves:
            failpoint("after_move")
        for key in self.filed:
            self.state.mark_filed(key, self.now)
        self.state.flush_filed()
        self.records, self.counters, self.moves, self.filed, self.mails = [], {}, [], [], 0

    def close(self) -> None:
        """Stop holding outgoing mail (what is still held was never recorded: dropped)."""
        if self.outbox is not None:
            self.outbox.release()


def move_all(mailbox: Mailbox, moves: Sequence[tuple[str, Folder]]) -> None:
    """File many mails: in one go where the backend can (Maildir syncs each folder once).
    Half-way the failpoint `batch_half_filed` may end the process (Maildir: before the sync)."""
    many = getattr(mailbox, "move_many", None)
    if callable(many):
        many(moves)
        return
    for index, (handle, folder) in enumerate(moves):
        if index and index == len(moves) // 2:
            failpoint("batch_half_filed")
        mailbox.move(handle, folder)
