"""Reminders, escalations, acknowledgements and the digest, driven day by day with --now.

Scenario: a request arrives on Monday 30 March 2026, the week before Easter (DE-MV).
Frist Ansprechpartner = 5 working days after 30.3.: 31.3. (1), 1.4. (2), 2.4. (3), Good Friday
3.4., weekend, Easter Monday 6.4., 7.4. (4), 8.4. (5) -> due Wednesday 8 April.
Reminder 2 working days before: 8.4. -2 working days = 2.4. (Thursday).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest

from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

BODY = "Name: Jonas Müller\nKundennummer: 123D456789\nAnschrift: Lange Straße 3, 18055 Rostock\n"
PRIVATE = ("Jonas", "Müller", "123D456789", "Lange Straße")


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    site.deliver(
        request_mail("Fallanfrage Ausbildung", BODY, message_id="<r1@jobcenter-ge.de>"),
        utc(2026, 3, 30, 7, 15),
        "r1",
    )
    site.run("poll", now="2026-03-30T09:15")
    return site


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def text_of(message) -> str:  # type: ignore[no-untyped-def]
    return str(message["Subject"]) + message.get_body(("plain",)).get_content()


def test_acknowledgement_names_case_number_due_date_and_next_sprechzeit(site: Site) -> None:
    [ack] = outgoing(site)
    assert ack["To"] == "anna.schulz@jobcenter-ge.de"
    assert ack["From"].addresses[0].addr_spec == "FM-Jugendhaus@rostock.de"
    assert ack["Auto-Submitted"] == "auto-generated"
    assert ack["Subject"].startswith("[2026-0001]")
    body = ack.get_body(("plain",)).get_content()
    assert "08.04.2026" in body
    assert (
        "Montag, 30.03.2026" in body
    )  # Monday 09:15: today's Sprechzeit (07:30–12:30) is still on
    assert not any(word in text_of(ack) for word in PRIVATE)


def test_reminder_due_day_and_escalation_each_once_on_the_right_working_day(site: Site) -> None:
    sent_on: dict[str, list[date]] = {}
    for day in days(date(2026, 3, 30), date(2026, 4, 14)):
        for clock in ("08:00", "14:00"):  # two cycles a day must not send twice
            site.run("remind", now=f"{day.isoformat()}T{clock}")
    for message in outgoing(site)[1:]:
        sent_on.setdefault(str(message["Subject"]), []).append(message["Date"].datetime.date())
    reminders = {s: d for s, d in sent_on.items() if "Ansprechpartner benennen" in s}
    assert sorted(reminders.values()) == [
        [date(2026, 4, 2)],
        [date(2026, 4, 8)],
        [date(2026, 4, 9)],
    ]
    escalation = next(m for m in outgoing(site) if "Überfällig" in str(m["Subject"]))
    recipients = {a.addr_spec for a in escalation["To"].addresses}
    assert "frank.dettmann@rostock.de" in recipients  # Sachgebietsleitung
    for message in outgoing(site):
        assert not any(word in text_of(message) for word in PRIVATE), message["Subject"]
        for header in ("To", "Cc"):
            for address in message[header].addresses if message[header] else ():
                assert address.domain.lower() in {
                    "rostock.de",
                    "jobcenter-ge.de",
                    "arbeitsagentur.de",
                }


def test_digest_only_on_working_days_and_once_a_day(site: Site) -> None:
    for day in days(date(2026, 4, 1), date(2026, 4, 8)):
        site.run("digest", now=f"{day.isoformat()}T07:00")
        site.run("digest", now=f"{day.isoformat()}T07:05")
    digests = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    assert [m["Date"].datetime.date() for m in digests] == [
        date(2026, 4, 1),
        date(2026, 4, 2),
        date(2026, 4, 7),
        date(2026, 4, 8),
    ]  # not Good Friday 3.4., the weekend or Easter Monday 6.4.
    recipients = {a.addr_spec for a in digests[0]["To"].addresses}
    assert recipients == {
        "frank.dettmann@rostock.de",
        "ralf.timmermann@jobcenter-ge.de",
    }  # gmail refused
    html = digests[-1].get_body(("html",)).get_content()
    assert "2026-0001" in html and "http" not in html.lower().replace("http-equiv", "")
    assert not any(word in html for word in PRIVATE)


def test_contact_person_entered_tells_the_requester_once_and_notes_the_day(site: Site) -> None:
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("Ansprechpartner JSB") + 1, value="Lena Kowalski")
    workbook.save(site.workbook)
    site.run("remind", now="2026-03-31T10:00")
    site.run("remind", now="2026-04-01T10:00")
    told = [
        m
        for m in outgoing(site)
        if "Lena Kowalski" in m.get_body(("plain",)).get_content()
        and m["To"] == "anna.schulz@jobcenter-ge.de"
    ]
    assert len(told) == 1
    assert "0381\u00a0555\u00a00311" in told[0].get_body(("plain",)).get_content()
    [row] = site.requests()
    assert row["Ansprechpartner mitgeteilt am"].value.date() == date(2026, 3, 31)
    # with a contact person the duty is done: no reminders for it afterwards
    site.run("remind", now="2026-04-02T10:00")
    assert not [m for m in outgoing(site) if "Ansprechpartner benennen" in str(m["Subject"])]


def test_dry_run_lists_who_would_get_what_and_sends_nothing(site: Site) -> None:
    before = len(outgoing(site))
    result = site.cli("remind", "--dry-run", now="2026-04-09T08:00")
    assert "würde in .Postausgang ablegen" in result.stdout  # a Maildir site sends nothing
    assert "frank.dettmann@rostock.de" in result.stdout
    assert len(outgoing(site)) == before
    assert "Probelauf" in result.stdout
    assert (
        site.cli("digest", "--dry-run", now="2026-04-09T07:00").stdout.count("Tagesüberblick") == 1
    )
    assert len(outgoing(site)) == before


def test_kinderschutz_alerts_at_once_without_content(site: Site) -> None:
    body = "Verdacht auf Kindeswohlgefährdung bei Familie Müller, Kind Paul (5), blaue Flecken."
    site.deliver(
        request_mail("Kinderschutz – bitte dringend", body, message_id="<k1@jobcenter-ge.de>"),
        utc(2026, 3, 31, 8, 0),
        "k1",
    )
    site.run("poll", now="2026-03-31T10:02")
    [alert] = [
        m
        for m in outgoing(site)
        if "Kinderschutz" in str(m["Subject"]) and "frank.dettmann@rostock.de" in str(m["To"])
    ]
    text = text_of(alert) + alert.get_body(("html",)).get_content()
    assert "2026-0002" in text and "Erfasst" in text
    for word in ("Paul", "Flecken", "Müller", "Kindeswohlgefährdung bei"):
        assert word not in text
    assert "lena.kowalski@rostock.de" in str(alert["To"]) + str(alert["Cc"] or "")


def test_a_changed_due_date_rearms_the_reminder(site: Site) -> None:
    site.run("remind", now="2026-04-02T08:00")
    first = [m for m in outgoing(site) if "Ansprechpartner benennen" in str(m["Subject"])]
    assert len(first) == 1
    # staff correct the receipt time: the deadline moves, so the reminder is due again
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=headers.index("Eingang") + 1)
    cell.value = cell.value + timedelta(days=1)
    workbook.save(site.workbook)
    site.run("remind", now="2026-04-07T08:00")
    again = [m for m in outgoing(site) if "Ansprechpartner benennen" in str(m["Subject"])]
    assert len(again) == 2
    [row] = site.requests()
    assert row["Frist Ansprechpartner"].value.date() == date(2026, 4, 9)


def set_cells(site: Site, values: dict[str, object], row: int = 2) -> None:
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = [c.value for c in sheet[1]]
    for header, value in values.items():
        sheet.cell(row=row, column=headers.index(header) + 1, value=value)
    workbook.save(site.workbook)


def test_verbis_hint_goes_to_the_sgb2_contact_at_start_and_end_of_a_joint_case(site: Site) -> None:
    from datetime import datetime

    set_cells(
        site,
        {
            "Ansprechpartner JSB": "Lena Kowalski",
            "Ansprechpartner SGB II": "Anna Schulz",
            "Zustimmung junger Mensch": "Ja",
            "Zustimmung SGB II": "Ja",
            "Zustimmung SGB VIII": "Ja",
            "Gemeinsame Fallberatung am": datetime(2026, 4, 1),
            "Status": "Gemeinsamer Fall",
        },
    )
    site.run("remind", now="2026-04-01T10:00")
    site.run("remind", now="2026-04-02T10:00")
    hints = [m for m in outgoing(site) if "HJC-VIII" in m.get_body(("plain",)).get_content()]
    assert len(hints) == 1 and hints[0]["To"] == "anna.schulz@jobcenter-ge.de"
    assert "Weiterbildung" in hints[0].get_body(("plain",)).get_content()
    set_cells(site, {"Fallende am": datetime(2026, 6, 30), "Beendigungsgrund": "Ziele erreicht"})
    site.run("remind", now="2026-06-30T10:00")
    site.run("remind", now="2026-07-01T10:00")
    hints = [m for m in outgoing(site) if "VerBIS" in m.get_body(("plain",)).get_content()]
    assert len(hints) == 2
    assert "30.06.2026" in hints[1].get_body(("plain",)).get_content()


def test_no_verbis_hint_until_the_young_person_consented(site: Site) -> None:
    from datetime import datetime

    set_cells(
        site,
        {
            "Ansprechpartner JSB": "Lena Kowalski",
            "Ansprechpartner SGB II": "Anna Schulz",
            "Zustimmung junger Mensch": "Nein",
            "Zustimmung SGB II": "Ja",
            "Zustimmung SGB VIII": "Ja",
            "Gemeinsame Fallberatung am": datetime(2026, 4, 1),
            "Status": "Gemeinsamer Fall",
        },
    )
    site.run("remind", now="2026-04-01T10:00")
    assert not [m for m in outgoing(site) if "VerBIS" in m.get_body(("plain",)).get_content()]
    set_cells(site, {"Zustimmung junger Mensch": "Ja"})
    site.run("remind", now="2026-04-02T10:00")
    hints = [m for m in outgoing(site) if "HJC-VIII" in m.get_body(("plain",)).get_content()]
    assert len(hints) == 1 and hints[0]["To"] == "anna.schulz@jobcenter-ge.de"


def test_an_absence_during_a_sprechzeit_is_announced_to_the_leaders_once(site: Site) -> None:
    from datetime import datetime

    from jugendhaus_mail.commands.demo import fill_table
    from jugendhaus_mail.workbook.schema import load_schema

    workbook = openpyxl.load_workbook(site.workbook)
    keys = [c.key for c in load_schema().absences.columns]
    fill_table(
        workbook["Abwesenheiten"],
        keys,
        [
            # Thursday 2 April 2026 afternoon: overlaps the Sprechzeit 13:30–18:00
            {
                "name": "Lena Kowalski",
                "start": datetime(2026, 4, 2, 13, 0),
                "end": datetime(2026, 4, 2, 17, 0),
                "reason": "Fortbildung",
                "kind": "Geplant",
            },
            # Wednesday has no Sprechzeit: no notice
            {
                "name": "Lena Kowalski",
                "start": datetime(2026, 4, 1, 8, 0),
                "end": datetime(2026, 4, 1, 16, 0),
                "reason": "Teamtag",
                "kind": "Geplant",
            },
        ],
    )
    workbook.save(site.workbook)
    site.run("remind", now="2026-03-31T08:00")
    site.run("remind", now="2026-04-01T08:00")
    notices = [m for m in outgoing(site) if "Abwesenheit" in str(m["Subject"])]
    assert len(notices) == 1
    body = notices[0].get_body(("plain",)).get_content()
    assert "02.04.2026" in body and "Lena Kowalski" in body
    assert "Fortbildung" not in body  # the reason may be health data: never in the notice
    assert {a.addr_spec for a in notices[0]["To"].addresses} == {
        "frank.dettmann@rostock.de",
        "ralf.timmermann@jobcenter-ge.de",
    }


def test_an_escalation_to_the_leader_names_who_is_responsible_not_the_leader(
    site: Site,
) -> None:
    # the JSB contact person is named, the home visit is not done: 10 working days after
    # Monday 30.3. (Easter in between) the visit is due on Wednesday 15 April
    site.deliver(
        request_mail("Hausbesuch erbeten", BODY, message_id="<h1@jobcenter-ge.de>"),
        utc(2026, 3, 30, 7, 30),
        "h1",
    )
    site.run("poll", now="2026-03-30T09:30")
    set_cells(site, {"Ansprechpartner JSB": "Lena Kowalski"}, row=3)
    site.run("remind", now="2026-04-17T08:00")
    escalations = [m for m in outgoing(site) if "Überfällig" in str(m["Subject"])]
    home_visit = next(m for m in escalations if "Hausbesuch" in str(m["Subject"]))
    assert "frank.dettmann@rostock.de" in str(home_visit["To"])  # the leader receives it
    text = home_visit.get_body(("plain",)).get_content()
    html = home_visit.get_body(("html",)).get_content()
    assert "Zuständig:  Lena Kowalski" in text
    assert "Lena Kowalski" in html
    assert "Frank Dettmann" not in text + html
    # no contact person named yet: the escalation says so, as the digest does
    contact = next(m for m in escalations if "Ansprechpartner benennen" in str(m["Subject"]))
    contact_text = contact.get_body(("plain",)).get_content()
    assert "Zuständig:  JSB" in contact_text
    assert "Frank Dettmann" not in contact_text
    site.run("digest", now="2026-04-17T07:00")
    digest = next(m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"]))
    assert "zuständig: Lena Kowalski" in digest.get_body(("plain",)).get_content()
