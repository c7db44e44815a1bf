"""Updates to existing rows: staff text in a shared column is kept, a formula staff typed
blocks only its own cell, text that looks like a formula stays text even when edited in Excel,
and `check` says why rows wait."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from xlsx_fixtures import members, new_workbook, reopen, request, staff_rows

from jugendhaus_mail.workbook.model import CellUpdate, Changes
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workbook.xlsx_writer import apply_changes

SCHEMA = load_schema()
NOW = datetime(2026, 4, 3, 10, 15)


def value(ws: Worksheet, row: int, header: str) -> object:
    col = next(c.column for c in ws[1] if c.value == header)
    return ws.cell(row, col).value


@pytest.fixture
def typed(tmp_path: Path) -> bytes:
    """Three requests; staff wrote a note into `Letzte Rückmeldung` of the first, a date into
    the second, a date as text into the third, and a formula into the first's deadline."""
    return staff_rows(
        new_workbook(tmp_path, SCHEMA),
        [
            {
                "Nr.": "2026-0001",
                "Dienst-Schlüssel": "k1",
                "Letzte Rückmeldung": "ruft nach dem Urlaub zurück",
                "Frist Ansprechpartner": "=TODAY()+5",
            },
            {"Nr.": "2026-0002", "Dienst-Schlüssel": "k2", "Letzte Rückmeldung": date(2026, 3, 2)},
            {"Nr.": "2026-0003", "Dienst-Schlüssel": "k3", "Letzte Rückmeldung": "02.03.2026"},
        ],
    )


FEEDBACK = tuple(CellUpdate(f"2026-000{n}", "last_feedback", date(2026, 4, 2)) for n in (1, 2, 3))


# --- 9: a note in a shared column is kept -----------------------------------------------------


def test_a_note_in_a_shared_column_is_kept_and_reported(typed: bytes) -> None:
    out, result = apply_changes(typed, SCHEMA, Changes(updates=FEEDBACK))

    ws = reopen(out)
    assert value(ws, 2, "Letzte Rückmeldung") == "ruft nach dem Urlaub zurück"
    assert value(ws, 3, "Letzte Rückmeldung") == datetime(2026, 4, 2)
    assert value(ws, 4, "Letzte Rückmeldung") == datetime(2026, 4, 2)  # a date typed as text
    assert result.updated == 2
    assert len(result.skipped) == 1
    assert "2026-0001" in result.skipped[0] and "Letzte Rückmeldung" in result.skipped[0]
    assert "ruft nach dem Urlaub zurück" in result.skipped[0]
    assert "02.04.2026" in result.skipped[0]  # the value the service would have written


