"""Letters the reminder job sends by itself, end to end with --now on a real site.

Request 2026-0001 (Hausbesuch for Jürgen Weiß) arrives Monday 16.03.2026; staff plan the visit
for Tuesday 24.03.2026 10:00 with Lena Kowalski and Maike Köster.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

import pytest

from jugendhaus_mail.jobs.letters import responsible_staff
from jugendhaus_mail.letters.render import DOCX_MIME
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.workbook.model import Row
from tests.site import STAFF, Site, outgoing
from tests.test_letters import MAIKE, VISIT, docx_text, letter_site, set_cells

PRIVATE = ("Jürgen", "Weiß", "Große Straße", "123D456789")
LENA_AND_MAIKE = {"lena.kowalski@rostock.de", "maike.koester@rostock.de"}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return letter_site(tmp_path / "site")


def letters(site: Site, filename_part: str) -> list[EmailMessage]:
    return [
        m
        for m in outgoing(site)
        if any(filename_part in (a.get_filename() or "") for a in m.iter_attachments())
    ]


def recipients(message: EmailMessage) -> set[str]:
    return {a.addr_spec for a in message["To"].addresses}


def attachment(message: EmailMessage) -> tuple[str, str, bytes]:
    """The letter; an announcement also carries the visit as .ics (test_appointments_ics)."""
    parts = list(message.iter_attachments())
    [part] = [p for p in parts if not (p.get_filename() or "").endswith(".ics")]
    assert len(parts) <= 2
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return part.get_filename() or "", part.get_content_type(), payload


def cell(site: Site, header: str) -> object:
    [row] = site.requests()
    return row[header].value


def assert_nothing_private(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    for message in outgoing(site):
        body = message.get_body(("plain",))
        assert body is not None
        text = str(message["Subject"]) + body.get_content()
        assert not any(word in text for word in PRIVATE), message["Subject"]
    assert not any(word in caplog.text for word in PRIVATE)


def test_a_planned_visit_sends_the_announcement_once_to_the_visitors(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    set_cells(site, VISIT)
    assert site.run("remind", now="2026-03-17T08:00") == 0
    [mail] = letters(site, "hausbesuch")
    assert recipients(mail) == LENA_AND_MAIKE
    assert "Ankündigung Hausbesuch" in str(mail["Subject"]) and "[2026-0001]" in str(
        mail["Subject"]
    )
    filename, mimetype, data = attachment(mail)
    assert (filename, mimetype) == ("2026-0001-hausbesuch.docx", DOCX_MIME)
    text = docx_text(BytesIO(data))
    assert "Wir besuchen Sie am Dienstag, 24.03.2026, um 10:00 Uhr." in text
    assert "Große Straße 12\n18055 Rostock" in text and "Datum: 17.03.2026" in text
    assert "Maike Köster, Telefon 0381\u00a0555\u00a00313" in text
    assert cell(site, "Ankündigung versandt am") == datetime(2026, 3, 17)
    # later cycles, also on other days, send nothing new
    before = len(outgoing(site))
    site.run("remind", now="2026-03-17T14:00")
    site.run("remind", now="2026-03-18T08:00")
    assert len(outgoing(site)) == before
    assert_nothing_private(site, caplog)


def test_missing_visitors_send_nothing_and_warn_naming_the_column_until_filled(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    set_cells(site, {"Hausbesuch geplant am": datetime(2026, 3, 24, 10, 0)})
    site.run("remind", now="2026-03-17T08:00")
    assert letters(site, "hausbesuch") == []
    assert cell(site, "Ankündigung versandt am") is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if "„Hausbesuch durch“ ist leer" in w and "2026-0001" in w]
    set_cells(site, {"Hausbesuch durch": "Maike Köster"})
    site.run("remind", now="2026-03-18T08:00")
    [mail] = letters(site, "hausbesuch")
    assert recipients(mail) == {"maike.koester@rostock.de"}
    assert cell(site, "Ankündigung versandt am") == datetime(2026, 3, 18)
    assert_nothing_private(site, caplog)


def test_a_moved_visit_is_announced_again_when_staff_clear_the_sent_date(site: Site) -> None:
    set_cells(site, VISIT)
    site.run("remind", now="2026-03-17T08:00")
    set_cells(
        site,
        {"Hausbesuch geplant am": datetime(2026, 3, 26, 14, 30), "Ankündigung versandt am": None},
    )
    site.run("remind", now="2026-03-19T08:00")
    first, second = letters(site, "hausbesuch")
    assert "Dienstag, 24.03.2026, um 10:00 Uhr" in docx_text(BytesIO(attachment(first)[2]))
    assert "Donnerstag, 26.03.2026, um 14:30 Uhr" in docx_text(BytesIO(attachment(second)[2]))
    assert cell(site, "Ankündigung versandt am") == datetime(2026, 3, 19)


def test_a_visit_already_past_or_done_is_not_announced(site: Site) -> None:
    set_cells(site, VISIT)
    site.run("remind", now="2026-03-24T11:00")  # an hour after the planned visit
    assert letters(site, "hausbesuch") == []
    assert cell(site, "Ankündigung versandt am") is None


def test_not_met_sends_the_letterbox_letter_once(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    set_cells(site, VISIT)
    site.run("remind", now="2026-03-17T08:00")
    set_cells(
        site,
        {
            "Hausbesuch durchgeführt am": datetime(2026, 3, 24),
            "Ergebnis Hausbesuch": "Nicht angetroffen",
        },
    )
    site.run("remind", now="2026-03-24T15:00")
    site.run("remind", now="2026-03-25T08:00")
    [mail] = letters(site, "nicht-angetroffen")
    assert recipients(mail) == LENA_AND_MAIKE
    assert "Nicht angetroffen" in str(mail["Subject"])
    filename, _, data = attachment(mail)
    assert filename == "2026-0001-nicht-angetroffen.docx"
    text = docx_text(BytesIO(data))
    assert "waren am Dienstag, 24.03.2026, bei Ihnen" in text
    assert "Ihre Ansprechperson ist Lena Kowalski, Telefon 0381\u00a0555\u00a00311." in text
    assert len(letters(site, "hausbesuch")) == 1  # the announcement was not sent again
    assert_nothing_private(site, caplog)


def test_not_met_without_visitors_goes_to_the_contact_person(site: Site) -> None:
    set_cells(
        site,
        {
            "Ansprechpartner JSB": "Maike Köster",
            "Hausbesuch durchgeführt am": datetime(2026, 3, 24),
            "Ergebnis Hausbesuch": "nicht angetroffen",
        },
    )
    site.run("remind", now="2026-03-25T08:00")
    [mail] = letters(site, "nicht-angetroffen")
    assert recipients(mail) == {"maike.koester@rostock.de"}


def test_an_old_not_met_visit_sends_nothing(site: Site) -> None:
    """The first run on an existing workbook must not mail letters for visits long past."""
    set_cells(
        site,
        {
            "Ansprechpartner JSB": "Maike Köster",
            "Hausbesuch durchgeführt am": datetime(2026, 2, 2),
            "Ergebnis Hausbesuch": "Nicht angetroffen",
        },
    )
    site.run("remind", now="2026-03-25T08:00")
    assert letters(site, "nicht-angetroffen") == []


def test_dry_run_lists_the_letter_and_sends_and_writes_nothing(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    set_cells(site, VISIT)
    before = len(outgoing(site))
    capsys.readouterr()
    site.run("remind", "--dry-run", now="2026-03-17T08:00")
    printed = capsys.readouterr().out
    assert "Brief zum Ausdrucken: Ankündigung Hausbesuch" in printed
    assert "maike.koester@rostock.de" in printed
    assert len(outgoing(site)) == before
    assert cell(site, "Ankündigung versandt am") is None
    site.run("remind", now="2026-03-17T08:05")  # the real run still sends it
    assert len(letters(site, "hausbesuch")) == 1


def test_who_prints_the_letter() -> None:
    staff = Staff([dict(STAFF[0]), dict(MAIKE), dict(STAFF[1])])
    row: Row = {"home_visit_staff": "Lena Kowalski / Unbekannt"}
    assert [p.name for p in responsible_staff(row, staff)] == ["Lena Kowalski"]
    row = {"home_visit_staff": "Unbekannt", "contact_person": "maike köster"}
    assert [p.name for p in responsible_staff(row, staff)] == ["Maike Köster"]
    assert [p.name for p in responsible_staff({}, staff)] == ["Lena Kowalski", "Maike Köster"]


def test_today_is_the_office_day(site: Site) -> None:
    """00:30 local time on 18.03. is still 17.03. in UTC: the sent date is the office's day."""
    set_cells(site, VISIT)
    site.run("remind", now="2026-03-18T00:30")
    assert cell(site, "Ankündigung versandt am") == datetime.combine(
        date(2026, 3, 18), datetime.min.time()
    )


