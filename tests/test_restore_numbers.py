"""A Nr. staff typed by hand while a request waited (the workbook was open) is not doubled:
the waiting request gets the next free number and its requester is told."""

from __future__ import annotations

import logging
from pathlib import Path

import openpyxl
import pytest

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.model import Changes
from tests.site import STAFF, make_site, outgoing, request_mail, set_staff, utc
from tests.workbook_helpers import write_excel_lock


def test_a_number_typed_by_staff_while_a_row_waits_is_not_doubled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    site.deliver(request_mail("Fallanfrage", "Name: A\n", message_id="<a@x.de>"),
                 utc(2026, 3, 9, 8), "a")  # fmt: skip
    assert site.run("poll", now="2026-03-09T09:00") == 0
    lock = write_excel_lock(site.workbook, "Kim Berg")
    site.deliver(request_mail("Hausbesuch", "Name: B\n", message_id="<b@x.de>"),
                 utc(2026, 3, 9, 10), "b")  # fmt: skip
    assert site.run("poll", now="2026-03-09T10:05") == 0  # 2026-0002 waits
    # meanwhile, in Excel: a warm handover typed with the next number
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(3, headers["Nr."], "2026-0002")
    sheet.cell(3, headers["Eingangsweg"], "Warme Übergabe")
    sheet.cell(3, headers["Name junger Mensch"], "Chris Handover")
    sheet.tables["Anfragen"].ref = sheet.tables["Anfragen"].ref.replace("2", "3", 1)
    workbook.save(site.workbook)
    lock.unlink()
    caplog.set_level(logging.INFO)
    assert site.run("poll", now="2026-03-09T10:30") == 0

    rows = {str(r["Nr."].value): r for r in site.requests()}
    assert sorted(rows) == ["2026-0001", "2026-0002", "2026-0003"]
    assert rows["2026-0002"]["Name junger Mensch"].value == "Chris Handover"
    assert rows["2026-0003"]["Anfrageart"].value == "Hausbesuch"
    told = [m for m in outgoing(site) if "Neue Nummer" in str(m["Subject"])]
    assert [str(m["Subject"]) for m in told] == [
        "[2026-0003] Neue Nummer Ihrer Anfrage (bisher 2026-0002)"
    ]
    assert told[0]["To"] == "anna.schulz@jobcenter-ge.de"
    assert any("2026-0002" in r.getMessage() and "2026-0003" in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_the_store_refuses_to_append_a_number_another_row_holds(tmp_path: Path) -> None:
    from tests.test_workbook_store import built, make_store, new_row

    path = built(tmp_path)
    store = make_store(path)
    store.commit(Changes(appends=(new_row("mail:1", "2026-0001"),)), now=utc(2026, 3, 9))
    before = path.read_bytes()
    with pytest.raises(WorkbookUnsafe, match="2026-0001"):
        store.commit(Changes(appends=(new_row("mail:2", "2026-0001"),)), now=utc(2026, 3, 9))
    assert path.read_bytes() == before
