"""Turn the raw bytes of one incoming mail into a `ParsedMail`. Never raises.

Decisions worth knowing:
- The sender is the first usable address in From; only when From has none, Sender is used.
  Reply-To is not an identity and is ignored.
- A Message-ID counts only if it is printable ASCII with an "@" inside; otherwise the key is the
  SHA-256 of the raw bytes, so two different mails never share a key by accident.
- Attachments: parts with Content-Disposition attachment, parts with a file name, and non-text
  parts. Images embedded in HTML (non-root parts of multipart/related, e.g. signature logos) and
  signatures (.p7s, .asc) are not counted; an inline image with a file name elsewhere is.
- A forwarded message (message/rfc822) counts as one attachment when it is attached (disposition
  attachment or a file name); its readable text is always appended to the body under a marker
  line, its own attachments are not counted.
- Dates without a zone are taken as UTC, so `date_header` is always timezone-aware.

Why one module: hostile mail is handled in one pass over the MIME tree (sender, ids, text,
attachments), and each decision above guards the others; `htmltext` (HTML to text) lives apart.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import TypeVar

from jugendhaus_mail.intake.classify import automated_reason
from jugendhaus_mail.intake.htmltext import (
    decode_header_text,
    decode_text,
    html_to_text,
    raw_bytes,
    strip_controls,
    tidy_text,
    unflow,
)
from jugendhaus_mail.intake.mimefast import parse_bytes

MAX_SUBJECT = 500
MAX_NAME = 200
MAX_BODY = 100_000
MAX_HEADER = 10_000
MAX_DEPTH = 20
MAX_REFERENCES = 50
MAX_DEFECTS = 20
FORWARD_MARKER = "---------- Weitergeleitete Nachricht ----------"

_T = TypeVar("_T")
_ANGLE_ADDR = re.compile(r"<\s*(?:mailto:)?([^<>\s]+@[^<>\s]+)\s*>")
_ADDR_SPEC = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)
_BARE_ADDR = re.compile(r"[^\s<>(),;:\"\[\]]+@[^\s<>(),;:\"\[\]]+")
_MSG_ID = re.compile(r"^[!-~]{1,250}$")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_STDLIB_ENCODINGS = {"base64", "quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue"}
_QUIET_ENCODINGS = frozenset(("quoted-printable", "base64", "7bit", "8bit", "binary", ""))
_FORWARD_TYPES = ("message/rfc822", "message/global", "message/news")
_SIGNATURE_TYPES = {"application/pgp-signature", "application/pkcs7-signature",
                    "application/x-pkcs7-signature"}  # fmt: skip
_DEFECT_TEXT = {
    "StartBoundaryNotFoundDefect": "Multipart-Grenze (boundary) nicht gefunden",
    "CloseBoundaryNotFoundDefect": "Abschließende Multipart-Grenze fehlt",
    "NoBoundaryInMultipartDefect": "Multipart ohne boundary-Angabe",
    "MultipartInvariantViolationDefect": "Multipart-Nachricht ohne Teile",
    "FirstHeaderLineIsContinuationDefect": "Erste Kopfzeile ist eine Fortsetzungszeile",
    "MisplacedEnvelopeHeaderDefect": "Envelope-Zeile an falscher Stelle",
    "MissingHeaderBodySeparatorDefect": "Leerzeile zwischen Kopf und Inhalt fehlt",
    "InvalidMultipartContentTransferEncodingDefect": "Ungültige Transferkodierung bei Multipart",
    "UndecodableBytesDefect": "Nicht dekodierbare Bytes",
    "InvalidBase64PaddingDefect": "Base64-Auffüllung fehlerhaft",
    "InvalidBase64CharactersDefect": "Ungültige Zeichen in Base64",
    "InvalidBase64LengthDefect": "Ungültige Base64-Länge",
    "InvalidHeaderDefect": "Ungültige Kopfzeile",
    "HeaderMissingRequiredValue": "Kopfzeile ohne Pflichtwert",
    "NonPrintableDefect": "Nicht druckbare Zeichen in Kopfzeile",
}


@dataclass(frozen=True)
class ParsedMail:
    key: str  # "mid:<Message-ID>" or "sha256:<hex of the raw bytes>"
    message_id: str | None
    subject: str
    sender_name: str
    sender_address: str | None
    date_header: datetime | None  # informational; receipt time comes from the backend
    body_text: str
    attachment_count: int
    references: tuple[str, ...]
    automated_reason: str | None  # German; set: the mail is set aside, not entered
    defects: tuple[str, ...]  # German, no mail content: safe for the admin log


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one mail. Any bytes give a result; unreadable parts are reported in `defects`."""
    return parse_with_message(raw)[0]


