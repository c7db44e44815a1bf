"""Each outgoing mail is built once: the bytes queued in the state database are the bytes every
backend sends and keeps (Postausgang, IMAP APPEND, EWS MimeContent, Graph MIME), and sending
never parses them again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jugendhaus_mail.notify import outbox as outbox_module
from jugendhaus_mail.state import StateDB
from tests.backend_sites import (  # noqa: F401  (fixtures)
    ALL_BACKENDS,
    BackendSite,
    backend_site_fixture,
    imap_server_for_sites_fixture,
)
from tests.site import request_mail, utc

NOW = "2026-03-10T08:00"


@pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
def test_the_bytes_queued_are_the_bytes_sent_and_kept(
    backend_site: BackendSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = backend_site
    for i in range(3):
        raw = request_mail(
            f"Fallanfrage Nummer {i}",
            f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n",
            sender="Anna Schulz <anna.schulz@jobcenter-ge.de>",
            message_id=f"<raw{i}@jobcenter-ge.de>",
        )
        site.mailbox.deliver(raw, utc(2026, 3, 9, 7, 0) + timedelta(minutes=i), f"r{i}")
    queued: list[bytes] = []
    unsent = StateDB.unsent_mail

    def observed(self: StateDB) -> list[tuple[str, bytes]]:
        found = unsent(self)
        queued.extend(message for _key, message in found)
        return found

    def no_second_parse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the outbox parsed a stored mail again")

    monkeypatch.setattr(StateDB, "unsent_mail", observed)
    monkeypatch.setattr(outbox_module, "message_from_bytes", no_second_parse)
    assert site.run("poll", now=NOW) == 0
    assert len(queued) == 3
    kept = site.mailbox.kept_copies()
    assert len(kept) == 3
    if site.mailbox.name in ("maildir", "imap"):  # stored exactly as queued
        assert sorted(kept) == sorted(queued)
    else:  # the fake Exchange servers keep the MIME they were handed
        assert sorted(k.replace(b"\r\n", b"\n") for k in kept) == sorted(
            q.replace(b"\r\n", b"\n") for q in queued
        )
    recipients = {r for sent in site.mailbox.transmitted() for r in sent.recipients}
    assert recipients == {"anna.schulz@jobcenter-ge.de"}
