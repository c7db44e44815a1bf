"""parse_message never raises and always gives clean strings, whatever the bytes."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake.parse import ParsedMail, parse_message

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER_NAMES = [
    "From", "Sender", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted",
    "Precedence", "Return-Path", "List-Id", "X-Autoreply", "MIME-Version",
]  # fmt: skip
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "x-unknown", "utf-16", "shift_jis", "base64",
            "", '"', "utf-8*de", "iso-2022-jp", "unicode-escape", "idna"]  # fmt: skip
CTYPES = ["text/plain", "text/html", "multipart/mixed", "multipart/alternative",
          "multipart/related", "multipart/report", "message/rfc822", "application/pdf",
          "multipart/signed", "text/enriched", "image/png", "bogus"]  # fmt: skip
DISPOSITIONS = [b"", b"attachment", b"inline; filename*=utf-8''%C3%BC",
                b'attachment; filename="a.pdf"', b"bogus;;"]  # fmt: skip
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "bogus", ""]
SNIPPETS = [b"=?utf-8?q?", b"=?iso-8859-1?B?", b"?=", b"<", b">", b"@", b"\r\n", b"\r\n ",
            b"\n", b"\x00", b"\xff", b"\xc3", b"--", b"\"", b";", b"=", b"<![", b"<br>", b"<p>",
            b"<script>", b"&#x110000;", b"\xe2\x80\xae", b"\x1b$B"]  # fmt: skip


def assert_clean(parsed: ParsedMail) -> None:
    assert isinstance(parsed, ParsedMail)
    assert parsed.key.startswith(("mid:", "sha256:")) and len(parsed.key) > 4
    for text, allowed in ((parsed.subject, ""), (parsed.sender_name, ""),
                          (parsed.body_text, "\n\t")):  # fmt: skip
        assert isinstance(text, str)
        assert not [c for c in text if unicodedata.category(c) in ("Cc", "Cs") and c not in allowed]
        text.encode("utf-8")  # no lone surrogates: the workbook and logs can store it
    assert "\n" not in parsed.subject and len(parsed.subject) <= 500
    assert parsed.attachment_count >= 0
    assert all(isinstance(d, str) for d in parsed.defects)
    assert parsed.sender_address is None or parsed.sender_address == parsed.sender_address.lower()


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(raw: bytes) -> None:
    assert_clean(parse_message(raw))


fragment = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(SNIPPETS),
    st.text(max_size=40).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
header_value = st.lists(fragment, max_size=6).map(b"".join)


@st.composite
def mime_message(draw: st.DrawFn) -> bytes:
    boundary = draw(st.sampled_from([b"b1", b'"b1"', b"", b"b 1", b"=_x", b"b1b1"]))
    parts: list[bytes] = []
    for _ in range(draw(st.integers(0, 4))):
        ctype = draw(st.sampled_from(CTYPES)).encode()
        charset = draw(st.sampled_from(CHARSETS)).encode()
        cte = draw(st.sampled_from(ENCODINGS)).encode()
        disposition = draw(st.sampled_from(DISPOSITIONS))
        payload = draw(st.lists(fragment, max_size=8).map(b"".join))
        parts.append(
            b"Content-Type: " + ctype + b"; charset=" + charset + b"; boundary=b1\r\n"
            b"Content-Transfer-Encoding: " + cte + b"\r\n"
            b"Content-Disposition: " + disposition + b"\r\n\r\n" + payload
        )
    body = b"".join(b"--b1\r\n" + p + b"\r\n" for p in parts)
    if draw(st.booleans()):
        body += b"--b1--\r\n"
    headers = [
        b"From: Anna <anna@jobcenter-ge.de>",
        b"Subject: =?utf-8?Q?Fallanfrage_M=C3=BCller?=",
        b"Message-ID: <x@y.de>",
        b"Content-Type: multipart/mixed; boundary=" + boundary,
    ]
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(HEADER_NAMES)).encode()
        headers.insert(draw(st.integers(0, len(headers))), name + b": " + draw(header_value))
    raw = b"\r\n".join(headers) + b"\r\n\r\n" + body
    cut = draw(st.integers(0, len(raw)))
    return raw[:cut] if draw(st.booleans()) else raw


@FUZZ
@given(mime_message())
def test_mutated_mime_messages(raw: bytes) -> None:
    assert_clean(parse_message(raw))
