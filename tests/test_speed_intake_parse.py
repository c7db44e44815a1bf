"""The faster parse of incoming mail gives exactly what the slower one gave (issue 15).

Two differential proofs, on generated hostile mail, on Outlook-shaped requests and on the whole
shared corpus:
- the fast MIME split (`intake/mimefast.py`) builds the very same `Message` tree as
  `email.message_from_bytes(raw, policy=compat32)`: headers, payloads, preamble, epilogue,
  defects — or hands the mail to the standard library;
- `parse_with_message` gives a `ParsedMail` equal in every field to the one the parse of
  before this change gave (a frozen copy in `tests/reference_intake/`), and the same key.
"""

from __future__ import annotations

import dataclasses
import email.utils
import os
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake import mimefast
from jugendhaus_mail.intake.ledger import content_digest
from jugendhaus_mail.intake.parse import parse_with_message
from tests.conftest import require_corpus
from tests.reference_intake import parse as reference

FUZZ = settings(
    max_examples=int(os.environ.get("PARSE_EXAMPLES", "600")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

EOLS = [b"\r\n", b"\n", b"\r"]
HEADER_LINES = [
    b"From: IFK 1 <ifk1@jobcenter-ge.de>", b"From: =?utf-8?q?M=C3=BCller?= <m@x.de>",
    b"From: \xfc\xff <a@b.de>", b"Sender: team@jobcenter-ge.de", b"To: FM-Jugendhaus@rostock.de",
    b"Subject: Fallanfrage Nr. 1", b"Subject: =?iso-8859-1?q?R=FCckfrage?=", b"Subject:",
    b"Subject: Anfrage \x1b$B", b"Subject: AW: [2026-0001] Termin", b"Date: Mon, 02 Mar 2026 "
    b"07:00:00 +0000", b"Date: gestern", b"Message-ID: <m1@jobcenter-ge.de>", b"Message-ID:",
    b"In-Reply-To: <a@b>", b"References: <a@b> <c@d>", b"MIME-Version: 1.0", b"X-MS-Has-Attach: ",
    b"Auto-Submitted: auto-replied", b"Precedence: bulk", b"X-Autoreply: \xe4", b"List-Id: <l>",
    b"Return-Path: <>", b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable", b"Content-Disposition: attachment",
    b"Content-Type: text/plain; charset=utf-8", b"Content-Type: text/html",
    b'Content-Type: multipart/alternative; boundary="B"', b"Content-Type: multipart/mixed; "
    b"boundary=B", b"Content-Type: multipart/digest; boundary=B", b"Content-Type: message/rfc822",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=B",
    b"Content-Type: multipart/alternative", b"Content-Type: message/delivery-status",
    b' folded continuation', b"\tfolded =?utf-8?q?=C3=A4?=", b"From someone Mon Jan 1 2026",
    b": no name", b"kein Header", b"X-Leer:", b"X-Space :v", b"", b"X-CR: a\rb",
]  # fmt: skip
PARAM_LINES = [
    b"Content-Type: text/plain; name=a.txt", b"Content-Type: text/plain; NAME*=utf-8''%C3%A4.txt",
    b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes", b"Content-Type: text/"
    b"plain; FORMAT=Flowed", b"Content-Type: text/html; x-name=a", b'Content-Type: text/plain; '
    b'name="a;b"', b"Content-Type: text/plain; name*0=a; name*1=b", b"Content-Type: text/plain; "
    b"charset*=''utf-8", b"Content-Type: text/plain; n\xe4me=a", b"Content-Type: image/png",
    b"Content-Type: text/plain; format", b"Content-Type: text/plain; name=", b"Content-Type: "
    b"text/html; charset=\"iso-8859-1\"", b"Content-Disposition: inline", b"Content-Disposition:"
    b" inline; filename=b.pdf", b"Content-ID: <logo>", b"content-type: TEXT/PLAIN; Name=x",
]  # fmt: skip
BODY_LINES = [
    b"--B", b"--B--", b"--B  ", b"--B\t", b"--BX", b"--B--x", b"--B-- ", b"--C", b"--B---",
    b"", b" ", b"Hallo Team,", b"Name: Jugendliche Person", b"=C3=BCber=", b"SGFsbG8=",
    b"<p>Hallo</p>", b"\xe4\xf6\xfc", b"\x00\x0b\x0c\x1c", b"\x85", b"--", b"From x",
]  # fmt: skip


def tree(msg: Message) -> object:
    """Everything the parser put into a message, recursively."""
    payload = msg._payload  # the tree as the stdlib parser left it
    return (
        type(msg),
        msg._headers,
        msg.get_unixfrom(),
        [tree(p) for p in payload] if isinstance(payload, list) else payload,
        msg.preamble,
        msg.epilogue,
        [(type(d), str(d)) for d in msg.defects],
        msg.get_default_type(),
        msg.get_charset(),
        msg.policy,
    )


@st.composite
def hostile_mail(draw: st.DrawFn) -> bytes:
    """Headers and a body from pools of the usual and the broken, joined by mixed line ends."""

    def lines(pool: list[bytes], most: int) -> bytes:
        chosen = draw(st.lists(st.sampled_from(pool), max_size=most))
        eols = draw(st.lists(st.sampled_from(EOLS), min_size=len(chosen), max_size=len(chosen)))
        return b"".join(line + eol for line, eol in zip(chosen, eols, strict=True))

    head = lines(HEADER_LINES + PARAM_LINES, 8)
    blank = draw(st.sampled_from([b"\r\n", b"\n", b"", b"\r"]))
    body = lines(HEADER_LINES[:12] + BODY_LINES * 2, 20)
    tail = draw(st.sampled_from([b"", b"--B--", b"--B", b"x", b"\r"]))
    return head + blank + body + tail


@st.composite
def hostile_multipart(draw: st.DrawFn) -> bytes:
    """A multipart that is nearly right: parts, delimiters and line ends go wrong here and there."""
    eols = st.sampled_from([b"\r\n"] * 4 + [b"\n"] * 4 + [b"\r"])  # hostile_mail: in headers

    def lines(pool: list[bytes], least: int, most: int, ends: st.SearchStrategy = eols) -> bytes:
        chosen = draw(st.lists(st.sampled_from(pool), min_size=least, max_size=most))
        return b"".join(line + draw(ends) for line in chosen)

    ctypes = [line for line in HEADER_LINES if b"boundary" in line]
    ctype = draw(st.sampled_from([line for line in ctypes if b"digest" not in line] * 3 + ctypes))
    head_ends = st.sampled_from([b"\r\n", b"\n"])
    head = lines(HEADER_LINES[:14], 0, 4, head_ends) + ctype + draw(head_ends)
    head += lines(HEADER_LINES[:36] * 4 + HEADER_LINES[36:], 0, 2, head_ends)
    body = lines(BODY_LINES[9:], 0, 2)
    for _ in range(draw(st.integers(1, 3))):
        delimiter = draw(st.sampled_from([b"--B"] * 12 + BODY_LINES[:9]))
        part_head = lines(HEADER_LINES[20:36] * 3 + PARAM_LINES * 3 + HEADER_LINES[36:], 0, 3)
        blank = draw(st.sampled_from([b"\r\n", b"\n"] * 3 + [b""]))
        body += delimiter + draw(eols) + part_head + blank + lines(BODY_LINES[9:], 0, 3)
    close = draw(st.sampled_from([b"--B--"] * 10 + BODY_LINES[:9]))
    ending = draw(st.sampled_from([b"", b"\r\n", b"\n"]))
    return head + draw(head_ends) + body + close + ending + lines(BODY_LINES, 0, 2)


@st.composite
def outlook_shaped(draw: st.DrawFn) -> bytes:
    """A request as Outlook sends it, with hostile bits put in the places that matter."""
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    boundary = draw(st.sampled_from(["_000_x_", "B", "a'b(c)+_,-./:=?", "x y", "=_Part_1"]))
    quoted = f'"{boundary}"' if draw(st.booleans()) else boundary
    text = draw(st.text(max_size=80).map(lambda s: s.replace("\r", "").replace("\n", eol)))
    parts = [
        f'Content-Type: text/plain; charset="utf-8"{eol}Content-Transfer-Encoding: '
        f"{draw(st.sampled_from(['quoted-printable', '8bit', 'base64']))}{eol}{eol}{text}",
        f"Content-Type: text/html; charset=utf-8{eol}{eol}<p>{text}</p>",
    ]
    if draw(st.booleans()):
        parts.append(
            f"Content-Type: application/pdf; name=a.pdf{eol}Content-Disposition: attachment"
            f"{eol}{eol}JVBERi0x"
        )
    preamble = draw(st.sampled_from(["", f"This is a multi-part message.{eol}", eol]))
    epilogue = draw(st.sampled_from(["", eol, f"Epilog{eol}", f"--{boundary}{eol}"]))
    head = (
        f"From: IFK <ifk@jobcenter-ge.de>{eol}Subject: Fallanfrage{eol}Message-ID: <a@b>{eol}"
        f"Content-Type: multipart/{draw(st.sampled_from(['alternative', 'mixed', 'related']))};"
        f"{eol}\tboundary={quoted}{eol}{eol}"
    )
    body = "".join(f"--{boundary}{eol}{part}{eol}" for part in parts)
    raw = (head + preamble + body + f"--{boundary}--" + epilogue).encode("utf-8", "surrogatepass")
    return raw.replace(b"\xed", b"\xed\r") if draw(st.booleans()) else raw


def outlook_request(i: int) -> bytes:
    """The shape of the bench's mail (bench/bench_intake.py `mail`)."""
    sent = email.utils.format_datetime(datetime(2026, 3, 2, 7, tzinfo=UTC) + timedelta(minutes=i))
    boundary = f"_000_bench{i:06d}_"
    part = (
        'Content-Type: {}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    )
    return (
        "Received: from mx1.rostock.de (mx1.rostock.de [10.1.2.3])\r\n"
        f"\tby mail.rostock.de with ESMTPS id 4Abc123; {sent}\r\n"
        f"From: IFK {i} <ifk{i}@jobcenter-ge.de>\r\nTo: FM-Jugendhaus@rostock.de\r\n"
        f"Subject: Fallanfrage Nr. {i}\r\nDate: {sent}\r\nMessage-ID: <b{i}@jobcenter-ge.de>\r\n"
        f"MIME-Version: 1.0\r\nX-MS-Has-Attach: \r\nContent-Type: multipart/alternative; "
        f'boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\n{part.format('text/plain')}Name: Person {i}\r\nGr=C3=BC=C3=9Fe\r\n"
        f"--{boundary}\r\n{part.format('text/html')}<p>Name: Person {i}<br>Gr=C3=BC=C3=9Fe</p>"
        f"\r\n--{boundary}--\r\n"
    ).encode()


def assert_same_as_before(raw: bytes) -> None:
    fast = mimefast.parse_bytes(raw)
    assert tree(fast) == tree(message_from_bytes(raw, policy=compat32))
    parsed, message = parse_with_message(raw)
    old_parsed, old_message = reference.parse_with_message(raw)
    assert dataclasses.asdict(parsed) == dataclasses.asdict(old_parsed)  # every field
    assert content_digest(raw, message) == content_digest(raw, old_message)


@FUZZ
@given(hostile_mail())
@example(b"Subject: x\r\n\r\n--B\r\n")
@example(b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n--B\r\n\r\nx\r\n--B--')
@example(b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B--\r\n')
@example(b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nX: 1\r\n--B--\r\n')
def test_hostile_mail_parses_as_before(raw: bytes) -> None:
    assert_same_as_before(raw)


MIXED = b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'


@FUZZ
@given(hostile_multipart())
@example(MIXED + b"Vorspann\r\n\r\n--B \t\r\n\r\nohne Kopf\r\n--B--")
@example(MIXED + b"--B\nContent-Type: text/html\n\n<p>a\rb\r--B--\r\nEpilog\r\n--B\r\n")
@example(MIXED + b"--B\r\n\r\n\r\n--B--\r\n\r\n")
@example(MIXED + b"--BX\r\n--B\r\nX-A: 1\r\n \r\n\r\n--B--x\r\n--B--\n")
def test_nearly_right_multiparts_parse_as_before(raw: bytes) -> None:
    assert_same_as_before(raw)


@FUZZ
@given(outlook_shaped())
def test_outlook_shaped_mail_parses_as_before(raw: bytes) -> None:
    assert_same_as_before(raw)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_as_before(raw: bytes) -> None:
    assert_same_as_before(raw)


def test_outlook_requests_take_the_fast_path_and_parse_as_before() -> None:
    for i in range(50):
        raw = outlook_request(i)
        assert mimefast.fast_tree(raw) is not None
        assert_same_as_before(raw)


def test_the_corpus_parses_as_before() -> None:
    files = sorted(p for p in Path(require_corpus()).rglob("*") if p.is_file())
    fast = 0
    for path in files:
        raw = path.read_bytes()
        fast += mimefast.fast_tree(raw) is not None
        assert_same_as_before(raw)
    assert len(files) >= 100
    assert fast >= len(files) // 3  # the fast path covers the ordinary mail of the corpus


ODD_BOUNDARIES = [
    b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\nA\r\n----\r\n',
    b'Content-Type: multipart/mixed; boundary=" "\r\n\r\n-- \r\n\r\nA\r\n-- --\r\n',
    b'Content-Type: multipart/mixed; boundary="a b "\r\n\r\n--a b\r\n\r\nA\r\n--a b--\r\n',
    b"Content-Type: multipart/mixed; boundary*=utf-8''%C3%A4\r\n\r\n--\xc3\xa4\r\n\r\nA\r\n"
    b"--\xc3\xa4--\r\n",
    b"Content-Type: multipart/mixed; boundary=B\r\nContent-Type: text/plain\r\n\r\n--B\r\n\r\n"
    b"A\r\n--B--\r\n",
    b"content-type: MULTIPART/ALTERNATIVE; BOUNDARY=B\r\n\r\n--B\r\n\r\nA\r\n--B--\r\n",
    b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\nx\r\n" + b"--B--\r\n" * 3,
]


def test_odd_boundaries_parse_as_before() -> None:
    for raw in ODD_BOUNDARIES:
        assert_same_as_before(raw)
