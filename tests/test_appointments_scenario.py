"""Appointments of both sides, end to end with the pretend clock: mail in the team Maildir,
`poll` and `remind` as the CLI runs them, the workbook re-opened with openpyxl, the mails the
service sent read from `Postausgang`.

Week used: Mon 2.11.2026 (request), invitation for Mon 9.11. 09:00 (Jobcenter, Outlook, time
zone "W. Europe Standard Time"), JSB appointment Tue 10.11. 14:00 typed by hand.
"""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import openpyxl
import pytest

from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

NR = "2026-0001"
VTIMEZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE"""


def ics(
    start: str,
    method: str = "REQUEST",
    uid: str = "040000008200E00074C5B7101A82E008",
    extra: str = "",
) -> str:
    lines = [
        "BEGIN:VCALENDAR", "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
        "VERSION:2.0", f"METHOD:{method}", VTIMEZONE, "BEGIN:VEVENT", f"UID:{uid}",
        f"DTSTART;TZID=W. Europe Standard Time:{start}",
        f"DTEND;TZID=W. Europe Standard Time:{start[:-4]}1100",
        "SUMMARY:Gespräch Jonas Müller, Arbeitsvermittlung", "SEQUENCE:0", extra,
        "END:VEVENT", "END:VCALENDAR",
    ]  # fmt: skip
    return "\r\n".join(line for line in lines if line) + "\r\n"


def invitation(
    subject: str,
    calendar: str,
    sender: str = "Anna Schulz <anna.schulz@jobcenter-ge.de>",
    message_id: str = "<inv1@jobcenter-ge.de>",
    method: str = "REQUEST",
) -> bytes:
    """What Outlook sends: text and HTML alternatives plus a text/calendar part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "FM-Jugendhaus@rostock.de"
    message["Subject"] = subject
    message["Date"] = "Tue, 03 Nov 2026 09:00:00 +0100"
    message["Message-ID"] = message_id
    message.set_content("Einladung zum Gespräch.")
    message.add_alternative(
        calendar.encode(), maintype="text", subtype="calendar", params={"method": method}
    )
    return message.as_bytes(policy=SMTP)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    site.deliver(request_mail("Fallanfrage Ausbildung", "Hallo"), utc(2026, 11, 2, 8, 0), "r1")
    assert site.run("poll", now="2026-11-02T09:30") == 0
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    col = [c.value for c in sheet[1]].index("Ansprechpartner JSB") + 1
    sheet.cell(2, col, "Lena Kowalski")
    workbook.save(site.workbook)
    return site


def appointments(site: Site) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(site.workbook)["Termine"]
    headers = [c.value for c in sheet[1]]
    rows = []
    for row in sheet.iter_rows(min_row=2, values_only=True):
        if any(v not in (None, "") for v in row):
            rows.append(dict(zip(headers, row, strict=False)))
    return rows


def type_jsb_appointment(site: Site, start: datetime) -> None:
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Termine"]
    headers = [c.value for c in sheet[1]]
    row = sheet.max_row + 1 if any(c.value for c in sheet[sheet.max_row]) else sheet.max_row
    values = {"Nr.": NR, "Termin": start, "Seite": "SGB VIII", "Art": "Beratung",
              "Eingetragen von": "Lena Kowalski", "Quelle": "von Hand"}  # fmt: skip
    for header, value in values.items():
        sheet.cell(row, headers.index(header) + 1, value)
    sheet.tables["Termine"].ref = f"A1:H{max(row, 2)}"
    workbook.save(site.workbook)


def notices(site: Site) -> list[EmailMessage]:
    return [m for m in outgoing(site) if "Termin" in str(m["Subject"])]


