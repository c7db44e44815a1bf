"""What an incoming mail is: automated or not, which request kind, which fields, which Rechtskreis.

Everything here works on text that `parse.py` already decoded; nothing reads the clock.

Why one module: the readings share one way of folding text (`_fold`: case, umlauts, ß) and the
requester's name and address rules; apart, each piece would import the others' helpers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import Message

from jugendhaus_mail.intake.htmltext import strip_controls

REQUEST_KINDS = (
    "Fallanfrage", "Hausbesuch", "Stellungnahme", "Mini-Fallkonferenz", "Kinderschutz", "Sonstiges",
)  # fmt: skip

# Highest priority first; patterns run on `_fold`ed text (lower case, umlauts as ae/oe/ue/ss).
_KIND_PATTERNS = (
    ("Kinderschutz", re.compile(r"kinderschutz|kindeswohl|§\s*8\s*a\b")),
    ("Mini-Fallkonferenz", re.compile(r"fall[\s-]*konferenz")),
    ("Hausbesuch", re.compile(r"haus[\s-]*besuch")),
    ("Stellungnahme", re.compile(r"stellungnahme|sozial[\s-]*anamnese")),
    ("Fallanfrage", re.compile(r"fall[\s-]*anfrage")),
    ("Sonstiges", re.compile(r"sonstiges")),
)


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()  # what the lines below give for ASCII, at a fraction of the cost
    text = unicodedata.normalize("NFKC", text).casefold()  # casefold also turns ß into ss
    return text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")


def request_kind(subject: str) -> str:
    """The Anfrageart a subject selects. Without a keyword the kind is "Sonstiges": the mail is
    still a request, and staff see at a glance that its kind is still to be decided."""
    folded = _fold(subject)
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(folded):
            return kind
    return "Sonstiges"


# --- fields in the body ---------------------------------------------------------------------

MAX_FIELD = 200

# Labels after `_label_key` (folded, without spaces, dots, hyphens and commas).
_LABELS = {
    "name": "name", "namedesjungenmenschen": "name", "namederjungenperson": "name",
    "namedeskunden": "name", "namederkundin": "name", "namedesjugendlichen": "name",
    "namederjugendlichen": "name", "namevorname": "name", "nachnamevorname": "name",
    "vornamename": "name", "vornamenachname": "name", "vorundnachname": "name",
    "vorundzuname": "name", "kundenname": "name", "namederkundindeskunden": "name",
    "namedeskundenderkundin": "name", "vorname": "first_name", "nachname": "last_name",
    "familienname": "last_name", "zuname": "last_name",
    "kundennummer": "customer_number", "kundennr": "customer_number", "kdnr": "customer_number",
    "kdnummer": "customer_number",
    "anschrift": "address", "adresse": "address", "wohnanschrift": "address",
    "meldeanschrift": "address", "wohnadresse": "address",
    "geburtsdatum": "birth_date", "gebdatum": "birth_date", "geb": "birth_date",
    "geborenam": "birth_date", "geboren": "birth_date", "geburtstag": "birth_date",
}  # fmt: skip
_LABEL_LINE = re.compile(r"^[\s\-*•·]*([^:\n]{1,40}?)\s*:[ \t]*(.*)$")
_REPLY_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(urspruengliche nachricht|original message)\s*-{2,}"
    r"|am .{4,80} schrieb .{1,120}:|on .{4,80} wrote:)\s*$"
)
_HEADER_BLOCK = (
    re.compile(r"^\s*(von|from)\s*:"),
    re.compile(r"^\s*(gesendet|sent|datum|date)\s*:"),
)
_INLINE_CUSTOMER_NUMBER = re.compile(r"kundennummer\s*:\s*(\d{3}[a-z]\d{6})\b", re.IGNORECASE)
_POSTCODE_LINE = re.compile(r"^\s*(d-)?\d{5}\s+\S")
_MONTHS = {
    "januar": 1, "jaenner": 1, "februar": 2, "maerz": 3, "april": 4, "mai": 5, "juni": 6,
    "juli": 7, "august": 8, "september": 9, "oktober": 10, "november": 11, "dezember": 12,
}  # fmt: skip


@dataclass(frozen=True)
class BodyFields:
    client_name: str | None
    customer_number: str | None
    address: str | None
    birth_date: date | None


def _label_key(label: str) -> str:
    """ "Kd.-Nr. (BA)" -> "kdnr": folded, without remarks in brackets and punctuation."""
    key = _LABEL_KEYS.get(label)
    if key is None:  # the same few labels in every mail: worked out once each
        if len(_LABEL_KEYS) >= 4096:
            _LABEL_KEYS.clear()
        key = _LABEL_KEYS[label] = _LABEL_NOISE.sub("", _fold(label))
    return key


_LABEL_KEYS: dict[str, str] = {}
_LABEL_NOISE = re.compile(r"\([^)]*\)|[\s.\-,/]+")


def _clean_value(value: str) -> str | None:
    value = " ".join(strip_controls(value, keep="\t\n").split())[:MAX_FIELD].strip()
    return value or None


def _own_lines(body: str) -> list[str]:
    """The lines the sender wrote: quoted text and everything below a reply header is left out."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not _may_end_own_text(_fold(text)):  # no line can be a reply header: only quotes go
        if ">" not in text:
            return lines
        return [line for line in lines if not line.lstrip().startswith(">")]
    own: list[str] = []
    for index, line in enumerate(lines):
        if not line:
            own.append(line)  # neither a separator nor quoted: the checks below, skipped
            continue
        folded = _fold(line)
        if _REPLY_SEPARATOR.match(folded):
            break
        if _HEADER_BLOCK[0].match(folded):
            following = _fold(lines[index + 1]) if index + 1 < len(lines) else ""
            if _HEADER_BLOCK[1].match(following):
                break
        if not line.lstrip().startswith(">"):
            own.append(line)
    return own


