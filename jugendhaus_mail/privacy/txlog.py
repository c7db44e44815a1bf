"""The transmission log (SGB X): who received which mail and letter about a case, and when.

Read from the outbox: its key names the case and the kind of mail, `sent_log` the recipients;
never the content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jugendhaus_mail.state import StateDB

KINDS = {
    "acknowledgement": "Eingangsbestätigung an die anfragende Stelle",
    "kinderschutz": "Kinderschutz-Meldung an Leitungen und JSB",
    "letter": "Brief an den jungen Menschen (als Word-Datei an die Fachkraft)",
    "contact_person": "Erinnerung/Eskalation Ansprechpartner",
    "contact_person_named": "Mitteilung Ansprechpartner JSB",
    "verbis": "VerBIS-Hinweis",
    "renumbered": "Mitteilung neue Fallnummer",
    "home_visit": "Erinnerung/Eskalation Hausbesuch",
    "feedback": "Erinnerung Rückmeldung",
}


@dataclass(frozen=True)
class Transmission:
    key: str
    kind: str
    recipients: str
    attachments: int
    queued_at: datetime
    sent_at: datetime | None

    def line(self) -> str:
        when = f"{self.sent_at:%d.%m.%Y %H:%M}" if self.sent_at else "nicht versandt"
        who = self.recipients or "Empfänger nicht erfasst (vor dieser Version versandt)"
        extra = f", {self.attachments} Anlage(n)" if self.attachments else ""
        return f"{when}  {self.kind}{extra} → {who}"


def kind_of(key: str) -> str:
    parts = key.split("|")
    name = parts[1] if len(parts) > 1 else key
    label = KINDS.get(name, name)
    if name == "letter" and len(parts) > 2:
        label += f" ({parts[2]})"
    elif name not in ("letter", "contact_person_named") and len(parts) > 2:
        label += f" ({' '.join(parts[2:])})"
    return label


def transmissions(state: StateDB, nr: str) -> list[Transmission]:
    prefix = nr + "|"
    rows = state.conn.execute(
        "SELECT o.key, o.queued_at, o.sent_at, l.recipients, l.attachments FROM outbox o "
        "LEFT JOIN sent_log l ON l.key = o.key WHERE substr(o.key, 1, ?) = ? "
        "ORDER BY COALESCE(o.sent_at, o.queued_at), o.key",
        (len(prefix), prefix),
    ).fetchall()
    return [
        Transmission(
            str(key),
            kind_of(str(key)),
            str(recipients or ""),
            int(attachments or 0),
            datetime.fromisoformat(queued),
            datetime.fromisoformat(sent) if sent else None,
        )
        for key, queued, sent, recipients, attachments in rows
    ]
