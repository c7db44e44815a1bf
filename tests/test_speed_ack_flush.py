"""Sending a batch reads Message-ID, recipients and attachments from the stored bytes with
cheaper code that reads exactly what the line-by-line reader and the stdlib parser read."""

from __future__ import annotations

from email.utils import getaddresses

from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.mailbox.raw import attachment_count, header_values, recipients


def line_by_line(data: bytes, name: str) -> list[str]:
    """`header_values` as it was: the header block decoded and walked line by line."""
    import re

    match = re.compile(rb"\r?\n\r?\n").search(data)
    head = data[: match.start()] if match else data
    wanted = name.lower() + ":"
    values: list[list[str]] = []
    current: list[str] | None = None
    for line in head.decode("ascii", "replace").replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t"):
            if current is not None:
                current.append(line)
            continue
        current = None
        if line[: len(wanted)].lower() == wanted:
            current = [line[len(wanted) :]]
            values.append(current)
    return [" ".join("".join(parts).split()) for parts in values]


def parsed_recipients(data: bytes) -> list[str]:
    fields = line_by_line(data, "To") + line_by_line(data, "Cc")
    return [address for _name, address in getaddresses(fields) if address]


PIECES = st.sampled_from(
    [
        "To: ",
        "TO:",
        "to :",
        "Cc: ",
        "cC:",
        "Message-ID: ",
        "message-id:<a@b>",
        "Subject: x",
        "\r\n",
        "\n",
        "\r",
        "\r\n ",
        "\r\n\t",
        "\n ",
        " ",
        "\t",
        ",",
        ", ",
        "<",
        ">",
        '"',
        "anna@rostock.de",
        "o'neil+x@Jobcenter-GE.de",
        "Jana <j@x.de>",
        "=?utf-8?b?w6Q=?=",
        "ä",
        "\x1c",
        "\x85",
        "\r\n\r\n",
        "body To: x@y.de",
    ]
)
HEADERS = st.lists(PIECES, max_size=40).map(lambda p: "".join(p).encode("utf-8"))


@given(HEADERS, st.sampled_from(["To", "Cc", "Message-ID", "Date"]))
@settings(max_examples=1000, deadline=None)
def test_header_values_are_read_as_line_by_line(data: bytes, name: str) -> None:
    assert header_values(data, name) == line_by_line(data, name)


@given(HEADERS)
@settings(max_examples=1000, deadline=None)
def test_recipients_are_the_addresses_the_parser_finds(data: bytes) -> None:
    assert recipients(data) == parsed_recipients(data)


LOCAL = st.from_regex(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9_-]{1,5}){0,2}", fullmatch=True
)
DOMAIN = st.sampled_from(["rostock.de", "jobcenter-ge.de", "a.b-c.d", "x", "9a.de"])


@given(st.lists(st.tuples(LOCAL, DOMAIN), min_size=1, max_size=5), st.booleans())
@settings(max_examples=500, deadline=None)
def test_bare_addresses_as_the_outbox_writes_them_read_as_the_parser_reads_them(
    addresses: list[tuple[str, str]], folded: bool
) -> None:
    separator = ",\r\n " if folded else ", "
    to = separator.join(f"{local}@{domain}" for local, domain in addresses)
    data = f"From: team@rostock.de\r\nTo: {to}\r\nCc: {to}\r\n\r\nText".encode()
    assert recipients(data) == parsed_recipients(data)


@given(
    st.lists(
        st.sampled_from(
            [
                b"Content-Disposition: attachment",
                b"content-disposition:\tATTACHMENT",
                b"Content-Disposition: inline",
                b"attachment",
                b"x",
                b" ",
                b"\n",
                b"\r\n",
            ]
        ),
        max_size=30,
    ).map(b"".join)
)
@settings(max_examples=500, deadline=None)
def test_attachments_are_counted_as_before(data: bytes) -> None:
    import re

    assert attachment_count(data) == len(
        re.compile(rb"(?im)^content-disposition:[ \t]*attachment").findall(data)
    )


@given(st.lists(st.sampled_from([b"\r", b"\n", b"a", b" ", b"To: x@y.de"]), max_size=30))
@settings(max_examples=1000, deadline=None)
def test_the_header_block_ends_where_it_ended(pieces: list[bytes]) -> None:
    import re

    data = b"".join(pieces) + b"To: tail@y.de"
    match = re.compile(rb"\r?\n\r?\n").search(data)
    head = data[: match.start()] if match else data
    assert header_values(data, "To") == line_by_line(head, "To")


@given(st.lists(st.sampled_from([b"\r", b"\n", b"a"]), max_size=12))
@settings(max_examples=1000, deadline=None)
def test_the_header_block_is_cut_where_the_pattern_cuts_it(pieces: list[bytes]) -> None:
    import re

    from jugendhaus_mail.mailbox.raw import _head

    data = b"".join(pieces)
    match = re.compile(rb"\r?\n\r?\n").search(data)
    assert _head(data) == (data[: match.start()] if match else data)
