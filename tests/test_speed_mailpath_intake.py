"""The cheaper per-mail steps of intake give what the frozen ones gave (issue 15): text
cleaning without a pattern search when there is nothing to clean, charsets resolved once,
UTF-8 decoded without an incremental decoder, the boundary of a plain multipart read without
the stdlib's parameter parse, header lines stored in one go, uu warnings silenced only where
the stdlib could warn, and a body without any reply header split without a check per line."""

from __future__ import annotations

import codecs
import email
import re
import warnings
from datetime import datetime
from email.message import Message
from email.policy import compat32

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake import appointments, classify, htmltext, mimefast, parse
from jugendhaus_mail.intake.context import CaseIndex
from jugendhaus_mail.workbook.model import Snapshot
from tests.reference_intake import classify as reference_classify
from tests.reference_intake import htmltext as reference_text
from tests.reference_intake import parse as reference_parse
from tests.test_speed_intake_context import request_row, staff_row
from tests.test_speed_intake_parse import hostile_mail, hostile_multipart, outlook_shaped

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# what the cleaning treats specially: controls, line separators, bidi marks, surrogates,
# non-characters, kept characters, runs of line ends and trailing blanks
AWKWARD_CHARS = [
    *"\x00\x08\t\n\x0b\x0c\r\x1c\x1f\x7f\x85\x9f \u00a0\u200e\u2028\u2029",
    *"\u202a\u2066\ud800\udfff\ufffe\uffff\u3000aZ9äß€😀:>",
    *["\n\n\n", " \t\n"],
]
AWKWARD_TEXT = st.lists(st.sampled_from(AWKWARD_CHARS), max_size=60).map("".join)
ANY_TEXT = st.one_of(AWKWARD_TEXT, st.text(max_size=200))
KEEPS = st.sampled_from(["", "\n", "\t", "\n\t", "\t\n", "\u2028", "\n\u2029", "\x85\t", "a"])


def test_every_character_strip_controls_touches_is_not_printable() -> None:
    """The ground of the shortcut: a printable text has nothing to drop or replace."""
    for low, high in htmltext._UNWANTED_RANGES:
        for code in range(low, high + 1):
            assert not chr(code).isprintable(), hex(code)
    for char in "\u2028\u2029\x85":
        assert htmltext._LINE_SEPARATORS.match(char)
        assert not char.isprintable()


@given(ANY_TEXT, KEEPS)
@FUZZ
@example("a\u2028b", "\u2028")  # a kept line separator is still replaced
@example("\t\x00x", "\t")
def test_strip_controls_is_unchanged(text: str, keep: str) -> None:
    assert htmltext.strip_controls(text, keep) == reference_text.strip_controls(text, keep)


@given(ANY_TEXT)
@FUZZ
@example("a\n\n\n\nb  \n\n")
@example(" \u2028\u2028\u2028x")
def test_tidy_text_is_unchanged(text: str) -> None:
    assert htmltext.tidy_text(text) == reference_text.tidy_text(text)


LABELS = st.one_of(
    st.sampled_from(["utf-8", "UTF-8", " utf8 ", '"utf-8"', "iso-8859-1", "latin_1", "ascii",
                     "windows-1252", "utf-16", "base64", "x-unknown", "utf-8*de", "gb2312", "",
                     "iso-8859-8-i", "shift_jis", "rot13", "utf_7", "\x00", "uTf-8\t"]),
    st.text(max_size=20),
)  # fmt: skip


@given(st.lists(LABELS, max_size=8))
@FUZZ
def test_resolve_charset_is_unchanged_also_from_the_cache(labels: list[str]) -> None:
    for label in labels + labels:
        assert htmltext.resolve_charset(label) == reference_text.resolve_charset(label)
    assert htmltext.resolve_charset(None) is None


@given(st.one_of(st.binary(max_size=60), st.text(max_size=40).map(str.encode)), st.booleans())
@FUZZ
@example(b"\xc3", True)
@example(b"\xc3", False)
@example(b"\xed\xa0\x80", True)  # an encoded surrogate: not UTF-8
def test_utf8_decoding_is_unchanged(data: bytes, final: bool) -> None:
    for codec in ("utf-8", "cp1252", "utf-16"):
        assert htmltext._try_decode(data, codec, final) == reference_text._try_decode(
            data, codec, final
        )


@given(st.binary(max_size=200), st.sampled_from(["utf-8", "UTF8", None, "latin1", "x-bad"]))
@FUZZ
def test_decode_text_is_unchanged(data: bytes, declared: str | None) -> None:
    for is_html in (False, True):
        assert htmltext.decode_text(data, declared, is_html) == reference_text.decode_text(
            data, declared, is_html
        )


TYPE = st.sampled_from(["multipart/mixed", "Multipart/Alternative", " multipart/related ",
                        "text/plain", "multipart/mixed=x", 'multi"part', ""])  # fmt: skip
