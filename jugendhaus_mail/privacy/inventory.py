"""The inventory of personal data: every store the service writes, what it holds, for how long
and who receives it. `docs/datenschutz.md` is written from this (a test keeps both in step),
so an office can lift it into its record of processing (Art. 30 DSGVO) and deletion concept.
"""

from __future__ import annotations

from dataclasses import dataclass

from jugendhaus_mail.mailbox.base import Folder


@dataclass(frozen=True)
class Store:
    name: str  # as in the table of docs/datenschutz.md
    where: str
    data: str  # categories of personal data
    kept: str  # retention and deletion
    recipients: str


YOUNG_PERSON = "Name, Kundennummer, Geburtsdatum, Anschrift des jungen Menschen"
STORES = (
    Store(
        "Anfrageliste, Blatt Anfragen",
        "[workbook] path",
        f"{YOUNG_PERSON}; Betreff, anfragende Fachkraft (Name, E-Mail), Bemerkungen; "
        "Fallverlauf (Daten, Zustimmungen, Hausbesuch, Fallende)",
        "personenbezogene Spalten `[retention] months` nach „Fallende am“ geleert; "
        "`privacy erase` sofort",
        "Fachkräfte mit Zugriff auf die Datei (Dateirechte der Ablage)",
    ),
    Store(
        "Anfrageliste, Blätter Mitarbeitende und Abwesenheiten",
        "[workbook] path",
        "Beschäftigte: Name, E-Mail, Telefon, Rolle, Abwesenheiten (ohne Grund der Abwesenheit, "
        "wenn nicht eingetragen)",
        "pflegt das Büro von Hand",
        "Fachkräfte mit Zugriff auf die Datei",
    ),
    Store(
        "Anfrageliste, Blätter Termine und Gelöscht",
        "[workbook] path",
        "Fallnummer, Termine, Seite, eintragende Fachkraft; bei Gelöscht Datum, wer, Grund "
        "(Freitext der Fachkräfte); keine Daten des jungen Menschen, wenn niemand sie eintippt",
        "pflegt das Büro von Hand",
        "Fachkräfte mit Zugriff auf die Datei",
    ),
    Store(
        "Sicherungen der Anfrageliste",
        "[state] dir/backups/",
        "wie die Anfrageliste",
        "die letzten `[workbook] backups` Fassungen; älter als `[retention] backup_days` "
        "gelöscht; bei Löschfrist und `privacy erase` bereinigt oder gelöscht; Rechte 0600",
        "niemand (nur das Dienstkonto)",
    ),
    Store(
        f"Postfachordner {Folder.ERFASST.value}",
        "Teampostfach (unter dem Posteingang)",
        f"Anfrage-Mails: {YOUNG_PERSON}, Anhänge, Absender",
        "gelöscht `[retention] mail_months` nach Eingang; `privacy erase` sofort",
        "Personen mit Zugriff auf das Teampostfach",
    ),
    Store(
        f"Postfachordner {Folder.NICHT_ERFASST.value}",
        "Teampostfach (unter dem Posteingang)",
        "beiseitegelegte Mails (Abwesenheitsnotizen, Unzustellbares, Doppelte); können Namen "
        "enthalten",
        "gelöscht `[retention] mail_months` nach Eingang; `privacy erase` sofort",
        "Personen mit Zugriff auf das Teampostfach",
    ),
    Store(
        f"Postfachordner {Folder.POSTAUSGANG.value} / Gesendete Elemente",
        "Maildir `.Postausgang`; EWS/Graph: Gesendete Elemente; IMAP: `sent_folder`",
        "Mails des Dienstes: Fallnummer, Empfänger (Beschäftigte); Briefe an junge Menschen "
        "als Word-Anhang mit Name und Anschrift",
        "vom Dienst gesendete Mails gelöscht `[retention] sent_months` nach Versand; "
        "`privacy erase` sofort",
        "die Empfänger der Mails (Jobcenter, Agentur für Arbeit, JSB, Leitungen)",
    ),
    Store(
        "Zustandsdatenbank",
        "[state] dir/jugendhaus-mail.sqlite3 (mit -wal)",
        "siehe Tabellen unten: wartende Zeilen, Kopie geschriebener Zeilen, wartende Mails",
        "je Tabelle, siehe unten; nach jeder Löschung verdichtet (VACUUM, WAL geleert); "
        "Rechte 0600",
        "niemand (nur das Dienstkonto)",
    ),
    Store(
        "Briefe",
        "`letter --out` (vom Dienst vermerkt)",
        "Name und Anschrift des jungen Menschen, Termin, Fachkräfte",
        "gelöscht `[retention] letters_days` nach dem Schreiben; `privacy erase` sofort",
        "der junge Mensch (per Post), die Fachkraft",
    ),
    Store(
        "Halbjahresbericht",
        "`report --out`; Anhang der Erinnerung zum Qualitätsdialog",
        "keine (nur Zahlen, keine Namen, keine Fallnummern)",
        "—",
        "Teilnehmende des Qualitätsdialogs",
    ),
    Store(
        "Protokoll",
        "Journal bzw. `[logging] file`",
        "Fallnummern, Mail-Schlüssel, Namen und Adressen von Beschäftigten; keine Namen junger "
        "Menschen, keine Mailinhalte",
        "Journal: Einstellung des Systems; Datei: 5 × 5 MB rotierend",
        "Administration",
    ),
    Store(
        "Statusdateien",
        "[state] dir/status.json, workbook-status.json",
        "Zeiten, Zähler, wer die Anfrageliste geöffnet hat (Beschäftigte); keine Namen junger "
        "Menschen",
        "bei jedem Lauf überschrieben",
        "Administration, Überwachung (`check --nagios`)",
    ),
    Store(
        "Sperrdateien",
        "[state] dir/jugendhaus-mail.lock, neben der Anfrageliste, im Maildir",
        "Prozessnummer, Befehl, Konfiguration",
        "beim Ende des Befehls freigegeben",
        "niemand",
    ),
    Store(
        "Auskünfte",
        "`privacy export --out` (vom Büro gewählt)",
        "alles zu einem jungen Menschen",
        "vom Büro nach Übergabe zu löschen; Rechte 0600",
        "die auskunftsberechtigte Person",
    ),
)

