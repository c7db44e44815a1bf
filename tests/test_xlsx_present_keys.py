"""The store tells the writer which service keys the list already holds (it has just read them
from the same bytes), so the writer skips its own pass over the key column and compresses the
rows it copies as it reads them. The workbook written holds the very same parts as when the
writer looks the keys up itself (compressed in stretches, so not the same zip bytes); keys read
from any other version are ignored, and a wrong list of keys can never let a row be written
twice."""

from __future__ import annotations

import functools
import hashlib
import io
import re
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsx_fixtures import edit_part, members, new_workbook, reopen, to_shared_strings

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook import xlsx_context
from jugendhaus_mail.workbook.model import CellUpdate, Changes, CommitResult, NewRow
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import Schema, load_schema
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workbook.verify import present_keys
from jugendhaus_mail.workbook.xlsx_context import column_texts, open_context
from jugendhaus_mail.workbook.xlsx_writer import PresentKeys, apply_changes
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage

SCHEMA = load_schema()
NOW = datetime(2026, 4, 3, 10, 15)


def request(key: str, n: int) -> NewRow:
    return NewRow(key, {"nr": f"2026-{n:04d}", "subject": f"Anfrage {n}", "received": NOW})


@functools.cache
def empty_workbook() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return new_workbook(Path(folder), SCHEMA)


def workbook(keys: list[str]) -> bytes:
    """Rows with these keys, saved the way Excel saves them (shared strings)."""
    empty = empty_workbook()
    rows = tuple(request(key, n) for n, key in enumerate(keys, start=1))
    filled, _ = apply_changes(empty, SCHEMA, Changes(appends=rows))
    return to_shared_strings(filled)


def read_keys(data: bytes) -> PresentKeys:
    """What the store passes: the keys of its narrow read of exactly these bytes."""
    snapshot = read_snapshot(data, SCHEMA, columns=("nr", "service_key"))
    return PresentKeys(hashlib.sha256(data).hexdigest(), present_keys(snapshot))


def same_workbook(one: tuple[bytes, CommitResult], other: tuple[bytes, CommitResult]) -> None:
    """The same parts with the same content, in the same order; the same result."""
    assert list(members(one[0]).items()) == list(members(other[0]).items())
    with zipfile.ZipFile(io.BytesIO(one[0])) as archive:
        assert archive.testzip() is None
    assert one[1] == other[1]


def keys_in_sheet(data: bytes) -> list[str]:
    ws = reopen(data)
    headers = [cell.value for cell in ws[1]]
    col = headers.index(SCHEMA.requests.column("service_key").header)
    return [str(row[col]) for row in ws.iter_rows(min_row=2, values_only=True) if row[col]]


def test_keys_passed_in_or_looked_up_give_the_same_workbook(tmp_path: Path) -> None:
    data = workbook([f"mid:{n}@amt.de#{n:x}" for n in range(40)])
    changes = Changes(
        appends=(
            request("mid:7@amt.de#7", 90),  # already there: not written again
            request("  mid:41@amt.de#29 ", 91),
            request("mid:42@amt.de#2a", 92),
            request("mid:42@amt.de#2a", 93),  # twice in one save: once
        ),
        updates=(CellUpdate(nr="2026-0003", column="last_feedback", value=date(2026, 4, 2)),),
    )
    looked_up = apply_changes(data, SCHEMA, changes)
    passed_in = apply_changes(data, SCHEMA, changes, present=read_keys(data))
    same_workbook(passed_in, looked_up)
    keys = keys_in_sheet(passed_in[0])
    assert len(keys) == 42 and len(set(keys)) == 42


def test_keys_read_from_another_version_are_ignored(tmp_path: Path) -> None:
    """A stale read (before a colleague's row with this key came in) does not double it."""
    older = workbook(["mid:1@amt.de#1"])
    data = workbook(["mid:1@amt.de#1", "mid:2@amt.de#2"])
    stale = read_keys(older)
    assert "mid:2@amt.de#2" not in stale.keys
    changes = Changes(appends=(request("mid:2@amt.de#2", 5), request("mid:3@amt.de#3", 6)))
    out, result = apply_changes(data, SCHEMA, changes, present=stale)
    assert (out, result) == apply_changes(data, SCHEMA, changes)  # looked up: the same bytes
    assert keys_in_sheet(out) == ["mid:1@amt.de#1", "mid:2@amt.de#2", "mid:3@amt.de#3"]


def test_a_wrong_list_of_keys_is_caught_before_the_file_is_replaced(tmp_path: Path) -> None:
    """Should a reader ever miss a key in the very bytes, the row would be written twice; the
    check of the read-back stops that save and the list stays as it was."""
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(workbook(["mid:1@amt.de#1"]))
    original = path.read_bytes()

    def forgetful(data: bytes, schema: Schema, changes: Changes) -> tuple[bytes, CommitResult]:
        wrong = PresentKeys(hashlib.sha256(data).hexdigest(), frozenset())
        return apply_changes(data, schema, changes, present=wrong)

    store = WorkbookStore(path, SCHEMA, writer=forgetful, backup_dir=tmp_path / "s")
    with pytest.raises(WorkbookUnsafe, match="2-mal statt einmal"):
        store.commit(Changes(appends=(request("mid:1@amt.de#1", 2),)), now=NOW)
    assert path.read_bytes() == original


