"""Finding a young person across the stores: by case number, name or customer number.

A selector may match several rows. Rows belong to one person when they share a customer
number or a birth date (one young person with two cases); rows of different people are
ambiguous, and then nothing is done and the candidates are listed by case number. Mail is
about the person when it carries their case number in the subject, is one of the mails the
state database recorded for the case (by Message-ID), or names them or their customer number
anywhere in its text, its HTML or a Word/Excel attachment.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage

from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.model import CellValue, Row

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")
_DIGEST_SUFFIX = re.compile(r"#[0-9a-f]{8,}$")
IDENTIFYING = ("client_name", "customer_number", "birth_date", "address")


class SelectionError(JugendhausError):
    """No row matches, or several people do (the message lists the candidates)."""


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def _date_texts(value: CellValue) -> list[str]:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return [f"{value:%d.%m.%Y}", value.isoformat(), f"{value.day}.{value.month}.{value.year}"]
    return [str(value)] if value not in (None, "") else []


@dataclass
class Person:
    """Everything that identifies one young person: their rows (one per case) and the texts
    that find them in mail and files. Lives only in memory, never stored."""

    numbers: list[str]
    rows: list[Row]
    names: list[str] = field(default_factory=list)  # normalized: "vorname nachname", swapped
    customer_numbers: list[str] = field(default_factory=list)
    message_ids: set[str] = field(default_factory=set)
    traces: Traces | None = None  # from an unfinished erasure: the names, as salted digests

    def terms(self) -> list[str]:
        """Every text of the person that must vanish from the files (normalized)."""
        found = [*self.names, *self.customer_numbers]
        for row in self.rows:
            found += [normalize(t) for t in _date_texts(row.get("birth_date"))]
            if row.get("address"):
                found.append(normalize(str(row["address"])))
        return sorted({t for t in found if len(t) >= 4})

    def mentioned_in(self, text: str) -> bool:
        """Does this (normalized) text name the person or their customer number?"""
        if any(term in text for term in (*self.names, *self.customer_numbers)):
            return True
        return self.traces is not None and self.traces.found_in(text)

    def traced(self) -> Traces:
        """Salted digests of the names and customer numbers: what an erasure that must be
        finished later keeps, so it still finds mail naming the person once the workbook
        no longer does."""
        old = self.traces.digests if self.traces else set()
        salt = self.traces.salt if self.traces else secrets.token_hex(16)
        traces = Traces(salt, set(old))
        for term in (*self.names, *self.customer_numbers):
            traces.digests.add(traces.digest(_WORD.findall(term)))
        return traces

    def concerns(self, raw: bytes) -> bool:
        """Is this mail about the person?"""
        message = parse(raw)
        subject = str(message.get("Subject", ""))
        if any(nr in subject for nr in self.numbers):
            return True
        own_id = str(message.get("Message-ID", "")).strip().strip("<>")
        return bool(own_id and own_id in self.message_ids) or self.mentioned_in(mail_text(message))


@dataclass
class Traces:
    salt: str
    digests: set[str]

    def digest(self, words: list[str]) -> str:
        data = f"{self.salt}|{len(words)}|{' '.join(words)}".encode()
        return hashlib.sha256(data).hexdigest()

    def found_in(self, text: str) -> bool:
        words = _WORD.findall(text)
        for size in range(1, 5):
            for start in range(len(words) - size + 1):
                if self.digest(words[start : start + size]) in self.digests:
                    return True
        return False

    def dumps(self) -> str:
        return json.dumps({"salt": self.salt, "digests": sorted(self.digests)})

    @staticmethod
    def loads(text: str | None) -> Traces | None:
        if not text:
            return None
        data = json.loads(text)
        return Traces(str(data["salt"]), set(data["digests"]))


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def mail_text(message: EmailMessage) -> str:
    """Headers, every text part and the text inside Office attachments, normalized."""
    pieces = [str(message.get(h, "")) for h in ("Subject", "From", "To", "Cc")]
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            payload = part.get_payload(decode=True)
        except Exception:  # a broken part is still searched as it is
            payload = None
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename() or ""
        pieces.append(filename)
        if part.get_content_maintype() == "text":
            charset = part.get_content_charset() or "utf-8"
            try:
                text = data.decode(charset, "replace")
            except LookupError:
                text = data.decode("utf-8", "replace")
            pieces.append(
                html.unescape(_TAG.sub(" ", text)) if "html" in part.get_content_subtype() else text
            )
        elif data[:2] == b"PK":
            pieces.append(package_text(data))
    return normalize(" ".join(pieces))


def package_text(data: bytes) -> str:
    """The text of the XML inside an Office file (.docx, .xlsx), tags removed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = [
                package.read(name).decode("utf-8", "replace")
                for name in package.namelist()
                if name.endswith((".xml", ".rels"))
            ]
    except (zipfile.BadZipFile, OSError, ValueError):
        return ""
    return html.unescape(_TAG.sub("", " ".join(parts)))