def test_outlook_invitation_monday_and_jsb_tuesday_give_one_notice_to_both(site: Site) -> None:
    site.deliver(invitation(f"[{NR}] Einladung", ics("20261109T090000")), utc(2026, 11, 3, 8), "i1")
    assert site.run("poll", now="2026-11-03T09:30") == 0
    assert len(site.folder("Erfasst")) == 2  # a reply, never a new request
    [row] = appointments(site)
    assert (row["Nr."], row["Termin"], row["Seite"], row["Quelle"], row["Eingetragen von"]) == (
        NR, datetime(2026, 11, 9, 9, 0), "SGB II", "Mail", "Anna Schulz",
    )  # fmt: skip
    assert "Jonas" not in str(row)  # the SUMMARY is mail content: it stays out

    type_jsb_appointment(site, datetime(2026, 11, 10, 14, 0))
    assert site.run("remind", now="2026-11-03T10:00") == 0
    assert site.run("remind", now="2026-11-04T10:00") == 0
    [notice] = notices(site)
    recipients = {a.addr_spec for a in notice["To"].addresses} | {
        a.addr_spec for a in (notice["Cc"].addresses if notice["Cc"] else ())
    }
    assert recipients == {"lena.kowalski@rostock.de", "anna.schulz@jobcenter-ge.de"}
    body = notice.get_body(("plain",)).get_content()
    assert notice["Subject"].startswith(f"[{NR}]")
    assert "SGB II: Montag, 09.11.2026, 09:00 Uhr" in body
    assert "SGB VIII: Dienstag, 10.11.2026, 14:00 Uhr" in body
    assert "Gespräch" not in body and "Jonas" not in body


def test_a_cancellation_withdraws_the_conflict_and_marks_the_row(site: Site) -> None:
    site.deliver(invitation(f"[{NR}] Einladung", ics("20261109T090000")), utc(2026, 11, 3, 8), "i1")
    site.run("poll", now="2026-11-03T09:30")
    type_jsb_appointment(site, datetime(2026, 11, 10, 14, 0))
    cancel = invitation(
        f"[{NR}] Abgesagt: Einladung", ics("20261109T090000", method="CANCEL"),
        message_id="<cancel1@jobcenter-ge.de>", method="CANCEL",
    )  # fmt: skip
    site.deliver(cancel, utc(2026, 11, 3, 9), "c1")
    assert site.run("poll", now="2026-11-03T10:30") == 0

    rows = appointments(site)
    assert [(r["Seite"], r["Abgesagt am"]) for r in rows] == [
        ("SGB II", datetime(2026, 11, 3, 0, 0)),  # kept, marked: staff may have written in it
        ("SGB VIII", None),
    ]
    assert site.run("remind", now="2026-11-03T11:00") == 0
    assert notices(site) == []


def test_a_moved_invitation_updates_the_same_row_and_re_arms_the_notice(site: Site) -> None:
    site.deliver(invitation(f"[{NR}] Einladung", ics("20261109T090000")), utc(2026, 11, 3, 8), "i1")
    site.run("poll", now="2026-11-03T09:30")
    type_jsb_appointment(site, datetime(2026, 11, 10, 14, 0))
    site.run("remind", now="2026-11-03T10:00")
    moved = invitation(f"[{NR}] Verschoben", ics("20261111T100000"), message_id="<inv2@jc.de>")
    site.deliver(moved, utc(2026, 11, 3, 11), "i2")
    site.run("poll", now="2026-11-03T12:00")
    assert [r["Termin"] for r in appointments(site)] == [
        datetime(2026, 11, 11, 10, 0),
        datetime(2026, 11, 10, 14, 0),
    ]
    site.run("remind", now="2026-11-03T13:00")
    assert len(notices(site)) == 2


def test_an_invitation_inside_the_care_period_gives_one_notice(site: Site) -> None:
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(2, headers.index("Hausbesuch durchgeführt am") + 1, datetime(2026, 11, 2))
    sheet.cell(2, headers.index("Ergebnis Hausbesuch") + 1, "Angetroffen")
    workbook.save(site.workbook)
    body = "Hallo,\n\nTermin: 20.11.2026 09:30\n\nGruß"
    site.deliver(
        request_mail(f"AW: [{NR}] Fallanfrage", body, message_id="<t1@jc.de>"),
        utc(2026, 11, 4, 8), "t1",
    )  # fmt: skip
    assert site.run("poll", now="2026-11-04T09:00") == 0
    assert [r["Termin"] for r in appointments(site)] == [datetime(2026, 11, 20, 9, 30)]
    site.run("remind", now="2026-11-04T10:00")
    site.run("remind", now="2026-11-05T10:00")
    [notice] = notices(site)
    text = notice.get_body(("plain",)).get_content()
    assert "Betreuung SGB VIII bis:  Montag, 30.11.2026" in text
    assert "SGB II, Freitag, 20.11.2026, 09:30 Uhr" in text


