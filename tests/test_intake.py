"""Intake end to end on a real Maildir and a real workbook made by `init`."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from jugendhaus_mail.jobs.intake import poll
from jugendhaus_mail.workbook.locks import lock_paths
from tests.site import Site, make_site, request_mail, utc

NOW = utc(2026, 3, 10, 8, 0)  # Tuesday


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def test_a_request_becomes_one_row_with_deadlines_in_working_days(site: Site) -> None:
    body = (
        "Hallo liebes JSB-Team,\n\nbitte um Hausbesuch.\n\n"
        "Name: Jonas Müller\nKundennummer: 123D456789\nGeburtsdatum: 01.02.2005\n"
        "Anschrift: Lange Straße 3, 18055 Rostock\n\nViele Grüße\nAnna Schulz"
    )
    # received Friday 6 March 2026, 23:30 UTC = Saturday 7 March 00:30 in Rostock:
    # counting starts Monday 9 March; Frauentag (8.3.) is a Sunday this year.
    # 5 working days after Sat 7.3. -> Fri 13.3.; 10 working days -> Fri 20.3.
    site.deliver(
        request_mail("Anfrage Hausbesuch", body, message_id="<a1@jobcenter-ge.de>"),
        utc(2026, 3, 6, 23, 30),
        "a1",
    )
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["request"]
    assert report.written == 1
    [row] = site.requests()
    assert row["Nr."].value == "2026-0001"
    assert row["Eingang"].value == datetime(2026, 3, 7, 0, 30)
    assert row["Anfrageart"].value == "Hausbesuch"
    assert row["Rechtskreis"].value == "SGB II"
    assert row["E-Mail Anfragende"].value == "anna.schulz@jobcenter-ge.de"
    assert row["Name junger Mensch"].value == "Jonas Müller"
    assert row["Kundennummer"].value == "123D456789"
    assert row["Anschrift"].value == "Lange Straße 3, 18055 Rostock"
    assert row["Frist Ansprechpartner"].value.date() == date(2026, 3, 13)
    assert row["Hausbesuch fällig bis"].value.date() == date(2026, 3, 20)
    assert row["Frist Ansprechpartner"].number_format.upper() == "DD.MM.YYYY"
    assert row["Status"].value == "Neu"
    # Message-ID and a digest of the content: two different mails never share a key
    assert re.fullmatch(r"mid:a1@jobcenter-ge\.de#[0-9a-f]{16}", row["Dienst-Schlüssel"].value)
    assert len(site.folder("Erfasst")) == 1 and site.inbox() == []


def test_case_numbers_count_per_calendar_year_and_continue_after_staff_numbers(site: Site) -> None:
    site.deliver(
        request_mail("Fallanfrage", "x", message_id="<y1@x.de>"), utc(2026, 12, 30, 9), "y1"
    )
    site.deliver(request_mail("Fallanfrage", "y", message_id="<y2@x.de>"), utc(2027, 1, 4, 9), "y2")
    poll(site.app(utc(2027, 1, 4, 10)))
    numbers = [r["Nr."].value for r in site.requests()]
    assert numbers == ["2026-0001", "2027-0001"]


def test_second_cycle_changes_nothing(site: Site) -> None:
    for i in range(3):
        site.deliver(
            request_mail(f"Fallanfrage {i}", "Text", message_id=f"<m{i}@x.de>"),
            utc(2026, 3, 9, 9, i),
            f"m{i}",
        )
    poll(site.app(NOW))
    before = site.workbook.read_bytes()
    report = poll(site.app(NOW))
    assert report.mails == [] and report.written == 0
    assert site.workbook.read_bytes() == before


def test_automated_mail_is_set_aside_with_a_reason(site: Site) -> None:
    site.deliver(
        request_mail(
            "Automatische Antwort: Fallanfrage",
            "Ich bin nicht im Büro.",
            headers=[("Auto-Submitted", "auto-replied")],
        ),
        utc(2026, 3, 9, 9),
        "auto",
    )
    site.deliver(
        request_mail("Newsletter", "Neuigkeiten", headers=[("Precedence", "bulk")]),
        utc(2026, 3, 9, 10),
        "bulk",
    )
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["set_aside", "set_aside"]
    assert all(m.reason for m in report.mails)
    assert site.requests() == []
    assert len(site.folder("Nicht erfasst")) == 2
    with site.app(NOW).state() as state:
        reasons = [reason for _received, reason, _key in state.set_aside()]
    assert len(reasons) == 2 and all(reasons)


def test_the_same_mail_delivered_twice_gives_one_row(site: Site) -> None:
    raw = request_mail("Fallanfrage", "Text", message_id="<twice@x.de>")
    site.deliver(raw, utc(2026, 3, 9, 9), "first")
    poll(site.app(NOW))
    site.deliver(raw, utc(2026, 3, 9, 9, 5), "second")
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["duplicate"]
    assert "2026-0001" in (report.mails[0].reason or "")
    assert len(site.requests()) == 1
    assert len(site.folder("Nicht erfasst")) == 1


def test_staff_sheet_rechtskreis_wins_over_the_domain(site: Site) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Mitarbeitende"]
    sheet["A2"], sheet["B2"], sheet["C2"], sheet["D2"] = (
        "Tim Berg",
        "tim.berg@hansestadt.de",
        "IFK SGB II",
        "SGB II",
    )
    workbook.save(site.workbook)
    site.deliver(
        request_mail("Fallanfrage", "x", sender="tim.berg@hansestadt.de"), utc(2026, 3, 9, 9), "tb"
    )
    site.deliver(
        request_mail("Fallanfrage", "x", sender="info@traeger.de", message_id="<e@t.de>"),
        utc(2026, 3, 9, 9),
        "ext",
    )
    site.deliver(
        request_mail("Fallanfrage", "x", sender="kollegin@rostock.de", message_id="<k@r.de>"),
        utc(2026, 3, 9, 9),
        "own",
    )
    poll(site.app(NOW))
    by_sender = {r["E-Mail Anfragende"].value: r["Rechtskreis"].value for r in site.requests()}
    assert by_sender == {
        "tim.berg@hansestadt.de": "SGB II",
        "info@traeger.de": "extern",
        "kollegin@rostock.de": "SGB VIII",
    }


@pytest.mark.parametrize("lock_kind", ["excel", "libreoffice"])
def test_open_workbook_queues_rows_durably_and_writes_them_later(
    site: Site, lock_kind: str
) -> None:
    lock = lock_paths(site.workbook)[lock_kind]  # type: ignore[index]
    lock.write_bytes(
        b"\x05Maria" + b" " * 48
        if lock_kind == "excel"
        else b",Maria Meier,pc1,10.03.2026 07:55,file:///x;"
    )
    site.deliver(request_mail("Fallanfrage", "x", message_id="<q1@x.de>"), utc(2026, 3, 9, 9), "q1")
    before = site.workbook.read_bytes()
    report = poll(site.app(NOW))
    assert report.written == 0 and report.pending == 1
    assert "Maria" in (report.waiting_reason or "")
    assert site.workbook.read_bytes() == before
    assert len(site.folder("Erfasst")) == 1  # the mail is safe in the state database
    assert lock.exists()  # never delete someone's lock
    lock.unlink()
    report = poll(site.app(NOW))
    assert report.written == 1
    assert [r["Nr."].value for r in site.requests()] == ["2026-0001"]


def test_dry_run_changes_nothing(site: Site) -> None:
    site.deliver(request_mail("Stellungnahme", "x", message_id="<d@x.de>"), utc(2026, 3, 9, 9), "d")
    before = site.workbook.read_bytes()
    report = poll(site.app(NOW), dry_run=True)
    assert [(m.outcome, m.kind) for m in report.mails] == [("request", "Stellungnahme")]
    assert site.workbook.read_bytes() == before
    assert len(site.inbox()) == 1
    # the dry run recorded nothing: the real run takes the mail in as the first request
    real = poll(site.app(NOW))
    assert real.written == 1 and real.mails[0].nr == "2026-0001"
    assert [r["Nr."].value for r in site.requests()] == ["2026-0001"]


INJECTIONS = [
    '=HYPERLINK("http://evil.example","klick")',
    "=1+1",
    "+49 381 123",
    "-2",
    "@SUM(A1)",
    "#N/A",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_text_from_mail_never_becomes_a_formula(site: Site, payload: str) -> None:
    body = f"Name: {payload}\nKundennummer: {payload}\nAnschrift: {payload}\n"
    site.deliver(
        request_mail(
            f"{payload}", body, sender=f'"{payload}" <a@jobcenter-ge.de>', message_id="<inj@x.de>"
        ),
        utc(2026, 3, 9, 9),
        "inj",
    )
    poll(site.app(NOW))
    [row] = site.requests()
    for header in ("Betreff", "Name junger Mensch", "Kundennummer", "Anschrift", "Anfrage von"):
        cell = row[header]
        assert cell.data_type == "s", (header, cell.value)
        assert cell.value == payload, header


def test_control_characters_are_removed(site: Site) -> None:
    site.deliver(
        request_mail("Fall\x07anfrage\x1b", "Name: Lea\x00 Ko\x0bch\n", message_id="<cc@x.de>"),
        utc(2026, 3, 9, 9),
        "cc",
    )
    poll(site.app(NOW))
    [row] = site.requests()
    assert row["Betreff"].value == "Fallanfrage"
    assert "\x00" not in (row["Name junger Mensch"].value or "")


def test_the_jobs_of_one_cycle_share_the_parsed_workbook(site: Site) -> None:
    from dataclasses import replace

    app = site.app(NOW)
    later = replace(app, now=NOW)
    assert later.store() is app.store()
    first = app.store().read()
    assert later.store().read() == first  # served from the cache while the file is unchanged
