"""The restore check reads the whole workbook only when it may have changed since it last
compared it; skipping it never hides a row lost to an older copy (issue 15: a poll costs
little when nothing changed, issue 12: nothing lost)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from jugendhaus_mail.jobs import restore as restore_module
from jugendhaus_mail.workbook import store as store_module
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc


def _deliver(site: Site, numbers: range, day: int = 9, **extra: Any) -> None:
    for i in numbers:
        raw = request_mail(
            f"Fallanfrage {i}", f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n",
            message_id=f"<r{i}@jobcenter-ge.de>", **extra,
        )  # fmt: skip
        site.deliver(raw, utc(2026, 3, day, 7, 0) + timedelta(minutes=i), f"r{i:04d}")


def _numbers(site: Site) -> list[str]:
    return sorted(str(row["Nr."].value) for row in site.requests())


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')  # in [mail]
    set_staff(site, STAFF)
    return site


@pytest.fixture
def full_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path | bytes]]:
    """Every read of the request sheet that compares whole rows (all columns at once, or the
    column `Bemerkungen`, which only that comparison reads), counted while the real reader
    does the work."""
    calls: list[Path | bytes] = []
    real = store_module.read_snapshot

    def counting(source: Path | bytes, *args: Any, **kwargs: Any) -> Any:
        columns = kwargs.get("columns")
        if columns is None or "notes" in columns:
            calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(store_module, "read_snapshot", counting)
    monkeypatch.setattr(restore_module, "read_snapshot", counting)
    yield calls


def test_a_poll_reads_every_column_only_when_the_workbook_changed_since_the_last_check(
    site: Site, full_reads: list[Path | bytes]
) -> None:
    assert site.run("poll", now="2026-03-09T08:00") == 0  # nothing ever written: nothing to check
    assert full_reads == []
    _deliver(site, range(3))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    assert site.run("poll", now="2026-03-09T09:05") == 0  # only the service wrote since
    assert full_reads == []

    workbook = openpyxl.load_workbook(site.workbook)  # staff work in the list
    sheet = workbook["Anfragen"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(2, headers["Status"], "In Bearbeitung")
    workbook.save(site.workbook)
    assert site.run("poll", now="2026-03-09T10:00") == 0
    assert len(full_reads) == 1  # compared once, and the copies now hold the staff's edit
    assert site.run("poll", now="2026-03-09T10:05") == 0
    assert len(full_reads) == 1


def test_a_copy_of_a_version_checked_before_the_last_write_is_still_repaired(site: Site) -> None:
    _deliver(site, range(2))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    assert site.run("poll", now="2026-03-09T09:05") == 0  # checked, unchanged
    old_copy = site.root / "alte-fassung.xlsx"
    shutil.copy(site.workbook, old_copy)
    _deliver(site, range(2, 4), day=10)
    assert site.run("poll", now="2026-03-10T09:00") == 0
    assert _numbers(site) == ["2026-0001", "2026-0002", "2026-0003", "2026-0004"]

    shutil.copy(old_copy, site.workbook)  # byte for byte the version checked before
    assert site.run("poll", now="2026-03-10T10:00") == 0

    assert _numbers(site) == ["2026-0001", "2026-0002", "2026-0003", "2026-0004"]


def test_a_save_with_new_rows_and_feedback_does_not_mark_an_older_version_checked(
    site: Site,
) -> None:
    _deliver(site, range(2))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    assert site.run("poll", now="2026-03-09T09:05") == 0
    old_copy = site.root / "alte-fassung.xlsx"
    shutil.copy(site.workbook, old_copy)
    _deliver(site, range(2, 3), day=10)  # a new request and, in the same save, feedback
    reply = request_mail(
        "AW: Fallanfrage 0", "Kurze Rückmeldung: Termin hat stattgefunden.",
        message_id="<reply0@jobcenter-ge.de>", headers=[("In-Reply-To", "<r0@jobcenter-ge.de>")],
    )  # fmt: skip
    site.deliver(reply, utc(2026, 3, 10, 8, 0), "reply0")
    assert site.run("poll", now="2026-03-10T09:00") == 0
    rows = {str(r["Nr."].value): r for r in site.requests()}
    assert rows["2026-0001"]["Letzte Rückmeldung"].value is not None  # the feedback landed
    assert sorted(rows) == ["2026-0001", "2026-0002", "2026-0003"]

    shutil.copy(old_copy, site.workbook)
    assert site.run("poll", now="2026-03-10T10:00") == 0

    assert _numbers(site) == ["2026-0001", "2026-0002", "2026-0003"]


def test_staff_edits_on_every_row_survive_a_restore_when_rows_are_compared_in_chunks(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jugendhaus_mail.jobs import restore

    monkeypatch.setattr(restore, "COMPARE_CHUNK", 2)  # chunk borders between the 5 rows
    empty_copy = site.root / "leere-fassung.xlsx"
    shutil.copy(site.workbook, empty_copy)
    _deliver(site, range(5))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, 7):
        sheet.cell(row, headers["Status"], f"In Bearbeitung {row}")
    workbook.save(site.workbook)
    assert site.run("poll", now="2026-03-09T10:00") == 0  # the copies take the edits

    shutil.copy(empty_copy, site.workbook)
    assert site.run("poll", now="2026-03-09T11:00") == 0

    statuses = {str(r["Nr."].value): r["Status"].value for r in site.requests()}
    assert statuses == {f"2026-{n:04d}": f"In Bearbeitung {n + 1}" for n in range(1, 6)}


def test_a_save_by_staff_during_the_comparison_is_compared_again_on_one_version(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_copy = site.root / "leere-fassung.xlsx"
    shutil.copy(site.workbook, empty_copy)
    _deliver(site, range(2))
    assert site.run("poll", now="2026-03-09T09:00") == 0

    def staff_save(status: str) -> None:
        workbook = openpyxl.load_workbook(site.workbook)
        sheet = workbook["Anfragen"]
        headers = {cell.value: cell.column for cell in sheet[1]}
        sheet.cell(2, headers["Status"], status)
        sheet.cell(2, headers["Bemerkungen"], f"Notiz {status}")
        workbook.save(site.workbook)

    staff_save("erste Fassung")
    real = restore_module.read_snapshot
    reads: list[object] = []

    def saving_meanwhile(source: Path | bytes, *args: Any, **kwargs: Any) -> Any:
        reads.append(source)
        if len(reads) == 2:  # after the first group of columns: a colleague saves again
            staff_save("zweite Fassung")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(restore_module, "read_snapshot", saving_meanwhile)
    assert site.run("poll", now="2026-03-09T10:00") == 0
    monkeypatch.setattr(restore_module, "read_snapshot", real)
    assert site.run("poll", now="2026-03-09T10:05") == 0  # compares the second version

    shutil.copy(empty_copy, site.workbook)
    assert site.run("poll", now="2026-03-09T11:00") == 0
    first = next(r for r in site.requests() if r["Nr."].value == "2026-0001")
    assert first["Status"].value == "zweite Fassung"
    assert str(first["Bemerkungen"].value).startswith("Notiz zweite Fassung")


def test_rows_written_before_the_ledger_existed_get_their_copy_from_the_workbook(
    site: Site,
) -> None:
    import sqlite3

    empty_copy = site.root / "leere-fassung.xlsx"
    shutil.copy(site.workbook, empty_copy)
    _deliver(site, range(2))
    assert site.run("poll", now="2026-03-09T09:00") == 0
    with sqlite3.connect(site.root / "state" / "jugendhaus-mail.sqlite3") as db:
        db.execute("DELETE FROM written_rows")  # a database from before the copies were kept
        db.execute("DELETE FROM kv")
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(3, headers["Status"], "In Bearbeitung")
    workbook.save(site.workbook)
    assert site.run("poll", now="2026-03-09T10:00") == 0  # the copies come from the workbook

    shutil.copy(empty_copy, site.workbook)
    assert site.run("poll", now="2026-03-09T11:00") == 0

    statuses = {str(r["Nr."].value): r["Status"].value for r in site.requests()}
    assert statuses == {"2026-0001": "Neu", "2026-0002": "In Bearbeitung"}