# Every table of the state database: what it holds and how it is reduced.
STATE_TABLES = {
    "messages": (
        "je gelesener Mail: Schlüssel (Message-ID, Prüfsumme), Ergebnis, Fallnummer, Grund; "
        "die wartende Zeile bis sie geschrieben ist",
        "Zeilendaten nach dem Schreiben leer; Schlüssel bleiben (genau einmal)",
    ),
    "counters": ("letzte Fallnummer je Jahr", "bleibt"),
    "written_rows": (
        "Kopie jeder geschriebenen Zeile, um eine zurückgespielte ältere Anfrageliste zu bemerken",
        "nach `[retention] state_days` auf Schlüssel ohne Personendaten reduziert; Löschfrist "
        "und `privacy erase` entfernen sie",
    ),
    "kv": ("Zeitpunkte und Zustände der Aufgaben, wer die Anfrageliste geöffnet hat", "bleibt"),
    "outbox": (
        "wartende Mails vollständig (mit Briefen)",
        "Inhalt nach dem Versand leer; Schlüssel (Fallnummer, Art) bleiben",
    ),
    "outbox_patterns": (
        "Muster wartender Eingangsbestätigungen: Vorlagentext mit leeren Feldern (ohne "
        "Fallnummer, Namen, Adressen; nur was alle Mails des Tages teilen: Anfrageart, "
        "Eingangstag, Frist), gegen das die Mails gepackt gespeichert sind",
        "mit der letzten wartenden Mail, die es braucht",
    ),
    "outbox_trouble": ("Zustellprobleme: Schlüssel, Grund des Servers", "bis zum Versand"),
    "unaddressed": ("Mails ohne zulässigen Empfänger: Betreff (Fallnummer), Grund", "bleibt"),
    "sent_log": (
        "Übermittlungsnachweis: Schlüssel, Empfänger (Beschäftigte), Zeit, Zahl der Anlagen",
        "bleibt als Nachweis (§ 67 ff. SGB X), kein Inhalt",
    ),
    "appointment_mail": ("Termin-Mails: Schlüssel und Fallnummer", "bleibt"),
    "deletions": ("Löschvermerke: Fallnummer, was, wann, auf wessen Befehl", "bleibt"),
    "erase_pending": ("noch nicht erreichte Speicher einer Löschung", "bis erledigt"),
    "letters_written": ("Pfade der geschriebenen Briefe", "mit dem Brief gelöscht"),
}
MAIL_FOLDERS = tuple(f.value for f in Folder)