def _may_end_own_text(folded: str) -> bool:
    """False when no line of the text (`_fold`ed as a whole, which folds each line as
    `_own_lines` does: a line break is left alone and ends no normalisation) can match
    `_REPLY_SEPARATOR` or the first of `_HEADER_BLOCK`: each needs one of these words."""
    return (
        "schrieb" in folded
        or "wrote:" in folded
        or "urspruengliche nachricht" in folded
        or "original message" in folded
        or _FROM_LABEL.search(folded) is not None
    )


_FROM_LABEL = re.compile(r"(?:von|from)\s*:")


def extract_fields(body: str, *, today: date | None = None) -> BodyFields:
    """Read the optional `Name:`, `Kundennummer:`, `Anschrift:`, `Geburtsdatum:` lines.

    The first occurrence of each field wins. `today` makes the two-digit-year rule and the
    plausibility check of birth dates exact; without it, years 00–39 mean 20xx.
    """
    lines = _own_lines(body)
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _LABEL_LINE.match(line) if ":" in line else None  # a label needs its colon
        field = _LABELS.get(_label_key(match.group(1))) if match else None
        if match is None or field is None or field in found:
            continue
        value = match.group(2)
        if field == "address":
            value = _join_address(value, lines[index + 1 : index + 4])
        cleaned = _clean_value(value)
        if cleaned:
            found[field] = cleaned
    if "customer_number" not in found:
        # a Kundennummer is distinctive enough to take from inside a sentence, too
        inline = _INLINE_CUSTOMER_NUMBER.search("\n".join(lines))
        if inline:
            found["customer_number"] = inline.group(1)
    birth = found.get("birth_date")
    split_name = " ".join(found[k] for k in ("first_name", "last_name") if k in found)
    return BodyFields(
        client_name=found.get("name") or split_name[:MAX_FIELD] or None,
        customer_number=found.get("customer_number"),
        address=found.get("address"),
        birth_date=parse_birth_date(birth, today) if birth else None,
    )


