"""Request kind from the subject, fields from the body, Rechtskreis from the sender."""

from __future__ import annotations

from datetime import date

import pytest

from jugendhaus_mail.intake.classify import (
    MAX_FIELD,
    REQUEST_KINDS,
    BodyFields,
    extract_fields,
    rechtskreis_for,
    request_kind,
)

# --- request kind ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Fallanfrage Max M.", "Fallanfrage"),
        ("HAUSBESUCH erbeten", "Hausbesuch"),
        ("Bitte um Stellungnahme", "Stellungnahme"),
        ("mini-fallkonferenz am Donnerstag", "Mini-Fallkonferenz"),
        ("Kinderschutz", "Kinderschutz"),
        ("Sonstiges: Flyer", "Sonstiges"),
        # variants
        ("Hausbesuche in KW 12", "Hausbesuch"),
        ("Terminvorschlag Hausbesuchs-Ankündigung", "Hausbesuch"),
        ("Haus-Besuch", "Hausbesuch"),
        ("Fallkonferenz", "Mini-Fallkonferenz"),
        ("Mini Fallkonferenz", "Mini-Fallkonferenz"),
        ("Minifallkonferenz", "Mini-Fallkonferenz"),
        ("Verdacht auf Kindeswohlgefährdung", "Kinderschutz"),
        ("Kindeswohlgefaehrdung", "Kinderschutz"),
        ("KINDESWOHLGEFÄHRDUNG", "Kinderschutz"),
        ("Kindeswohlgefa\u0308hrdung", "Kinderschutz"),  # decomposed umlaut (macOS)
        ("Meldung nach § 8a SGB VIII", "Kinderschutz"),
        ("Sozialanamnese erbeten", "Stellungnahme"),
        ("Fachpädagogische Stellungnahme", "Stellungnahme"),
        ("fachpaedagogische stellungnahme", "Stellungnahme"),
        ("Fall-Anfrage", "Fallanfrage"),
        # no keyword: still a request; staff decide the kind
        ("", "Sonstiges"),
        ("Frage zu Herrn K.", "Sonstiges"),
        ("Frage zu sonstigen Leistungen", "Sonstiges"),
        ("§ 8 Abs. 1 SGB II", "Sonstiges"),
    ],
)
def test_request_kind(subject: str, kind: str) -> None:
    assert request_kind(subject) == kind


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Fallanfrage / Hausbesuch / Kinderschutz", "Kinderschutz"),
        ("Hausbesuch nach Mini-Fallkonferenz", "Mini-Fallkonferenz"),
        ("Stellungnahme zum Hausbesuch", "Hausbesuch"),
        ("Fallanfrage: Stellungnahme", "Stellungnahme"),
        ("Sonstiges zur Fallanfrage", "Fallanfrage"),
    ],
)
def test_request_kind_priority(subject: str, kind: str) -> None:
    assert request_kind(subject) == kind


def test_every_kind_is_reachable_and_known() -> None:
    kinds = {request_kind(k) for k in REQUEST_KINDS}
    assert kinds == set(REQUEST_KINDS)


# --- fields ---------------------------------------------------------------------------------

FORM = """Hallo liebes Team,

bitte um Übernahme.

Name: Max Mustermann
Kundennummer: 123D456789
Anschrift: Lange Straße 1
18055 Rostock
Geburtsdatum: 01.02.2005

Viele Grüße
Anna Becker
"""


def test_extract_fields_from_a_typical_request() -> None:
    assert extract_fields(FORM) == BodyFields(
        client_name="Max Mustermann",
        customer_number="123D456789",
        address="Lange Straße 1, 18055 Rostock",
        birth_date=date(2005, 2, 1),
    )


def test_no_fields() -> None:
    assert extract_fields("Bitte ruft mich an.\n") == BodyFields(None, None, None, None)
    assert extract_fields("") == BodyFields(None, None, None, None)


@pytest.mark.parametrize(
    "line",
    [
        "Name: Max Mustermann",
        "Name : Max Mustermann",
        "NAME:Max Mustermann",
        "   name:\t Max   Mustermann  ",
        "\tName\t:\tMax Mustermann",
        "Name des jungen Menschen: Max Mustermann",
        "Name, Vorname: Max Mustermann",
        "- Name: Max Mustermann",
        "Name: Max\x00 Mustermann\x1b",
        "Name:\tMax\tMustermann",
        "Name (Vor- und Nachname): Max Mustermann",
        "Vorname: Max\nNachname: Mustermann",
    ],
)
def test_name_label_variants(line: str) -> None:
    assert extract_fields(f"Hallo\n{line}\nGruß").client_name == "Max Mustermann"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Kundennummer: 123D456789", "123D456789"),
        ("Kd.-Nr.: 123D456789", "123D456789"),
        ("Kd-Nr: 123D456789", "123D456789"),
        ("Kunden-Nr.: 123D456789", "123D456789"),
        ("KUNDENNR.:123D456789", "123D456789"),
        ("Kundennummer (BA): 123D456789", "123D456789"),
        ("BG-Nummer: 12345BG0001234", None),
        ("BG-Nr.: 12345BG0001234", None),
    ],
)
def test_customer_number_variants(line: str, expected: str | None) -> None:
    assert extract_fields(line).customer_number == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Anschrift: Lange Straße 1, 18055 Rostock\n12345 Ort", "Lange Straße 1, 18055 Rostock"),
        ("Anschrift: Lange Straße 1\n18055 Rostock", "Lange Straße 1, 18055 Rostock"),
        ("Anschrift: Lange Straße 1\n\n18055 Rostock", "Lange Straße 1, 18055 Rostock"),
        ("Anschrift:\nLange Straße 1\n18055 Rostock\nNoch was", "Lange Straße 1, 18055 Rostock"),
        ("Anschrift: Lange Straße 1\nName: Max", "Lange Straße 1"),
        ("Anschrift: Lange Straße 1\nViele Grüße", "Lange Straße 1"),
        ("Anschrift:\nViele Grüße", None),
        ("Adresse: Am Strande 3, D-18055 Rostock", "Am Strande 3, D-18055 Rostock"),
    ],
)  # fmt: skip
def test_address(body: str, expected: str | None) -> None:
    assert extract_fields(body).address == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01.02.2005", date(2005, 2, 1)),
        ("1.2.2005", date(2005, 2, 1)),
        ("1.2.05", date(2005, 2, 1)),
        ("01.02.05", date(2005, 2, 1)),
        ("01.02.98", date(1998, 2, 1)),
        ("01. 02. 2005 (19 Jahre)", date(2005, 2, 1)),
        ("2005-02-01", date(2005, 2, 1)),
        ("1. Februar 2005", date(2005, 2, 1)),
        ("3. März 2004", date(2004, 3, 3)),
        ("31.02.2005", None),
        ("00.01.2005", None),
        ("01.13.2005", None),
        ("2005-13-01", None),
        ("01.02.1850", None),
        ("unbekannt", None),
    ],
)
def test_birth_date_formats(value: str, expected: date | None) -> None:
    assert extract_fields(f"Geburtsdatum: {value}").birth_date == expected


