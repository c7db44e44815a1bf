"""Names as people in public offices write them (issue 11, item 4).

Outlook in a Jobcenter shows „Schulz, Anna (Jobcenter Rostock)“. The workbook, the digest and
every mail call that person „Anna Schulz“ — or, when the sheet Mitarbeitende knows the address,
exactly the `Name` written there.
"""

from __future__ import annotations

from email.header import Header
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake.classify import MAX_NAME, person_name
from jugendhaus_mail.intake.parse import parse_message
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Schulz, Anna", "Anna Schulz"),
        ("Schulz, Anna (Jobcenter Rostock)", "Anna Schulz"),
        ("Schulz, Anna (Jobcenter Rostock) (Team 412)", "Anna Schulz"),
        ("Schulz, Anna [Jobcenter Rostock]", "Anna Schulz"),
        ("Schulz, Anna (Jobcenter Rostock", "Anna Schulz"),  # cut off by a length limit
        ("Schulz,Anna", "Anna Schulz"),
        ("  Schulz ,  Anna  ", "Anna Schulz"),
        ("Schulz-Berg, Anna-Lena", "Anna-Lena Schulz-Berg"),
        ("von der Heide, Jan", "Jan von der Heide"),
        ("Schulz, Dr. Anna", "Dr. Anna Schulz"),
        ("Dr. Schulz, Anna", "Dr. Anna Schulz"),
        ("Schulz, Anna, Dr.", "Dr. Anna Schulz"),
        ("Schulz, Anna, Jobcenter Rostock", "Anna Schulz"),
        ("Anna Schulz", "Anna Schulz"),
        ("Anna Schulz (Jobcenter Rostock)", "Anna Schulz"),
        ("Dr. Anna Schulz", "Dr. Anna Schulz"),
        ("Schulz", "Schulz"),
        ("'Schulz, Anna'", "Anna Schulz"),
        ('"Schulz, Anna"', "Anna Schulz"),
        ("Müller, Jürgen (Agentur für Arbeit Rostock)", "Jürgen Müller"),
        ("(Jobcenter Rostock)", "(Jobcenter Rostock)"),  # nothing but the remark: keep it
        ('=HYPERLINK("http://x","y")', '=HYPERLINK("http://x","y")'),  # not a name at all
        ("Jobcenter Rostock, Team 412", "Jobcenter Rostock, Team 412"),  # not a person
        ("", ""),
        (",", ""),
        ("()", ""),
    ],
)
def test_display_names_become_first_name_last_name(display: str, expected: str) -> None:
    assert person_name(display) == expected


def test_the_staff_sheet_name_wins_for_a_known_address() -> None:
    staff = {"anna.schulz@jobcenter-ge.de": "Anna Schulz-Berg"}
    assert (
        person_name("Schulz, Anna (JC)", "Anna.Schulz@jobcenter-ge.de", staff) == "Anna Schulz-Berg"
    )
    assert person_name("Schulz, Anna (JC)", "other@jobcenter-ge.de", staff) == "Anna Schulz"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Schulz, Anna (Jobcenter Rostock) <anna.schulz@jobcenter-ge.de>", "Anna Schulz"),
        ('"Schulz, Anna (Jobcenter Rostock)" <anna.schulz@jobcenter-ge.de>', "Anna Schulz"),
        ("=?utf-8?q?M=C3=BCller=2C_J=C3=BCrgen_=28Agentur=29?= <j.mueller@arbeitsagentur.de>",
         "Jürgen Müller"),
        ("=?iso-8859-1?b?" + "U/ZuZSwgR/xudGVy" + "?= <g.soene@jobcenter-ge.de>", "Günter Söne"),
    ],
)  # fmt: skip
def test_names_from_real_from_headers(header: str, expected: str) -> None:
    raw = f"From: {header}\r\nSubject: Fallanfrage\r\n\r\nText\r\n".encode()
    parsed = parse_message(raw)
    assert person_name(parsed.sender_name, parsed.sender_address) == expected


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=60)))
def test_hostile_display_names_never_crash_and_stay_one_short_line(
    display: str, address: str | None
) -> None:
    name = person_name(display, address, {"x@y.de": "X Y"})
    assert isinstance(name, str)
    assert len(name) <= MAX_NAME
    assert "\n" not in name and "\r" not in name
    assert name == name.strip()
    assert person_name(name) == name or "," in name  # normalising twice changes nothing


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_hostile_encoded_from_headers_never_crash_intake_names(display: str) -> None:
    encoded = Header(display, "utf-8").encode()
    raw = f"From: {encoded} <a@b.de>\r\nSubject: x\r\n\r\nx\r\n".encode()
    parsed = parse_message(raw)
    assert len(person_name(parsed.sender_name, parsed.sender_address)) <= MAX_NAME


# --- end to end: workbook, acknowledgement, digest and escalation agree ---------------------

OUTLOOK = "Schulz, Anna (Jobcenter Rostock) <anna.schulz@jobcenter-ge.de>"
UNKNOWN = '"Brandt, Kai (Jobcenter Rostock, Team 412)" <kai.brandt@jobcenter-ge.de>'


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    staff = [dict(p) for p in STAFF]
    next(p for p in staff if p["email"] == "anna.schulz@jobcenter-ge.de")["name"] = (
        "Anna Schulz-Berg"
    )
    set_staff(site, staff)
    return site


def body_of(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("plain",)).get_content()


def test_outlook_names_are_written_and_greeted_as_people_say_them(site: Site) -> None:
    site.deliver(request_mail("Fallanfrage", "Text", sender=OUTLOOK), utc(2026, 3, 30, 7), "a")
    site.deliver(request_mail("Fallanfrage", "Text", sender=UNKNOWN), utc(2026, 3, 30, 8), "b")
    site.run("poll", now="2026-03-30T11:00")
    names = [row["Anfrage von"].value for row in site.requests()]
    assert names == ["Anna Schulz-Berg", "Kai Brandt"]
    greetings = sorted(body_of(m).splitlines()[0] for m in outgoing(site))
    assert greetings == ["Guten Tag Anna Schulz-Berg,", "Guten Tag Kai Brandt,"]
    for message in outgoing(site):
        html = message.get_body(("html",)).get_content()
        assert "Schulz, Anna" not in html and "Brandt, Kai" not in html


def test_the_same_name_in_workbook_digest_and_escalation(site: Site) -> None:
    # a Mini-Fallkonferenz is a duty of both sides: the SGB II side is the requester
    site.deliver(
        request_mail("Mini-Fallkonferenz", "Text", sender=OUTLOOK), utc(2026, 3, 30, 7), "m"
    )
    site.run("poll", now="2026-03-30T11:00")
    site.run("digest", now="2026-04-09T07:00")
    site.run("remind", now="2026-04-09T08:00")
    [row] = site.requests()
    assert row["Anfrage von"].value == "Anna Schulz-Berg"
    digest = next(m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"]))
    assert "JSB / Anna Schulz-Berg" in body_of(digest)
    escalation = next(
        m
        for m in outgoing(site)
        if "Überfällig" in str(m["Subject"]) and "Mini" in str(m["Subject"])
    )
    assert "Zuständig:  JSB / Anna Schulz-Berg" in body_of(escalation)
    for message in outgoing(site):
        assert "Schulz, Anna" not in body_of(message) + message.get_body(("html",)).get_content()
