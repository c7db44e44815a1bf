"""Due dates of every rule against dates worked out by hand (calendar MV, defaults of the config).

Calendar facts used below (from a printed calendar, not from the code under test):
- Easter 2026: Good Friday 3.4., Easter Monday 6.4.; Ascension Thu 14.5.; Whit Monday 25.5.2026.
- Christmas 2026: Thu 24.12. (closed day), Fri 25.12. (holiday), Sat 26.12., Thu 31.12. (closed
  day), Fri 1.1.2027 (holiday).
- Frauentag Mon 8.3.2027 (holiday in MV). Reformationstag 31.10.2026 is a Saturday.
- Weekdays: 1.3.2026 Sun, 1.4.2026 Wed, 1.10.2026 Thu, 1.12.2026 Tue, 1.1.2027 Fri, 1.3.2027 Mon.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import (
    BOTH,
    SGB2,
    SGB8,
    Duty,
    column_updates,
    computed_columns,
    duties,
    joint_case_events,
    next_goals_review,
    next_qualitaetsdialog,
    qualitaetsdialog_organiser,
)
from jugendhaus_mail.rules.columns import COMPUTED_COLUMNS
from jugendhaus_mail.workbook.model import CellUpdate, CellValue, Row
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workdays import WorkCalendar

MV = WorkCalendar("DE-MV")
SETTINGS = DeadlineSettings()
TODAY = date(2026, 3, 2)
STAFF: list[Row] = [{"name": "Anna Albers", "role": "JSB", "email": "anna@rostock.de"}]

ALL_COLUMNS = [c.key for c in load_schema().requests.columns]


def request(nr: str = "2026-0001", /, **values: CellValue) -> Row:
    """A row as the reader delivers it: every column present, empty ones None."""
    row: Row = dict.fromkeys(ALL_COLUMNS)
    row.update({"nr": nr, "kind": "Fallanfrage", "status": "Neu"})
    row.update(values)
    return row


def case_duties(*rows: Row, settings: DeadlineSettings = SETTINGS) -> list[Duty]:
    found, problems = duties(list(rows), STAFF, MV, settings, TODAY)
    assert problems == []
    return [d for d in found if d.nr is not None]


# --- contact person (5 working days) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Thu 2.4.2026: Good Friday and Easter Monday do not count; Tue 7.4. is day 1,
        # Wed 8. day 2, Thu 9. day 3, Fri 10. day 4, Mon 13.4. day 5.
        (datetime(2026, 4, 2, 10, 0), date(2026, 4, 13)),
        # Received on the Saturday of Easter: counting starts after it, Tue 7.4. is day 1.
        (datetime(2026, 4, 4, 9, 0), date(2026, 4, 13)),
        # Wed 3.3.2027: Thu 4. (1), Fri 5. (2), Mon 8. Frauentag, Tue 9. (3), Wed 10. (4),
        # Thu 11.3. (5).
        (datetime(2027, 3, 3, 16, 45), date(2027, 3, 11)),
        # Wed 28.10.2026: Thu 29. (1), Fri 30. (2), Reformationstag is a Saturday anyway,
        # Mon 2.11. (3), Tue 3. (4), Wed 4.11. (5).
        (datetime(2026, 10, 28, 8, 0), date(2026, 11, 4)),
        # A date without time of day (typed by staff) counts the same way.
        (date(2026, 4, 2), date(2026, 4, 13)),
    ],
)
def test_contact_person_due_after_five_working_days(received: CellValue, due: date) -> None:
    [duty] = case_duties(request(received=received))
    assert (duty.rule, duty.due, duty.side) == ("contact_person", due, SGB8)
    assert duty.label == "Ansprechpartner benennen"


def test_contact_person_duty_ends_when_a_name_is_entered() -> None:
    row = request(received=datetime(2026, 4, 2, 10, 0), contact_person="Anna Albers")
    assert case_duties(row) == []


def test_finished_requests_have_no_case_duties() -> None:
    received = datetime(2026, 4, 2, 10, 0)
    rows = [
        request("2026-0001", received=received, status="Abgeschlossen"),
        request("2026-0002", received=received, status=" weitergeleitet "),
        request("2026-0003", received=received, case_end=date(2026, 4, 3)),
    ]
    assert case_duties(*rows) == []


# --- home visit (10 working days) ------------------------------------------------------------


def test_home_visit_due_across_christmas_and_new_year() -> None:
    # Thu 17.12.2026: Fri 18. (1), Mon 21. (2), Tue 22. (3), Wed 23. (4), 24. closed,
    # 25. holiday, Mon 28. (5), Tue 29. (6), Wed 30. (7), 31. closed, 1.1. holiday,
    # Mon 4.1. (8), Tue 5.1. (9), Wed 6.1.2027 (10).
    row = request(kind="Hausbesuch", received=datetime(2026, 12, 17, 11, 0), contact_person="A")
    found, _ = duties([row], STAFF, MV, SETTINGS, TODAY)
    [duty] = [d for d in found if d.rule == "home_visit"]
    assert (duty.due, duty.side, duty.label) == (date(2027, 1, 6), SGB8, "Hausbesuch durchführen")
    assert computed_columns(row, MV, SETTINGS)["home_visit_due"] == date(2027, 1, 6)


def test_home_visit_duty_ends_when_done_and_only_for_kind_hausbesuch() -> None:
    received = datetime(2026, 12, 17, 11, 0)
    done = request(
        kind="Hausbesuch",
        received=received,
        contact_person="Anna Albers",
        home_visit_done=date(2027, 1, 5),
    )
    other = request(
        "2026-0002", kind="Stellungnahme", received=received, contact_person="Anna Albers"
    )
    assert case_duties(done, other) == []


# --- feedback in a joint case ----------------------------------------------------------------


def joint(**values: CellValue) -> Row:
    base: dict[str, CellValue] = {
        "received": datetime(2026, 2, 2, 9, 0),
        "contact_person": "Anna Albers",
        "consent": "Ja",
        "agreed_sgb2": "Ja",
        "agreed_sgb8": "ja",
    }
    base.update(values)
    return request(**base)


@pytest.mark.parametrize(
    ("values", "due"),
    [
        # Consultation Mon 13.4.2026 + 4 weeks = Mon 11.5.2026, a working day.
        ({"joint_consultation": date(2026, 4, 13)}, date(2026, 5, 11)),
        # + 6 weeks = Mon 25.5.2026, Whit Monday: back to Fri 22.5.2026.
        ({"joint_consultation": date(2026, 4, 13), "feedback_weeks": 6}, date(2026, 5, 22)),
        # Feedback by mail on Sat 7.3.2026: + 4 weeks = Sat 4.4., back past Good Friday 3.4.
        # to Thu 2.4.2026 (feedback at least every 4 weeks, so never later).
        (
            {"joint_consultation": date(2026, 2, 2), "last_feedback": date(2026, 3, 7)},
            date(2026, 4, 2),
        ),
        # The same with 6 weeks: Sat 18.4.2026 moves back to Fri 17.4.2026.
        (
            {
                "joint_consultation": date(2026, 2, 2),
                "last_feedback": date(2026, 3, 7),
                "feedback_weeks": 6.0,
            },
            date(2026, 4, 17),
        ),
        # Consultation Mon 8.2.2027 + 4 weeks = Mon 8.3.2027 Frauentag: back to Fri 5.3.2027.
        ({"joint_consultation": datetime(2027, 2, 8, 0, 0)}, date(2027, 3, 5)),
        # The later of consultation and last feedback counts: a stale feedback date from
        # before the consultation (13.4.2026) does not make the case look overdue.
        (
            {"joint_consultation": date(2026, 4, 13), "last_feedback": date(2026, 1, 5)},
            date(2026, 5, 11),
        ),
        # Status "Gemeinsamer Fall" alone also makes it a joint case.
        (
            {
                "agreed_sgb8": None,
                "status": "Gemeinsamer Fall",
                "joint_consultation": date(2026, 4, 13),
            },
            date(2026, 5, 11),
        ),
    ],
)
def test_feedback_due_in_joint_case(values: dict[str, CellValue], due: date) -> None:
    row = joint(**values)
    [duty] = case_duties(row)
    assert (duty.rule, duty.due, duty.side) == ("feedback", due, BOTH)
    assert duty.label == "Rückmeldung im gemeinsamen Fall"
    assert computed_columns(row, MV, SETTINGS)["next_feedback_due"] == due


def test_no_feedback_without_both_agreements_or_after_case_end() -> None:
    half = joint(agreed_sgb8="Nein", joint_consultation=date(2026, 4, 13))
    no_date = joint(joint_consultation=None)  # both agreed, but no consultation date yet
    ended = joint(joint_consultation=date(2026, 4, 13), case_end=date(2026, 6, 1))
    assert case_duties(half) == []
    assert case_duties(no_date) == []
    assert computed_columns(ended, MV, SETTINGS)["next_feedback_due"] is None


def test_configured_default_interval_applies_when_the_row_has_none() -> None:
    # Consultation Mon 13.4.2026 + 5 weeks (config) = Mon 18.5.2026.
    row = joint(joint_consultation=date(2026, 4, 13))
    [duty] = case_duties(row, settings=replace(SETTINGS, feedback_weeks=5))
    assert duty.due == date(2026, 5, 18)


# --- end of the SGB VIII care period after a home visit ---------------------------------------


@pytest.mark.parametrize(
    ("care_weeks", "until"),
    [
        # Visit Thu 26.11.2026 + 4 weeks = Thu 24.12. (closed day): back to Wed 23.12.2026.
        (None, date(2026, 12, 23)),
        # + 5 weeks = Thu 31.12. (closed day): back to Wed 30.12.2026.
        (5, date(2026, 12, 30)),
        # + 6 weeks = Thu 7.1.2027, a working day.
        (6, date(2027, 1, 7)),
    ],
)
def test_care_end_after_home_visit_where_the_young_person_was_met(
    care_weeks: int | None, until: date
) -> None:
    row = request(
        kind="Hausbesuch",
        received=datetime(2026, 11, 10, 9, 0),
        contact_person="Anna Albers",
        home_visit_done=date(2026, 11, 26),
        home_visit_result="Angetroffen",
        care_weeks=care_weeks,
    )
    [duty] = case_duties(row)
    assert (duty.rule, duty.due, duty.side) == ("care_end", until, BOTH)
    assert duty.label == "Nachgespräch nach Betreuungszeit"
    computed = computed_columns(row, MV, SETTINGS)
    assert computed["care_until"] == computed["follow_up_due"] == until


def test_no_care_end_when_not_met_or_after_the_follow_up_talk() -> None:
    visit: dict[str, CellValue] = {
        "kind": "Hausbesuch",
        "received": datetime(2026, 11, 10, 9, 0),
        "contact_person": "Anna Albers",
        "home_visit_done": date(2026, 11, 26),
    }
    not_met = request(home_visit_result="Nicht angetroffen", **visit)
    talked = request(
        "2026-0002", home_visit_result="Angetroffen", follow_up_talk=date(2026, 12, 22), **visit
    )
    assert case_duties(not_met, talked) == []
    assert computed_columns(not_met, MV, SETTINGS)["care_until"] is None
    # The talk being held does not erase the record of when care ended.
    assert computed_columns(talked, MV, SETTINGS)["care_until"] == date(2026, 12, 23)


# --- Mini-Fallkonferenz ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("named", "side"),
    [
        ({}, BOTH),
        ({"conference_sgb8": "Ben Berg"}, SGB2),
        ({"conference_sgb2": "Gerd Gans"}, SGB8),
    ],
)
def test_mini_conference_until_both_extra_participants_are_named(
    named: dict[str, str], side: str
) -> None:
    # Received Wed 3.3.2027: due like the contact person, Thu 11.3.2027 (Frauentag skipped).
    row = request(
        kind="Mini-Fallkonferenz",
        received=datetime(2027, 3, 3, 9, 0),
        contact_person="Anna Albers",
        **named,
    )
    [duty] = case_duties(row)
    assert (duty.rule, duty.due, duty.side) == ("mini_conference", date(2027, 3, 11), side)
    assert duty.label == "Mini-Fallkonferenz: weitere Teilnehmende benennen"


def test_mini_conference_closed_when_both_are_named() -> None:
    row = request(
        kind="Mini-Fallkonferenz",
        received=datetime(2027, 3, 3, 9, 0),
        contact_person="Anna Albers",
        conference_sgb2="Gerd Gans",
        conference_sgb8="Ben Berg",
    )
    assert case_duties(row) == []


# --- Qualitätsdialog and goals review --------------------------------------------------------


def test_qualitaetsdialog_alternates_over_the_years() -> None:
    # Dialog 0 is March 2026 (SGB II, the configured first organiser), then every dialog
    # switches: Sep 2026 SGB VIII, Mar 2027 SGB II, ... and backwards Sep 2025 SGB VIII.
    expected = {
        (2025, 3): SGB2,
        (2025, 9): SGB8,
        (2026, 3): SGB2,
        (2026, 9): SGB8,
        (2027, 3): SGB2,
        (2027, 9): SGB8,
        (2030, 3): SGB2,
        (2030, 9): SGB8,
    }
    for (year, month), side in expected.items():
        assert qualitaetsdialog_organiser(year, month, SETTINGS) == side
    flipped = replace(SETTINGS, qualitaetsdialog_first_organiser=SGB8)
    assert qualitaetsdialog_organiser(2026, 3, flipped) == SGB8
    assert qualitaetsdialog_organiser(2027, 9, flipped) == SGB2


def test_qualitaetsdialog_alternation_with_three_dialogs_a_year_crosses_years() -> None:
    # Months 3, 7, 11: 2026 dialogs are 0, 1, 2 (II, VIII, II); March 2027 is dialog 3 (VIII).
    three = replace(SETTINGS, qualitaetsdialog_months=(3, 7, 11))
    sides = [qualitaetsdialog_organiser(y, m, three) for y in (2026, 2027) for m in (3, 7, 11)]
    assert sides == [SGB2, SGB8, SGB2, SGB8, SGB2, SGB8]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # Tue 31.3.2026 is the last working day of March: due that day, still this dialog.
        (date(2026, 3, 31), (date(2026, 3, 31), SGB2)),
        (date(2026, 4, 1), (date(2026, 9, 30), SGB8)),  # Wed 30.9.2026
        # After September the next one is March 2027: Wed 31.3.2027 (after Easter Monday 29.3.).
        (date(2026, 10, 1), (date(2027, 3, 31), SGB2)),
    ],
)
def test_next_qualitaetsdialog(today: date, expected: tuple[date, str]) -> None:
    assert next_qualitaetsdialog(today, MV, SETTINGS) == expected


def test_qualitaetsdialog_due_moves_back_from_weekends_and_closed_days() -> None:
    other_months = replace(SETTINGS, qualitaetsdialog_months=(10, 12))
    # Sat 31.10.2026 (also Reformationstag) -> Fri 30.10.2026.
    assert next_qualitaetsdialog(date(2026, 10, 1), MV, other_months)[0] == date(2026, 10, 30)
    # Thu 31.12.2026 is a closed day -> Wed 30.12.2026.
    assert next_qualitaetsdialog(date(2026, 11, 1), MV, other_months)[0] == date(2026, 12, 30)


def test_goals_review_on_the_last_working_day_of_its_month() -> None:
    # January 2026 ends on Sat 31.: Fri 30.1.2026. Once passed, Jan 2027 ends on Sun 31.:
    # Fri 29.1.2027.
    assert next_goals_review(date(2026, 1, 5), MV, SETTINGS) == date(2026, 1, 30)
    assert next_goals_review(date(2026, 2, 2), MV, SETTINGS) == date(2027, 1, 29)


def test_office_duties_are_part_of_the_duty_list() -> None:
    found, _ = duties([], STAFF, MV, SETTINGS, date(2026, 4, 1))
    assert found == [
        Duty("qualitaetsdialog", None, date(2026, 9, 30), "Qualitätsdialog organisieren", SGB8),
        Duty("goals_review", None, date(2027, 1, 29), "Gemeinsame Ziele prüfen", BOTH),
    ]


# --- joint case events (VerBIS hint) ---------------------------------------------------------


def test_joint_case_events() -> None:
    assert joint_case_events(request()) == []
    assert joint_case_events(joint(joint_consultation=None)) == []
    assert joint_case_events(joint(joint_consultation=date(2026, 4, 13))) == ["start"]
    ended = joint(joint_consultation=date(2026, 4, 13), case_end=date(2026, 7, 1))
    assert joint_case_events(ended) == ["start", "end"]


@pytest.mark.parametrize("consent", [None, "", "Nein", "offen"])
def test_no_verbis_hint_without_the_young_persons_consent(consent: CellValue) -> None:
    """The agreement: a joint case exists only with the young person's consent. Without it the
    Jobcenter is not told to mark the person in VerBIS, whatever the status says."""
    for row in (
        joint(joint_consultation=date(2026, 4, 13), consent=consent),
        request(status="Gemeinsamer Fall", joint_consultation=date(2026, 4, 13), consent=consent),
        joint(joint_consultation=date(2026, 4, 13), case_end=date(2026, 7, 1), consent=consent),
    ):
        assert joint_case_events(row) == []


def test_a_joint_case_without_consent_is_a_problem_for_staff_and_keeps_its_reminders() -> None:
    row = joint(joint_consultation=date(2026, 4, 13), consent="Nein")
    found, problems = duties([row], STAFF, MV, SETTINGS, TODAY)
    assert [p.column for p in problems] == ["consent"]
    assert "Zustimmung junger Mensch" in problems[0].message_de
    assert "VerBIS" in problems[0].message_de
    # the feedback duty stays: staff treat it as a joint case until they correct the row
    assert [d.rule for d in found if d.nr] == ["feedback"]


# --- computed columns in the sheet -----------------------------------------------------------


def test_computed_columns_are_service_owned_in_the_schema() -> None:
    sheet = load_schema().requests
    assert all(sheet.column(key).owner == "service" for key in COMPUTED_COLUMNS)


def test_column_updates_only_where_the_sheet_differs() -> None:
    # Hausbesuch received Thu 2.4.2026: contact due Mon 13.4. (day 5), then Tue 14. (6),
    # Wed 15. (7), Thu 16. (8), Fri 17. (9): home visit due Mon 20.4.2026 (day 10).
    # A midnight datetime in a date column is the same date: no update.
    right = request(
        "2026-0001",
        kind="Hausbesuch",
        received=datetime(2026, 4, 2, 10, 0),
        contact_due=datetime(2026, 4, 13, 0, 0),
        home_visit_due=date(2026, 4, 20),
    )
    wrong = request(
        "2026-0002",
        kind="Hausbesuch",
        received=datetime(2026, 4, 2, 10, 0),
        contact_due=date(2026, 4, 9),
        home_visit_due="",
    )
    assert column_updates([right, wrong], MV, SETTINGS) == [
        CellUpdate("2026-0002", "contact_due", date(2026, 4, 13)),
        CellUpdate("2026-0002", "home_visit_due", date(2026, 4, 20)),
    ]


def test_column_updates_clear_a_cell_when_its_inputs_are_removed() -> None:
    # The kind was changed from Hausbesuch to Fallanfrage and the receipt date deleted.
    row = request(
        kind="Fallanfrage",
        received=None,
        contact_due=date(2026, 4, 13),
        home_visit_due=date(2026, 4, 21),
    )
    assert column_updates([row], MV, SETTINGS) == [
        CellUpdate("2026-0001", "contact_due", None),
        CellUpdate("2026-0001", "home_visit_due", None),
    ]


def test_column_updates_leave_cells_alone_when_inputs_are_unreadable_or_column_missing() -> None:
    unreadable = request(received="letzte Woche", contact_due=date(2026, 4, 13))
    no_column = request("2026-0002", received=datetime(2026, 4, 2, 10, 0))
    del no_column["contact_due"]  # the sheet has no "Frist Ansprechpartner" column
    assert column_updates([unreadable, no_column], MV, SETTINGS) == []


def test_column_updates_never_touch_staff_columns() -> None:
    row = joint(
        joint_consultation=date(2026, 4, 13),
        home_visit_done=date(2026, 11, 26),
        home_visit_result="Angetroffen",
        kind="Hausbesuch",
    )
    updates = column_updates([row], MV, SETTINGS)
    assert {u.column for u in updates} == set(COMPUTED_COLUMNS)