def test_birth_date_century_and_future_use_today() -> None:
    today = date(2025, 3, 3)
    assert extract_fields("Geb.-Datum: 01.02.24", today=today).birth_date == date(2024, 2, 1)
    assert extract_fields("Geb.: 01.02.26", today=today).birth_date == date(1926, 2, 1)
    assert extract_fields("geboren am: 01.02.2026", today=today).birth_date is None


def test_quoted_reply_text_is_not_mined() -> None:
    body = (
        "Danke, erledigt.\n"
        "> Name: Falsch Zitiert\n"
        "  >> Kundennummer: 999\n"
        "Am 01.03.2025 um 10:00 schrieb Anna Becker <a@jobcenter-ge.de>:\n"
        "Anschrift: Unten 1\n"
    )
    assert extract_fields(body) == BodyFields(None, None, None, None)


@pytest.mark.parametrize(
    "separator",
    [
        "-----Ursprüngliche Nachricht-----",
        "-----Urspruengliche Nachricht-----",
        "-----Original Message-----",
        "Von: Anna Becker\nGesendet: Montag, 3. März 2025 09:15",
        "From: Anna Becker\nSent: Monday, March 3, 2025 9:15 AM",
        "On Mon, 3 Mar 2025 at 09:15, Anna Becker wrote:",
    ],
)
def test_text_below_a_reply_header_is_not_mined(separator: str) -> None:
    body = f"Kundennummer: 111\n\n{separator}\nName: Aus dem Zitat\nKundennummer: 222\n"
    fields = extract_fields(body)
    assert (fields.client_name, fields.customer_number) == (None, "111")


def test_first_occurrence_wins_and_values_are_capped() -> None:
    fields = extract_fields("Name: " + "A" * 500 + "\nName: Zweiter")
    assert fields.client_name == "A" * MAX_FIELD
    assert extract_fields("Name:\nName: Max").client_name == "Max"


# --- Rechtskreis ----------------------------------------------------------------------------

DOMAINS = {"jobcenter-ge.de": "SGB II", "arbeitsagentur.de": "SGB III", "rostock.de": "SGB VIII"}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("anna.becker@jobcenter-ge.de", "SGB II"),
        ("Anna.Becker@Jobcenter-GE.de", "SGB II"),
        ("x@rostock.jobcenter-ge.de", "SGB II"),
        ("x@a.b.arbeitsagentur.de", "SGB III"),
        ("x@rostock.de.", "SGB VIII"),
        ("x@evil-jobcenter-ge.de", "extern"),
        ("x@jobcenter-ge.de.evil.org", "extern"),
        ("x@gmail.com", "extern"),
        ("kaputt", "extern"),
        ("", "extern"),
        (None, "extern"),
    ],
)
def test_rechtskreis_by_domain(address: str | None, expected: str) -> None:
    assert rechtskreis_for(address, DOMAINS, {}) == expected


def test_staff_sheet_wins_over_domain() -> None:
    staff = {"sabine.kurz@jobcenter-ge.de": "SGB VIII", "Privat@GMX.de": "SGB III"}
    assert rechtskreis_for("Sabine.Kurz@jobcenter-ge.de", DOMAINS, staff) == "SGB VIII"
    assert rechtskreis_for("privat@gmx.de", DOMAINS, staff) == "SGB III"
    assert rechtskreis_for("other@jobcenter-ge.de", DOMAINS, staff) == "SGB II"


def test_most_specific_domain_wins() -> None:
    domains = {
        "rostock.de": "SGB VIII",
        "jsb.rostock.de": "extern",
        "@arbeitsagentur.de": "SGB III",
    }
    assert rechtskreis_for("x@jsb.rostock.de", domains, {}) == "extern"
    assert rechtskreis_for("x@amt.rostock.de", domains, {}) == "SGB VIII"
    assert rechtskreis_for("x@arbeitsagentur.de", domains, {}) == "SGB III"


def test_a_customer_number_inside_a_sentence_is_found_when_no_label_line_has_one() -> None:
    body = "Es gibt Hinweise im Haushalt einer Kundin (Kundennummer: 369D852147).\nGruß"
    assert extract_fields(body).customer_number == "369D852147"
    labelled = "Kundennummer: 111D222333\nFrüher lief es unter (Kundennummer: 999D888777)."
    assert extract_fields(labelled).customer_number == "111D222333"
