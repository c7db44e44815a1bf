"""Reading the workbook as staff keep it: columns by header, values by type, fast."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from workbook_helpers import SCHEMA, big_requests_xlsx, built

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.model import CellValue
from jugendhaus_mail.workbook.reader import read_snapshot

HEADERS = {c.key: c.header for c in SCHEMA.requests.columns}


def write_sheet(path: Path, rows: list[list[CellValue]], title: str = "Anfragen") -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = title
    for row in rows:
        ws.append(row)
    workbook.save(path)
    return path


def test_columns_are_found_by_header_in_any_order_with_extra_columns(tmp_path: Path) -> None:
    headers: list[CellValue] = [
        "Eigene Notiz",
        "  status ",  # case and spaces as a colleague typed them
        HEADERS["subject"],
        "NR.",
        "Telefonat am",
        HEADERS["received"].replace("Eingang", "Eingang\n"),  # wrapped with Alt+Enter
    ]
    rows: list[list[CellValue]] = [
        headers,
        ["privat", "Neu", "Hausbesuch Familie K.", "2026-0001", "gestern", datetime(2026, 4, 3, 9)],
    ]
    snapshot = read_snapshot(write_sheet(tmp_path / "a.xlsx", rows), SCHEMA)
    (request,) = snapshot.requests
    assert request["nr"] == "2026-0001"
    assert request["status"] == "Neu"
    assert request["subject"] == "Hausbesuch Familie K."
    assert request["received"] == datetime(2026, 4, 3, 9)
    assert request["_row"] == 2
    assert "Eigene Notiz" not in request and "Telefonat am" not in request
    missing = snapshot.missing_headers["Anfragen"]
    assert HEADERS["contact_due"] in missing and HEADERS["nr"] not in missing
    assert len(missing) == len(HEADERS) - 4


def test_values_typed_by_hand_are_brought_to_the_column_type(tmp_path: Path) -> None:
    keys = [
        "nr", "customer_number", "birth_date", "contact_due", "received",
        "home_visit_planned", "feedback_weeks", "attachments", "care_weeks", "notes",
    ]  # fmt: skip
    values: list[CellValue] = [
        17.0,  # a number typed into the text column Nr.
        12345.0,  # Kundennummer as a number
        "03.04.2006",  # German date typed as text
        " 7.4.26 ",  # short year, spaces
        "03.04.2026 10:15 Uhr",
        date(2026, 4, 9),  # date only in a datetime column
        "4",  # int typed as text
        2.5,  # not a whole number: kept, so it can be reported
        "vier",  # unparseable: stays text
        datetime(2026, 4, 3, 8, 30),  # a date in a text column
    ]
    path = write_sheet(tmp_path / "a.xlsx", [[HEADERS[k] for k in keys], values])
    (request,) = read_snapshot(path, SCHEMA).requests
    assert request["nr"] == "17"
    assert request["customer_number"] == "12345"
    assert request["birth_date"] == date(2006, 4, 3)
    assert request["contact_due"] == date(2026, 4, 7)
    assert request["received"] == datetime(2026, 4, 3, 10, 15)
    assert request["home_visit_planned"] == datetime(2026, 4, 9, 0, 0)
    assert request["feedback_weeks"] == 4
    assert request["attachments"] == 2.5
    assert request["care_weeks"] == "vier"
    assert request["notes"] == "03.04.2026 08:30"


def test_broken_dates_and_serial_numbers(tmp_path: Path) -> None:
    keys = ["nr", "birth_date", "contact_due", "care_until", "received"]
    rows: list[list[CellValue]] = [
        [HEADERS[k] for k in keys],
        ["A", "31.02.2026", 46115, 5, "morgen früh"],
    ]
    (request,) = read_snapshot(write_sheet(tmp_path / "a.xlsx", rows), SCHEMA).requests
    assert request["birth_date"] == "31.02.2026"  # no such day: left for a message
    assert request["contact_due"] == date(2026, 4, 3)  # an Excel serial whose format got lost
    assert request["care_until"] == "5"
    assert request["received"] == "morgen früh"


def test_empty_rows_between_data_are_skipped_and_row_numbers_kept(tmp_path: Path) -> None:
    rows: list[list[CellValue]] = [
        [HEADERS["nr"], HEADERS["subject"], "Eigene Spalte"],
        ["A-1", "eins", None],
        [None, None, None],
        ["   ", None, None],  # only spaces: empty too
        [None, None, "nur eigene Spalte"],
        ["A-2", None, None],
    ]
    requests = read_snapshot(write_sheet(tmp_path / "a.xlsx", rows), SCHEMA).requests
    assert [(r["nr"], r["_row"]) for r in requests] == [("A-1", 2), ("A-2", 6)]
    assert requests[1]["subject"] is None


def test_staff_and_absences_are_read_and_a_missing_optional_sheet_is_empty(
    tmp_path: Path,
) -> None:
    path = built(tmp_path)
    workbook = openpyxl.load_workbook(path)
    workbook["Mitarbeitende"].append(["Kim Berg", "kim.berg@jobcenter.example", "JSB"])
    workbook["Mitarbeitende"]["G3"] = "Ja"
    workbook["Abwesenheiten"]["A2"] = "Kim Berg"
    workbook["Abwesenheiten"]["B2"] = datetime(2026, 4, 7, 7, 30)
    del workbook["Abwesenheiten"]
    workbook.save(path)
    snapshot = read_snapshot(path, SCHEMA)
    (person,) = snapshot.staff
    assert person["name"] == "Kim Berg" and person["active"] == "Ja" and person["_row"] == 3
    assert snapshot.absences == []
    assert snapshot.missing_headers["Abwesenheiten"] == ("Name", "Von", "Bis", "Grund", "Art")


def test_a_missing_requests_sheet_is_a_clear_error(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "a.xlsx", [["Nr."]], title="Tabelle1")
    with pytest.raises(WorkbookError, match="fehlt das Blatt 'Anfragen'"):
        read_snapshot(path, SCHEMA)


def test_not_an_xlsx_and_a_missing_file_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "kaputt.xlsx"
    bad.write_bytes(b"kein zip")
    with pytest.raises(WorkbookError, match=r"keine lesbare \.xlsx-Datei"):
        read_snapshot(bad, SCHEMA)
    with pytest.raises(WorkbookError, match="jugendhaus-mail init"):
        read_snapshot(tmp_path / "fehlt.xlsx", SCHEMA)


def test_fingerprint_of_a_file_and_of_bytes(tmp_path: Path) -> None:
    path = built(tmp_path)
    from_file = read_snapshot(path, SCHEMA).fingerprint
    from_bytes = read_snapshot(path.read_bytes(), SCHEMA).fingerprint
    assert from_file.size == from_bytes.size == path.stat().st_size
    assert from_file.sha256 == from_bytes.sha256
    assert from_file.mtime_ns == path.stat().st_mtime_ns
    assert from_bytes.mtime_ns == 0


def test_ten_thousand_rows(tmp_path: Path) -> None:
    path = big_requests_xlsx(tmp_path / "gross.xlsx", 10_000)
    columns = SCHEMA.requests.columns
    started = time.perf_counter()
    snapshot = read_snapshot(path, SCHEMA)
    elapsed = time.perf_counter() - started
    print(f"\nread_snapshot, 10,000 rows x {len(columns)} columns: {elapsed:.2f} s")
    assert len(snapshot.requests) == 10_000
    last = snapshot.requests[-1]
    assert last["nr"] == "2026-09999" and last["_row"] == 10_001
    assert last["contact_due"] == date(2026, 4, 3)
    assert last["received"] == datetime(2026, 4, 3, 9)
    assert last["feedback_weeks"] == 4


def test_a_narrow_read_keeps_only_the_asked_columns_and_every_row(tmp_path: Path) -> None:
    """A caller that needs a few columns of a long list gets only those; a row filled only in
    a column not asked for still counts (the store's check counts rows that way)."""
    rows: list[list[CellValue]] = [
        [HEADERS["nr"], HEADERS["subject"], HEADERS["notes"], HEADERS["service_key"]],
        ["A-1", "eins", "Notiz", "k1"],
        [None, None, "nur Bemerkungen", None],
        [None, "   ", None, None],  # blank text only: no row, as in a full read
        ["A-2", None, None, "k2"],
    ]
    path = write_sheet(tmp_path / "a.xlsx", rows)
    full = read_snapshot(path, SCHEMA).requests
    narrow = read_snapshot(path, SCHEMA, columns={"subject"}).requests
    assert [r["_row"] for r in narrow] == [r["_row"] for r in full] == [2, 3, 5]
    assert narrow[0] == {"nr": "A-1", "subject": "eins", "service_key": "k1", "_row": 2}
    assert narrow[1] == {"nr": None, "subject": None, "service_key": None, "_row": 3}
    assert full[1]["notes"] == "nur Bemerkungen"


def test_a_table_starting_further_right_and_down_is_read_in_place(tmp_path: Path) -> None:
    """Staff put a title above the list and left column A empty: cells keep their columns."""
    rows: list[list[CellValue]] = [
        [None, "Anfrageliste 2026"],
        [],
        [None, HEADERS["nr"], HEADERS["subject"]],
        [None, "A-1", "eins"],
        [None, None, None, "außerhalb"],
    ]
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Anfragen"
    for row in rows:
        ws.append(row)
    ws.add_table(openpyxl.worksheet.table.Table(displayName="Anfragen", ref="B3:C4"))
    workbook.save(tmp_path / "a.xlsx")
    for columns in (None, {"subject"}):
        requests = read_snapshot(tmp_path / "a.xlsx", SCHEMA, columns=columns).requests
        assert [(r["nr"], r["subject"], r["_row"]) for r in requests] == [("A-1", "eins", 4)]


def test_a_number_calamine_cannot_turn_into_a_date_is_reported_not_a_crash(
    tmp_path: Path,
) -> None:
    """python-calamine panics (a BaseException) on -1e17 in a date-formatted cell; the poll
    must get a WorkbookError it reports, whether it reads all columns or a few."""
    path = write_sheet(tmp_path / "a.xlsx", [[HEADERS["nr"], HEADERS["received"]], ["1", 0]])
    workbook = openpyxl.load_workbook(path)
    cell = workbook["Anfragen"]["B2"]
    cell.value, cell.number_format = -1e17, "DD.MM.YYYY"
    workbook.save(path)
    for columns in (None, ["received"]):
        with pytest.raises(WorkbookError, match="lässt sich nicht lesen"):
            read_snapshot(path, SCHEMA, columns=columns)
