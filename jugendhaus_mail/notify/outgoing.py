"""Build outgoing messages that are safe to send: who may receive them, and how they look.

`RecipientPolicy` decides which addresses are inside the office's own domains; nothing else may
receive mail from the service. `parse_address` reads one plain address; `mime.build_raw` turns a
rendered mail into the bytes that are queued and sent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from email.headerregistry import Address

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
    if not isinstance(raw, str):
        return None
    return _parsed(raw)


@functools.lru_cache(maxsize=1024)  # the team's address and the staff's repeat in every mail
def _parsed(raw: str) -> Address | None:
    if _CONTROL.search(raw):
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


def _named(address: Address, name: str) -> Address:
    """The address with the team's display name ("Jugendsozialberatung <team@…>")."""
    clean = " ".join(_CONTROL.sub(" ", name).split())
    if not clean:
        return address
    return Address(display_name=clean, username=address.username, domain=address.domain)
