"""Staff rename headers (office-realities.md). A column that stands where a schema column stood,
between its neighbours, under another name, is that column renamed: the upgrade does not add it
again under its old name (empty, at the right end), and `remind` sends nothing read from a
list that lacks one of its columns — an empty „Ansprechpartner JSB“ or „Status“ would remind
and escalate every open request at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from jugendhaus_mail.workbook.migrate import migrate_workbook
from jugendhaus_mail.workbook.schema import load_schema
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc
from tests.test_migrate import _rename_header
from tests.test_notifications import set_cells

SCHEMA = load_schema()
NOW = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """One request, taken in Monday 30.03.2026; staff named its contact person."""
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    set_staff(site, STAFF)
    raw = request_mail("Fallanfrage Ausbildung", "Hallo", message_id="<r1@jobcenter-ge.de>")
    site.deliver(raw, utc(2026, 3, 30, 7, 15), "r1")
    site.run("poll", now="2026-03-30T09:15")
    set_cells(site, {"Ansprechpartner JSB": "Lena Kowalski"})
    return site


def headers(path: Path) -> list[str]:
    return [c.value for c in openpyxl.load_workbook(path)["Anfragen"][1] if c.value]


def test_a_renamed_column_is_not_added_again_under_its_old_name(site: Site) -> None:
    _rename_header(site.workbook, "Ansprechpartner JSB", "Ansprechpartner")
    before = site.workbook.read_bytes()
    result = migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)
    assert result.renamed == (("Anfragen", "Ansprechpartner JSB", "Ansprechpartner"),)
    assert result.added == ()
    assert site.workbook.read_bytes() == before
    assert "Ansprechpartner JSB" not in headers(site.workbook)


def test_no_reminders_from_a_list_whose_column_was_renamed(site: Site) -> None:
    _rename_header(site.workbook, "Ansprechpartner JSB", "Ansprechpartner")
    site.run("poll", now="2026-04-01T08:00")  # upgrades the workbook first
    # Thursday 2.4.: the contact-person reminder would be due if the name were not there
    result = site.cli("remind", now="2026-04-02T10:00", check=False)
    assert not [m for m in outgoing(site) if "Ansprechpartner benennen" in str(m["Subject"])]
    assert "Erinnerungen ruhen" in result.stdout
    assert "„Ansprechpartner JSB“" in result.stdout and "„Ansprechpartner“" in result.stdout
    digest = site.cli("digest", now="2026-04-02T10:02", check=False)
    assert digest.returncode == 0
    [overview] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    assert "Erinnerungen ruhen" in overview.get_body(("plain",)).get_content()
    checked = site.cli("check", now="2026-04-02T10:05", check=False)
    assert checked.returncode == 1 and "„Ansprechpartner“" in checked.stdout
    # staff give the column its name back: nothing was lost, reminders run again
    _rename_header(site.workbook, "Ansprechpartner", "Ansprechpartner JSB")
    again = site.cli("remind", now="2026-04-02T10:10")
    assert "Erinnerungen ruhen" not in again.stdout
    assert [row["Ansprechpartner JSB"].value for row in site.requests()] == ["Lena Kowalski"]
    assert not [m for m in outgoing(site) if "Ansprechpartner benennen" in str(m["Subject"])]


def test_a_column_missing_but_not_renamed_pauses_nothing(site: Site) -> None:
    """After an update the new columns may wait for Excel to close; reminders go on."""
    _delete_column(site.workbook, "Bemerkungen")
    result = site.cli("remind", now="2026-04-02T10:00")
    assert "Erinnerungen ruhen" not in result.stdout


def _delete_column(path: Path, header: str) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Anfragen"]
    sheet.delete_cols(headers(path).index(header) + 1)
    table = sheet.tables["Anfragen"]
    table.tableColumns = [c for c in table.tableColumns if c.name != header]
    last = openpyxl.utils.get_column_letter(len(table.tableColumns))
    table.ref = f"A1:{last}{sheet.max_row}"
    table.autoFilter.ref = table.ref
    workbook.save(path)


def test_a_column_new_in_the_schema_is_still_added_after_staff_columns(site: Site) -> None:
    """The neighbours of a column the schema gained stand side by side in an older workbook:
    nothing stands between them, so nothing is taken for a rename."""
    _delete_column(site.workbook, "Bemerkungen")
    result = migrate_workbook(site.workbook, SCHEMA, backup_dir=site.root / "backups", now=NOW)
    assert result.added == (("Anfragen", "Bemerkungen"),) and result.renamed == ()