BOUNDARY_VALUE = st.one_of(
    st.sampled_from(['"_000_abc_"', "simple", '"a b  "', "<<x>>", '"<<x>>"', '""', '"<a>"',
                     '"a;b"', '"a\\"b"', "a=b", '"a=b"', "'q'", '"', "x y", '"\\\\"']),
    st.text(st.sampled_from('ab"<> =;\\\t\r\n-_'), max_size=12),
)  # fmt: skip
SEPARATOR = st.sampled_from([";", "; ", ";\r\n\t", " ;", ";;", ";\x0c", ""])
NAME = st.sampled_from(["boundary", "BOUNDARY", "Boundary ", " boundary", "boundary*", "bound"])
EXTRA = st.sampled_from(["", ";", '; charset="utf-8"', "; boundary=second", " ", "\r\n", "\t"])


@st.composite
def content_type(draw: st.DrawFn) -> str:
    equals = draw(st.sampled_from(["=", " = ", "=\r\n "]))
    value = draw(TYPE) + draw(SEPARATOR) + draw(NAME) + equals + draw(BOUNDARY_VALUE)
    return value + draw(EXTRA)


@given(st.one_of(content_type(), st.text(max_size=60)))
@FUZZ
@example('multipart/alternative; boundary="_000_bench000007_"')
@example("multipart/mixed; boundary=<<abc>>")
@example('boundary=x; boundary="y"')
def test_boundary_is_the_stdlibs(value: str) -> None:
    message = Message(policy=compat32)
    message["Content-Type"] = value
    assert mimefast._boundary(message, message.get("content-type")) == message.get_boundary()
    assert mimefast._content_type(message.get("content-type")) == message.get_content_type()


@given(st.one_of(hostile_mail(), hostile_multipart(), outlook_shaped()))
@FUZZ
def test_header_lines_are_stored_as_set_raw_stored_them(raw: bytes) -> None:
    text = raw.decode("ascii", "surrogateescape")
    part, _ = mimefast._part(text, 0, len(text))
    if part is None:
        return
    block = mimefast._HEADER_BLOCK.match(text)
    assert block is not None
    before = Message(policy=compat32)  # as the split stored them before
    for name, value in mimefast._HEADER.findall(text, 0, block.end()):
        before.set_raw(name, value)
    assert list(part.raw_items()) == list(before.raw_items())
    assert [type(item) for item in part.raw_items()] == [tuple] * len(part)


CTE = st.sampled_from(["", "7bit", "8bit", "binary", "base64", "BASE64 ", "base64;",
                       "quoted-printable", "Quoted-Printable", "x-uuencode", "uuencode", "uue",
                       "x-uue", "x-unknown"])  # fmt: skip
PAYLOAD = st.one_of(
    st.sampled_from(["aGFsbG8=", "aGFsbG8", "=C3=BC=\r\nx", "begin 644 x\n#86)C\n`\nend\n", ""]),
    st.text(max_size=60),
)


@given(CTE, PAYLOAD, st.booleans())
@FUZZ
def test_payload_bytes_are_unchanged(cte: str, payload: str, multipart: bool) -> None:
    part = Message(policy=compat32)
    if cte:
        part["Content-Transfer-Encoding"] = cte
    if multipart:
        part["Content-Type"] = "multipart/mixed"
        part.attach(Message(policy=compat32))
    else:
        part.set_payload(payload)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shortcut never lets a warning through
        new = _outcome(parse._payload_bytes, part)
    assert new == _outcome(reference_parse._payload_bytes, part)


def _outcome(function: object, part: Message) -> object:
    try:
        return function(part)  # type: ignore[operator]
    except Exception as exc:
        return type(exc).__name__


REPLY_LINES = st.sampled_from([
    "Name: Max", "> zitiert", "  > auch", "-----Ursprüngliche Nachricht-----", "Von: a@b.de",
    "Gesendet: Montag", "From: x", "Sent: y", "Am 2. März 2026 um 10:00 schrieb Anna:",
    "On Mon, 2 Mar 2026 Anna wrote:", "--- Original Message ---", "VON : x", "Datum: heute",
    "ＶＯＮ: voll breit", "ﬁle: x", "URSPRÜNGLICHE NACHRICHT", "", " ", "Kundennummer: 123A456789",
    "\u2028", "Straße 1", "von:", "Fromm: x", "wrote:",
])  # fmt: skip


