"""The half-year figures from a workbook with a known history, each worked out by hand.

The history (2026, office in Mecklenburg-Vorpommern) is written into a real workbook with the
service's own writer and read back with the service's reader, as the `report` command does.
Report period 2026-H2 (01.07.–31.12.2026), compared with 2026-H1; the report is made on
Tuesday 02.03.2027. Days that are not working days and matter below:
  Karfreitag 03.04.2026, Ostermontag 06.04.2026, Schließtag 24.12., 1. Weihnachtstag 25.12.,
  Schließtag 31.12.2026, Neujahr 01.01.2027.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.report.content import Report, make_report
from jugendhaus_mail.report.figures import UNKNOWN, Share, compute_figures
from jugendhaus_mail.report.period import half_year
from jugendhaus_mail.workbook.model import Changes, NewRow
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.xlsx_writer import apply_changes
from jugendhaus_mail.workdays import WorkCalendar
from tests.site import STAFF, Site, make_site, set_staff

AS_OF = date(2027, 3, 2)
NOW = "2027-03-02T09:00"
H2, H1 = half_year(2026, 2), half_year(2026, 1)
MV = WorkCalendar("DE-MV")


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, 0)


JOINT = {"status": "Gemeinsamer Fall"}

# Nr. -> the row. Names, addresses and customer numbers are filled in on purpose: none of them
# may appear in the report.
HISTORY: dict[str, dict[str, Any]] = {
    # --- first half-year 2026 ---------------------------------------------------------------
    # Wed 01.04. -> contact Thu 09.04.: 02.04.(1), Karfreitag, Ostermontag, 07.(2) 08.(3) 09.(4)
    # = 4 AT (within 5). Home visit Fri 17.04.: 4 + 10.04.(5) + 13.–17.04.(10) = 10 AT (within).
    "2026-0101": {"received": at(2026, 4, 1), "kind": "Hausbesuch", "rechtskreis": "SGB II",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 4, 9),
                  "home_visit_done": date(2026, 4, 17), "home_visit_result": "Angetroffen"},
    # Mon 02.02. -> contact Tue 10.02. = 6 AT (late). Joint case from 02.03., ended 14.08.2026
    # (in H2) because the young person declined; status set to "Abgeschlossen", no consent
    # columns: still a joint case by reason + consultation date. Last feedback 01.08.2026.
    "2026-0102": {"received": at(2026, 2, 2), "kind": "Fallanfrage", "rechtskreis": "SGB II",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 2, 10),
                  "status": "Abgeschlossen", "joint_consultation": date(2026, 3, 2),
                  "last_feedback": date(2026, 8, 1), "case_end": date(2026, 8, 14),
                  "end_reason": "Junger Mensch lehnt ab"},
    # Mon 04.05. -> contact Wed 06.05. = 2 AT. Joint case from 15.06.2026, still running,
    # last feedback 10.12.2026, every 4 weeks -> next due Thu 07.01.2027.
    "2026-0103": {"received": at(2026, 5, 4), "kind": "Fallanfrage", "rechtskreis": "SGB II",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 5, 6),
                  **JOINT, "joint_consultation": date(2026, 6, 15), "feedback_weeks": 4,
                  "last_feedback": date(2026, 12, 10)},
    # --- second half-year 2026 --------------------------------------------------------------
    # Mon 06.07. -> Wed 08.07. = 2 AT. Joint case from 20.07., last feedback 02.11., 4 weeks ->
    # due Mon 30.11.2026: overdue on the Stichtag 31.12.
    "2026-0201": {"received": at(2026, 7, 6), "kind": "Fallanfrage", "rechtskreis": "SGB II",
                  "client_name": "Jonas Müller", "customer_number": "123D456789",
                  "address": "Lange Straße 3, 18055 Rostock",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 7, 8),
                  **JOINT, "joint_consultation": date(2026, 7, 20), "feedback_weeks": 4,
                  "last_feedback": date(2026, 11, 2)},
    # Mon 21.12. -> Wed 30.12.: 22.(1) 23.(2), 24.12. closed, 25.12. holiday, weekend,
    # 28.(3) 29.(4) 30.(5) = 5 AT, within (9 calendar days). Joint case from 22.12., no feedback
    # yet, 6 weeks -> due 02.02.2027: within on the Stichtag.
    "2026-0202": {"received": at(2026, 12, 21), "kind": "Fallanfrage", "rechtskreis": "SGB III",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 12, 30),
                  **JOINT, "joint_consultation": date(2026, 12, 22), "feedback_weeks": 6},
    # Fri 04.09. -> Mon 14.09. = 6 AT (late). Joint case by both consents from 21.09., ended
    # 30.11.2026, goals reached.
    "2026-0203": {"received": at(2026, 9, 4), "kind": "Stellungnahme", "rechtskreis": "SGB VIII",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 9, 14),
                  "status": "Abgeschlossen", "agreed_sgb2": "Ja", "agreed_sgb8": "Ja",
                  "joint_consultation": date(2026, 9, 21), "case_end": date(2026, 11, 30),
                  "end_reason": "Ziele erreicht"},
    # Mon 12.10. Kinderschutz, contact person the same day = 0 AT.
    "2026-0204": {"received": at(2026, 10, 12), "kind": "Kinderschutz", "rechtskreis": "SGB II",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 10, 12)},
    # Mon 02.11. home visit: contact Wed 04.11. = 2 AT; visit Fri 13.11. = 9 AT, met.
    "2026-0205": {"received": at(2026, 11, 2), "kind": "Hausbesuch", "rechtskreis": "SGB II",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 11, 4),
                  "home_visit_done": date(2026, 11, 13), "home_visit_result": "Angetroffen"},
    # Mon 14.12. home visit: contact Tue 15.12. = 1 AT; visit Wed 30.12.: 15.–18.(4),
    # 21.–23.(7), 24./25. not working days, 28.–30.(10) = 10 AT: within ONLY because of the
    # closed day and the holiday (12 weekdays). Not met.
    "2026-0206": {"received": at(2026, 12, 14), "kind": "Hausbesuch", "rechtskreis": "SGB II",
                  "contact_person": "Lena Kowalski", "contact_notified": date(2026, 12, 15),
                  "home_visit_done": date(2026, 12, 30), "home_visit_result": "Nicht angetroffen"},
    # Mon 28.12. home visit, nobody named, nothing done: contact due 06.01.2027, visit due
    # 13.01.2027, both passed by 02.03.2027 -> count as late.
    "2026-0207": {"received": at(2026, 12, 28), "kind": "Hausbesuch", "rechtskreis": "extern"},
    # Mon 03.08., a typo in Rechtskreis; contact person entered but the notice date is missing.
    "2026-0208": {"received": at(2026, 8, 3), "kind": "Fallanfrage", "rechtskreis": "SBG 2",
                  "contact_person": "Lena Kowalski"},
    # Wed 15.07., "erledigt" typed into the date column of the notice.
    "2026-0209": {"received": at(2026, 7, 15), "kind": "Fallanfrage", "rechtskreis": "SGB II",
                  "contact_person": "Lena Kowalski", "contact_notified": "erledigt"},
    # No usable Eingang at all: in no period, counted as not evaluable.
    "2026-0210": {"received": "gestern", "kind": "Fallanfrage", "rechtskreis": "SGB II"},
}  # fmt: skip

# Outbox keys (Nr.|rule|stage|due date) and when they were sent (UTC).
SENT = [
    ("2026-0201|contact_person|reminder|2026-07-13", datetime(2026, 7, 9, 6, 0, tzinfo=UTC)),
    ("2026-0201|contact_person|escalation|2026-07-13", datetime(2026, 7, 14, 6, 0, tzinfo=UTC)),
    ("2026-0201|feedback|due|2026-11-30", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
    ("2026-0101|home_visit|escalation|2026-04-16", datetime(2026, 4, 17, 6, 0, tzinfo=UTC)),
    # office-wide notices and other mail are not counted
    ("-|qualitaetsdialog|reminder|2026-09-30", datetime(2026, 9, 2, 6, 0, tzinfo=UTC)),
    ("2026-0201|acknowledgement", datetime(2026, 7, 6, 7, 1, tzinfo=UTC)),
    # 31.12. 23:30 UTC is 01.01.2027 00:30 in Rostock: not in 2026-H2
    ("2026-0207|contact_person|reminder|2027-01-06", datetime(2026, 12, 31, 23, 30, tzinfo=UTC)),
]
UNSENT = "2026-0207|contact_person|escalation|2027-01-06"  # queued, never sent: not counted


def history_site(root: Path, *, with_unsent: bool = True) -> Site:
    """The history in a real workbook, and its sent log in the state database. `with_unsent`
    leaves one dummy mail queued (never to be sent: only for sites that send nothing)."""
    site = make_site(root)
    set_staff(site, STAFF)
    appends = tuple(NewRow(f"test:{nr}", {"nr": nr, **row}) for nr, row in HISTORY.items())
    data, _ = apply_changes(site.workbook.read_bytes(), load_schema(), Changes(appends=appends))
    site.workbook.write_bytes(data)
    with site.app(datetime(2027, 3, 2, 8, 0, tzinfo=UTC)).state() as state:
        for key, sent_at in SENT:
            state.queue_mail(key, b"Subject: x\r\n\r\nx\r\n", sent_at)
            state.mark_mail_sent(key, sent_at)
        if with_unsent:
            state.queue_mail(UNSENT, b"Subject: x\r\n\r\nx\r\n", datetime(2027, 1, 7, tzinfo=UTC))
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return history_site(tmp_path_factory.mktemp("report") / "site")


@pytest.fixture(scope="module")
def report(site: Site) -> Report:
    from jugendhaus_mail.jobs.report import build_report

    app = site.app(datetime(2027, 3, 2, 8, 0, tzinfo=UTC))
    with app.state() as state:
        return build_report(app, H2, state)


def test_the_history_went_through_writer_and_reader(report: Report) -> None:
    assert report.period == H2 and report.previous.period == H1
    assert report.reference_day == date(2026, 12, 31) and not report.preliminary


def test_requests_per_month_by_rechtskreis_and_kind(report: Report) -> None:
    now, before = report.current.requests, report.previous.requests
    assert now.total == 9  # 0201–0209; 0210 has no usable Eingang
    assert before.total == 3
    assert now.by_rechtskreis == Counter(
        {"SGB II": 5, "SGB III": 1, "SGB VIII": 1, "extern": 1, UNKNOWN: 1}
    )
    assert now.by_kind == Counter(
        {"Fallanfrage": 4, "Hausbesuch": 3, "Stellungnahme": 1, "Kinderschutz": 1}
    )
    per_month = {m: c.total() for m, c in now.by_month_kind.items()}
    assert per_month == {(2026, 7): 2, (2026, 8): 1, (2026, 9): 1, (2026, 10): 1,
                         (2026, 11): 1, (2026, 12): 3}  # fmt: skip
    assert now.by_month_rechtskreis[(2026, 12)] == Counter({"SGB II": 1, "SGB III": 1, "extern": 1})
    assert {m: c.total() for m, c in before.by_month_kind.items()} == {
        (2026, 1): 0, (2026, 2): 1, (2026, 3): 0, (2026, 4): 1, (2026, 5): 1, (2026, 6): 0
    }  # fmt: skip
    assert (now.kinderschutz, before.kinderschutz) == (1, 0)


def test_time_to_contact_person_in_working_days(report: Report) -> None:
    now, before = report.current.contact, report.previous.contact
    # 0201: 2, 0202: 5 (over Christmas), 0203: 6, 0204: 0, 0205: 2, 0206: 1
    assert sorted(now.days) == [0, 1, 2, 2, 5, 6]
    assert now.median == 2.0
    # within 5: 0201, 0202, 0204, 0205, 0206; not: 0203 (6 AT), 0207 (nobody, deadline passed)
    assert now.within == Share(5, 7)
    assert (now.open_overdue, now.pending, now.without_date) == (1, 0, 1)  # 0207; -; 0208
    # H1: 0101: 4 (over Easter), 0102: 6, 0103: 2
    assert sorted(before.days) == [2, 4, 6] and before.median == 4.0
    assert before.within == Share(2, 3)


def test_home_visits_count_timing_and_result(report: Report) -> None:
    now, before = report.current.home_visits, report.previous.home_visits
    assert (now.requests, now.done, now.met, now.not_met, now.without_result) == (3, 2, 1, 1, 0)
    # 0205: 9 AT, 0206: 10 AT (thanks to 24./25.12.), 0207: not done, deadline passed
    assert now.within == Share(2, 3) and now.open_overdue == 1
    assert (before.requests, before.done, before.met) == (1, 1, 1)
    assert before.within == Share(1, 1)  # 0101: 10 AT over Easter


def test_joint_cases_started_running_ended_by_reason(report: Report) -> None:
    now, before = report.current.joint, report.previous.joint
    assert now.started == 3  # 0201 (20.07.), 0203 (21.09.), 0202 (22.12.)
    assert now.running == 3  # 0103, 0201, 0202 on 31.12.; 0102 and 0203 ended before
    assert now.ended == Counter({"Ziele erreicht": 1, "Junger Mensch lehnt ab": 1})
    assert before.started == 2  # 0102 (02.03.), 0103 (15.06.)
    assert before.running == 2 and before.ended.total() == 0


def test_feedback_within_the_interval(report: Report) -> None:
    now, before = report.current.joint, report.previous.joint
    # 31.12.2026: 0103 due 07.01.2027 (kept), 0201 due 30.11.2026 (missed), 0202 due 02.02.2027
    assert now.feedback == Share(2, 3) and now.feedback_unknown == 0
    # 30.06.2026: 0103 started 15.06., due 13.07. without any feedback yet (kept); 0102's
    # latest feedback (01.08.) is after 30.06. and its start alone (due 30.03.) does not cover
    # 30.06.: its state on 30.06. can no longer be read from the sheet.
    assert before.feedback == Share(1, 1) and before.feedback_unknown == 1


def test_reminders_and_escalations_from_the_sent_log(report: Report) -> None:
    assert report.current.notices is not None and report.previous.notices is not None
    assert report.current.notices.reminders == Counter({"contact_person": 1, "feedback": 1})
    assert report.current.notices.escalations == Counter({"contact_person": 1})
    assert report.previous.notices.reminders.total() == 0
    assert report.previous.notices.escalations == Counter({"home_visit": 1})


def test_messy_rows_are_counted_not_fatal(report: Report) -> None:
    assert report.data_notes == [
        "1 Zeile: „Ansprechpartner mitgeteilt am“ ist kein Datum",
        "1 Zeile: „Eingang“ fehlt oder ist kein Datum",
    ]


def test_key_figures_with_their_change(report: Report) -> None:
    rows = {f.label: f for f in report.key_figures}
    expected = {  # label: (now, before, change text, trend)
        "Anfragen insgesamt": ("9", "3", "↑ +6", ""),
        "Kinderschutz-Hinweise": ("1", "0", "↑ +1", ""),
        "Zeit bis zur Benennung (Median)": ("2 AT", "4 AT", "↓ −2 Arbeitstage", "besser"),
        # 5/7 = 71.4 %, 2/3 = 66.7 %
        "Ansprechpartner innerhalb von 5 Arbeitstagen":
            ("71,4 %", "66,7 %", "↑ +4,7 Prozentpunkte", "besser"),
        "Anfragen Hausbesuch": ("3", "1", "↑ +2", ""),
        "Hausbesuch innerhalb von 10 Arbeitstagen":
            ("66,7 %", "100 %", "↓ −33,3 Prozentpunkte", "schlechter"),
        "Junger Mensch angetroffen": ("1", "1", "→ unverändert", ""),
        "Nicht angetroffen": ("1", "0", "↑ +1", ""),
        "Begonnen": ("3", "2", "↑ +1", ""),
        "Laufend am Stichtag": ("3", "2", "↑ +1", ""),
        "Beendet": ("2", "0", "↑ +2", ""),
        "Rückmeldung im vereinbarten Intervall":
            ("66,7 %", "100 %", "↓ −33,3 Prozentpunkte", "schlechter"),
        "Erinnerungen versandt": ("2", "0", "↑ +2", ""),
        "Eskalationen versandt": ("1", "1", "→ unverändert", ""),
    }  # fmt: skip
    assert list(rows) == list(expected)
    for label, (now, before, change, trend) in expected.items():
        figure = rows[label]
        got = (figure.current_text, figure.previous_text, figure.change_text, figure.trend)
        assert got == (_nbsp(now), _nbsp(before), change, trend), label
    assert rows["Rückmeldung im vereinbarten Intervall"].previous_note == (
        "1 von 1, 1 nicht bestimmbar"
    )


def _nbsp(text: str) -> str:
    """Values keep their unit on the same line: "71,4 %" is written with a no-break space."""
    return text.replace(" ", "\N{NO-BREAK SPACE}")


def test_a_running_period_is_preliminary_and_counts_pending_deadlines_apart() -> None:
    rows = [
        # Mon 30.11.2026, nobody named yet; on Thu 03.12. the 5-day deadline (07.12.) is ahead
        {"nr": "a", "received": at(2026, 11, 30), "kind": "Fallanfrage"},
        # Mon 23.11.2026, deadline Mon 30.11. has passed
        {"nr": "b", "received": at(2026, 11, 23), "kind": "Hausbesuch"},
    ]
    report = make_report(rows, MV, H2, date(2026, 12, 3))
    assert report.preliminary and report.reference_day == date(2026, 12, 3)
    assert report.current.contact.pending == 1 and report.current.contact.within == Share(0, 1)
    assert report.current.home_visits.within == Share(0, 0)  # both visits' deadlines ahead


def test_report_without_sent_log_leaves_the_notice_figures_out() -> None:
    report = make_report([], MV, H2, AS_OF)
    assert report.current.notices is None and not report.notices_available
    assert "Erinnerungen versandt" not in [f.label for f in report.key_figures]
    assert [f.current_text for f in report.key_figures][:2] == ["0", "0"]


CELL = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(["Ja", "Nein", "Gemeinsamer Fall", "Hausbesuch", "Angetroffen", "SGB II"]),
)
COLUMNS = [c.key for c in load_schema().requests.columns]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional={k: CELL for k in COLUMNS}), max_size=6))
def test_any_cell_content_gives_figures_never_an_error(rows: list[dict[str, Any]]) -> None:
    figures = compute_figures(rows, MV, H2, AS_OF, sent=[])
    assert figures.requests.total <= len(rows)
    assert figures.contact.within.hits <= figures.contact.within.total <= len(rows)
    assert figures.joint.running + figures.joint.feedback_unknown >= figures.joint.feedback.total
