"""Upgrades: a workbook made by an older version (fewer columns) gets the new columns appended at
the right end of its table, after a backup, with every other byte of the package untouched."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from jugendhaus_mail.errors import WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.migrate import migrate_workbook
from jugendhaus_mail.workbook.schema import Schema, load_schema
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc

SCHEMA = load_schema()
NEW_IN_REQUESTS = ("announcement_sent", "follow_up_due", "notes")  # "added in a later version"
NEW_IN_STAFF = ("team_lead",)
NEW_SHEETS = ("Gelöscht",)
NOW = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)


def old_schema() -> Schema:
    dropped = {"Anfragen": NEW_IN_REQUESTS, "Mitarbeitende": NEW_IN_STAFF}
    sheets = []
    for sheet in SCHEMA.sheets:
        if sheet.name in NEW_SHEETS:
            continue
        gone = dropped.get(sheet.name, ())
        columns = tuple(c for c in sheet.columns if c.key not in gone)
        deadlines = tuple(k for k in sheet.deadline_columns if k not in gone)
        sheets.append(replace(sheet, columns=columns, deadline_columns=deadlines))
    return replace(SCHEMA, sheets=tuple(sheets))


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A site whose workbook an older version made, with two requests and a staff note."""
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    site.workbook.unlink()
    build_workbook(site.workbook, old_schema())
    set_staff(site, [{k: v for k, v in p.items() if k != "team_lead"} for p in STAFF])
    for number in (1, 2):
        raw = request_mail(f"Fallanfrage {number}", "Hallo", message_id=f"<o{number}@x.de>")
        site.deliver(raw, utc(2026, 3, 9, 8 + number), f"o{number}")
    workbook = openpyxl.load_workbook(site.workbook)
    workbook.create_sheet("Notizen")["A1"] = "Telefonliste Jobcenter"
    workbook.save(site.workbook)
    # the old version's writer works on the old layout
    from jugendhaus_mail.jobs.intake import poll

    poll(site.app(datetime(2026, 3, 10, 8, 0, tzinfo=UTC)))
    return site


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def headers(path: Path, sheet: str) -> list[str]:
    return [c.value for c in openpyxl.load_workbook(path)[sheet][1] if c.value]


def test_missing_columns_are_appended_at_the_right_end_after_a_backup(site: Site) -> None:
    before = members(site.workbook)
    old_requests = headers(site.workbook, "Anfragen")
    old_rows = [
        [c.value for c in row]
        for row in openpyxl.load_workbook(site.workbook)["Anfragen"].iter_rows(min_row=2, max_row=3)
    ]
    result = migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)

    new_headers = [SCHEMA.requests.column(key).header for key in NEW_IN_REQUESTS]
    assert headers(site.workbook, "Anfragen") == old_requests + new_headers  # never reordered
    assert headers(site.workbook, "Mitarbeitende")[-1] == "Teamleitung"
    assert result.added == (
        *(("Anfragen", h) for h in new_headers),
        ("Mitarbeitende", "Teamleitung"),
    )
    assert result.sheets == ("Gelöscht",)
    assert (
        result.backup is not None
        and result.backup.read_bytes() == b"".join([]) + result.backup.read_bytes()
    )
    assert result.backup.name == "Anfrageliste.vor-Umstellung.2026-04-01_06-00-00.xlsx"
    assert members(result.backup) == before

    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    table = sheet.tables["Anfragen"]
    assert table.ref == f"A1:{openpyxl.utils.get_column_letter(len(old_requests) + 3)}3"
    assert [c.name for c in table.tableColumns][-3:] == new_headers
    assert [
        [c.value for c in row][: len(old_requests)] for row in sheet.iter_rows(min_row=2, max_row=3)
    ] == old_rows
    new_date_column = openpyxl.utils.get_column_letter(len(old_requests) + 1)
    assert sheet.column_dimensions[new_date_column].number_format == "DD.MM.YYYY"
    assert workbook["Notizen"]["A1"].value == "Telefonliste Jobcenter"
    deleted = workbook["Gelöscht"]
    assert [c.value for c in deleted[1]] == ["Nr.", "Gelöscht am", "Von", "Grund"]
    assert deleted.tables["Geloescht"].ref == "A1:D2"
    assert workbook.sheetnames[-1] == "Gelöscht"

    after = members(site.workbook)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {
        "xl/worksheets/sheet1.xml", "xl/tables/table1.xml",
        "xl/worksheets/sheet2.xml", "xl/tables/table2.xml",
        "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
    }  # fmt: skip
    new_sheet = sorted(set(after) - set(before))
    assert len(new_sheet) == 3 and any("/tables/" in name for name in new_sheet)

    again = migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)
    assert again.added == () and members(site.workbook) == after


