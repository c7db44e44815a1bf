"""Appointments in mail to the team mailbox: iCalendar invitations and `Termin:` lines.

A mail of a known case (Nr. in the subject, or a reply) that carries an invitation (a
`text/calendar` part or an `.ics` attachment with a VEVENT) or a body line
`Termin: 12.11.2026 10:00` records the appointment in sheet `Termine` (Quelle "Mail", Seite from
the sender's Rechtskreis). A cancellation (METHOD:CANCEL, STATUS:CANCELLED, or a line
`Termin abgesagt: 12.11.2026 10:00`) fills `Abgesagt am` of that appointment: rows are never
deleted, staff may have written into them. An updated invitation (same UID) moves `Termin`.

Decisions, each with the outcome a mail gets (the reason is what the mail is filed with):
- An invitation without a case is set aside ("Nicht erfasst"), never a new request. A
  `Termin:` line without a case is ordinary text of a new request.
- Time zones: TZID (also Outlook's Windows names with their VTIMEZONE) and UTC are converted
  to office time; a time without a zone, or with a zone nobody defines, is office time.
- An all-day event is recorded as its date (00:00).
- A recurring event (RRULE/RDATE) is set aside: a series would need one row per date, and the
  double-invitation rule is about single invitations. Staff type the dates they need.
- A date more than a year back or two years ahead, a calendar part over 512 KB, more than 20
  events, or calendar data that cannot be read: set aside with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email import message_from_bytes
from email.policy import compat32
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from jugendhaus_mail.errors import WorkbookChanged, WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.intake.classify import person_name, rechtskreis_for
from jugendhaus_mail.intake.parse import ParsedMail
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.model import NewRow, Row
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workbook.xlsx_appointments import AppointmentChanges, write_appointments

if TYPE_CHECKING:
    from jugendhaus_mail.intake.context import CaseIndex, IntakeContext

MAX_CALENDAR_BYTES = 512 * 1024
MAX_EVENTS = 20
MAX_PARTS = 200
PAST_DAYS, FUTURE_DAYS = 366, 2 * 366
SIDES = ("SGB II", "SGB III", "SGB VIII")

_HINT = re.compile(rb"text/calendar|application/ics|\.ics\b|BEGIN:VCALENDAR", re.I)
_LINE = re.compile(
    r"^[ \t>]*Termin(?P<cancel>[ \t]+abgesagt)?[ \t]*:[ \t]*"
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"
    r"(?:[ \t,]+(?:um[ \t]+)?(?P<H>\d{1,2})[:.](?P<M>\d{2}))?[ \t]*(?:Uhr)?[ \t]*$",
    re.I | re.M,
)
_UID_SAFE = re.compile(r"[^A-Za-z0-9@._:+-]")


@dataclass(frozen=True)
class CalendarParts:
    """The calendar data of one mail, taken from the raw bytes before they are dropped."""

    texts: tuple[bytes, ...] = ()
    oversized: bool = False

    def __bool__(self) -> bool:
        return bool(self.texts) or self.oversized


NO_CALENDAR = CalendarParts()


@dataclass(frozen=True)
class MailAppointment:
    uid: str  # identity inside the case: the event's UID, or "zeile|<time>" for a body line
    start: datetime  # office time, naive; all-day: 00:00
    cancel: bool


@dataclass(frozen=True)
class Reading:
    appointments: tuple[MailAppointment, ...]
    problem: str | None  # German: why the mail is set aside
    invitation: bool  # iCalendar data was found (not only a body line)


def may_hold_calendar(raw: bytes) -> bool:
    """`_HINT.search(raw)`, a tenth of the cost: most mail has none of its words at all."""
    low = raw.lower()  # ASCII only, as re.IGNORECASE on bytes
    if b"text/calendar" in low or b"application/ics" in low or b"begin:vcalendar" in low:
        return True
    return b".ics" in low and _HINT.search(raw) is not None


def calendar_parts(raw: bytes) -> CalendarParts:
    """Calendar parts of a mail; cheap for the many mails without one."""
    if not may_hold_calendar(raw):
        return CalendarParts()
    try:
        message = message_from_bytes(raw, policy=compat32)
        texts: list[bytes] = []
        oversized = False
        for index, part in enumerate(message.walk()):
            if index >= MAX_PARTS:
                break
            if part.is_multipart():
                continue
            kind = part.get_content_type()
            name = str(part.get_filename() or "").lower()
            if kind not in ("text/calendar", "application/ics") and not name.endswith(".ics"):
                continue
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            if len(payload) > MAX_CALENDAR_BYTES:
                oversized = True
            else:
                texts.append(payload)
        return CalendarParts(tuple(texts), oversized)
    except Exception:  # broken MIME: the parser reports it; a calendar is not found
        return CalendarParts()


def read_mail(parts: CalendarParts, body: str, zone: ZoneInfo, today: date) -> Reading | None:
    """What the mail says about appointments; None when it says nothing."""
    lines = _body_lines(body)
    if not parts and not lines:
        return None
    found: list[MailAppointment] = []
    problem: str | None = None
    if parts.oversized:
        problem = (
            "Kalenderanhang größer als 512 KB, nicht gelesen – bitte den Termin im Blatt "
            "Termine von Hand eintragen"
        )
    for text in parts.texts:
        events, trouble = _calendar(text, zone)
        found += events
        problem = problem or trouble
    found += lines
    if len(found) > MAX_EVENTS:
        problem = problem or (
            f"mehr als {MAX_EVENTS} Termine in einer Mail – bitte die Termine im Blatt "
            "Termine von Hand eintragen"
        )
    for item in found:
        if (
            not today - timedelta(days=PAST_DAYS)
            <= item.start.date()
            <= today + timedelta(days=FUTURE_DAYS)
        ):
            problem = problem or (
                f"Termindatum {item.start:%d.%m.%Y} unplausibel (mehr als ein Jahr zurück oder "
                "zwei Jahre voraus) – bitte prüfen und im Blatt Termine eintragen"
            )
    if parts and not found and problem is None:
        problem = "Kalenderdaten ohne Termin (kein VEVENT mit Beginn) – bitte die Mail ansehen"
    return Reading(tuple(found), problem, bool(parts))


def set_aside_reason(reading: Reading | None, case: str | None, side: str | None) -> str | None:
    """Why a mail about appointments is set aside, None when it goes its ordinary way."""
    if reading is None or (case is None and not reading.invitation):
        return None
    if case is None:
        return (
            "Termineinladung ohne Fallnummer – bitte mit [Nr.] im Betreff erneut senden oder "
            "den Termin im Blatt Termine eintragen"
        )
    if reading.problem:
        return reading.problem
    if side not in SIDES:
        return (
            "Termin von einem Absender ohne Rechtskreis SGB II/III/VIII – bitte im Blatt "
            "Termine von Hand eintragen (Rechtskreis im Blatt Mitarbeitende pflegen)"
        )
    return None


def _body_lines(body: str) -> list[MailAppointment]:
    if "termin" not in body.lower() and "\u0130" not in body and "\u0131" not in body:
        return []  # `_LINE` needs "Termin": letters that match only themselves (any case) or,
        # for "i", also "İ" and "ı" (tests/test_speed_mailpath_intake.py checks them all)
    found = []
    for match in _LINE.finditer(body[:200_000]):
        try:
            start = datetime(
                int(match["y"]), int(match["m"]), int(match["d"]),
                int(match["H"] or 0), int(match["M"] or 0),
            )  # fmt: skip
        except ValueError:
            continue  # 31.02. and the like: not a date, so not an appointment line
        found.append(MailAppointment(f"zeile|{start:%Y-%m-%dT%H:%M}", start, bool(match["cancel"])))
    return found


def _calendar(text: bytes, zone: ZoneInfo) -> tuple[list[MailAppointment], str | None]:
    import icalendar  # only mail with a calendar pays for the import

    try:
        calendar = icalendar.Calendar.from_ical(text)
        method = str(calendar.get("METHOD", "")).upper()
        found = []
        for event in calendar.walk("VEVENT"):
            if "RRULE" in event or "RDATE" in event:
                return [], (
                    "Serientermin (Wiederholung) – bitte die einzelnen Termine im Blatt Termine "
                    "eintragen"
                )
            if "DTSTART" not in event:
                continue
            start = _local(event.decoded("DTSTART"), zone)
            cancelled = method == "CANCEL" or str(event.get("STATUS", "")).upper() == "CANCELLED"
            uid = _UID_SAFE.sub("", str(event.get("UID", "")))[:120] or f"ics|{start:%Y%m%dT%H%M}"
            found.append(MailAppointment(uid, start, cancelled))
        return found, None
    except Exception as exc:  # icalendar raises ValueError and friends on broken input
        return [], f"Kalenderdaten nicht lesbar ({type(exc).__name__}) – bitte die Mail ansehen"


def _local(value: object, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=None)  # floating time: office time
        return value.astimezone(zone).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    raise ValueError("DTSTART ist weder Datum noch Zeit")


# --- durable record until written to the workbook -------------------------------------------

_TABLE = """
CREATE TABLE IF NOT EXISTS appointment_mail (
    mail_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    nr TEXT NOT NULL,
    data TEXT NOT NULL,  -- uid, start, cancel, side, entered_by, received (no mail content)
    written_at TEXT,
    PRIMARY KEY (mail_key, seq)
)
"""


@dataclass(frozen=True)
class PendingAppointment:
    mail_key: str
    nr: str
    appointment: MailAppointment
    side: str
    entered_by: str
    received: datetime


def sender_side(ctx: IntakeContext, parsed: ParsedMail, cases: CaseIndex) -> str | None:
    """The sender's Rechtskreis as intake finds it (Mitarbeitende, then the domain rules)."""
    side = rechtskreis_for(
        parsed.sender_address, ctx.settings.intake.rechtskreis_domains, cases.staff_rechtskreis
    )
    return side if side in SIDES else None


