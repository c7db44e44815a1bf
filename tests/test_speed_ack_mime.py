"""The faster pieces of `build_raw` write the very bytes the straightforward ones wrote:
quoted-printable line by line (cached) and encoded words cut from the UTF-8 bytes."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.notify.mime import build_raw, encoded_words, quoted_printable
from jugendhaus_mail.notify.render import RenderedMail

# what quoted-printable treats specially: spaces and tabs before a line end, "=", a lone ".",
# control characters, long lines, and characters of two to four bytes
AWKWARD = st.lists(
    st.sampled_from([*" \t=.\x0c\x0b\x00\x85\u2028aZ9<>äß€😀\n", "x" * 70]), max_size=120
).map("".join)
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=300)


def whole_buffer(text: str) -> str:
    """The encoding as it was: the whole text in one call."""
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True)
    return encoded.decode("ascii").replace("\n", "\r\n")


def char_by_char(text: str) -> list[str]:
    """The encoded words as they were cut: character by character."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        length = len(char.encode("utf-8"))
        if size + length > 42:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    if chunk or not words:
        words.append("".join(chunk))
    return [
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    ]


@given(st.one_of(AWKWARD, ANY_TEXT))
@settings(max_examples=500, deadline=None)
def test_quoted_printable_line_by_line_is_the_encoding_of_the_whole_text(text: str) -> None:
    text = text.replace("\r", "\n")  # as `build_raw` hands it over
    assert quoted_printable(text) == whole_buffer(text)
    assert quoted_printable(text) == whole_buffer(text)  # and from the cache


@given(st.one_of(AWKWARD, ANY_TEXT))
@settings(max_examples=500, deadline=None)
def test_encoded_words_are_cut_where_they_were(text: str) -> None:
    assert encoded_words(text) == char_by_char(text)


@given(st.lists(st.sampled_from(["ü", "😀", "a", " ", "€", "=?utf-8?b?", "\u05e9"]), max_size=60))
@settings(max_examples=300, deadline=None)
def test_encoded_words_never_split_a_character(pieces: list[str]) -> None:
    text = "".join(pieces)
    words = encoded_words(text)
    decoded = [base64.b64decode(w[10:-2]).decode("utf-8") for w in words]
    assert "".join(decoded) == text
    assert all(len(w) <= 68 for w in words)  # 42 bytes: 56 base64 characters


def test_mails_of_one_cycle_share_the_date_but_never_the_message_id() -> None:
    now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    raws = [
        build_raw(
            RenderedMail("Eingangsbestätigung", "Text\n", "<p>HTML</p>\n"),
            sender="FM-Jugendhaus@rostock.de",
            to=["anna.schulz@jobcenter-ge.de"],
            now=now,
            domain="rostock.de",
        )
        for _ in range(3)
    ]
    messages = [email.message_from_bytes(r, policy=email.policy.default) for r in raws]
    assert {m["Date"].datetime for m in messages} == {now}
    assert len({m["Message-ID"] for m in messages}) == 3


def test_the_same_moment_in_another_zone_is_dated_in_that_zone() -> None:
    from datetime import timedelta, timezone
    from email.utils import format_datetime

    utc = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    berlin = utc.astimezone(timezone(timedelta(hours=1)))
    for now in (utc, berlin, utc):
        raw = build_raw(
            RenderedMail("Betreff", "Text\n", "<p>HTML</p>\n"),
            sender="FM-Jugendhaus@rostock.de",
            to=["anna.schulz@jobcenter-ge.de"],
            now=now,
            domain="rostock.de",
        )
        assert f"Date: {format_datetime(now)}\r\n".encode() in raw
        assert f"Message-ID: <{now:%Y%m%d%H%M%S}.".encode() in raw
