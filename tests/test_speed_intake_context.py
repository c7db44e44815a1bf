"""The leaner index of existing requests knows what the one before knew (issue 15): who takes
part in which case and which feedback is newer, compared with the frozen copy of before."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.intake.context import CaseIndex
from jugendhaus_mail.workbook.model import Snapshot
from jugendhaus_mail.workdays import WorkCalendar
from tests.reference_intake import context as reference

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ["Anna Weiß", " anna weiss ", "ANNA WEISS", "Bernd", "", None, 7, True, 1, "IFK 3"]
EMAILS = ["a@rostock.de", " A@Rostock.de ", "b@jobcenter-ge.de", "", None, 0]
NRS = ["2026-0001", "2026-0002", " 2026-0003 ", "", None, "2025-0001"]
FEEDBACK = [None, "", date(2026, 3, 2), datetime(2026, 3, 9, 10, 0), "gestern"]

staff_row = st.fixed_dictionaries(
    {"name": st.sampled_from(NAMES), "email": st.sampled_from(EMAILS)},
    optional={"role": st.sampled_from(["JSB", "IFK SGB II", "x"])},
)
request_row = st.fixed_dictionaries(
    {"nr": st.sampled_from(NRS)},
    optional={
        "requester_email": st.sampled_from(EMAILS),
        "contact_person": st.sampled_from(NAMES),
        "sgb2_contact": st.sampled_from(NAMES),
        "last_feedback": st.sampled_from(FEEDBACK),
    },
)


@FUZZ
@given(st.lists(staff_row, max_size=5), st.lists(request_row, max_size=8))
def test_the_case_index_knows_what_it_knew(staff: list[dict], requests: list[dict]) -> None:
    snapshot = Snapshot(requests, staff, [], None)  # type: ignore[arg-type]
    new, old = CaseIndex(snapshot), reference.CaseIndex(snapshot)
    new.add("2026-0009", requests[0] if requests else {}, "m@x")
    old.add("2026-0009", requests[0] if requests else {}, "m@x")
    senders = [None, "", "a@rostock.de", "b@jobcenter-ge.de", "x@y.de"]
    for nr in [*(str(n).strip() for n in NRS), "2026-0009"]:
        for sender in senders:
            assert new.is_participant(nr, sender) == old.is_participant(nr, sender)
    calendar = WorkCalendar("DE-MV")
    pending = [
        (f"k{i}", n.strip(), datetime(2026, 3, 4 + i, tzinfo=UTC)) for i, n in enumerate(NRS[:4])
    ]
    assert new.feedback_updates(pending, calendar) == old.feedback_updates(pending, calendar)
    assert new.message_nrs == old.message_nrs
    assert new.staff_names == old.staff_names and new.email_by_name == old.email_by_name
