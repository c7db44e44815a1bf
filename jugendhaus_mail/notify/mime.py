"""Serialise an outgoing mail once, straight to the bytes that are stored and sent.

`build_raw` writes a multipart/alternative message (text + HTML, quoted-printable UTF-8,
attachments in base64, RFC 3834 automation headers, so that auto-replies and out-of-office
notices do not answer it) without building an `EmailMessage` and flattening it: the outbox
stores these bytes and every backend sends them as they are. The header lines are ASCII and at
most 78 characters long (RFC 5322); non-ASCII text is encoded as RFC 2047 encoded words, file
names after RFC 2231.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from urllib.parse import quote

from jugendhaus_mail.notify.outgoing import (
    _CONTROL,
    _DOMAIN,
    _MESSAGE_ID,
    _named,
    parse_address,
)
from jugendhaus_mail.notify.render import RenderedMail

_ATOM_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
_LINE = 78
# 42 bytes of UTF-8 become 56 base64 characters: "Subject: =?utf-8?b?" + 56 + "?=" fits a line
_WORD_BYTES = 42


def build_raw(
    rendered: RenderedMail,
    *,
    sender: str,
    sender_name: str = "",
    to: Sequence[str],
    cc: Sequence[str] = (),
    in_reply_to: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    now: datetime,
    domain: str,
) -> bytes:
    """The complete message as bytes with CRLF line ends. Recipients must already have passed
    `RecipientPolicy`; addresses that are not plain addresses, a naive `now`, a bad domain or
    reference, and a malformed MIME type raise ValueError."""
    if now.tzinfo is None:
        raise ValueError("now muss eine Zeitzone haben")
    if not re.fullmatch(_DOMAIN, domain):
        raise ValueError(f"{domain!r} ist keine Domain für die Message-ID")
    if not to:
        raise ValueError("keine Empfänger")
    head = [
        _from_field(sender, sender_name),
        _address_field("To", [_checked(a) for a in to]),
    ]
    if cc:
        head.append(_address_field("Cc", [_checked(a) for a in cc]))
    head.append(text_field("Subject", " ".join(_CONTROL.sub(" ", rendered.subject).split())))
    # the same for every mail of a cycle; equal moments in other zones are written otherwise
    date, stamp = _moment(now, now.utcoffset())
    head.append(date)
    head.append(f"Message-ID: <{stamp}.{secrets.token_hex(8)}@{domain}>")
    if in_reply_to is not None:
        reference = in_reply_to.strip()
        if not _MESSAGE_ID.fullmatch(reference):
            raise ValueError("In-Reply-To ist keine gültige Message-ID")
        head += [f"In-Reply-To: {reference}", f"References: {reference}"]
    head += ["Auto-Submitted: auto-generated", "X-Auto-Response-Suppress: All", "MIME-Version: 1.0"]
    alternative = _boundary()
    body = [
        f"--{alternative}",
        *_text_part("plain", rendered.text),
        f"--{alternative}",
        *_text_part("html", rendered.html),
        f"--{alternative}--",
    ]
    if attachments:
        mixed = _boundary()
        parts = [f"--{mixed}", f'Content-Type: multipart/alternative;\r\n boundary="{alternative}"']
        parts += ["", *body]
        for filename, data, mime_type in attachments:
            parts += [f"--{mixed}", *_attachment(filename, data, mime_type)]
        body = [*parts, f"--{mixed}--"]
        head.append(f'Content-Type: multipart/mixed;\r\n boundary="{mixed}"')
    else:
        head.append(f'Content-Type: multipart/alternative;\r\n boundary="{alternative}"')
    head.append("Content-Language: de-DE")
    return "\r\n".join([*head, "", *body, ""]).encode("ascii")


def text_field(name: str, text: str) -> str:
    """`Name: text`, folded at spaces; encoded words when the text is not plain ASCII."""
    words = text.split()
    # the first word must fit on the first line, or the header would start with a fold (a
    # leading space in some readers)
    plain = len(name) + 2 + len(words[0] if words else "") <= _LINE and "=?" not in text
    if text.isascii() and plain and all(len(w) < _LINE - 2 for w in words):
        return _fold(f"{name}: {text}", " ")
    return f"{name}: " + "\r\n ".join(encoded_words(text))


def encoded_words(text: str) -> list[str]:
    """RFC 2047 encoded words (UTF-8, base64), each within one header line; never splits a
    character."""
    data = text.encode("utf-8")
    words = []
    start = 0
    while True:
        end = start + _WORD_BYTES
        if end >= len(data):
            words.append(_encoded(data[start:]))
            return words
        while 0x80 <= data[end] < 0xC0:  # a continuation byte: the character starts earlier
            end -= 1
        words.append(_encoded(data[start:end]))
        start = end


def _word(text: str) -> str:
    return _encoded(text.encode("utf-8"))


def _encoded(data: bytes) -> str:
    return "=?utf-8?b?" + base64.b64encode(data).decode("ascii") + "?="


@functools.lru_cache(maxsize=8)
def _moment(now: datetime, _offset: timedelta | None) -> tuple[str, str]:
    """The Date header and the time in the Message-ID."""
    return f"Date: {format_datetime(now)}", now.strftime("%Y%m%d%H%M%S")


def _fold(line: str, separator: str) -> str:
    """Fold a header line at `separator` (kept at the end of the line it ends)."""
    if len(line) <= _LINE:
        return line
    lines, current = [], ""
    for piece in line.split(separator):
        candidate = f"{current}{separator}{piece}" if current else piece
        if current and len(candidate) > _LINE:
            lines.append(current + separator.rstrip())
            current = " " + piece.lstrip()
        else:
            current = candidate
    lines.append(current)
    return "\r\n".join(lines)


def _from_field(sender: str, sender_name: str) -> str:
    """The From line: the team's address and name, the same for every mail of a cycle."""
    if type(sender) is str and type(sender_name) is str:
        return _team_line(sender, sender_name)
    return _address_field("From", [_named(_checked(sender), sender_name)])


