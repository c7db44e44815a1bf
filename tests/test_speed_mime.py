"""Outgoing mail is serialised once (`build_raw`), and a mail client reads from those bytes
exactly what the old `EmailMessage` build said: addresses, subject, text, HTML, attachments."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.mailbox.raw import attachment_count, message_id, recipients
from jugendhaus_mail.notify.mime import build_raw
from jugendhaus_mail.notify.render import RenderedMail
from tests.old_build import build_message

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300)
NAMES = st.sampled_from(
    ["", "Jana Krüger", "Dr. Max Mustermann", "O'Neill", "Ünal Öztürk-Şahin", "A" * 90]
)
# The old build (EmailMessage flattened by CPython) folds a 90-letter word after other names
# into an empty header line, which ends the header block: such mail was already broken when it
# was queued, so mail queued before the update is read back only for names it could fold.
OLD_BUILD_NAMES = st.sampled_from(
    ["", "Jana Krüger", "Dr. Max Mustermann", "O'Neill", "Ünal Öztürk-Şahin"]
)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def both(rendered: RenderedMail, **kwargs: object) -> tuple[EmailMessage, EmailMessage, bytes]:
    raw = build_raw(rendered, now=NOW, domain="rostock.de", **kwargs)  # type: ignore[arg-type]
    old = build_message(rendered, now=NOW, domain="rostock.de", **kwargs)  # type: ignore[arg-type]
    return parsed(raw), parsed(old.as_bytes(policy=email.policy.SMTP)), raw


@given(TEXT, TEXT, TEXT, NAMES, NAMES)
@settings(max_examples=150, deadline=None)
def test_a_client_reads_the_same_mail_from_the_bytes_built_once(
    subject: str, text: str, html: str, to_name: str, cc_name: str
) -> None:
    to = f"{to_name} <anna.schulz@jobcenter-ge.de>" if to_name else "anna.schulz@jobcenter-ge.de"
    cc = f"{cc_name} <lena@rostock.de>" if cc_name else "lena@rostock.de"
    new, old, raw = both(
        RenderedMail(subject, text, html),
        sender="FM-Jugendhaus@rostock.de",
        to=[to],
        cc=[cc],
        in_reply_to="<req1@jobcenter-ge.de>",
    )
    assert new.defects == [] and all(not p.defects for p in new.walk())
    for name in ("From", "To", "Cc", "Subject", "In-Reply-To", "Auto-Submitted"):
        assert str(new[name]) == str(old[name]), name
    assert [a.display_name for a in new["To"].addresses] == [
        a.display_name for a in old["To"].addresses
    ]
    for kind in ("plain", "html"):
        new_body, old_body = new.get_body((kind,)), old.get_body((kind,))
        assert new_body is not None and old_body is not None
        assert new_body.get_content() == old_body.get_content()
    assert raw.isascii()
    # lines of at most 78 characters, unless one word is longer (the email package, too)
    head = raw.split(b"\r\n\r\n", 1)[0]
    old_head = old.as_bytes(policy=email.policy.SMTP).split(b"\r\n\r\n", 1)[0]
    longest = max(78, *(len(line) for line in old_head.split(b"\r\n")))
    assert all(len(line) <= longest for line in head.split(b"\r\n")), head
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert message_id(raw) == str(new["Message-ID"])
    assert recipients(raw) == ["anna.schulz@jobcenter-ge.de", "lena@rostock.de"]


def test_attachments_keep_their_names_and_bytes() -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    files = (
        ("Brief an Müller.pdf", pdf, "application/pdf"),
        ("..\\x/plan.ics", b"BEGIN", "text/calendar"),
    )
    new, old, raw = both(
        RenderedMail("[2026-0001] Brief", "Anbei.", "<p>Anbei.</p>"),
        sender="FM-Jugendhaus@rostock.de",
        to=["a@rostock.de"],
        attachments=files,
    )
    got = [(p.get_filename(), p.get_content()) for p in new.iter_attachments()]
    want = [(p.get_filename(), p.get_content()) for p in old.iter_attachments()]
    assert got == want == [("Brief an Müller.pdf", pdf), ("plan.ics", "BEGIN")]
    assert attachment_count(raw) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"to": ["chef@rostock.de <x@evil.example>"]},
        {"to": []},
        {"to": ["a@rostock.de"], "in_reply_to": "<a@b>\r\nBcc: x@evil.example"},
        {"to": ["a@rostock.de"], "attachments": (("a", b"", "pdf"),)},
    ],
)
def test_the_same_checks_refuse_what_must_not_be_sent(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        build_raw(
            RenderedMail("x", "y", "z"),
            sender="FM-Jugendhaus@rostock.de",
            now=NOW,
            domain="rostock.de",
            **bad,  # type: ignore[arg-type]
        )


def test_control_characters_cannot_break_out_of_the_subject() -> None:
    raw = build_raw(
        RenderedMail("Anfrage\r\nBcc: x@evil.example\x00", "t", "h"),
        sender="FM-Jugendhaus@rostock.de",
        to=["a@rostock.de"],
        now=NOW,
        domain="rostock.de",
    )
    message = parsed(raw)
    assert message["Bcc"] is None
    assert str(message["Subject"]) == "Anfrage Bcc: x@evil.example"


@given(st.lists(OLD_BUILD_NAMES, min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_queued_mail_of_the_old_build_is_read_from_its_header_lines(names: list[str]) -> None:
    """Mail queued before the update (an `EmailMessage` flattened) is sent from the same bytes:
    its Message-ID and recipients come from the header lines alone."""
    to = [f"{n} <p{i}@rostock.de>" if n else f"p{i}@rostock.de" for i, n in enumerate(names)]
    old = build_message(
        RenderedMail("Erinnerung", "t", "h"),
        sender="FM-Jugendhaus@rostock.de",
        to=to[:3],
        cc=to[3:],
        now=NOW,
        domain="rostock.de",
    ).as_bytes(policy=email.policy.SMTP)
    message = parsed(old)
    assert message_id(old) == str(message["Message-ID"])
    assert recipients(old) == [f"p{i}@rostock.de" for i in range(len(names))]
    assert attachment_count(old) == 0
