"""Build outgoing messages that are safe to send: who may receive them, and how they look.

`RecipientPolicy` decides which addresses are inside the office's own domains; nothing else may
receive mail from the service. `build_message` turns a rendered mail into a multipart message
that marks itself as automated (RFC 3834), so that auto-replies and out-of-office notices do not
answer it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime

from jugendhaus_mail.notify.render import RenderedMail

# A deliberately narrow addr-spec: unquoted ASCII local part, ASCII host names. Quoted local
# parts, comments, IP literals and UTF-8 addresses are legal elsewhere but never needed here.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"
_ADDR_SPEC = re.compile(rf"({_LOCAL})@({_DOMAIN})")
# "Jana Krüger <jana.krueger@rostock.de>": a display name of letters, spaces and . - ' only,
# so "chef@rostock.de <x@evil.example>" (shows one address, sends to another) is no match.
_NAMED = re.compile(r"([^\W\d_][\w .'-]*)?<([^<>]*)>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")


class RecipientPolicy:
    """Only addresses in the office's internal domains (or their subdomains) may receive mail."""

    def __init__(self, internal_domains: Iterable[str]) -> None:
        domains = []
        for raw in internal_domains:
            domain = raw.strip().lower().lstrip("@")
            if not re.fullmatch(_DOMAIN, domain):
                raise ValueError(f'{raw!r} ist keine Domain; erwartet z. B. "rostock.de"')
            domains.append(domain)
        self._domains = tuple(domains)

    def split(self, addresses: Iterable[str]) -> tuple[list[str], list[str]]:
        """(allowed, refused). Allowed are bare, de-duplicated addresses in the given order;
        refused are the inputs as given, for the caller to log."""
        allowed: list[str] = []
        seen: set[str] = set()
        refused: list[str] = []
        for raw in addresses:
            address = self.check(raw)
            if address is None:
                refused.append(raw)
            elif address.lower() not in seen:
                seen.add(address.lower())
                allowed.append(address)
        return allowed, refused

    def check(self, raw: str) -> str | None:
        """The bare address if `raw` may receive mail, else None."""
        address = bare_address(raw)
        if address is None:
            return None
        domain = address.rpartition("@")[2]
        if any(domain == d or domain.endswith("." + d) for d in self._domains):
            return address
        return None


def bare_address(raw: str) -> str | None:
    """ "a@b.de" or "Name <a@b.de>" as "a@b.de" (domain lower-cased); None for anything else,
    including control characters, quotes, comments, several addresses and odd display names."""
    parsed = parse_address(raw)
    return None if parsed is None else parsed.addr_spec


def parse_address(raw: str) -> Address | None:
    """The address with its display name, or None when `raw` is not one plain address."""
    if not isinstance(raw, str) or _CONTROL.search(raw):
        return None
    text = raw.strip()
    name = ""
    named = _NAMED.fullmatch(text)
    if named:
        name, text = " ".join((named[1] or "").split()), named[2].strip()
    match = _ADDR_SPEC.fullmatch(text)
    if match is None or len(text) > 254 or len(match[1]) > 64:
        return None
    return Address(display_name=name, username=match[1], domain=match[2].lower())


def build_message(
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
) -> EmailMessage:
    """A multipart/alternative message (text + HTML), plus attachments (filename, data, MIME
    type) when given. Recipients must already have passed `RecipientPolicy`; addresses that
    are not plain addresses raise ValueError here, as does a naive `now`."""
    if now.tzinfo is None:
        raise ValueError("now muss eine Zeitzone haben")
    if not re.fullmatch(_DOMAIN, domain):
        raise ValueError(f"{domain!r} ist keine Domain für die Message-ID")
    if not to:
        raise ValueError("keine Empfänger")
    message = EmailMessage(policy=default_policy)
    message["From"] = _named(_checked(sender), sender_name)
    message["To"] = [_checked(a) for a in to]
    if cc:
        message["Cc"] = [_checked(a) for a in cc]
    message.set_raw("Subject", _folded_subject(rendered.subject))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{now.strftime('%Y%m%d%H%M%S')}.{secrets.token_hex(8)}@{domain}>"
    if in_reply_to is not None:
        reference = in_reply_to.strip()
        if not _MESSAGE_ID.fullmatch(reference):
            raise ValueError("In-Reply-To ist keine gültige Message-ID")
        message["In-Reply-To"] = reference
        message["References"] = reference
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    # quoted-printable keeps every line 7-bit: no relay or EWS upload can mangle umlauts
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for filename, data, mime_type in attachments:
        maintype, _, subtype = mime_type.partition("/")
        if not maintype or not subtype:
            raise ValueError(f"{mime_type!r} ist kein MIME-Typ wie application/pdf")
        message.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=_safe_filename(filename)
        )
    message["Content-Language"] = "de-DE"  # after set_content, which drops Content-* headers
    return message


def _folded_subject(subject: str) -> str:
    """The subject as header text, folded here: the email package's own folding can start a
    subject with a space or repeat words when long runs meet umlauts. Plain ASCII that fits
    stays readable; anything else becomes UTF-8 encoded words, split between characters."""
    from email.header import Header

    text = " ".join(_CONTROL.sub(" ", subject).split())
    if text.isascii() and len(text) <= 68 and "=?" not in text:
        return text
    return Header(text, charset="utf-8", header_name="Subject").encode(linesep="\n")


def _named(address: Address, name: str) -> Address:
    """The address with the team's display name ("Jugendsozialberatung <team@…>")."""
    clean = " ".join(_CONTROL.sub(" ", name).split())
    if not clean:
        return address
    return Address(display_name=clean, username=address.username, domain=address.domain)


def _checked(raw: str) -> Address:
    address = parse_address(raw)
    if address is None:
        raise ValueError(f"{raw!r} ist keine einfache E-Mail-Adresse")
    return address


def _safe_filename(filename: str) -> str:
    """The last path part, without control characters: a name, never a path."""
    name = _CONTROL.sub("", filename).replace("\\", "/").rpartition("/")[2].strip()
    return name or "Anhang"