def test_poll_migrates_then_keeps_writing_into_the_right_columns(site: Site) -> None:
    site.deliver(
        request_mail("Hausbesuch", "Hallo", message_id="<n3@x.de>"), utc(2026, 3, 11, 8), "n3"
    )
    assert site.run("poll", now="2026-03-11T10:00") == 0
    rows = site.requests()
    assert [row["Nr."].value for row in rows] == ["2026-0001", "2026-0002", "2026-0003"]
    assert rows[2]["Anfrageart"].value == "Hausbesuch"
    assert rows[2]["Bemerkungen"].value is None
    assert headers(site.workbook, "Anfragen")[-1] == "Bemerkungen"
    assert any(
        p.name.startswith("Anfrageliste.vor-Umstellung.")
        for p in (site.root / "state" / "backups").iterdir()
    )
    assert site.run("check", now="2026-03-11T10:05") == 0


def test_nothing_is_changed_while_the_workbook_is_open_or_something_stands_in_the_way(
    site: Site,
) -> None:
    before = site.workbook.read_bytes()
    lock = site.root / ".~lock.Anfrageliste.xlsx#"
    lock.write_text(",Maria Meier,pc1,01.04.2026 07:55,file:///x;", encoding="utf-8")
    with pytest.raises(WorkbookLocked, match="Maria Meier"):
        migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)
    lock.unlink()
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    sheet.cell(1, sheet.max_column + 2, "Summe (von Hand)")
    workbook.save(site.workbook)
    before = site.workbook.read_bytes()
    with pytest.raises(WorkbookUnsafe, match="Rechts neben der Tabelle"):
        migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)
    assert site.workbook.read_bytes() == before
    assert not (site.root / "backups").exists()


def _rename_header(path: Path, old: str, new: str) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Anfragen"]
    for cell in sheet[1]:
        if cell.value == old:
            cell.value = new
    for column in sheet.tables["Anfragen"].tableColumns:
        if column.name == old:
            column.name = new
    workbook.save(path)


def test_a_renamed_key_column_is_not_re_added_and_a_crash_doubles_nothing(site: Site) -> None:
    from jugendhaus_mail.failpoints import ENV

    _rename_header(site.workbook, "Dienst-Schlüssel", "Schlüssel (intern)")
    before = site.workbook.read_bytes()
    with pytest.raises(WorkbookUnsafe, match=r"Dienst-Schlüssel.*Schlüssel \(intern\)"):
        migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)
    assert site.workbook.read_bytes() == before
    for number in (3, 4):
        raw = request_mail(f"Fallanfrage {number}", "Hallo", message_id=f"<c{number}@x.de>")
        site.deliver(raw, utc(2026, 3, 11, 8, number), f"c{number}")
    site.cli("poll", now="2026-03-11T10:00", env={ENV: "after_workbook_save"}, check=False)
    site.cli("poll", now="2026-03-11T10:05", check=False)
    site.cli("poll", now="2026-03-11T10:10", check=False)
    assert "Dienst-Schlüssel" not in headers(site.workbook, "Anfragen")
    numbers = [row["Nr."].value for row in site.requests()]
    assert len(numbers) == len(set(numbers)), numbers
    # staff give the column its name back: the waiting rows are written, once each
    _rename_header(site.workbook, "Schlüssel (intern)", "Dienst-Schlüssel")
    site.cli("poll", now="2026-03-11T10:15")
    numbers = [row["Nr."].value for row in site.requests()]
    assert numbers == ["2026-0001", "2026-0002", "2026-0003", "2026-0004"]


def test_the_geloescht_sheet_added_by_the_upgrade_is_honoured(site: Site) -> None:
    from tests.xlsx_fixtures import libreoffice_csv

    migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)
    workbook = openpyxl.load_workbook(site.workbook)
    position = workbook.sheetnames.index("Gelöscht") + 1
    assert libreoffice_csv(site.workbook, position)[0] == ["Nr.", "Gelöscht am", "Von", "Grund"]
    workbook["Anfragen"].delete_rows(3)
    sheet = workbook["Gelöscht"]
    sheet["A2"], sheet["D2"] = "2026-0002", "doppelt"
    workbook.save(site.workbook)
    assert site.run("poll", now="2026-04-02T09:00") == 0
    assert [row["Nr."].value for row in site.requests()] == ["2026-0001"]