def test_the_store_logs_what_it_kept_and_check_can_show_it(
    tmp_path: Path, typed: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(typed)
    status = tmp_path / "state" / "workbook-status.json"
    store = WorkbookStore(
        path, SCHEMA, writer=apply_changes, backup_dir=tmp_path / "b", status_file=status
    )

    with caplog.at_level(logging.WARNING):
        result = store.commit(Changes(updates=FEEDBACK), now=NOW)

    assert result.updated == 2
    assert any("ruft nach dem Urlaub zurück" in r.getMessage() for r in caplog.records)
    from jugendhaus_mail.workbook.store import workbook_status

    assert any("2026-0001" in line for line in workbook_status(status).skipped)


# --- 13: an update must not block new requests ------------------------------------------------


def test_a_formula_in_a_service_cell_blocks_only_that_cell(tmp_path: Path, typed: bytes) -> None:
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(typed)
    store = WorkbookStore(path, SCHEMA, writer=apply_changes, backup_dir=tmp_path / "b")
    changes = Changes(
        appends=(request(4),),
        updates=(
            CellUpdate("2026-0001", "contact_due", date(2026, 4, 10)),
            CellUpdate("2026-0002", "contact_due", date(2026, 4, 9)),
        ),
    )

    result = store.commit(changes, now=NOW)

    ws = reopen(path.read_bytes())
    assert value(ws, 5, "Nr.") == "2026-0004"  # the new request is in
    assert value(ws, 2, "Frist Ansprechpartner") == "=TODAY()+5"  # staff's formula is kept
    assert value(ws, 3, "Frist Ansprechpartner") == datetime(2026, 4, 9)
    assert result.appended_keys == (request(4).service_key,)
    assert result.updated == 1
    due = next(c.column_letter for c in ws[1] if c.value == "Frist Ansprechpartner")
    assert any(f"{due}2" in s and "Formel" in s and "2026-0001" in s for s in result.skipped)
    assert [r["nr"] for r in read_snapshot(path, SCHEMA).requests][-1] == "2026-0004"


# --- 16: text that looks like a formula -------------------------------------------------------

FORMULA_LIKE = ["=1+1", "+49 381 123", "-1", "@SUMME(A1)", "\tTab", "\rCR", "=cmd|' /C calc'!A0"]


def test_formula_like_text_gets_a_quote_prefix_style(tmp_path: Path) -> None:
    data = new_workbook(tmp_path, SCHEMA)
    rows = [request(n, subject=text) for n, text in enumerate(FORMULA_LIKE, 1)]
    rows.append(request(99, subject="ganz normal"))

    out = apply_changes(data, SCHEMA, Changes(appends=tuple(rows)))[0]

    ws = reopen(out)
    col = next(c.column for c in ws[1] if c.value == "Betreff")
    for row, text in enumerate(FORMULA_LIKE, start=2):
        cell = ws.cell(row, col)
        assert (cell.value, cell.data_type) == (text, "s")
        assert cell.quotePrefix, f"{text!r} needs quotePrefix"
        assert cell.number_format == "@"  # the rest of the column's style is kept
    plain = ws.cell(len(FORMULA_LIKE) + 2, col)
    assert plain.value == "ganz normal" and not plain.quotePrefix
    sheet = members(out)["xl/worksheets/sheet1.xml"].decode()
    assert "<f>" not in sheet
    styles = members(out)["xl/styles.xml"].decode()
    count = re.search(r'<cellXfs count="(\d+)"', styles)
    assert count and int(count.group(1)) == len(re.findall(r"<xf\b", styles.split("<cellXfs")[1]))


def test_quote_prefix_styles_are_reused_not_added_each_time(tmp_path: Path) -> None:
    data = new_workbook(tmp_path, SCHEMA)
    once = apply_changes(data, SCHEMA, Changes(appends=(request(1, subject="=1"),)))[0]
    twice = apply_changes(once, SCHEMA, Changes(appends=(request(2, subject="=2"),)))[0]

    def xf_count(blob: bytes) -> int:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            text = archive.read("xl/styles.xml").decode()
        found = re.search(r'<cellXfs count="(\d+)"', text)
        assert found
        return int(found.group(1))

    assert xf_count(twice) == xf_count(once) == xf_count(data) + 1
    plain = apply_changes(twice, SCHEMA, Changes(appends=(request(3, subject="normal"),)))[0]
    again = apply_changes(plain, SCHEMA, Changes(appends=(request(4, subject="=4"),)))[0]
    assert xf_count(again) == xf_count(once)  # the copy made earlier is found and used again
    assert reopen(again)["E5"].quotePrefix


# --- 20: check says why rows wait -------------------------------------------------------------


def test_check_says_why_rows_wait(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.site import STAFF, make_site, request_mail, set_staff, utc

    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    workbook = openpyxl.load_workbook(site.workbook)
    workbook["Anfragen"].merge_cells("B2:C2")  # staff merged two cells of the empty table row
    workbook.save(site.workbook)
    site.deliver(request_mail("Fallanfrage", "x", message_id="<m@x.de>"), utc(2026, 3, 9, 9), "m")

    site.run("poll", now="2026-03-10T08:00")
    capsys.readouterr()
    site.run("check", now="2026-03-10T08:05")

    out = capsys.readouterr().out
    waiting = next(line for line in out.splitlines() if "warten seit" in line)
    assert "verbundene Zelle" in waiting and "B2:C2" in waiting
    assert "geöffnet oder gesperrt?" not in waiting

    workbook = openpyxl.load_workbook(site.workbook)  # staff resolve the merged cells
    workbook["Anfragen"].unmerge_cells("B2:C2")
    workbook.save(site.workbook)
    site.run("poll", now="2026-03-10T08:10")
    assert [r["Nr."].value for r in site.requests()] == ["2026-0001"]  # the row waited
    site.run("check", now="2026-03-10T08:15")
    assert "warten seit" not in capsys.readouterr().out


def test_check_lists_the_cells_an_update_kept(
    tmp_path: Path, typed: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.site import STAFF, make_site, set_staff

    site = make_site(tmp_path / "site")
    site.workbook.write_bytes(typed)
    set_staff(site, STAFF)
    site.app(NOW).store().commit(Changes(updates=FEEDBACK), now=NOW)

    site.run("check", now="2026-04-03T10:20")

    out = capsys.readouterr().out
    kept = [line for line in out.splitlines() if "nicht überschrieben" in line]
    assert len(kept) == 1 and "2026-0001" in kept[0] and "ruft nach dem Urlaub" in kept[0]
