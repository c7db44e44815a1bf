"""The cheaper reading of requests gives what the slower one gave (issue 15): kind, body fields
and requester, compared with the frozen copy of before (`tests/reference_intake/`)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake import classify
from tests.reference_intake import classify as reference

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = st.sampled_from(
    ["Name:", "Kundennummer: 123D456789", "Anschrift:", "Lange Straße 3", "18055 Rostock",
     "Geburtsdatum: 1. März 2005", "Geb.: 01.02.05", "Vorname: Anna", "Nachname: Weiß", "Kd.-Nr.",
     "> Name: zitiert", "Am 01.03.2026 schrieb Anna:", "-----Ursprüngliche Nachricht-----",
     "Von: A", "Gesendet: heute", "FALLANFRAGE", "Hausbesuch", "ﬁ", "İ", "ẞ", "Ä", "\u00a0", ":",
     "\t", " ", "\n", "\r\n", "\r", "", "•", "Kinderschutz", "mini-fallkonferenz", "AM",
     "ON x wrote:"]
)  # fmt: skip
TEXT = st.lists(PIECES | st.text(max_size=12), max_size=24).map("".join)


@FUZZ
@given(TEXT)
@example("Name: Anna\n\nVon: B\nGesendet: C\nName: D")
@example("İstanbul: x\nNAME: Ä")
def test_fields_and_kind_as_before(text: str) -> None:
    today = date(2026, 3, 5)
    assert classify.extract_fields(text, today=today).__dict__ == (
        reference.extract_fields(text, today=today).__dict__
    )
    assert classify.request_kind(text) == reference.request_kind(text)
    assert classify.person_name(text) == reference.person_name(text)
    for line in text.splitlines():
        assert classify._fold(line) == reference._fold(line)
