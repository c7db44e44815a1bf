"""Rows as staff really leave them: the rules never crash, skip what they cannot read, say why,
and the computed columns settle (applying the updates and recomputing changes nothing)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import (
    COMPUTED_COLUMNS,
    RowProblem,
    column_updates,
    digest,
    duties,
    notices,
)
from jugendhaus_mail.rules.model import HEADERS, KINDS
from jugendhaus_mail.workbook.model import CellValue, Row
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workdays import WorkCalendar

MV = WorkCalendar("DE-MV")
SETTINGS = DeadlineSettings()
TODAY = date(2026, 4, 8)
REQUEST_COLUMNS = [c.key for c in load_schema().requests.columns]
SERVICE_OWNED = {c.key for c in load_schema().requests.columns if c.owner == "service"}
SECRET = "Kevin wohnt bei der Oma"  # stands for social data typed into the wrong column


def request(nr: str | None, **values: CellValue) -> Row:
    row: Row = dict.fromkeys(REQUEST_COLUMNS)
    row.update({"nr": nr, "kind": "Fallanfrage", "received": datetime(2026, 4, 2, 10, 0)})
    row.update(values)
    return row


def problems_of(rows: list[Row]) -> list[RowProblem]:
    return duties(rows, [], MV, SETTINGS, TODAY)[1]


def test_headers_in_messages_match_the_schema() -> None:
    by_key = {c.key: c.header for c in load_schema().absences.columns}
    by_key.update({c.key: c.header for c in load_schema().requests.columns})
    assert {key: by_key[key] for key in HEADERS} == HEADERS


def test_text_in_a_date_column_skips_the_rule_and_does_not_leak_the_text() -> None:
    rows = [request("2026-0001", received=SECRET), request("2026-0002")]
    found, problems = duties(rows, [], MV, SETTINGS, TODAY)
    assert [(d.nr, d.rule) for d in found if d.nr] == [("2026-0002", "contact_person")]
    assert [(p.nr, p.column) for p in problems] == [("2026-0001", "received")]
    assert "„Eingang“ enthält kein Datum" in problems[0].message_de
    assert SECRET not in repr(problems)


def test_missing_receipt_and_numbers_in_date_columns() -> None:
    rows = [request("2026-0001", received=None), request("2026-0002", received=46100)]
    problems = problems_of(rows)
    assert [(p.nr, p.column) for p in problems] == [
        ("2026-0001", "received"),
        ("2026-0002", "received"),
    ]
    assert problems[0].message_de.startswith("„Eingang“ ist leer")


def test_unknown_kind_keeps_the_general_rules() -> None:
    row = request("2026-0001", kind="Hausbesuchh")
    found, problems = duties([row], [], MV, SETTINGS, TODAY)
    assert [d.rule for d in found if d.nr] == ["contact_person"]
    assert [p.column for p in problems] == ["kind"]


def test_joint_case_problems() -> None:
    no_dates = request("2026-0001", contact_person="A", status="Gemeinsamer Fall", consent="Ja")
    bad_interval = request(
        "2026-0002",
        contact_person="A",
        status="Gemeinsamer Fall",
        consent="Ja",
        joint_consultation=date(2026, 4, 13),
        feedback_weeks="vier",
    )
    staff: list[Row] = [{"name": "A", "role": "JSB", "email": "a@rostock.de"}]
    found, problems = duties([no_dates, bad_interval], staff, MV, SETTINGS, TODAY)
    # The bad interval falls back to the default 4 weeks: Mon 13.4. + 4 weeks = Mon 11.5.2026.
    assert [(d.nr, d.due) for d in found if d.nr] == [("2026-0002", date(2026, 5, 11))]
    assert [(p.nr, p.column) for p in problems] == [
        ("2026-0001", "joint_consultation"),
        ("2026-0002", "feedback_weeks"),
    ]


def test_rows_without_or_with_duplicate_nr() -> None:
    rows = [request(None, _row=7), request("2026-0003"), request(" 2026-0003 ")]
    found, problems = duties(rows, [], MV, SETTINGS, TODAY)
    assert [d for d in found if d.nr] == []
    assert [(p.nr, p.column) for p in problems] == [(None, "nr"), ("2026-0003", "nr")]
    assert problems[0].message_de.startswith("Anfragen, Zeile 7: „Nr.“ fehlt")
    assert column_updates(rows, MV, SETTINGS) == []


def test_unknown_contact_person_is_reported() -> None:
    row = request("2026-0001", contact_person="Anna Albrs")
    staff: list[Row] = [{"name": "Anna Albers", "role": "JSB", "email": "anna@rostock.de"}]
    assert [p.column for p in duties([row], staff, MV, SETTINGS, TODAY)[1]] == ["contact_person"]


def test_dates_outside_the_calendar_do_not_crash() -> None:
    row = request("2026-0001", received=datetime(9999, 12, 31, 12, 0))
    found, problems = duties([row], [], MV, SETTINGS, TODAY)
    assert [d for d in found if d.nr] == []
    assert [p.nr for p in problems] == ["2026-0001"]
    assert column_updates([row], MV, SETTINGS) == []


# --- property: random rows ---------------------------------------------------------------------

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
MOMENTS = st.builds(
    lambda d, m: datetime.combine(d, datetime.min.time()) + timedelta(minutes=m),
    DAYS,
    st.integers(0, 24 * 60 - 1),
)
JUNK: st.SearchStrategy[CellValue] = st.one_of(
    st.none(),
    st.just(""),
    st.just("  "),
    st.text(max_size=12),
    st.integers(-5, 50_000),
    st.floats(allow_nan=False, allow_infinity=False),
)
DATES: st.SearchStrategy[CellValue] = st.one_of(JUNK, DAYS, MOMENTS)


def choice(*values: str) -> st.SearchStrategy[CellValue]:
    return st.one_of(st.sampled_from(values), JUNK)


COLUMN_VALUES: dict[str, st.SearchStrategy[CellValue]] = {
    "received": DATES,
    "kind": choice(*KINDS, "hausbesuch", "Hausbesuchh"),
    "status": choice(
        "Neu", "In Bearbeitung", "Gemeinsamer Fall", "Gemeinsamer Fall", "Abgeschlossen"
    ),
    "contact_person": choice("Anna Albers", "Niemand"),
    "agreed_sgb2": choice("Ja", "Nein", "ja "),
    "agreed_sgb8": choice("Ja", "Nein"),
    "joint_consultation": DATES,
    "feedback_weeks": st.one_of(JUNK, st.integers(0, 8)),
    "last_feedback": DATES,
    "home_visit_done": DATES,
    "home_visit_result": choice("Angetroffen", "Nicht angetroffen"),
    "care_weeks": st.one_of(JUNK, st.integers(3, 7)),
    "follow_up_talk": DATES,
    "conference_sgb2": JUNK,
    "conference_sgb8": JUNK,
    "case_end": st.one_of(st.none(), st.none(), st.none(), DATES),  # mostly open cases
    **{column: DATES for column in COMPUTED_COLUMNS},
}


@st.composite
def rows(draw: st.DrawFn) -> list[Row]:
    count = draw(st.integers(1, 4))
    out = []
    for index in range(count):
        row: Row = dict.fromkeys(REQUEST_COLUMNS)
        row["nr"] = f"2026-{index + 1:04d}"
        for column, strategy in COLUMN_VALUES.items():
            row[column] = draw(strategy)
        dropped = draw(st.sets(st.sampled_from(COMPUTED_COLUMNS), max_size=2))
        for column in dropped:  # the sheet may lack a computed column
            del row[column]
        out.append(row)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows(), DAYS)
def test_random_rows_settle_and_never_crash(requests: list[Row], today: date) -> None:
    updates = column_updates(requests, MV, SETTINGS)
    assert {u.column for u in updates} <= set(COMPUTED_COLUMNS) <= SERVICE_OWNED
    by_nr = {str(r["nr"]): r for r in requests}
    for update in updates:
        assert update.column in by_nr[update.nr]  # never a column the sheet does not have
        by_nr[update.nr][update.column] = update.value
    assert column_updates(requests, MV, SETTINGS) == []

    found, problems = duties(requests, [], MV, SETTINGS, today)
    assert all(isinstance(p, RowProblem) for p in problems)
    notices(found, MV, today, SETTINGS)
    now = datetime.combine(today, datetime.min.time(), tzinfo=MV.tz)
    digest(requests, [], [], found, MV, now, None, SETTINGS)