@given(
    st.lists(st.one_of(REPLY_LINES, st.text(max_size=30)), max_size=12),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
@FUZZ
def test_own_lines_are_unchanged(lines: list[str], end: str) -> None:
    body = end.join(lines)
    assert classify._own_lines(body) == reference_classify._own_lines(body)
    assert vars(classify.extract_fields(body)) == vars(reference_classify.extract_fields(body))


def test_the_fold_of_a_whole_text_is_the_fold_of_each_line() -> None:
    """What `_may_end_own_text` relies on: folding never moves, makes or removes a line end."""
    lines = ["ＶＯＮ: x", "Ä\u0308", "ß", "ﬁ", "\u2028", "K\u212a", "é", "a\u0301", "ǅ", "İ"]
    text = "\n".join(lines)
    assert classify._fold(text) == "\n".join(classify._fold(line) for line in lines)
    for code in range(0x110000):
        char = chr(code)
        if not 0xD800 <= code <= 0xDFFF:
            assert "\n" not in classify._fold(char) or char == "\n", hex(code)


@given(st.one_of(hostile_mail(), hostile_multipart(), outlook_shaped()))
@FUZZ
def test_whole_parse_is_unchanged(raw: bytes) -> None:
    assert vars(parse.parse_message(raw)) == vars(reference_parse.parse_message(raw))


def test_stdlib_parse_of_the_bench_mail_matches_the_fast_tree() -> None:
    raw = (
        b'From: a@b.de\r\nContent-Type: multipart/alternative;\r\n\tboundary="_b_"\r\n\r\n'
        b"--_b_\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo\r\n--_b_--\r\n"
    )
    fast = mimefast.fast_tree(raw)
    slow = email.message_from_bytes(raw, policy=compat32)
    assert fast is not None
    assert fast.get_boundary() == slow.get_boundary() == "_b_"
    assert [p.get_payload() for p in fast.walk()][1:] == [p.get_payload() for p in slow.walk()][1:]
    assert codecs.lookup("utf-8").name == htmltext.resolve_charset("UTF-8")


@given(st.binary(max_size=40), st.sampled_from([b"multipart/mixed", b"text/plain", b"", b"a/b/c"]))
@FUZZ
@example(b'; boundary="\xff"', b"multipart/mixed")
def test_content_type_and_boundary_of_undecodable_headers(tail: bytes, ctype: bytes) -> None:
    """Header bytes that are not ASCII come back from `get` as a Header object."""
    raw = b"Content-Type: " + ctype + tail.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n\n"
    text = raw.decode("ascii", "surrogateescape")
    part, _ = mimefast._part(text, 0, len(text))
    if part is None:
        return
    value = part.get("content-type")
    assert mimefast._content_type(value) == part.get_content_type()
    assert _outcome(lambda p: mimefast._boundary(p, value), part) == _outcome(
        Message.get_boundary, part
    )


@given(st.lists(staff_row, max_size=5), st.lists(request_row, max_size=8))
@FUZZ
def test_the_case_index_of_a_snapshot_is_one_add_per_row(
    staff: list[dict[str, object]], requests: list[dict[str, object]]
) -> None:
    """The constructor's loop over the request list leaves what `add` per row left."""
    new = CaseIndex(Snapshot(requests, staff, [], None))  # type: ignore[arg-type]
    before = CaseIndex(Snapshot([], staff, [], None))  # type: ignore[arg-type]
    for row in requests:
        if row.get("nr"):
            before.add(str(row["nr"]).strip(), row)  # type: ignore[arg-type]
    assert new.last_feedback == before.last_feedback
    assert list(new.last_feedback) == list(before.last_feedback)
    assert new.participants == before.participants
    assert list(new.participants) == list(before.participants)
    assert new.message_nrs == before.message_nrs == {}


def test_only_these_characters_spell_termin_for_the_appointment_pattern() -> None:
    """What `appointments._body_lines` relies on to skip the search: under re.IGNORECASE a
    letter of "termin" matches itself in either case, and "i" also "İ" and "ı"."""
    others = {
        letter: [
            chr(code)
            for code in range(0x110000)
            if not 0xD800 <= code <= 0xDFFF
            and re.fullmatch(letter, chr(code), re.IGNORECASE)
            and chr(code) not in (letter, letter.upper())
        ]
        for letter in "termin"
    }
    assert others == {"t": [], "e": [], "r": [], "m": [], "i": ["\u0130", "\u0131"], "n": []}


APPOINTMENT_LINES = st.sampled_from(
    ["Termin: 12.03.2026 um 10:30 Uhr", "TERMİN: 1.2.2026", "termın abgesagt: 01.01.2026",
     "> Termin:03.04.2026", "Termin 1.1.2026", "Termine: 1.1.2026", "Ter min: 1.1.2026", "",
     "TeRmIn:\t31.02.2026 9.15", "Kein Datum", "ﬁ Termin: 2.2.2026"]
)  # fmt: skip


@given(st.lists(st.one_of(APPOINTMENT_LINES, st.text(max_size=20)), max_size=8))
@FUZZ
def test_appointment_lines_are_unchanged(lines: list[str]) -> None:
    body = "\n".join(lines)
    assert appointments._body_lines(body) == _body_lines_before(body)


def _body_lines_before(body: str) -> list[appointments.MailAppointment]:
    """`appointments._body_lines` as it was (commit 7bece7d)."""
    found = []
    for match in appointments._LINE.finditer(body[:200_000]):
        try:
            start = datetime(
                int(match["y"]), int(match["m"]), int(match["d"]),
                int(match["H"] or 0), int(match["M"] or 0),
            )  # fmt: skip
        except ValueError:
            continue
        found.append(
            appointments.MailAppointment(
                f"zeile|{start:%Y-%m-%dT%H:%M}", start, bool(match["cancel"])
            )
        )
    return found
