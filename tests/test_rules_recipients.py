"""Who gets reminders, due-day notices and escalations, from the sheet Mitarbeitende."""

from __future__ import annotations

from datetime import date

from jugendhaus_mail.rules import BOTH, SGB2, SGB8, Duty, Notice, Person, recipients
from jugendhaus_mail.rules.model import LABELS
from jugendhaus_mail.workbook.model import CellValue, Row

ANNA = Person("Anna Albers", "anna.albers@rostock.de")
BEN = Person("Ben Berg", "ben.berg@rostock.de")
ERIK = Person("Erik Eck", "erik.eck@rostock.de")
FRIEDA = Person("Frieda Fink", "frieda.fink@rostock.de")
GERD = Person("Gerd Gans", "gerd.gans@jobcenter-ge.de")
HANNA = Person("Hanna Hahn", "hanna.hahn@jobcenter-ge.de")
INES = Person("Ines Igel", "ines.igel@jobcenter-ge.de")


def staff_row(
    person: Person, role: str, rechtskreis: str = "", team_lead: str = "", active: str | None = "Ja"
) -> Row:
    return {
        "name": person.name,
        "email": person.email,
        "role": role,
        "rechtskreis": rechtskreis,
        "team_lead": team_lead,
        "active": active,
    }


STAFF = [
    staff_row(ANNA, "JSB", "SGB VIII"),
    staff_row(BEN, "JSB", "SGB VIII", active=None),  # empty Aktiv counts as active
    staff_row(Person("Carla Clausen", "carla@rostock.de"), "JSB", "SGB VIII", active="Nein"),
    staff_row(Person("Dora Dahl", ""), "JSB", "SGB VIII"),  # no e-mail address
    staff_row(ERIK, "Sachgebietsleitung", "SGB VIII"),
    staff_row(FRIEDA, "Teamleitung", "SGB VIII"),
    staff_row(GERD, "Teamleitung", "SGB II"),
    staff_row(HANNA, "IFK SGB II", "SGB II", team_lead="gerd gans"),
    staff_row(INES, "IFK SGB II", "SGB II"),
]


def notice(rule: str, stage: str, side: str, nr: str | None = "2026-0042") -> Notice:
    return Notice(Duty(rule, nr, date(2026, 4, 8), LABELS[rule], side), stage, date(2026, 4, 8))


def case(**values: CellValue) -> Row:
    row: Row = {
        "nr": "2026-0042",
        "requester_email": HANNA.email,
        "requester_name": HANNA.name,
        "client_name": "Max Muster",
    }
    row.update(values)
    return row


def test_contact_person_reminder_goes_to_all_active_jsb_with_email() -> None:
    got = recipients(notice("contact_person", "reminder", SGB8), case(), STAFF)
    assert (got.to, got.cc, got.missing) == ((ANNA, BEN), (), ())


def test_named_person_wins_over_the_role_matched_loosely() -> None:
    row = case(contact_person="  anna   ALBERS ")
    got = recipients(notice("home_visit", "due", SGB8), row, STAFF)
    assert got.to == (ANNA,)


def test_inactive_named_person_falls_back_to_the_role_and_says_so() -> None:
    row = case(contact_person="Carla Clausen")
    got = recipients(notice("home_visit", "reminder", SGB8), row, STAFF)
    assert got.to == (ANNA, BEN)
    assert got.missing == (
        "Ansprechpartner JSB „Carla Clausen“ ist nicht aktiv oder ohne E-Mail-Adresse im Blatt "
        "Mitarbeitende.",
    )


def test_feedback_goes_to_both_sides_contact_persons() -> None:
    by_requester = recipients(
        notice("feedback", "reminder", BOTH), case(contact_person="Ben Berg"), STAFF
    )
    assert by_requester.to == (BEN, HANNA)
    by_name = recipients(
        notice("care_end", "due", BOTH),
        case(contact_person="Ben Berg", sgb2_contact="ines igel"),
        STAFF,
    )
    assert by_name.to == (BEN, INES)


