"""A mailbox backend as the intake sees it, for tests that call `run_intake` directly."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

from jugendhaus_mail.mailbox.base import Folder, IncomingMessage, Mailbox


class ListedMailbox:
    """Lists `messages` in the order given, with the receipt time the server gave (a server
    without sorting, several folders merged); records where each mail was moved."""

    def __init__(self, messages: list[IncomingMessage]) -> None:
        self.messages = messages
        self.moved: dict[str, Folder] = {}

    def list_new(self) -> Iterator[IncomingMessage]:
        yield from (m for m in self.messages if m.handle not in self.moved)

    def move(self, handle: str, folder: Folder) -> None:
        self.moved[handle] = folder

    def send(self, message: EmailMessage) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Mailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
