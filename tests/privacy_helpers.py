"""A site with three young people's cases in every store, and a byte-level search of it."""

from __future__ import annotations

import email
import email.policy
import io
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path

from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc
from tests.test_letters import MAIKE, set_cells

PEOPLE = (
    ("Zyprian Quellenberg", "111A111111", "01.05.2008", "Lindenweg 1, 18055 Rostock"),
    ("Berta Sonnenschein", "222B222222", "02.06.2007", "Ahornallee 2, 18055 Rostock"),
    ("Carla Wolkenstein", "333C333333", "03.07.2009", "Birkenpfad 3, 18055 Rostock"),
)


def body(number: int) -> str:
    name, customer, born, address = PEOPLE[number]
    return f"Name: {name}\nKundennummer: {customer}\nGeburtsdatum: {born}\nAnschrift: {address}\n"


def person_terms(number: int) -> list[str]:
    name, customer, born, address = PEOPLE[number]
    last, first = name.split(" ")[1], name.split(" ")[0]
    return [name, f"{last}, {first}", customer, born, address.split(",")[0]]


def full_site(root: Path) -> Site:
    """Three requests (one a home visit), an auto-reply naming the first young person, a
    letter on disk and mailed, a staff note, workbook backups, a JSON log file."""
    site = make_site(root, '[logging]\nfile = "logs/dienst.log"\n')
    set_staff(site, [*STAFF, MAIKE])
    subjects = ("Hausbesuch erbeten", "Fallanfrage", "Fallanfrage")
    for number in range(3):
        raw = request_mail(subjects[number], body(number), message_id=f"<p{number}@jc.de>")
        site.deliver(raw, utc(2026, 3, 16, 8 + number), f"p{number}")
    auto = request_mail(
        "Automatische Antwort: Zyprian Quellenberg",
        "Ich bin bis 20.03. abwesend. Zu Zyprian Quellenberg bitte Frau Kowalski fragen.",
        sender="Ralf Timmermann <ralf.timmermann@jobcenter-ge.de>",
        message_id="<auto1@jc.de>",
        headers=[("Auto-Submitted", "auto-replied")],
    )
    site.deliver(auto, utc(2026, 3, 16, 12), "auto1")
    assert site.run("poll", now="2026-03-17T09:00") == 0
    set_cells(
        site,
        {
            "Hausbesuch geplant am": datetime(2026, 3, 26, 10, 0),
            "Hausbesuch durch": "Lena Kowalski und Maike Köster",
            "Bemerkungen": "Mutter von Zyprian Quellenberg angerufen",
        },
    )
    assert site.run("remind", now="2026-03-18T09:00") == 0  # mails the letter as .docx
    (site.root / "briefe").mkdir()
    out = site.root / "briefe" / "hausbesuch.docx"
    assert (
        site.run("letter", "2026-0001", "hausbesuch", "--out", str(out), now="2026-03-18T09:05")
        == 0
    )
    return site


def readable(path: Path) -> str:
    """Everything a file says, as a search would find it: the raw bytes, the XML inside a
    zip (.xlsx, .docx), and every decoded part of a mail including zipped attachments."""
    data = path.read_bytes()
    texts = [data.decode("utf-8", "replace")]
    texts += _unzipped(data)
    if b"\nSubject:" in data or data.startswith((b"From:", b"Subject:", b"To:", b"MIME")):
        message = email.message_from_bytes(data, policy=email.policy.default)
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode("utf-8", "replace"))
                texts += _unzipped(payload)
        texts += [str(v) for _, v in message.items()]
    return "\n".join(texts)


def _unzipped(data: bytes) -> list[str]:
    if not data.startswith(b"PK"):
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return [package.read(n).decode("utf-8", "replace") for n in package.namelist()]
    except zipfile.BadZipFile:
        return []


def files_naming(root: Path, terms: list[str]) -> dict[str, list[str]]:
    """Which files under `root` contain which of the terms (case-insensitive; the XML of a
    zip is searched with its tags removed too, as Word splits text into runs)."""
    import re

    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = readable(path)
        flat = re.sub(r"<[^>]*>", "", text)
        hits = [
            t for t in terms if t.casefold() in text.casefold() or t.casefold() in flat.casefold()
        ]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


def state_tables(state_dir: Path) -> set[str]:
    with sqlite3.connect(state_dir / "jugendhaus-mail.sqlite3") as conn:
        return {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
