"""Each incoming mail is parsed once per cycle: fields, classification and the key come from
that one parse, and the key is the one a database written before knows the mail by."""

from __future__ import annotations

import email.feedparser
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake import mimefast
from jugendhaus_mail.intake.ledger import content_digest, read_batch
from jugendhaus_mail.intake.parse import parse_with_message
from jugendhaus_mail.mailbox.base import IncomingMessage
from jugendhaus_mail.mailbox.maildir import MaildirMailbox
from tests.site import make_site, request_mail, utc

LINES = st.sampled_from(
    [
        b"From: Anna <anna@jobcenter-ge.de>",
        b"From anna@x Mon Jan 1 00:00:00 2026",
        b"Subject: =?utf-8?q?Anfrage_f=C3=BCr?= Max",
        b"Subject: Anfrage \xfc\xff",
        b"To: team@rostock.de,\r\n\tzweite@rostock.de",
        b"Date: Mon, 09 Mar 2026 10:00:00 +0100",
        b"Message-ID: <a@b>",
        b"Cc: ",
        b" folded continuation",
        b"kein Header",
        b"",
        b"\r",
        b"Content-Type: multipart/mixed; boundary=x",
        b"--x",
        b"Name: Person",
    ]
)
MAILS = st.lists(LINES, max_size=14).map(lambda lines: b"\r\n".join(lines)) | st.binary(
    max_size=300
)


@given(MAILS, st.sampled_from([b"\r\n", b"\n"]))
@settings(max_examples=400, deadline=None)
def test_the_key_from_the_one_parse_is_the_key_a_header_parse_gives(
    raw: bytes, newline: bytes
) -> None:
    """Keys in existing databases were made by a separate header parse: the same digest, so a
    mail read again after an upgrade is recognised (recovered, never taken in twice)."""
    raw = raw.replace(b"\r\n", newline)
    _, parsed = parse_with_message(raw)
    assert content_digest(raw, parsed) == content_digest(raw)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many messages were parsed: by the stdlib's parser (every parse of bytes ends in
    close) or split by the fast path for mail of the common shape (`intake/mimefast.py`)."""
    count = [0]
    close = email.feedparser.FeedParser.close
    fast_tree = mimefast.fast_tree

    def counting(self: email.feedparser.FeedParser) -> object:
        count[0] += 1
        return close(self)

    def counting_fast(raw: bytes) -> object:
        tree = fast_tree(raw)
        count[0] += tree is not None
        return tree

    monkeypatch.setattr(email.feedparser.FeedParser, "close", counting)
    monkeypatch.setattr(mimefast, "fast_tree", counting_fast)
    yield count


def test_a_batch_parses_each_mail_once(tmp_path: Path, parses: list[int]) -> None:
    site = make_site(tmp_path / "site")
    for i in range(20):
        raw = request_mail(
            f"Fallanfrage {i}",
            f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n",
            message_id=f"<p{i}@jobcenter-ge.de>" if i % 4 else None,
        )
        site.deliver(raw, utc(2026, 3, 9, 7, 0) + timedelta(minutes=i), f"m{i}")
    mailbox = MaildirMailbox(site.app(utc(2026, 3, 10, 8, 0)).settings)
    listed = list(mailbox.list_new())
    parses[0] = 0
    batch = read_batch(listed)
    assert parses[0] == len(listed) == 20
    assert [m.parsed.subject for m in batch] == [f"Fallanfrage {i}" for i in range(20)]
    assert all(m.key.startswith("mid:") == bool(i % 4) for i, m in enumerate(batch))


def test_the_one_parse_gives_the_same_key_as_before(tmp_path: Path) -> None:
    raw = request_mail("Fallanfrage", "Name: Person\n", message_id="<same@jobcenter-ge.de>")
    [mail] = read_batch([IncomingMessage("h", utc(2026, 3, 9, 7, 0), raw)])
    assert mail.key == f"mid:same@jobcenter-ge.de#{content_digest(raw)}"
