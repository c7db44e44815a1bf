"""The bundled demo data: every mail parses cleanly, and manifest and staff sheet match the mails.

`make demo` feeds these files to the real service, so a broken mail or a manifest that promises
something the mail does not contain would make the demo (and the tests built on it) lie.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import tomllib
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage, MIMEPart
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

DEMO = Path(str(resources.files("jugendhaus_mail.demo")))
MAIL_DIR = DEMO / "mail"
TEAM_ADDRESS = "fm-jugendhaus@rostock.de"
KINDS = ("Fallanfrage", "Hausbesuch", "Stellungnahme", "Mini-Fallkonferenz", "Kinderschutz")
ALL_KINDS = (*KINDS, "Sonstiges")
RECHTSKREISE = ("SGB II", "SGB III", "SGB VIII", "extern")
ROLES = ("JSB", "IFK SGB II", "IFK SGB III", "Teamleitung", "Sachgebietsleitung")
OFFICE_DOMAINS = {"rostock.de", "jobcenter-ge.de", "arbeitsagentur.de"}
DOMAIN_RECHTSKREIS = {"jobcenter-ge.de": "SGB II", "arbeitsagentur.de": "SGB III"}
DOMAIN_RECHTSKREIS["rostock.de"] = "SGB VIII"
CUSTOMER_NUMBER = re.compile(r"^\d{3}D\d{6}$")
REQUEST_FIELDS = {"client_name", "customer_number", "birth_date", "address"}
COMMON_KEYS = {"file", "covers", "received_days_ago", "received_time", "outcome", "subject"}
KEYS_BY_OUTCOME = {
    "request": COMMON_KEYS | REQUEST_FIELDS | {"kind", "rechtskreis", "attachments"},
    "reply": COMMON_KEYS | {"reply_to_file"},
    "set_aside": COMMON_KEYS | {"reason_kind"},
}
# Sprechzeiten from the agreement (weekday 0 = Monday).
SPRECHZEITEN = {
    0: [(time(7, 30), time(12, 30))],
    1: [(time(7, 30), time(12, 30))],
    3: [(time(7, 30), time(12, 30)), (time(13, 30), time(18, 0))],
}


def _load(name: str) -> dict[str, Any]:
    with (DEMO / name).open("rb") as handle:
        return tomllib.load(handle)


MANIFEST: list[dict[str, Any]] = _load("manifest.toml")["mail"]
STAFF_FILE = _load("staff.toml")
STAFF: list[dict[str, Any]] = STAFF_FILE["staff"]
ABSENCES: list[dict[str, Any]] = STAFF_FILE["absence"]
BY_FILE = {entry["file"]: entry for entry in MANIFEST}
EML_FILES = sorted(path.name for path in MAIL_DIR.glob("*.eml"))


def parse(name: str) -> EmailMessage:
    raw = (MAIL_DIR / name).read_bytes()
    return email.message_from_bytes(raw, policy=email.policy.default)


def body_part(msg: EmailMessage) -> MIMEPart:
    part = msg.get_body(preferencelist=("plain", "html"))
    assert part is not None, "no text body found"
    return part


def body_text(msg: EmailMessage) -> str:
    """The readable text of the mail: plain text, or HTML with markup removed."""
    part = body_part(msg)
    text = str(part.get_content())
    if part.get_content_type() == "text/html":
        text = re.sub(r"<!--.*?-->|<style.*?</style>", " ", text, flags=re.S | re.I)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.replace("\xa0", " ").split())


def sender_address(msg: EmailMessage) -> str:
    return str(msg["from"].addresses[0].addr_spec)


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()


def entries(outcome: str) -> list[dict[str, Any]]:
    return [entry for entry in MANIFEST if entry["outcome"] == outcome]


def kind_keywords(text: str) -> set[str]:
    # "Mini-Fallkonferenz" contains no other keyword; "Sonstiges" only counts as a word.
    folded = text.casefold()
    return {kind for kind in ALL_KINDS if kind.casefold() in folded}


# --------------------------------------------------------------------------- the mails


def test_demo_mailbox_has_about_fourteen_mails() -> None:
    assert 12 <= len(EML_FILES) <= 16
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+\.eml", name) for name in EML_FILES)


@pytest.mark.parametrize("name", EML_FILES)
def test_every_mail_parses_without_defects(name: str) -> None:
    msg = parse(name)
    for part in msg.walk():
        assert not part.defects, f"{name}: {part.get_content_type()} has {part.defects}"
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        assert msg[header] is not None, f"{name}: {header} missing"
        assert not msg[header].defects, f"{name}: {header} has {msg[header].defects}"
    assert TEAM_ADDRESS in str(msg["to"]).lower()
    assert msg["date"].datetime.year == 2026
    assert len(body_text(msg)) > 80, f"{name}: body lost"


def test_manifest_and_mail_files_match_one_to_one() -> None:
    files = [entry["file"] for entry in MANIFEST]
    assert len(files) == len(set(files)), "a file is listed twice"
    assert sorted(files) == EML_FILES


def test_message_ids_are_unique_and_well_formed() -> None:
    ids = [str(parse(name)["message-id"]).strip() for name in EML_FILES]
    assert len(set(ids)) == len(ids)
    for message_id in ids:
        assert re.fullmatch(r"<[^<>@\s]+@[a-z0-9.-]+\.de>", message_id), message_id


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda entry: entry["file"])
def test_manifest_entry_is_well_formed(entry: dict[str, Any]) -> None:
    assert entry["outcome"] in KEYS_BY_OUTCOME
    assert set(entry) <= KEYS_BY_OUTCOME[entry["outcome"]], "unknown key"
    assert 0 <= entry["received_days_ago"] <= 9
    assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", entry["received_time"])
    assert parse(entry["file"])["subject"] == entry["subject"]
    if entry["outcome"] == "request":
        assert entry["kind"] in ALL_KINDS
        assert entry["rechtskreis"] in RECHTSKREISE
        assert isinstance(entry["attachments"], int)
    if entry["outcome"] == "set_aside":
        assert entry["reason_kind"] in ("auto-reply", "bounce")


def test_deadlines_spread_over_overdue_due_soon_and_fresh() -> None:
    ages = [entry["received_days_ago"] for entry in entries("request")]
    assert max(ages) >= 6, "nothing overdue (5 working days)"
    assert any(3 <= age <= 5 for age in ages), "nothing due soon"
    assert min(ages) == 0, "nothing fresh"


def test_mail_01_is_the_first_request_delivered() -> None:
    oldest = max(entries("request"), key=lambda entry: entry["received_days_ago"])
    assert oldest["file"].startswith("01-")
    assert [e["received_days_ago"] for e in MANIFEST if e["received_days_ago"] == 9] == [9]


def test_every_request_kind_is_covered_with_the_agreed_counts() -> None:
    kinds = [entry["kind"] for entry in entries("request")]
    assert set(kinds) == set(ALL_KINDS)
    assert 2 <= kinds.count("Fallanfrage") <= 3
    assert kinds.count("Hausbesuch") == 2


@pytest.mark.parametrize("entry", entries("request"), ids=lambda entry: entry["file"])
def test_subject_keyword_selects_the_kind(entry: dict[str, Any]) -> None:
    found = kind_keywords(entry["subject"])
    if found:
        assert found == {entry["kind"]}
    else:
        assert entry["kind"] == "Sonstiges"


def test_one_request_has_no_kind_keyword_anywhere() -> None:
    without = [entry for entry in entries("request") if not kind_keywords(entry["subject"])]
    assert len(without) == 1
    assert kind_keywords(body_text(parse(without[0]["file"]))) == set()


@pytest.mark.parametrize("entry", entries("request"), ids=lambda entry: entry["file"])
def test_expected_request_fields_are_in_the_mail(entry: dict[str, Any]) -> None:
    msg = parse(entry["file"])
    text = body_text(msg)
    if "client_name" in entry:
        assert entry["client_name"] in text
    if "customer_number" in entry:
        assert CUSTOMER_NUMBER.match(entry["customer_number"])
        assert entry["customer_number"] in text
    if "address" in entry:
        assert re.search(r", \d{5} Rostock$", entry["address"])
        for piece in entry["address"].split(", "):
            assert piece in text
    if "birth_date" in entry:
        born = date.fromisoformat(entry["birth_date"])
        spellings = {f"{born:%d.%m.%Y}", f"{born.day}.{born.month}.{born:%y}"}
        assert any(spelling in text for spelling in spellings)
        sent = msg["date"].datetime.date()
        age = sent.year - born.year - ((sent.month, sent.day) < (born.month, born.day))
        assert 16 <= age <= 24
    assert len(list(msg.iter_attachments())) == entry["attachments"]


def test_rechtskreis_follows_staff_sheet_then_domain() -> None:
    by_email = {row["email"].lower(): row for row in STAFF}
    for entry in entries("request"):
        address = sender_address(parse(entry["file"])).lower()
        row = by_email.get(address)
        expected = row["rechtskreis"] if row else DOMAIN_RECHTSKREIS.get(domain_of(address))
        assert entry["rechtskreis"] == (expected or "extern"), entry["file"]
    assert {entry["rechtskreis"] for entry in entries("request")} == set(RECHTSKREISE)


def test_institutional_senders_are_in_the_staff_sheet() -> None:
    staff_emails = {row["email"].lower() for row in STAFF}
    for entry in [*entries("request"), *entries("reply")]:
        address = sender_address(parse(entry["file"])).lower()
        if domain_of(address) in DOMAIN_RECHTSKREIS and domain_of(address) != "rostock.de":
            assert address in staff_emails, entry["file"]


# --------------------------------------------------------------------------- the special cases


def test_reply_answers_mail_01() -> None:
    (reply,) = entries("reply")
    original = BY_FILE[reply["reply_to_file"]]
    assert original["file"].startswith("01-") and original["outcome"] == "request"
    msg = parse(reply["file"])
    original_id = str(parse(original["file"])["message-id"]).strip()
    assert str(msg["in-reply-to"]).strip() == original_id
    assert original_id in str(msg["references"])
    assert re.match(r"AW: \[\d{4}-0001\] ", reply["subject"])
    assert reply["received_days_ago"] < original["received_days_ago"]
    assert sender_address(msg) == sender_address(parse(original["file"]))


def test_auto_reply_looks_like_outlook_out_of_office() -> None:
    (entry,) = [e for e in entries("set_aside") if e["reason_kind"] == "auto-reply"]
    msg = parse(entry["file"])
    assert str(msg["subject"]).startswith("Automatische Antwort: ")
    assert msg["auto-submitted"] == "auto-replied"
    assert msg["x-auto-response-suppress"] is not None
    assert sender_address(msg).lower() in {row["email"].lower() for row in STAFF}


def test_bounce_is_a_delivery_status_report() -> None:
    (entry,) = [e for e in entries("set_aside") if e["reason_kind"] == "bounce"]
    msg = parse(entry["file"])
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert sender_address(msg).upper().startswith("MAILER-DAEMON@")
    assert msg["return-path"] == "<>"
    types = [part.get_content_type() for part in msg.walk()]
    assert "message/delivery-status" in types and "text/rfc822-headers" in types


def test_latin1_mail_is_windows_1252_quoted_printable() -> None:
    name = next(name for name in EML_FILES if "latin1" in name)
    raw = (MAIL_DIR / name).read_bytes()
    raw.decode("ascii")  # quoted-printable: no raw 8-bit bytes on the wire
    part = body_part(parse(name))
    assert part.get_content_charset() in ("windows-1252", "iso-8859-1", "latin-1")
    assert part["content-transfer-encoding"] == "quoted-printable"
    assert b"=FC" in raw or b"=F6" in raw  # ü / ö as single latin-1 bytes
    text = str(part.get_content())
    assert re.search("[äöüÄÖÜß]", text)
    assert "–" in text and "„" in text  # windows-1252-only characters decode too


def test_html_only_mail_has_no_plain_text_part() -> None:
    name = next(name for name in EML_FILES if "outlook-html" in name)
    msg = parse(name)
    types = [part.get_content_type() for part in msg.walk()]
    assert "text/plain" not in types
    assert "text/html" in types
    content = str(body_part(msg).get_content())
    assert 'class="MsoNormal"' in content and "<o:p>" in content and "&nbsp;" in content


def test_rfc2047_subject_is_encoded_on_the_wire() -> None:
    name = next(name for name in EML_FILES if "rfc2047" in name)
    raw = (MAIL_DIR / name).read_bytes().decode("ascii")
    raw_subject = re.search(r"^Subject: (.*(?:\r?\n[ \t].*)*)", raw, re.M)
    assert raw_subject and raw_subject.group(1).startswith("=?utf-8?B?")
    assert "ü" in BY_FILE[name]["subject"]


def plain_text(name: str) -> str:
    # quoted-printable bodies keep the wire's CRLF after decoding
    return str(body_part(parse(name)).get_content()).replace("\r\n", "\n")


def test_address_on_two_lines_is_really_split() -> None:
    text = plain_text("02-hausbesuch-wendt.eml")
    assert re.search(r"^Anschrift: Doberaner Straße 112\n18057 Rostock\n\n", text, re.M)


def test_odd_label_spacing_and_case_are_present() -> None:
    text = plain_text("07-fallanfrage-wilke-odd-labels.eml")
    assert re.search(r"^Name :  Jonas Wilke$", text, re.M)
    assert re.search(r"^KUNDENNUMMER:147D258369$", text, re.M)


def test_pdf_attachment_is_a_valid_tiny_pdf() -> None:
    (entry,) = [e for e in entries("request") if e["attachments"]]
    (attachment,) = parse(entry["file"]).iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert str(attachment.get_filename()).endswith(".pdf")
    data = attachment.get_content()
    assert (
        isinstance(data, bytes) and data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    )
    assert len(data) < 4096
    startxref = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[startxref:].startswith(b"xref")
    entries_ = re.findall(rb"^(\d{10}) 00000 n ", data[startxref:], re.M)
    for number, offset in enumerate(entries_, start=1):
        assert data[int(offset) :].startswith(f"{number} 0 obj".encode())


def test_kinderschutz_mail_is_short_and_names_nobody() -> None:
    (entry,) = [e for e in entries("request") if e["kind"] == "Kinderschutz"]
    text = body_text(parse(entry["file"]))
    assert len(text) < 600
    assert "client_name" not in entry and "address" not in entry


def test_no_real_person_from_the_agreement_appears() -> None:
    for path in [*MAIL_DIR.glob("*.eml"), DEMO / "manifest.toml", DEMO / "staff.toml"]:
        content = path.read_bytes().decode("utf-8", errors="replace").lower()
        for real_name in ("heilmann", "leppin"):
            assert real_name not in content, path.name


# --------------------------------------------------------------------------- the staff sheet


def test_staff_rows_are_valid_and_unique() -> None:
    emails = [row["email"].lower() for row in STAFF]
    assert len(set(emails)) == len(emails)
    names = [row["name"] for row in STAFF]
    assert len(set(names)) == len(names)
    for row in STAFF:
        assert set(row) == {"name", "email", "role", "rechtskreis", "phone", "team_lead", "active"}
        assert row["role"] in ROLES and row["rechtskreis"] in RECHTSKREISE
        assert row["active"] in ("Ja", "Nein")


def test_staff_has_the_demo_roles() -> None:
    roles = [row["role"] for row in STAFF]
    assert roles.count("JSB") == 3 and roles.count("Sachgebietsleitung") == 1
    leads = {row["name"]: row for row in STAFF if row["role"] == "Teamleitung"}
    assert {row["rechtskreis"] for row in leads.values()} >= {"SGB II", "SGB VIII"}
    assert [row["active"] for row in STAFF].count("Nein") == 1
    for row in STAFF:
        if row["role"].startswith("IFK") or row["role"] == "JSB":
            assert row["team_lead"] in leads, row["name"]
    for row in STAFF:
        if row["role"] in ("JSB", "Sachgebietsleitung"):
            assert domain_of(row["email"]) == "rostock.de"


def test_staff_domains_are_the_offices_and_one_ifk_is_sgb2_off_domain() -> None:
    assert {domain_of(row["email"]) for row in STAFF} <= OFFICE_DOMAINS
    off_domain = [
        row
        for row in STAFF
        if row["role"] == "IFK SGB II" and domain_of(row["email"]) != "jobcenter-ge.de"
    ]
    assert len(off_domain) == 1
    address = off_domain[0]["email"].lower()
    mails = [e for e in entries("request") if sender_address(parse(e["file"])).lower() == address]
    assert mails and all(e["rechtskreis"] == "SGB II" for e in mails)


def resolve_absence(row: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """How the demo turns an absence row into dates (documented in staff.toml)."""
    today = now.date()
    if row["relative_to"] == "next_monday":
        anchor = today + timedelta(days=7 - today.weekday())
    else:
        assert row["relative_to"] == "today"
        anchor = today
    start_day = anchor + timedelta(days=row["start_offset_days"])
    end_day = anchor + timedelta(days=row["end_offset_days"])
    start = datetime.combine(start_day, time.fromisoformat(row["start_time"]))
    end = datetime.combine(end_day, time.fromisoformat(row["end_time"]))
    return start, end


def overlaps_sprechzeit(start: datetime, end: datetime) -> bool:
    day = start.date()
    while day <= end.date():
        for begin, finish in SPRECHZEITEN.get(day.weekday(), []):
            if start < datetime.combine(day, finish) and datetime.combine(day, begin) < end:
                return True
        day += timedelta(days=1)
    return False


@pytest.mark.parametrize("weekday", range(7))
def test_planned_absence_hits_next_monday_sprechzeit(weekday: int) -> None:
    now = datetime(2026, 3, 2, 10, 0) + timedelta(days=weekday)  # 2 March 2026 is a Monday
    staff = {row["name"]: row for row in STAFF}
    assert len(ABSENCES) == 2
    assert {row["kind"] for row in ABSENCES} == {"Geplant", "Kurzfristig"}
    for row in ABSENCES:
        assert staff[row["name"]]["role"] == "JSB" and staff[row["name"]]["active"] == "Ja"
        assert row["reason"]
        start, end = resolve_absence(row, now)
        assert start < end
    (planned,) = [row for row in ABSENCES if row["kind"] == "Geplant"]
    start, end = resolve_absence(planned, now)
    assert start.weekday() == 0 and 0 < (start.date() - now.date()).days <= 7
    assert overlaps_sprechzeit(start, end)