def test_the_store_passes_the_keys_and_writes_what_the_writer_alone_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "Anfrageliste.xlsx"
    data = workbook(["mid:1@amt.de#1", " mid:2@amt.de#2"])
    path.write_bytes(data)
    changes = Changes(appends=(request("mid:2@amt.de#2", 3), request("mid:3@amt.de#3", 4)))
    store = WorkbookStore(path, SCHEMA, writer=apply_changes, backup_dir=tmp_path / "s")
    store.read(columns=("contact_person",))  # as a poll does before it saves
    result = store.commit(changes, now=NOW)
    expected, _ = apply_changes(data, SCHEMA, changes)
    same_workbook((path.read_bytes(), result), (expected, result))
    assert result.landed_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert keys_in_sheet(expected) == ["mid:1@amt.de#1", "mid:2@amt.de#2", "mid:3@amt.de#3"]


HOSTILE = st.text(
    st.sampled_from(list("ab<>&\"' \t\n_x0041ä€😀#:@")) | st.characters(codec="utf-8"),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(keys=st.lists(HOSTILE, min_size=1, max_size=6), shared=st.booleans())
def test_the_keys_the_store_reads_are_the_keys_the_writer_finds(
    keys: list[str], shared: bool
) -> None:
    """Differential: the keys of the store's narrow read are the texts the writer's own pass
    over the key column finds, for hostile keys, inline or as shared strings."""
    rows = tuple(request(key, n) for n, key in enumerate(keys, start=1))
    data, _ = apply_changes(empty_workbook(), SCHEMA, Changes(appends=rows))
    if shared:
        data = to_shared_strings(data)
    context = open_context(ZipPackage(data), SCHEMA.requests, lookups=("service_key",))
    found = {text for _, text in column_texts(context, "service_key")}
    assert read_keys(data).keys == found


def with_loose_row(data: bytes, number: int, form: str) -> tuple[bytes, str]:
    """`data` with row `number` in a form some tools write: its cells carry r="…" after
    another attribute ("cells"), or the row has no r="…" ("row"); and that row's new XML."""
    sheet = "xl/worksheets/sheet1.xml"
    row = re.search(rf'<row r="{number}".*?</row>', ZipPackage(data).read(sheet).decode())
    assert row is not None
    if form == "cells":
        swapped = re.sub(r'<c r="([A-Z]+\d+)" s="(\d+)"', r'<c s="\2" r="\1"', row.group(0))
    else:
        swapped = row.group(0).replace(f'<row r="{number}"', "<row", 1)
    assert swapped != row.group(0)
    return edit_part(data, sheet, row.group(0), swapped), swapped


@pytest.mark.parametrize("compress_on_the_way", [True, False])  # False: as on long sheets
@pytest.mark.parametrize("form", ["cells", "row"])
@pytest.mark.parametrize("loose_row", [5, 39])
@pytest.mark.parametrize("chunk_size", [997, 4093, 1 << 20])
def test_a_row_in_another_form_gives_the_same_workbook(
    loose_row: int,
    form: str,
    chunk_size: int,
    compress_on_the_way: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One row in a form some tools write: its cells carry r="…" after another attribute, or
    the row has no r="…" at all. With the keys passed in, the writer does what it does without
    them: the same workbook (read whole, as the streamed pass refuses such rows), or the same
    refusal."""
    if not compress_on_the_way:
        monkeypatch.setattr(xlsx_context, "COMPRESS_ON_THE_WAY", 0)
    data, swapped = with_loose_row(
        workbook([f"mid:{n}@amt.de#{n:x}" for n in range(40)]), loose_row + 1, form
    )
    sheet = "xl/worksheets/sheet1.xml"
    changes = Changes(appends=(request("mid:3@amt.de#3", 90), request("mid:new@amt.de#1", 91)))
    if form == "row":  # "Zellen ohne Bezug": refused either way, nothing written
        for present in (read_keys(data), None):
            with pytest.raises(WorkbookUnsafe, match="ohne Bezug"):
                apply_changes(data, SCHEMA, changes, chunk_size=chunk_size, present=present)
        return
    passed_in = apply_changes(data, SCHEMA, changes, chunk_size=chunk_size, present=read_keys(data))
    same_workbook(passed_in, apply_changes(data, SCHEMA, changes, chunk_size=chunk_size))
    assert keys_in_sheet(passed_in[0]).count("mid:3@amt.de#3") == 1
    assert swapped.encode() in ZipPackage(passed_in[0]).read(sheet)