def record(
    ctx: IntakeContext,
    mail_key: str,
    nr: str,
    reading: Reading,
    side: str,
    parsed: ParsedMail,
    received: datetime,
) -> None:
    """Keep what the mail says until it is in the workbook; a mail seen again changes nothing."""
    state = ctx.state
    entered_by = person_name(parsed.sender_name, parsed.sender_address, None)
    state.conn.execute(_TABLE)
    with state.transaction() as conn:
        for seq, item in enumerate(reading.appointments):
            data = {
                "uid": item.uid,
                "start": item.start.isoformat(),
                "cancel": item.cancel,
                "side": side,
                "entered_by": entered_by,
                "received": received.isoformat(),
            }
            conn.execute(
                "INSERT OR IGNORE INTO appointment_mail (mail_key, seq, nr, data) "
                "VALUES (?, ?, ?, ?)",
                (mail_key, seq, nr, json.dumps(data, ensure_ascii=False)),
            )


def pending(state: StateDB) -> list[PendingAppointment]:
    state.conn.execute(_TABLE)
    rows = state.conn.execute(
        "SELECT mail_key, nr, data FROM appointment_mail WHERE written_at IS NULL"
    ).fetchall()
    found = []
    for mail_key, nr, raw in rows:
        data = json.loads(raw)
        item = MailAppointment(data["uid"], datetime.fromisoformat(data["start"]), data["cancel"])
        received = datetime.fromisoformat(data["received"])
        found.append(
            PendingAppointment(mail_key, nr, item, data["side"], data["entered_by"], received)
        )
    return sorted(found, key=lambda p: (p.received, p.mail_key))