def _is_label(line: str) -> bool:
    match = _LABEL_LINE.match(line)
    return bool(match and _label_key(match.group(1)) in _LABELS)


def _join_address(first: str, following: list[str]) -> str:
    """Street and town are often on two lines: "Anschrift: Weg 1" + "18055 Rostock"."""
    parts = [first.strip()] if first.strip() else []
    for line in following:
        if not line.strip():
            if parts:
                continue  # Outlook HTML leaves blank lines between the two
            break
        if _is_label(line) or len(parts) >= 2:
            break
        street = not parts and re.search(r"\d", line)  # "Anschrift:" alone, street below
        town = parts and _POSTCODE_LINE.match(line) and not re.search(r"\b\d{5}\b", parts[0])
        if not (street or town):
            break
        parts.append(line.strip())
    return ", ".join(parts)


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_GERMAN_DATE = re.compile(r"\b(\d{1,2})\s*\.\s*(\d{1,2})\s*\.\s*(\d{4}|\d{2})(?!\d)")
_NAMED_DATE = re.compile(r"\b(\d{1,2})\.?\s*([a-z]+)\s+(\d{4})\b")


def parse_birth_date(text: str, today: date | None = None) -> date | None:
    """A German date (01.02.2005, 1.2.05, 1. Februar 2005) or ISO 2005-02-01; None if impossible."""
    folded = _fold(text)
    iso = _ISO_DATE.search(folded)
    german = _GERMAN_DATE.search(folded)
    named = _NAMED_DATE.search(folded)
    if iso:
        year, month, day = int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
    elif german:
        day, month, year = int(german.group(1)), int(german.group(2)), int(german.group(3))
        if len(german.group(3)) == 2:
            year = _full_year(year, today)
    elif named and named.group(2) in _MONTHS:
        day, month, year = int(named.group(1)), _MONTHS[named.group(2)], int(named.group(3))
    else:
        return None
    try:
        born = date(year, month, day)
    except ValueError:
        return None
    if born.year < 1900 or (today is not None and born > today):
        return None
    return born


def _full_year(two_digits: int, today: date | None) -> int:
    # A young person: the most recent century that does not put the birth in the future.
    pivot = today.year if today is not None else 2039
    year = 2000 + two_digits
    return year if year <= pivot else year - 100


# --- the requester's name -------------------------------------------------------------------

MAX_NAME = 200
_REMARK = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_UNCLOSED_REMARK = re.compile(r"[(\[].*$")
_TITLE_WORD = re.compile(
    r"(dr|prof|dipl|mag|med|rer|nat|phil|jur|habil)\.?(-[^\W\d_]+\.?)?", re.IGNORECASE
)
_NAME_PART = re.compile(r"[^\W\d_]+(?:[-'’. ]+[^\W\d_]+)*\.?")
_QUOTES = "'\"‘’‚“”„«»` "
_NAME_LIKE = re.compile(r"[^\W\d_]+(?:[-'’‘\".,\s]+[^\W\d_]+)*\.?")


def person_name(
    display: str, address: str | None = None, staff_names: Mapping[str, str] | None = None
) -> str:
    """The requester's name as colleagues say it.

    The `Name` of sheet Mitarbeitende wins when it knows the address. Otherwise Outlook's
    "Schulz, Anna (Jobcenter Rostock)" becomes "Anna Schulz": remarks in brackets go, and
    "Nachname, Vorname" turns round (titles such as "Dr." go in front). A display name that
    does not look like a person's name is kept as it is.
    """
    names = _names_by_address(staff_names) if address and staff_names else {}
    return _person_name(display, address, names)


def _names_by_address(staff_names: Mapping[str, str]) -> dict[str, str]:
    """Staff names by folded e-mail address; the first entry of an address wins."""
    names: dict[str, str] = {}
    for address, name in staff_names.items():
        names.setdefault(address.strip().casefold(), name)
    return names


