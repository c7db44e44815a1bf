"""A restored older workbook loses nothing: rows the service wrote come back, marked, staff
are told once and `check` lists them; a row deleted on purpose (and listed in `Gelöscht`)
stays deleted. A Nr. staff typed while rows waited is not doubled."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc


def _deliver(site: Site, numbers: range, day: int = 9) -> None:
    for i in numbers:
        raw = request_mail(
            f"Fallanfrage {i}", f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n",
            message_id=f"<r{i}@jobcenter-ge.de>",
        )  # fmt: skip
        site.deliver(raw, utc(2026, 3, day, 7, 0) + timedelta(minutes=i), f"r{i:04d}")


def _rows(site: Site) -> dict[str, dict[str, object]]:
    return {str(row["Nr."].value): {h: c.value for h, c in row.items()} for row in site.requests()}


def _mails(site: Site, words: str) -> list[str]:
    return [str(m["Subject"]) for m in outgoing(site) if words in str(m["Subject"])]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')  # in [mail]
    set_staff(site, STAFF)
    return site


def test_rows_lost_to_a_restored_copy_come_back_marked_and_staff_are_told_once(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    _deliver(site, range(2))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    old_copy = site.root / "alte-fassung.xlsx"
    shutil.copy(site.workbook, old_copy)  # e.g. a share snapshot taken now
    _deliver(site, range(2, 5), day=10)
    assert site.run("poll", now="2026-03-10T09:00") == 0
    workbook = openpyxl.load_workbook(site.workbook)  # staff work on a row written later
    sheet = workbook["Anfragen"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(4, headers["Status"], "In Bearbeitung")
    workbook.save(site.workbook)
    assert site.run("poll", now="2026-03-10T10:00") == 0
    shutil.copy(old_copy, site.workbook)  # IT puts the old copy back
    capsys.readouterr()

    assert site.run("poll", now="2026-03-11T09:00") == 0
    rows = _rows(site)
    assert sorted(rows) == [f"2026-000{n}" for n in range(1, 6)]
    assert rows["2026-0003"]["Kundennummer"] == "002D000002"
    assert rows["2026-0003"]["Bemerkungen"] == "wiederhergestellt am 11.03.2026"
    assert rows["2026-0003"]["Status"] == "In Bearbeitung"  # the newest version seen
    assert rows["2026-0001"]["Bemerkungen"] is None
    told = _mails(site, "fehlende Zeilen wieder eingetragen")
    assert told == ["Anfrageliste: 3 fehlende Zeilen wieder eingetragen"]

    assert site.run("check", now="2026-03-11T09:05") in (0, 1)
    out = capsys.readouterr().out
    assert "Wieder eingetragen" in out and "2026-0003, 2026-0004, 2026-0005" in out

    assert site.run("poll", now="2026-03-11T10:00") == 0  # once: nothing new, no second mail
    assert len(site.requests()) == 5
    assert len(_mails(site, "fehlende Zeilen wieder eingetragen")) == 1


def test_a_row_deleted_on_purpose_and_listed_in_geloescht_stays_deleted(site: Site) -> None:
    _deliver(site, range(3))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    workbook = openpyxl.load_workbook(site.workbook)
    requests = workbook["Anfragen"]
    requests.delete_rows(3)  # 2026-0002: entered twice by mistake
    deleted = workbook["Gelöscht"]
    deleted.append(["2026-0002", "11.03.2026", "Lena Kowalski", "doppelt erfasst"])
    deleted.tables["Geloescht"].ref = "A1:D2"
    workbook.save(site.workbook)
    assert site.run("poll", now="2026-03-11T09:00") == 0
    assert sorted(_rows(site)) == ["2026-0001", "2026-0003"]
    assert _mails(site, "wieder eingetragen") == []


def test_a_row_deleted_without_the_list_comes_back(site: Site) -> None:
    _deliver(site, range(2))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    workbook = openpyxl.load_workbook(site.workbook)
    workbook["Anfragen"].delete_rows(2)
    workbook.save(site.workbook)
    assert site.run("poll", now="2026-03-11T09:00") == 0
    assert sorted(_rows(site)) == ["2026-0001", "2026-0002"]


def test_a_crash_right_after_rewriting_restored_rows_doubles_nothing(site: Site) -> None:
    from jugendhaus_mail.failpoints import ENV

    _deliver(site, range(1))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    old_copy = site.root / "alte-fassung.xlsx"
    shutil.copy(site.workbook, old_copy)
    _deliver(site, range(1, 3), day=10)
    assert site.run("poll", now="2026-03-10T09:00") == 0
    shutil.copy(old_copy, site.workbook)
    crashed = site.cli(
        "poll", now="2026-03-11T09:00", env={ENV: "after_workbook_save"}, check=False
    )
    assert crashed.returncode == 137
    site.cli("poll", now="2026-03-11T09:05")
    site.cli("poll", now="2026-03-11T09:10")
    numbers = [row["Nr."].value for row in site.requests()]
    assert numbers == ["2026-0001", "2026-0002", "2026-0003"]
    assert len(_mails(site, "fehlende Zeilen wieder eingetragen")) == 1