def test_requester_not_in_staff_list_is_still_reached_but_inactive_one_is_not() -> None:
    outside = case(requester_email="neu.ifk@jobcenter-ge.de", requester_name="Nina Neu")
    got = recipients(notice("mini_conference", "reminder", SGB2), outside, STAFF)
    assert got.to == (Person("Nina Neu", "neu.ifk@jobcenter-ge.de"),)
    inactive_staff = [*STAFF[:-2], staff_row(HANNA, "IFK SGB II", active="nein")]
    got = recipients(notice("mini_conference", "reminder", SGB2), case(), inactive_staff)
    assert got.to == ()
    assert got.missing == (
        "Die anfragende Person (Hanna Hahn) ist im Blatt Mitarbeitende nicht aktiv; bitte "
        "„Ansprechpartner SGB II“ eintragen.",
    )


def test_escalation_of_an_sgb8_duty_goes_to_the_sachgebietsleitung_with_cc() -> None:
    got = recipients(notice("contact_person", "escalation", SGB8), case(), STAFF)
    assert (got.to, got.cc, got.missing) == ((ERIK,), (ANNA, BEN), ())


def test_escalation_of_a_joint_duty_adds_the_requesters_teamleitung() -> None:
    row = case(contact_person="Anna Albers")
    got = recipients(notice("feedback", "escalation", BOTH), row, STAFF)
    assert (got.to, got.cc, got.missing) == ((ERIK, GERD), (ANNA, HANNA), ())


def test_escalation_explains_an_unknown_teamleitung() -> None:
    row = case(contact_person="Anna Albers", requester_email=INES.email, requester_name=INES.name)
    got = recipients(notice("mini_conference", "escalation", SGB2), row, STAFF)
    assert got.to == (ERIK,)
    assert got.cc == (INES,)
    assert got.missing == (
        "Für Ines Igel ist im Blatt Mitarbeitende keine Teamleitung eingetragen.",
    )


def test_missing_sachgebietsleitung_is_reported_and_escalation_still_reaches_someone() -> None:
    without_lead = [r for r in STAFF if r["role"] != "Sachgebietsleitung"]
    got = recipients(notice("contact_person", "escalation", SGB8), case(), without_lead)
    assert got.to == (ANNA, BEN)
    assert got.cc == ()
    assert (
        got.missing[0]
        == "Kein aktiver Eintrag mit Rolle Sachgebietsleitung im Blatt Mitarbeitende."
    )


def test_qualitaetsdialog_goes_to_the_organising_sides_leaders() -> None:
    sgb2 = recipients(notice("qualitaetsdialog", "reminder", SGB2, nr=None), None, STAFF)
    assert sgb2.to == (GERD,)
    sgb8 = recipients(notice("qualitaetsdialog", "reminder", SGB8, nr=None), None, STAFF)
    assert sgb8.to == (ERIK, FRIEDA)
    nobody = recipients(notice("qualitaetsdialog", "due", SGB2, nr=None), None, STAFF[:6])
    assert nobody.to == ()
    assert nobody.missing == (
        "Kein aktiver Eintrag mit Rolle Teamleitung und Rechtskreis SGB II im Blatt Mitarbeitende.",
    )


def test_goals_review_goes_to_all_leaders() -> None:
    got = recipients(notice("goals_review", "reminder", BOTH, nr=None), None, STAFF)
    assert got.to == (FRIEDA, GERD, ERIK)


def test_the_same_person_is_never_addressed_twice() -> None:
    # Erik is also named as JSB contact person: the escalation lists him once, in "to".
    staff = [*STAFF, staff_row(Person("Erik Eck", "ERIK.ECK@rostock.de"), "JSB")]
    got = recipients(
        notice("home_visit", "escalation", SGB8), case(contact_person="Erik Eck"), staff
    )
    assert got.to == (ERIK,)
    assert got.cc == ()


def test_sgb8_dialog_without_a_sgb8_teamleitung_is_fine_but_nobody_at_all_is_reported() -> None:
    # In Rostock the SGB VIII side is led by the Sachgebietsleitung alone: no complaint.
    no_tl8 = [r for r in STAFF if r["name"] != FRIEDA.name]
    got = recipients(notice("qualitaetsdialog", "reminder", SGB8, nr=None), None, no_tl8)
    assert (got.to, got.missing) == ((ERIK,), ())
    only_ifk = [r for r in STAFF if r["role"] == "IFK SGB II"]
    got = recipients(notice("qualitaetsdialog", "reminder", SGB8, nr=None), None, only_ifk)
    assert got.to == ()
    assert got.missing == (
        "Kein aktiver Eintrag mit Rolle Sachgebietsleitung oder Teamleitung und Rechtskreis "
        "SGB VIII im Blatt Mitarbeitende.",
    )
