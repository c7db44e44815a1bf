"""The appointment rule on rows as staff type them (dates worked out by hand, calendar MV).

Weekdays used: Mon 9.11.2026, Tue 10.11., Mon 16.11., Tue 17.11.2026; no holiday in between.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules.appointments import CARE, DOUBLE, conflicts
from jugendhaus_mail.workbook.model import CellValue, Row
from jugendhaus_mail.workdays import WorkCalendar

MV = WorkCalendar("DE-MV")
SETTINGS = DeadlineSettings()
NOW = datetime(2026, 11, 2, 8, 0)  # Monday a week before


def request(nr: str = "2026-0042", **values: CellValue) -> Row:
    return {"nr": nr, "kind": "Fallanfrage", "status": "In Bearbeitung", **values}


def termin(
    start: CellValue, side: str, nr: str = "2026-0042", row: int = 2, **extra: CellValue
) -> Row:
    return {"nr": nr, "start": start, "side": side, "kind": "Einladung", "_row": row, **extra}


def test_monday_and_tuesday_of_different_sides_conflict_once() -> None:
    rows = [
        termin(datetime(2026, 11, 9, 9, 0), "SGB II"),
        termin(datetime(2026, 11, 10, 14, 0), "SGB VIII", row=3),
    ]
    found, problems = conflicts([request()], rows, MV, SETTINGS, NOW)
    assert problems == []
    assert [(c.rule, [a.label for a in c.appointments]) for c in found] == [
        (DOUBLE, ["SGB II: 09.11.2026, 09:00 Uhr", "SGB VIII: 10.11.2026, 14:00 Uhr"])
    ]
    moved = [rows[0], termin(datetime(2026, 11, 11, 14, 0), "SGB VIII", row=3)]
    again, _ = conflicts([request()], moved, MV, SETTINGS, NOW)
    assert again[0].key != found[0].key  # a changed date re-arms the notice


def test_same_side_far_apart_past_same_time_cancelled_or_finished_do_not_conflict() -> None:
    monday = datetime(2026, 11, 9, 9, 0)
    cases = {
        "same side": [termin(monday, "SGB II"), termin(datetime(2026, 11, 10), "SGB II")],
        "six working days": [termin(monday, "SGB II"), termin(datetime(2026, 11, 17), "SGB VIII")],
        "one meeting": [termin(monday, "SGB II"), termin(monday, "SGB VIII")],
        "cancelled": [
            termin(monday, "SGB II"),
            termin(datetime(2026, 11, 10), "SGB VIII", cancelled=date(2026, 11, 3)),
        ],
    }
    for what, rows in cases.items():
        assert conflicts([request()], rows, MV, SETTINGS, NOW)[0] == [], what
    rows = [termin(monday, "SGB II"), termin(datetime(2026, 11, 10, 9), "SGB III")]
    assert len(conflicts([request()], rows, MV, SETTINGS, NOW)[0]) == 1  # II and III differ
    assert conflicts([request()], rows, MV, SETTINGS, datetime(2026, 11, 11))[0] == []
    finished = request(status="Abgeschlossen")
    assert conflicts([finished], rows, MV, SETTINGS, NOW)[0] == []
    five = replace(SETTINGS, double_invitation_working_days=6)
    six_apart = cases["six working days"]
    assert len(conflicts([request()], six_apart, MV, five, NOW)[0]) == 1


def test_request_columns_count_as_appointments_without_typing_them_twice() -> None:
    planned = request(home_visit_planned=datetime(2026, 11, 10, 10, 0))
    rows = [termin(datetime(2026, 11, 12, 9, 0), "SGB II")]
    found, _ = conflicts([planned], rows, MV, SETTINGS, NOW)
    assert [a.kind for a in found[0].appointments] == ["Hausbesuch", "Einladung"]
    joint = request(joint_consultation=date(2026, 11, 13))
    assert [a.source for a in conflicts([joint], rows, MV, SETTINGS, NOW)[0][0].appointments] == [
        "",
        "Anfrageliste",
    ]


def test_an_invitation_inside_the_care_period_after_a_met_home_visit() -> None:
    # home visit Mon 2.11.2026, met, 4 weeks: care until Mon 30.11.2026
    visited = request(home_visit_done=date(2026, 11, 2), home_visit_result="Angetroffen")
    inside = [termin(datetime(2026, 11, 20, 9, 0), "SGB II")]
    found, _ = conflicts([visited], inside, MV, SETTINGS, NOW)
    assert [(c.rule, c.care_until) for c in found] == [(CARE, date(2026, 11, 30))]
    after = [termin(datetime(2026, 12, 1, 9, 0), "SGB II")]
    assert conflicts([visited], after, MV, SETTINGS, NOW)[0] == []
    jsb = [termin(datetime(2026, 11, 20, 9, 0), "SGB VIII")]
    assert conflicts([visited], jsb, MV, SETTINGS, NOW)[0] == []
    talked = {**visited, "follow_up_talk": date(2026, 11, 18)}
    assert conflicts([talked], inside, MV, SETTINGS, NOW)[0] == []
    not_met = {**visited, "home_visit_result": "Nicht angetroffen"}
    assert conflicts([not_met], inside, MV, SETTINGS, NOW)[0] == []


def test_text_in_termin_and_other_bad_cells_are_reported_like_other_rules() -> None:
    rows = [
        termin("nächste Woche Dienstag", "SGB II", row=4),
        termin(datetime(2026, 11, 9), "Jobcenter", row=5),
        termin(datetime(2026, 11, 9), "SGB II", nr="", row=6),
        termin(None, "SGB II", row=7),
        {"nr": None, "start": None, "side": None, "kind": "Notiz", "_row": 8},
    ]
    found, problems = conflicts([request()], rows, MV, SETTINGS, NOW)
    assert found == []
    assert [(p.column, p.message_de.split(":")[0]) for p in problems] == [
        ("start", "Termine, Zeile 4"),
        ("side", "Termine, Zeile 5"),
        ("nr", "Termine, Zeile 6"),
        ("start", "Termine, Zeile 7"),
    ]
    assert "nächste Woche" not in " ".join(p.message_de for p in problems)