def select(
    rows: list[Row],
    state: StateDB,
    *,
    nr: str | None = None,
    name: str | None = None,
    customer_number: str | None = None,
) -> Person:
    """The person the selector means; SelectionError when none or several people match."""
    if nr:
        wanted = [r for r in rows if str(r.get("nr") or "").strip() == nr.strip()]
        label = f"Nr. {nr}"
    elif name:
        target = normalize(name)
        wanted = [r for r in rows if target in _name_forms(r.get("client_name"))]
        label = f"Name „{name}“"
    elif customer_number:
        target = normalize(customer_number)
        wanted = [r for r in rows if normalize(str(r.get("customer_number") or "")) == target]
        label = f"Kundennummer {customer_number}"
    else:
        raise SelectionError("Bitte --nr, --name oder --kundennummer angeben.")
    if not wanted:
        raise SelectionError(
            f"Zu {label} gibt es keinen Fall in der Anfrageliste oder der Warteschlange. "
            "Schreibweise prüfen (oder mit --nr die Fallnummer angeben)."
        )
    if len({_identity(r) for r in wanted}) > 1:
        lines = "\n".join(f"  {_candidate(r)}" for r in wanted)
        raise SelectionError(
            f"{label} passt auf mehrere Personen; nichts wurde verändert. Bitte mit --nr eine "
            f"der Fallnummern wählen:\n{lines}"
        )
    if nr:  # the same person's other cases go too
        identity = _identity(wanted[0])
        wanted = [r for r in rows if r in wanted or _linked(r, wanted[0], identity)]
    return _person(wanted, state)


def _name_forms(value: CellValue) -> set[str]:
    text = normalize(str(value or ""))
    if not text:
        return set()
    forms = {text}
    if "," in text:
        last, _, first = text.partition(",")
        forms.add(normalize(f"{first} {last}"))
    else:
        words = text.split(" ")
        forms.add(normalize(f"{words[-1]}, {' '.join(words[:-1])}"))
        forms.add(normalize(f"{words[-1]} {' '.join(words[:-1])}"))
    return {f for f in forms if f}


def _identity(row: Row) -> str:
    for key in ("customer_number", "birth_date"):
        if row.get(key) not in (None, ""):
            return f"{key}:{normalize(str(row[key]))}"
    return f"nr:{row.get('nr')}"


def _linked(row: Row, chosen: Row, identity: str) -> bool:
    same_name = _name_forms(row.get("client_name")) & _name_forms(chosen.get("client_name"))
    return bool(same_name) and not identity.startswith("nr:") and _identity(row) == identity


def _candidate(row: Row) -> str:
    received = row.get("received")
    when = f", Eingang {received:%d.%m.%Y}" if isinstance(received, date) else ""
    kind = f", {row['kind']}" if row.get("kind") else ""
    return f"{row.get('nr') or 'ohne Nr.'}{when}{kind}"


def _person(rows: list[Row], state: StateDB) -> Person:
    numbers = sorted({str(r["nr"]).strip() for r in rows if r.get("nr")})
    names: set[str] = set()
    customers: set[str] = set()
    for row in rows:
        names |= {n for n in _name_forms(row.get("client_name")) if len(n) >= 4}
        if row.get("customer_number"):
            customers.add(normalize(str(row["customer_number"])))
    ids: set[str] = set()
    for nr in numbers:
        for (key,) in state.conn.execute("SELECT key FROM messages WHERE nr = ?", (nr,)):
            if str(key).startswith("mid:"):
                ids.add(_DIGEST_SUFFIX.sub("", str(key)[4:]).strip().strip("<>"))
    return Person(numbers, rows, sorted(names), sorted(customers), ids)


def case_rows(snapshot_rows: list[Row], state: StateDB) -> list[Row]:
    """The workbook's rows plus the rows still waiting in the state database."""
    numbers = {str(r.get("nr") or "").strip() for r in snapshot_rows}
    waiting = [p.row for p in state.pending_rows() if p.nr not in numbers]
    return [*snapshot_rows, *waiting]