def _person_name(display: str, address: str | None, names: Mapping[str, str]) -> str:
    if address and names:
        known = names.get(address.strip().casefold(), "")
        if _one_line(known):
            return _one_line(known)
    text = _one_line(display).strip(_QUOTES)
    if not any(c.isalnum() for c in text):
        return ""
    without = _one_line(_UNCLOSED_REMARK.sub("", _remove_remarks(text))).strip(_QUOTES + ",")
    if not _NAME_LIKE.fullmatch(without):
        return text[:MAX_NAME].strip()  # not a person's name: staff see what was sent
    if "," in without:
        without = _turned_round(without)
    return _one_line(without)[:MAX_NAME].strip()


def _one_line(text: str) -> str:
    return " ".join(strip_controls(text, keep="\t\n").split())


def _remove_remarks(text: str) -> str:
    while True:
        shorter = _REMARK.sub(" ", text)
        if shorter == text:
            return shorter
        text = shorter


def _is_title(part: str) -> bool:
    words = part.split()
    return bool(words) and all(_TITLE_WORD.fullmatch(w) for w in words)


def _turned_round(text: str) -> str:
    """ "Schulz, Dr. Anna" -> "Dr. Anna Schulz"; unchanged when the parts are not names."""
    parts = [p.strip(_QUOTES) for p in text.split(",")]
    parts = [p for p in parts if p]
    titles = [p for p in parts if _is_title(p)]
    names = [p for p in parts if not _is_title(p)]
    if not names:
        return " ".join(titles)
    if len(names) == 1:
        return " ".join([*titles, names[0]])
    last, first = names[0], names[1]
    if not all(_NAME_PART.fullmatch(p) and len(p.split()) <= 4 for p in (last, first)):
        return text
    last_words = last.split()
    while len(last_words) > 1 and _TITLE_WORD.fullmatch(last_words[0]):
        titles.append(last_words.pop(0))
    return " ".join([*titles, first, *last_words])


# --- Rechtskreis ----------------------------------------------------------------------------


def rechtskreis_for(
    address: str | None, domain_map: Mapping[str, str], staff_rechtskreis: Mapping[str, str]
) -> str:
    """Rechtskreis of a sender: the staff sheet wins, then the domain (subdomains included)."""
    if not address or "@" not in address:
        return "extern"
    return SenderLookup(domain_map, staff_rechtskreis).rechtskreis(address)


class SenderLookup:
    """`rechtskreis_for` and `person_name` with the staff sheet and the domain map folded
    once, for a run that asks for every mail (the same answers)."""

    def __init__(
        self,
        domain_map: Mapping[str, str],
        staff_rechtskreis: Mapping[str, str],
        staff_names: Mapping[str, str] | None = None,
    ) -> None:
        self._staff = {key.strip().lower(): value for key, value in staff_rechtskreis.items()}
        self._domains = {
            key.strip().lower().lstrip("@.").rstrip("."): v for key, v in domain_map.items()
        }
        self._names = _names_by_address(staff_names or {})

    def person_name(self, display: str, address: str | None) -> str:
        return _person_name(display, address, self._names)

    def rechtskreis(self, address: str | None) -> str:
        if not address or "@" not in address:
            return "extern"
        address = address.strip().lower()
        staff = self._staff
        if address in staff:
            return staff[address]
        domains = self._domains
        labels = address.rsplit("@", 1)[1].rstrip(".").split(".")
        for start in range(len(labels)):
            candidate = ".".join(labels[start:])
            if candidate in domains:
                return domains[candidate]
        return "extern"


# --- automated mail -------------------------------------------------------------------------

_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-AutoReply-From",
                      "X-Mail-Autoreply")  # fmt: skip