def mark_written(state: StateDB, mail_keys: set[str], now: datetime) -> None:
    with state.transaction() as conn:
        conn.executemany(
            "UPDATE appointment_mail SET written_at = ? WHERE mail_key = ?",
            [(now.isoformat(), key) for key in sorted(mail_keys)],
        )


def write_pending(ctx: IntakeContext) -> str | None:
    """Write what mail said about appointments into `Termine`; the reason when it must wait."""
    items = pending(ctx.state)
    if not items:
        return None
    rows: dict[str, Row] = {}
    cancels: list[tuple[str, str, datetime, date]] = []
    for item in items:
        key = f"termin|{item.nr}|{item.appointment.uid}"
        start = item.appointment.start
        if item.appointment.cancel:
            day = ctx.calendar.local_date(item.received)
            cancels.append((key, item.nr, start, day))
            if key in rows:
                rows[key]["cancelled"] = day
            continue
        rows[key] = {
            "nr": item.nr,
            "start": start,
            "side": item.side,
            "kind": "Einladung",
            "entered_by": item.entered_by,
            "source": "Mail",
        }
    changes = AppointmentChanges(
        rows=tuple(NewRow(key, values) for key, values in rows.items()), cancels=tuple(cancels)
    )
    store = ctx.store
    writer = WorkbookStore(
        store.path,
        store.schema,
        writer=write_appointments,
        backup_dir=store.backup_dir,
        backups=store.backups,
        timezone=str(store.zone) if store.zone else None,
    )
    try:
        writer.commit(changes, now=ctx.now)
    except (WorkbookLocked, WorkbookUnsafe, WorkbookChanged) as exc:
        return str(exc)
    mark_written(ctx.state, {item.mail_key for item in items}, ctx.now)
    return None
