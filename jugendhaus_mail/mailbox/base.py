"""The small interface every mail backend implements (Maildir, EWS, Graph, IMAP).

A backend knows nothing about requests or workbooks: it lists new mail in the team inbox,
files a message into one of the service's folders, and sends mail as the team mailbox.

Beyond the protocol, a backend may offer (the callers look them up with getattr):
`send_raw(data, recipients)` sends the bytes the outbox stored as they are (every backend has
it); `move_many(moves)` files a batch in one go and `commit_sent()` ends a batch of
`send_raw` calls (Maildir: one sync for the whole batch; the outbox notes it as sent after).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol


class Folder(StrEnum):
    """Folders the service files mail into (below the inbox where the server has one)."""

    ERFASST = "Erfasst"
    NICHT_ERFASST = "Nicht erfasst"
    POSTAUSGANG = "Postausgang"


@dataclass(frozen=True)
class IncomingMessage:
    """One mail in the inbox.

    `handle` is the backend's own identifier (Maildir key, EWS ItemId, Graph id, IMAP UID) and is
    only valid for `move` within the same session. `received` is when the team mailbox received
    the mail (timezone-aware), never the sender's Date: header. `raw` is the full RFC 5322 message.
    """

    handle: str
    received: datetime
    raw: bytes


class Mailbox(Protocol):
    """A connection to the team mailbox. Use as a context manager; `close` is idempotent."""

    def list_new(self) -> Iterator[IncomingMessage]:
        """Yield the mail waiting in the inbox, oldest first."""
        ...

    def move(self, handle: str, folder: Folder) -> None:
        """File the message into `folder` (created if missing). Moving an already-moved
        message is not an error: a crash between move and bookkeeping must be recoverable."""
        ...

    def send(self, message: EmailMessage) -> None:
        """Send `message` as the team mailbox and keep a complete copy (sent items /
        `Postausgang`). Recipients are taken from the To/Cc headers."""
        ...

    def list_folder(
        self, folder: Folder, *, before: datetime | None = None, content: bool = True
    ) -> Iterator[IncomingMessage]:
        """Yield the mail in one of the service's folders (for retention, access and erasure),
        only mail received before `before` when given. With `content=False`, `raw` may be
        empty (enough to delete by age)."""
        ...

    def delete(self, folder: Folder, handles: list[str]) -> int:
        """Delete these messages from `folder` for good (not into a trash folder); returns how
        many were deleted. A handle already gone is not an error."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Mailbox: ...

    def __exit__(self, *exc: object) -> None: ...
