"""Access per young person (Art. 15 DSGVO, § 83 SGB X): everything the service holds about them,
in one HTML document for the office to hand over, with the mails as .eml files and the
letters beside it."""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import JugendhausError, MailboxError
from jugendhaus_mail.mailbox.base import Folder, Mailbox
from jugendhaus_mail.privacy import records
from jugendhaus_mail.privacy.person import Person, parse
from jugendhaus_mail.privacy.txlog import transmissions
from jugendhaus_mail.workbook.model import CellValue
from jugendhaus_mail.workbook.schema import load_schema


@dataclass
class ExportReport:
    document: Path
    rows: int = 0
    mails: list[Path] = field(default_factory=list)
    letters: list[Path] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"Auskunft geschrieben: {self.document}",
            f"  {self.rows} Fall/Fälle, {len(self.mails)} Mail(s), {len(self.letters)} Brief(e)",
        ]
        if self.mails or self.letters:
            lines.append(f"  Dateien im Ordner {self.document.with_suffix('')}-Dateien")
        lines += [f"  NICHT erreicht: {line}" for line in self.left]
        return lines


def export_person(app: App, person: Person, out: Path, mailbox: Mailbox | None) -> ExportReport:
    if out.suffix.lower() not in (".html", ".htm"):
        raise JugendhausError(f"{out}: bitte eine .html-Datei angeben (z. B. --out Auskunft.html).")
    report = ExportReport(out)
    files = out.with_name(out.stem + "-Dateien")
    files.mkdir(parents=True, exist_ok=True)
    headers = {c.key: c.header for c in load_schema().requests.columns}
    parts = [_head(person, app.now)]
    for row in person.rows:
        report.rows += 1
        cells = "".join(
            f"<tr><th>{_e(headers.get(k, k))}</th><td>{_e(_text(v))}</td></tr>"
            for k, v in row.items()
            if not k.startswith("_") and k in headers and v not in (None, "")
        )
        parts.append(f"<h2>Fall {_e(str(row.get('nr') or 'ohne Nr.'))}</h2><table>{cells}</table>")
    mail_rows = []
    if mailbox is None:
        report.left.append("Postfach (nicht erreichbar)")
    else:
        try:
            for folder in Folder:
                for message in mailbox.list_folder(folder):
                    if not person.concerns(message.raw):
                        continue
                    number = len(report.mails) + 1
                    target = files / f"Mail-{number:03d}-{folder.value.replace(' ', '-')}.eml"
                    target.write_bytes(message.raw)
                    report.mails.append(target)
                    parsed = parse(message.raw)
                    mail_rows.append(
                        f"<tr><td>{message.received:%d.%m.%Y %H:%M}</td><td>{_e(folder.value)}"
                        f"</td><td>{_e(str(parsed.get('From', '')))}</td>"
                        f"<td>{_e(str(parsed.get('Subject', '')))}</td><td>{target.name}</td></tr>"
                    )
        except MailboxError as exc:
            report.left.append(f"Postfach ({exc})")
    parts.append(
        "<h2>Mails im Teampostfach</h2><table><tr><th>Eingang</th><th>Ordner</th><th>Von</th>"
        f"<th>Betreff</th><th>Datei</th></tr>{''.join(mail_rows)}</table>"
    )
    with app.state() as state:
        letter_rows, log_rows, deletion_rows = [], [], []
        for nr in person.numbers:
            for path in records.letters(state, nr=nr):
                for found in (path, path.with_suffix(".pdf")):
                    if found.exists():
                        shutil.copy2(found, files / found.name)
                        report.letters.append(files / found.name)
                        letter_rows.append(f"<li>{_e(nr)}: {_e(found.name)}</li>")
            log_rows += [f"<li>{_e(nr)}: {_e(t.line())}</li>" for t in transmissions(state, nr)]
            deletion_rows += [
                f"<li>{_e(nr)}: {_e(at)} – {_e(what)} (veranlasst von {_e(by)})</li>"
                for at, what, by in records.deletions(state, nr)
            ]
    parts.append(f"<h2>Briefe</h2><ul>{''.join(letter_rows) or '<li>keine</li>'}</ul>")
    parts.append(
        "<h2>Übermittlungen (wer welche Mail erhielt)</h2>"
        f"<ul>{''.join(log_rows) or '<li>keine</li>'}</ul>"
    )
    parts.append(f"<h2>Löschvermerke</h2><ul>{''.join(deletion_rows) or '<li>keine</li>'}</ul>")
    out.write_text(_page("".join(parts)), encoding="utf-8")
    out.chmod(0o600)
    return report


def _head(person: Person, now: datetime) -> str:
    return (
        "<h1>Auskunft über gespeicherte Daten</h1>"
        f"<p>Stand {now:%d.%m.%Y %H:%M} UTC, Art. 15 DSGVO / § 83 SGB X. Fälle: "
        f"{_e(', '.join(person.numbers))}. Quelle: Anfrageliste, Teampostfach (Ordner Erfasst, "
        "Nicht erfasst, Postausgang), Zustandsdatenbank und Briefe des Dienstes "
        "jugendhaus-mail.</p>"
    )


def _page(body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Auskunft</title>'
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}th,td{border:1px solid #999;padding:.2em .5em;"
        f"text-align:left;vertical-align:top}}</style></head><body>{body}</body></html>\n"
    )


def _text(value: CellValue) -> str:
    if isinstance(value, datetime):
        return (
            f"{value:%d.%m.%Y %H:%M}"
            if (value.hour, value.minute) != (0, 0)
            else f"{value:%d.%m.%Y}"
        )
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return str(value)


def _e(text: str) -> str:
    return html.escape(text)
