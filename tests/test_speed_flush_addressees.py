"""`sent_log` keeps the recipients and the attachment count it kept before issue 15's third
round: the one-pass header read gives what the two field reads gave, for any bytes."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses

from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.mailbox.raw import _BARE_ADDRESSES, attachment_count, header_values, recipients
from jugendhaus_mail.state import _addressees


def recipients_before(data: bytes) -> list[str]:
    """`recipients` as it was: To, then Cc, each read with its own pass."""
    fields = header_values(data, "To") + header_values(data, "Cc")
    if all(_BARE_ADDRESSES.fullmatch(f) for f in fields):
        return [address for f in fields for address in f.split(", ")]
    return [address for _name, address in getaddresses(fields) if address]


def attachments_before(data: bytes) -> int:
    if b"attachment" not in data.lower():
        return 0
    return len(re.compile(rb"(?im)^content-disposition:[ \t]*attachment").findall(data))


def addressees_before(data: bytes) -> tuple[str, int]:
    return ", ".join(recipients_before(data)), attachments_before(data)


PIECES = st.sampled_from(
    [
        "To: ",
        "TO:",
        "tO:",
        "to :",
        "Cc: ",
        "cC:",
        "CC:x@y.de",
        "Bcc: b@y.de",
        "X-To: x@y.de",
        "Subject: x",
        "\r\n",
        "\n",
        "\r",
        "\r\n ",
        "\r\n\t",
        "\n ",
        " ",
        ",",
        ", ",
        "<",
        ">",
        '"',
        "anna@rostock.de",
        "o'neil+x@Jobcenter-GE.de",
        "Jana <j@x.de>",
        '"Schulz, Anna" <a@x.de>',
        "=?utf-8?b?w6Q=?= <e@x.de>",
        "=?iso-8859-1?q?M=FCller?=",
        "ä",
        "\x85",
        "\r\n\r\n",
        "body To: x@y.de",
        "Content-Disposition: attachment",
        "content-disposition:\tATTACHMENT",
        "Content-Disposition: inline",
        "attachment",
    ]
)
DATA = st.lists(PIECES, max_size=40).map(lambda p: "".join(p).encode("utf-8"))


@given(DATA)
@settings(max_examples=2000, deadline=None)
def test_recipients_and_attachments_read_as_before(data: bytes) -> None:
    assert recipients(data) == recipients_before(data)
    assert attachment_count(data) == attachments_before(data)
    assert _addressees(data) == addressees_before(data)


@given(st.binary(max_size=200))
@settings(max_examples=1000, deadline=None)
def test_any_bytes_read_as_before(data: bytes) -> None:
    assert _addressees(data) == addressees_before(data)


def test_a_built_mail_with_names_cc_folding_and_attachments() -> None:
    message = EmailMessage()
    message["From"] = "Team <team@rostock.de>"
    message["To"] = ", ".join(f"Person Nummer {i} <person{i}@rostock.de>" for i in range(8))
    message["Cc"] = "Jürgen Müller <j.mueller@jobcenter-ge.de>, x@rostock.de"
    message["Subject"] = "Übergabe"
    message.set_content("Text\nContent-Disposition: attachment\n")
    message.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="a.pdf")
    message.add_attachment("ä", filename="Übersicht.txt")
    raw = message.as_bytes(policy=SMTP)
    assert b"\r\n " in raw.split(b"\r\n\r\n", 1)[0]  # To is folded
    assert _addressees(raw) == addressees_before(raw)
    assert _addressees(raw)[1] == 3  # the line in the text counts too, as it did
    assert _addressees(b"Content-Disposition: attachment\r\n\r\nx") == (
        addressees_before(b"Content-Disposition: attachment\r\n\r\nx")
    )
