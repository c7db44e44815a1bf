"""The staff sheet and the domain map are folded once per run (`SenderLookup`), not once per
mail (issue 15): requester names and Rechtskreis come out as the frozen per-mail functions
gave them, for hostile spellings of addresses, names and domains."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake.classify import SenderLookup, person_name, rechtskreis_for
from tests.reference_intake import classify as before

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LOCAL = st.sampled_from(["anna", "Anna.Schulz", " ifk1 ", "JSB", "straße", "STRASSE", "x"])
DOMAIN = st.sampled_from(
    ["rostock.de", "ROSTOCK.de.", "jobcenter-ge.de", "sub.jobcenter-ge.de", "@rostock.de",
     ".rostock.de", " arbeitsagentur.de ", "de", "", "xn--mnchen-3ya.de"]
)  # fmt: skip
ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)
MAYBE_ADDRESS = st.one_of(
    st.none(), ADDRESS, st.sampled_from(["", "ohne-at", " @ ", "a@b@rostock.de"]), st.text()
)
DISPLAY = st.one_of(
    st.sampled_from(
        ["Schulz, Anna (Jobcenter Rostock)", "Dr. Müller, Eva", '"Team, IFK"', "", "(x)", "a,b"]
    ),
    st.text(max_size=40),
)
VALUE = st.sampled_from(["SGB II", "SGB III", "SGB VIII", "", "extern", " Anna  Schulz ", "\t"])


@FUZZ
@given(
    staff=st.dictionaries(st.one_of(ADDRESS, st.text(max_size=12)), VALUE, max_size=6),
    names=st.one_of(st.none(), st.dictionaries(ADDRESS, VALUE, max_size=6)),
    domains=st.dictionaries(DOMAIN, VALUE, max_size=5),
    address=MAYBE_ADDRESS,
    display=DISPLAY,
)
@example(
    staff={"Anna@rostock.de": "SGB II", " anna@rostock.de ": "SGB III"},
    names={"ANNA@rostock.de": "", "anna@rostock.de": "Anna Schulz"},
    domains={"@rostock.de": "SGB VIII", "ROSTOCK.DE.": "SGB II"},
    address=" anna@ROSTOCK.de ",
    display="Schulz, Anna",
)
def test_names_and_rechtskreis_read_once_per_run_are_those_read_per_mail(
    staff: dict[str, str],
    names: dict[str, str] | None,
    domains: dict[str, str],
    address: str | None,
    display: str,
) -> None:
    lookup = SenderLookup(domains, staff, names)
    for _ in range(2):  # asked again: the same answer
        assert lookup.rechtskreis(address) == before.rechtskreis_for(address, domains, staff)
        assert lookup.person_name(display, address) == before.person_name(display, address, names)
    assert rechtskreis_for(address, domains, staff) == before.rechtskreis_for(
        address, domains, staff
    )
    assert person_name(display, address, names) == before.person_name(display, address, names)