def parse_with_message(raw: bytes) -> tuple[ParsedMail, Message | None]:
    """`parse_message`, and the parsed message itself (compat32) for whatever else the cycle
    reads from the mail (its key), so that each mail is parsed once; None when it could not
    be parsed."""
    try:
        data = bytes(raw)
    except Exception:  # not bytes-like at all: treat as an empty mail
        data = b""
    try:
        return _parse(data)
    except Exception as exc:  # last resort; the stages below already guard themselves
        return ParsedMail(
            key=_hash_key(data), message_id=None, subject="", sender_name="",
            sender_address=None, date_header=None, body_text="", attachment_count=0,
            references=(), automated_reason="Nachricht nicht lesbar (MIME-Struktur defekt)",
            defects=(f"Nachricht konnte nicht zerlegt werden ({type(exc).__name__})",),
        ), None  # fmt: skip


def _parse(data: bytes) -> tuple[ParsedMail, Message]:
    msg = parse_bytes(data)
    head = _index(msg)  # each header read once, not once per lookup
    defects: list[str] = []
    subject = _safely(defects, "Betreff", lambda: _subject(head), "")
    no_sender: tuple[str, str | None] = ("", None)
    name, address = _safely(defects, "Absender", lambda: _sender(head), no_sender)
    message_id = _safely(defects, "Message-ID", lambda: _message_id(head), None)
    date_header = _safely(defects, "Datum", lambda: _date(head), None)
    no_references: tuple[str, ...] = ()
    references = _safely(defects, "Bezüge", lambda: _references(head), no_references)
    ctype = _content_type(msg)
    body = _safely(defects, "Inhalt", lambda: _body(msg, defects, ctype), _Body())
    reason = _safely(
        defects, "Kopf", lambda: automated_reason(msg, address, subject, head, ctype), None
    )
    _safely(defects, "Struktur", lambda: _header_defects(msg, head, defects), None)
    text = tidy_text("\n\n".join([t for t in body.texts if t.strip()] + body.forwarded))
    if len(text) > MAX_BODY:
        defects.append(f"Text auf {MAX_BODY} Zeichen gekürzt")
        text = text[:MAX_BODY]
    return ParsedMail(
        key=f"mid:{message_id}" if message_id else _hash_key(data),
        message_id=message_id,
        subject=subject,
        sender_name=name,
        sender_address=address,
        date_header=date_header,
        body_text=text,
        attachment_count=body.attachments,
        references=references,
        automated_reason=reason,
        defects=tuple(dict.fromkeys(defects))[:MAX_DEFECTS],
    ), msg


def _safely(defects: list[str], what: str, fn: Callable[[], _T], default: _T) -> _T:
    try:
        return fn()
    except Exception as exc:  # hostile input must cost one field, never the whole mail
        defects.append(f"{what} nicht lesbar ({type(exc).__name__})")
        return default


