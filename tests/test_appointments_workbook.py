"""Sheet `Termine`: `init` builds it, the upgrade adds it to an older workbook, the reader
reads what staff typed there."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.migrate import migrate_workbook
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import Schema, load_schema

SCHEMA = load_schema()
HEADERS = ["Nr.", "Termin", "Seite", "Art", "Eingetragen von", "Quelle", "Abgesagt am"]
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def without_appointments() -> Schema:
    return replace(SCHEMA, sheets=tuple(s for s in SCHEMA.sheets if s.name != "Termine"))


def type_appointment(path: Path, *values: object) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Termine"]
    for col, value in enumerate(values, start=1):
        sheet.cell(2, col, value)
    workbook.save(path)


def test_init_builds_the_sheet_with_dropdowns_and_the_reader_reads_typed_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "Anfrageliste.xlsx"
    build_workbook(path, SCHEMA)
    sheet = openpyxl.load_workbook(path)["Termine"]
    assert [c.value for c in sheet[1]][: len(HEADERS)] == HEADERS
    assert sheet.column_dimensions["H"].hidden  # the service's key column
    lists = {str(v.formula1) for v in sheet.data_validations.dataValidation}
    assert {"Liste_Seite", "Liste_Terminart", "Liste_Terminquelle"} <= lists

    type_appointment(path, "2026-0042", datetime(2026, 11, 9, 10, 0), "SGB VIII", "Beratung")
    rows = read_snapshot(path, SCHEMA).appointments
    assert [(r["nr"], r["start"], r["side"], r["kind"]) for r in rows] == [
        ("2026-0042", datetime(2026, 11, 9, 10, 0), "SGB VIII", "Beratung")
    ]
    assert rows[0]["_row"] == 2


def test_the_upgrade_adds_the_sheet_to_an_older_workbook_and_keeps_every_other_part(
    tmp_path: Path,
) -> None:
    path = tmp_path / "Anfrageliste.xlsx"
    build_workbook(path, without_appointments())
    workbook = openpyxl.load_workbook(path)
    workbook["Anfragen"]["A2"] = "2026-0001"
    workbook.save(path)
    with zipfile.ZipFile(path) as package:
        before = {name: package.read(name) for name in package.namelist()}
    assert read_snapshot(path, SCHEMA).appointments == []  # no sheet yet: nothing, no error

    result = migrate_workbook(path, SCHEMA, backup_dir=tmp_path / "backups", now=NOW)

    assert result.sheets == ("Termine",) and result.added == ()
    assert result.backup is not None and result.backup.read_bytes() != path.read_bytes()
    with zipfile.ZipFile(path) as package:
        after = {name: package.read(name) for name in package.namelist()}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    reopened = openpyxl.load_workbook(path)
    sheet = reopened["Termine"]
    assert [c.value for c in sheet[1]][: len(HEADERS)] == HEADERS
    assert sheet.tables["Termine"].ref == "A1:H2"
    assert sheet.column_dimensions["H"].hidden
    assert reopened["Anfragen"]["A2"].value == "2026-0001"
    seiten = [v for v in sheet.data_validations.dataValidation if "C2" in str(v.sqref)]
    assert seiten and seiten[0].formula1 == '"SGB II,SGB III,SGB VIII"'

    type_appointment(path, "2026-0001", datetime(2026, 11, 10, 9, 30), "SGB II", "Einladung")
    snapshot = read_snapshot(path, SCHEMA)
    assert [r["start"] for r in snapshot.appointments] == [datetime(2026, 11, 10, 9, 30)]
    assert "Termine" not in snapshot.missing_headers

    again = migrate_workbook(path, SCHEMA, backup_dir=tmp_path / "backups", now=NOW)
    assert again == type(again)(())
