"""Everything staff put into the workbook survives the service's writes, byte for byte.

The workbook is made by `init`'s code, filled by staff, saved Excel-style, and then gets every
kind of content openpyxl would lose (see tests/xlsx_fixtures.py). A poll cycle (new rows and
an update) and a remind cycle (updates only) must leave all of it as it was and still wired up.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest
from xlsx_fixtures import (
    SHEET,
    TABLE,
    Injected,
    inject_everything,
    libreoffice_csv,
    members,
    new_workbook,
    raw_entries,
    rels_of,
    staff_rows,
    to_shared_strings,
)

from jugendhaus_mail.workbook.model import CellUpdate, Changes, NewRow
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import Schema, load_schema
from jugendhaus_mail.workbook.xlsx_writer import apply_changes

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture
def enriched(tmp_path: Path, schema: Schema) -> Injected:
    data = new_workbook(tmp_path, schema)
    data = staff_rows(
        data,
        [
            {"Nr.": "2025-0001", "Betreff": "Fall eins", "Anhänge": 1, "Dienst-Schlüssel": "k1"},
            {"Nr.": "2025-0002", "Betreff": "Fall zwei", "Anhänge": 3, "Dienst-Schlüssel": "k2"},
        ],
    )
    return inject_everything(to_shared_strings(data))


def poll_and_remind(data: bytes, schema: Schema) -> bytes:
    new = tuple(
        NewRow(
            f"k{n}",
            {"nr": f"2025-000{n}", "subject": f"Neu {n}", "received": datetime(2025, 3, n, 9)},
        )
        for n in (3, 4, 5)
    )
    poll = Changes(
        appends=new, updates=(CellUpdate("2025-0001", "contact_notified", date(2025, 3, 5)),)
    )
    data, polled = apply_changes(data, schema, poll)
    remind = Changes(updates=(CellUpdate("2025-0002", "next_feedback_due", date(2025, 4, 1)),))
    data, reminded = apply_changes(data, schema, remind)
    assert polled.appended_keys == ("k3", "k4", "k5") and polled.updated == 1
    assert reminded.updated == 1
    return data


def dangling_references(data: bytes) -> list[str]:
    """Relationship targets that do not exist, and parts without a content type."""
    parts = members(data)
    problems = []
    for name, content in parts.items():
        if not name.endswith(".rels"):
            continue
        folder = posixpath.dirname(posixpath.dirname(name))
        for rel in ET.fromstring(content):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            path = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            if path not in parts:
                problems.append(f"{name} -> {target}")
    types = ET.fromstring(parts["[Content_Types].xml"])
    defaults = {n.get("Extension", "").lower() for n in types.iter(f"{CT_NS}Default")}
    overrides = {n.get("PartName", "").lstrip("/") for n in types.iter(f"{CT_NS}Override")}
    for name in parts:
        extension = name.rsplit(".", 1)[-1].lower()
        if name != "[Content_Types].xml" and name not in overrides and extension not in defaults:
            problems.append(f"no content type: {name}")
    return problems


def test_staff_content_survives_poll_and_remind_byte_for_byte(
    enriched: Injected, schema: Schema
) -> None:
    assert dangling_references(enriched.data) == []  # the fixture itself is wired up
    out = poll_and_remind(enriched.data, schema)

    before, after = raw_entries(enriched.data), raw_entries(out)
    assert list(after) == list(before)
    assert {name for name in before if before[name] != after[name]} == {SHEET, TABLE}
    for part in enriched.parts:
        assert after[part] == before[part], part
    for rels in (rels_of(SHEET), "xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        assert after[rels] == before[rels], rels
    sheet = members(out)[SHEET].decode()
    for fragment in enriched.sheet_fragments:  # <drawing>, <legacyDrawing>, the x14 <extLst>
        assert fragment in sheet
    assert sheet.index("<drawing ") < sheet.index("<legacyDrawing ") < sheet.index("<tableParts")
    assert sheet.index("<tableParts") < sheet.index("<extLst>")
    assert dangling_references(out) == []


def test_the_service_reads_back_what_it_wrote(enriched: Injected, schema: Schema) -> None:
    snapshot = read_snapshot(poll_and_remind(enriched.data, schema), schema)

    rows = {row["nr"]: row for row in snapshot.requests}
    assert list(rows) == ["2025-0001", "2025-0002", "2025-0003", "2025-0004", "2025-0005"]
    assert rows["2025-0001"]["contact_notified"] == date(2025, 3, 5)
    assert rows["2025-0002"]["next_feedback_due"] == date(2025, 4, 1)
    assert rows["2025-0004"]["subject"] == "Neu 4"
    assert rows["2025-0004"]["received"] == datetime(2025, 3, 4, 9)


@pytest.mark.libreoffice
@pytest.mark.usefixtures("soffice")
def test_libreoffice_opens_the_result_and_shows_the_new_rows(
    tmp_path: Path, enriched: Injected, schema: Schema
) -> None:
    path = tmp_path / "Anfrageliste.xlsm"
    path.write_bytes(poll_and_remind(enriched.data, schema))

    rows = libreoffice_csv(path)

    header = rows[0]
    nr, subject = header.index("Nr."), header.index("Betreff")
    assert [(r[nr], r[subject]) for r in rows[1:] if r[nr]] == [
        ("2025-0001", "Fall eins"),
        ("2025-0002", "Fall zwei"),
        ("2025-0003", "Neu 3"),
        ("2025-0004", "Neu 4"),
        ("2025-0005", "Neu 5"),
    ]