def _hash_key(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- headers --------------------------------------------------------------------------------


def _index(msg: Message) -> dict[str, list[str]]:
    """The raw values of every header of `msg`, by lower-case name, in order."""
    index: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        index.setdefault(key.lower(), []).append(str(value))
    return index


def _header_values(head: dict[str, list[str]], name: str) -> list[str]:
    """Raw values of a header (all occurrences), unfolded and length-capped."""
    values = head.get(name.lower(), [])
    return [(_FOLD.sub("", v) if "\n" in v else v)[:MAX_HEADER] for v in values]


def _first(head: dict[str, list[str]], name: str) -> str | None:
    values = _header_values(head, name)
    return values[0] if values else None


def _one_line(text: str, limit: int) -> str:
    return " ".join(strip_controls(text, keep="\t\n").split())[:limit].strip()


def _subject(head: dict[str, list[str]]) -> str:
    value = _first(head, "Subject")
    return _one_line(decode_header_text(value), MAX_SUBJECT) if value else ""


def _normalise_address(candidate: str) -> str | None:
    text = raw_bytes(candidate).decode("utf-8", "replace").strip().strip("<>").strip().lower()
    local, at, domain = text.removeprefix("mailto:").rpartition("@")
    domain = domain.rstrip(".")
    if not at:
        return None
    if not domain.isascii():  # internationalised domain: keep the ASCII (punycode) form
        try:
            domain = domain.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    address = f"{local}@{domain}"
    return address if len(address) <= 254 and _ADDR_SPEC.match(address) else None


def _mailbox(value: str) -> tuple[str, str | None]:
    """(display name, address) of the first usable mailbox in an address header."""
    angle = _ANGLE_ADDR.search(value)
    if angle:
        address = _normalise_address(angle.group(1))
        if address:
            return _display_name(value[: angle.start()]), address
    try:
        pairs = getaddresses([value])
    except Exception:  # the stdlib address parser has failed on hostile input before
        pairs = []
    for name, candidate in pairs:
        address = _normalise_address(candidate)
        if address:
            return _display_name(name), address
    for token in _BARE_ADDR.findall(value):  # "Max Muster max@x.de" and similar breakage
        address = _normalise_address(token)
        if address:
            return _display_name(value[: value.find(token)]), address
    return _display_name(pairs[0][0] if pairs and pairs[0][0] else value), None


def _display_name(raw: str) -> str:
    name = raw.strip().strip(",").strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    name = _one_line(decode_header_text(name), MAX_NAME)
    return "" if "@" in name and _normalise_address(name) else name.strip("'\" ")


def _sender(head: dict[str, list[str]]) -> tuple[str, str | None]:
    name = ""
    for header in ("From", "Sender"):
        for value in _header_values(head, header):
            found_name, address = _mailbox(value)
            name = name or found_name
            if address:
                return found_name or name, address
    return name, None


def _ids(value: str) -> list[str]:
    candidates = re.findall(r"<([^<>]*)>", value) or value.split()
    ids = ["".join(candidate.split()) for candidate in candidates]
    return [i for i in ids if _MSG_ID.match(i) and 0 < i.find("@") < len(i) - 1]


def _message_id(head: dict[str, list[str]]) -> str | None:
    for value in _header_values(head, "Message-ID")[:1]:
        ids = _ids(value)
        if ids:
            return ids[0]
    return None


def _references(head: dict[str, list[str]]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for header in ("In-Reply-To", "References"):
        for value in _header_values(head, header):
            found.update(dict.fromkeys(_ids(value)))
    return tuple(found)[:MAX_REFERENCES]


def _date(head: dict[str, list[str]]) -> datetime | None:
    value = _first(head, "Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(_one_line(value, 200))
    except Exception:  # the stdlib raises several types for garbage dates
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _header_defects(msg: Message, head: dict[str, list[str]], defects: list[str]) -> None:
    for name in ("From", "Subject", "Date", "Message-ID"):
        count = len(head.get(name.lower(), []))
        if count == 0:
            defects.append(f"Kopfzeile {name} fehlt")
        elif count > 1:
            defects.append(f"Kopfzeile {name} {count}-mal vorhanden")
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        for defect in getattr(part, "defects", []):
            name = type(defect).__name__
            defects.append(_DEFECT_TEXT.get(name, name))
        if depth < MAX_DEPTH:
            stack.extend((child, depth + 1) for child in _children(part))


# --- body -----------------------------------------------------------------------------------


@dataclass
class _Body:
    texts: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: int = 0
    plain: bool = False  # some text came from text/plain (preferred in multipart/alternative)


def _body(msg: Message, defects: list[str], ctype: str | None = None) -> _Body:
    body = _Body()
    _walk(msg, 0, body, defects, embedded=False, ctype=ctype)
    return body


def _content_type(msg: Message) -> str | None:
    """msg.get_content_type(), read once for the steps that need it; None when it fails (then
    each step reads it itself and reports the failure as before)."""
    try:
        return msg.get_content_type()
    except Exception:
        return None


def _children(part: Message) -> list[Message]:
    if not part.is_multipart():
        return []  # get_payload() would decode a leaf with its (hostile) charset label
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _walk(
    part: Message,
    depth: int,
    out: _Body,
    defects: list[str],
    embedded: bool,
    ctype: str | None = None,  # part.get_content_type(), when the caller has it at hand
) -> None:
    if depth > MAX_DEPTH:
        defects.append("MIME-Struktur zu tief verschachtelt")
        return
    if ctype is None:
        ctype = part.get_content_type()
    children = _children(part)
    if ctype in _FORWARD_TYPES and children:
        _forwarded(part, children[0], depth, out, defects)
    elif ctype.startswith("message/") and part.is_multipart():
        return  # delivery-status and similar: machine-readable, never body or attachment
    elif not part.is_multipart():
        if ctype.startswith("multipart/") and _salvage(part, depth, out, defects):
            return
        _leaf(part, out, defects, embedded, root=depth == 0, ctype=ctype)
    elif ctype == "multipart/alternative":
        _alternative(children, depth, out, defects)
    elif ctype in ("multipart/signed", "multipart/report", "multipart/related"):
        # the first part is the content; the rest are signatures, machine-readable reports
        # or resources embedded in the HTML
        for index, child in enumerate(children):
            if index == 0 or ctype == "multipart/related":
                _walk(child, depth + 1, out, defects, embedded=index > 0)
    elif ctype == "multipart/encrypted":
        out.attachments += 1  # unreadable for us; staff see there is an encrypted file
    else:
        for child in children:
            _walk(child, depth + 1, out, defects, embedded=False)


def _salvage(part: Message, depth: int, out: _Body, defects: list[str]) -> bool:
    """A multipart whose declared boundary never occurs: retry with the first "--x" line."""
    raw = _payload_bytes(part)
    found = re.search(rb"(?m)^--([!-~]{1,70}?)[ \t]*\r?$", raw[:200_000])
    if found is None or depth >= MAX_DEPTH:
        return False
    boundary = found.group(1).replace(b'"', b"")
    header = b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
    retry = message_from_bytes(header + raw, policy=compat32)
    if not _children(retry):
        return False
    defects.append("Multipart-Grenze passte nicht; Teile anhand der Grenzlinien gelesen")
    _walk(retry, depth + 1, out, defects, embedded=False)
    return True


def _alternative(children: list[Message], depth: int, out: _Body, defects: list[str]) -> None:
    versions: list[_Body] = []
    html: list[Message] = []  # plain HTML versions: converted only when no plain text has text
    for child in children:
        ctype = child.get_content_type()  # looked up once: a header scan each time
        if _plain_html(child, ctype):
            html.append(child)
            continue
        version = _Body()
        _walk(child, depth + 1, version, defects, embedded=False, ctype=ctype)
        versions.append(version)
    if not any(v.plain and any(t.strip() for t in v.texts) for v in versions):
        for child in html:
            version = _Body()
            _walk(child, depth + 1, version, defects, embedded=False, ctype="text/html")
            versions.append(version)
    with_text = [v for v in versions if any(t.strip() for t in v.texts)]
    chosen = next((v for v in with_text if v.plain), with_text[-1] if with_text else None)
    if chosen is not None:
        out.texts.extend(chosen.texts)
        out.forwarded.extend(chosen.forwarded)
        out.plain = out.plain or chosen.plain
    out.attachments += max((v.attachments for v in versions), default=0)


def _plain_html(part: Message, ctype: str) -> bool:
    """A text/html leaf (`ctype`: its content type) that is neither attached nor named: only
    ever body text."""
    return (
        not part.is_multipart()
        and ctype == "text/html"
        and part.get_content_disposition() != "attachment"
        and _filename(part) is None
    )


def _forwarded(part: Message, inner: Message, depth: int, out: _Body, defects: list[str]) -> None:
    if (part.get_content_disposition() == "attachment") or _filename(part):
        out.attachments += 1
    nested = _Body()
    _walk(inner, depth + 1, nested, defects, embedded=False)
    lines = [FORWARD_MARKER]
    head = _index(inner)
    for label, header in (("Von", "From"), ("Datum", "Date"), ("Betreff", "Subject")):
        value = _first(head, header)
        if value:
            lines.append(f"{label}: {_one_line(decode_header_text(value), MAX_SUBJECT)}")
    text = "\n".join(lines) + "\n\n" + "\n\n".join(nested.texts + nested.forwarded)
    out.forwarded.append(text.strip())


def _filename(part: Message) -> str | None:
    if "content-disposition" not in part and _lacks_param(part, "name"):
        return None  # what get_filename() gives then, without parsing the parameters
    try:
        return part.get_filename() or None
    except Exception:  # broken RFC 2231 parameters
        return "unbenannt"


def _lacks_param(part: Message, name: str) -> bool:
    """True when the Content-Type of `part` certainly has no parameter `name`: a plain ASCII
    value without RFC 2231 parts ("*"), in which the stdlib's parameter parse can neither
    fail nor find a key that is not in the text."""
    value = part.get("content-type")
    return (
        isinstance(value, str)
        and value.isascii()
        and "*" not in value
        and name not in value.lower()
    )


def _leaf(
    part: Message, out: _Body, defects: list[str], embedded: bool, root: bool, ctype: str
) -> None:
    if ctype.startswith(("multipart/", "message/")):
        ctype = "text/plain"  # unparseable structure: show its text rather than hide it
    disposition = part.get_content_disposition()
    named = not root and _filename(part) is not None  # a single-part mail is its own body
    if ctype in _SIGNATURE_TYPES:
        return
    is_body_text = ctype in ("text/plain", "text/html", "text/enriched", "text/richtext")
    if disposition == "attachment" or named or not is_body_text:
        attached = disposition == "attachment" or named
        inline_resource = embedded and part.get("Content-ID") and disposition != "attachment"
        if not inline_resource and (attached or _payload_bytes(part)):
            out.attachments += 1
        return
    data = _payload_bytes(part)
    text, defect = decode_text(data, _charset(part), is_html=ctype != "text/plain")
    if defect:
        defects.append(defect)
    if ctype == "text/plain":
        if _param(part, "format") == "flowed":
            text = unflow(text, delsp=_param(part, "delsp") == "yes")
        out.plain = True
    else:
        text = html_to_text(text)
    out.texts.append(text)


def _param(part: Message, name: str) -> str:
    value = None if _lacks_param(part, name) else part.get_param(name)
    return value.strip().lower() if isinstance(value, str) else ""


def _charset(part: Message) -> str | None:
    # a function of the Content-Type value alone, and most mail repeats a few such values:
    # each is parsed once (the parameter parse costs more than the rest of a text part)
    value = part.get("content-type")
    if isinstance(value, str) and value in _CHARSETS:
        return _CHARSETS[value]
    try:
        charset = part.get_content_charset()
    except Exception:  # RFC 2231 charset parameters can be malformed
        charset = None
    if isinstance(value, str):
        if len(_CHARSETS) >= 1024:
            _CHARSETS.clear()
        _CHARSETS[value] = charset
    return charset


_CHARSETS: dict[str, str | None] = {}  # Content-Type value -> its charset parameter


def _payload_bytes(part: Message) -> bytes:
    """The decoded content of a leaf part, lenient about transfer encodings."""
    # read as get_payload() reads it first thing (same value, same error if it fails)
    cte = str(part.get("Content-Transfer-Encoding", "")).lower()
    if cte in _QUIET_ENCODINGS:  # never the stdlib's deprecated uu path: nothing to silence
        data = part.get_payload(decode=True)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the stdlib's uu support is deprecated
            data = part.get_payload(decode=True)  # raw bytes when it does not know the CTE
    if not isinstance(data, bytes):
        return b""
    if cte in _STDLIB_ENCODINGS:
        return data
    if "base64" in cte:  # "base64;", "BASE64 " and the like
        clean = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        clean = clean[: len(clean) - 1] if len(clean) % 4 == 1 else clean
        return base64.b64decode(clean + b"=" * (-len(clean) % 4))
    if "quoted-printable" in cte:
        return quopri.decodestring(data)
    return data