@pytest.mark.parametrize(
    ("subject", "calendar", "reason"),
    [
        ("Einladung ohne Nummer", ics("20261109T090000"), "ohne Fallnummer"),
        (f"[{NR}] Serie", ics("20261109T090000", extra="RRULE:FREQ=WEEKLY;COUNT=5"), "Serie"),
        (f"[{NR}] Weit weg", ics("20991109T090000"), "unplausibel"),
        (f"[{NR}] Kaputt", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026XX\r\n", "nicht lesbar"),
        (f"[{NR}] Riesig", ics("20261109T090000", extra="X-PAD:" + "A" * 10_000_000), "512 KB"),
    ],
    ids=["no-case", "rrule", "absurd-date", "broken", "10mb"],
)
def test_bad_invitations_are_set_aside_with_a_reason(
    site: Site, subject: str, calendar: str, reason: str
) -> None:
    site.deliver(invitation(subject, calendar), utc(2026, 11, 3, 8), "bad")
    assert site.run("poll", now="2026-11-03T09:30") == 0
    assert len(site.folder("Nicht erfasst")) == 1
    assert appointments(site) == []
    from jugendhaus_mail.state import StateDB

    with StateDB(site.root / "state") as state:
        reasons = [r for _, r, _ in state.set_aside()]
    assert any(reason in (r or "") for r in reasons), reasons
    assert date(2026, 11, 3)  # the clock the run used


def test_the_digest_lists_open_conflicts_and_unreadable_appointment_rows(site: Site) -> None:
    site.deliver(invitation(f"[{NR}] Einladung", ics("20261109T090000")), utc(2026, 11, 3, 8), "i1")
    site.run("poll", now="2026-11-03T09:30")
    type_jsb_appointment(site, datetime(2026, 11, 10, 14, 0))
    type_jsb_appointment(site, datetime(2026, 11, 10, 14, 0))
    workbook = openpyxl.load_workbook(site.workbook)
    workbook["Termine"].cell(4, 2, "Dienstag nachmittag")  # text instead of a date
    workbook.save(site.workbook)

    assert site.run("digest", now="2026-11-04T07:00") == 0
    [digest] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    text = digest.get_body(("plain",)).get_content()
    assert "TERMINE BEIDER SEITEN ABSTIMMEN" in text
    assert (
        "2026-0001: SGB II: 09.11.2026, 09:00 Uhr und SGB VIII: 10.11.2026, 14:00 Uhr – "
        "nah beieinander" in text
    )
    assert "Termine, Zeile 4: „Termin“ enthält kein Datum" in text
    assert "Dienstag nachmittag" not in text
    html = digest.get_body(("html",)).get_content()
    assert "Termine beider Seiten abstimmen" in html


def test_an_invitation_waits_while_the_workbook_is_open_and_is_written_once(site: Site) -> None:
    from tests.workbook_helpers import write_excel_lock

    lock = write_excel_lock(site.workbook, "Lena Kowalski")
    site.deliver(invitation(f"[{NR}] Einladung", ics("20261109T090000")), utc(2026, 11, 3, 8), "i1")
    assert site.run("poll", now="2026-11-03T09:30") == 0
    assert len(site.folder("Erfasst")) == 2 and appointments(site) == []
    lock.unlink()
    site.run("poll", now="2026-11-03T09:32")
    site.run("poll", now="2026-11-03T09:34")
    assert [r["Termin"] for r in appointments(site)] == [datetime(2026, 11, 9, 9, 0)]