_SYSTEM_SENDERS = re.compile(r"^(mailer-?daemon|postmaster|microsoftexchange[0-9a-f]*)@")
_SUBJECT_RULES = (
    ("Abwesenheitsnotiz (laut Betreff)", re.compile(
        r"^(automatische antwort|automatic reply|auto[- ]?reply|abwesenheitsnotiz"
        r"|out of office)")),
    ("Unzustellbarkeitsbericht (laut Betreff)", re.compile(
        r"^(unzustellbar|undeliverable|delivery status notification|mail delivery failed"
        r"|returned mail|undelivered mail|delivery failure|nicht zustellbar)")),
    ("Lesebestätigung (laut Betreff)", re.compile(
        r"^(lesebestaetigung|read:|gelesen:|nicht gelesen:|read receipt|return receipt)")),
)  # fmt: skip
_NEGATIVE = {"no", "false", "0", "off", "none"}
_RawHeaders = Mapping[str, Sequence[str]]


def _token(value: object) -> str:
    """First token of a header value, reduced to harmless characters for the reason text."""
    if value is None:
        return ""
    first = re.split(r"[\s;(]", str(value).strip().lower(), maxsplit=1)[0]
    return re.sub(r"[^a-z0-9_.-]", "", first)[:40]


def automated_reason(
    msg: Message,
    sender_address: str | None,
    subject: str,
    headers: _RawHeaders | None = None,
    content_type: str | None = None,
) -> str | None:
    """German reason when `msg` (raw `headers` by lower-case name and its `content_type`, if
    at hand) is automated mail to be set aside, else None. X-Auto-Response-Suppress is
    deliberately ignored: Outlook sends it on ordinary mail too."""

    def get(name: str) -> object:  # msg.get(name), from `headers` where they tell the same
        values = headers.get(name.lower()) if headers is not None else None
        if headers is None or (values and not values[0].isascii()):
            return msg.get(name)  # 8-bit bytes make the stdlib return a Header object
        return values[0] if values else None

    return (
        _report_reason(msg, content_type)
        or _header_reason(get)
        or _sender_reason(get, sender_address)
        or _subject_reason(subject)
        or (None if sender_address else "Kein gültiger Absender")
    )


def _report_reason(msg: Message, content_type: str | None = None) -> str | None:
    if (content_type or msg.get_content_type()) != "multipart/report":
        return None
    report_type = _token(msg.get_param("report-type"))
    if report_type == "delivery-status":
        return "Unzustellbarkeitsbericht (Bounce)"
    if report_type == "disposition-notification":
        return "Lesebestätigung"
    return "Automatischer Bericht (multipart/report)"


def _header_reason(get: Callable[[str], object]) -> str | None:
    auto = _token(get("Auto-Submitted"))
    if get("Auto-Submitted") is not None and auto != "no":
        kind = "Automatische Antwort" if auto == "auto-replied" else "Automatische Nachricht"
        return f"{kind} (Auto-Submitted: {auto or 'ohne Wert'})"
    for name in _AUTOREPLY_HEADERS:
        if get(name) is not None and _token(get(name)) not in _NEGATIVE:
            return f"Automatische Antwort ({name})"
    precedence = _token(get("Precedence"))
    if precedence in ("bulk", "junk"):
        return f"Massenmail (Precedence: {precedence})"
    if precedence == "list":
        return "Mailingliste (Precedence: list)"
    if precedence == "auto_reply":
        return "Automatische Antwort (Precedence: auto_reply)"
    for name in ("List-Id", "List-Unsubscribe"):
        if get(name) is not None:
            return f"Mailingliste oder Newsletter ({name})"
    return None


def _sender_reason(get: Callable[[str], object], sender_address: str | None) -> str | None:
    return_path = get("Return-Path")
    if return_path is not None and re.fullmatch(r"\s*<\s*>\s*", str(return_path)):
        return "Automatische Nachricht (leerer Return-Path)"
    if sender_address and _SYSTEM_SENDERS.match(sender_address):
        return "Unzustellbarkeitsbericht (Absender MAILER-DAEMON/postmaster)"
    return None


def _subject_reason(subject: str) -> str | None:
    folded = _fold(subject).strip()
    for reason, pattern in _SUBJECT_RULES:
        if pattern.match(folded):
            return reason
    return None