@functools.lru_cache(maxsize=16)  # a ValueError (a bad address) is raised again each time
def _team_line(sender: str, sender_name: str) -> str:
    return _address_field("From", [_named(_checked(sender), sender_name)])


def _address_field(name: str, addresses: list[Address]) -> str:
    parts = tuple((a.display_name, a.username, a.domain) for a in addresses)
    return _address_line(name, parts)


@functools.lru_cache(maxsize=256)  # From is the same for every mail, To often repeats
def _address_line(name: str, parts: tuple[tuple[str, str, str], ...]) -> str:
    addresses = [Address(display_name=n, username=u, domain=d) for n, u, d in parts]
    if any(len(a.display_name.encode("utf-8")) > _WORD_BYTES for a in addresses):
        # a name longer than one encoded word: readers differ on the space between two
        # words in a phrase, so the email package folds this rare header as it always did
        message = EmailMessage(policy=SMTP)
        message[name] = addresses
        return str(SMTP.fold(name, message[name])).removesuffix("\r\n")
    return _fold(f"{name}: " + ", ".join(_format(a) for a in addresses), ", ")


def _format(address: Address) -> str:
    name = address.display_name
    if not name:
        return address.addr_spec
    if not name.isascii():
        phrase = _word(name)
    elif _ATOM_PHRASE.fullmatch(name):
        phrase = name
    else:
        phrase = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{phrase} <{address.addr_spec}>"


def _checked(raw: str) -> Address:
    address = parse_address(raw)
    if address is None:
        raise ValueError(f"{raw!r} ist keine einfache E-Mail-Adresse")
    return address


def _boundary() -> str:
    # "=" is always encoded in quoted-printable and base64 never has a run of equals signs
    return f"==============={secrets.token_hex(10)}=="


def _text_part(subtype: str, text: str) -> list[str]:
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    if not normalised.endswith("\n"):
        normalised += "\n"
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        # the line break before a boundary belongs to the boundary: the text's own last line
        # break stays part of the text
        quoted_printable(normalised),
    ]


def quoted_printable(text: str) -> str:
    """`text` (line ends "\\n", no "\\r") quoted-printable with CRLF line ends, line by line: the
    encoding of a line depends on that line alone, and most lines of a mail are the same in
    every mail of its kind."""
    *lines, last = text.split("\n")
    encoded = [_QP_LINES.get(line) or _qp_line(line) for line in lines]
    if last:
        encoded.append(_qp(last))
    return "".join(encoded)


_QP_LINES: dict[str, str] = {}  # line without its line end -> encoded with CRLF


def _qp_line(line: str) -> str:
    if len(_QP_LINES) >= 4096:
        _QP_LINES.clear()
    encoded = _QP_LINES[line] = _qp(line + "\n")
    return encoded


def _qp(text: str) -> str:
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True)
    return encoded.decode("ascii").replace("\n", "\r\n")


def _attachment(filename: str, data: bytes, mime_type: str) -> list[str]:
    maintype, _, subtype = mime_type.partition("/")
    if not maintype or not subtype or not re.fullmatch(r"[\w.+-]+/[\w.+-]+", mime_type):
        raise ValueError(f"{mime_type!r} ist kein MIME-Typ wie application/pdf")
    name = _safe_filename(filename)
    if name.isascii() and '"' not in name and "\\" not in name:
        disposition = f'Content-Disposition: attachment; filename="{name}"'
    else:
        disposition = f"Content-Disposition: attachment; filename*=utf-8''{quote(name)}"
    encoded = base64.encodebytes(data).decode("ascii").rstrip("\n").replace("\n", "\r\n")
    return [
        f"Content-Type: {mime_type}",
        "Content-Transfer-Encoding: base64",
        _fold(disposition, "; "),
        "",
        encoded,
    ]


def _safe_filename(filename: str) -> str:
    """The last path part, without control characters: a name, never a path."""
    name = _CONTROL.sub("", filename).replace("\\", "/").rpartition("/")[2].strip()
    return name or "Anhang"