def test_a_locked_workbook_delays_the_sent_date_but_never_doubles_the_letter(site: Site) -> None:
    set_cells(site, VISIT)
    lock = site.workbook.with_name("~$" + site.workbook.name)
    lock.write_bytes(b"Lena Kowalski")  # Excel has the list open
    site.run("remind", now="2026-03-17T08:00")
    assert len(letters(site, "hausbesuch")) == 1
    assert cell(site, "Ankündigung versandt am") is None
    lock.unlink()
    site.run("remind", now="2026-03-17T09:00")
    assert len(letters(site, "hausbesuch")) == 1
    assert cell(site, "Ankündigung versandt am") == datetime(2026, 3, 17)


def test_a_broken_office_template_costs_the_letter_not_the_reminders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = letter_site(tmp_path / "site", '[templates]\noverride_dir = "vorlagen"\n')
    (site.root / "vorlagen" / "letters").mkdir()
    (site.root / "vorlagen" / "letters" / "hausbesuch.docx").write_bytes(b"\xd0\xcf\x11\xe0 alt")
    set_cells(site, VISIT)
    assert site.run("remind", now="2026-03-19T08:00") == 0  # reminder day for the contact person
    assert letters(site, "hausbesuch") == []
    assert cell(site, "Ankündigung versandt am") is None
    assert [m for m in outgoing(site) if "Ansprechpartner benennen" in str(m["Subject"])]
    assert "keine Word-Datei im .docx-Format" in caplog.text
