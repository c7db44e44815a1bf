"""The intake's narrow read of the request list makes the writer's full pass over the sheet on
the way (xlsx_pass.SheetTap), and the commit that follows writes from it instead of inflating
and compressing the sheet again. The workbook written holds the very same parts as when the
writer makes its own pass; a pass is only taken for the very bytes it was made from, never
for a sheet the reader could not read exactly, and only once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_xlsx_present_keys import (
    HOSTILE,
    NOW,
    SCHEMA,
    empty_workbook,
    keys_in_sheet,
    request,
    same_workbook,
    with_loose_row,
    workbook,
)
from xlsx_fixtures import to_shared_strings

from jugendhaus_mail.workbook import xlsx_context
from jugendhaus_mail.workbook.model import CellUpdate, Changes
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.store import WorkbookStore
from jugendhaus_mail.workbook.verify import present_keys
from jugendhaus_mail.workbook.xlsx_columns import ChunkTap
from jugendhaus_mail.workbook.xlsx_pass import SheetTap
from jugendhaus_mail.workbook.xlsx_stream import StreamSheet
from jugendhaus_mail.workbook.xlsx_writer import PresentKeys, apply_changes
from jugendhaus_mail.workbook.xlsx_zip import CHUNK

SHEET = "xl/worksheets/sheet1.xml"


def read_with_pass(data: bytes, chunk_size: int, writer_chunk: int = CHUNK) -> PresentKeys:
    """What the store hands the writer after a narrow read with `prepare_write`."""
    taps: list[SheetTap] = []
    make = xlsx_context.write_tap(SCHEMA.requests, writer_chunk)

    def tap(part: str, size: int) -> ChunkTap:
        taps.append(made := make(part, size))
        return made

    snapshot = read_snapshot(
        data, SCHEMA, columns=("nr", "service_key"), chunk_size=chunk_size, tap=tap
    )
    assert len(taps) == 1, "the request sheet is tapped once, by its first scan"
    digest = hashlib.sha256(data).hexdigest()
    return PresentKeys(digest, present_keys(snapshot), taps[0].result())


@pytest.fixture
def own_passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the full passes the writer makes itself."""
    made: list[int] = []
    collect = StreamSheet.collect

    def counted(self: StreamSheet, columns: object, *, compress: bool = False) -> None:
        made.append(1)
        collect(self, columns, compress=compress)  # type: ignore[arg-type]

    monkeypatch.setattr(StreamSheet, "collect", counted)
    return made


@pytest.mark.parametrize("compress_on_the_way", [True, False])  # False: as on long sheets
@pytest.mark.parametrize("reader_chunk", [997, 4093, 1 << 18])
@pytest.mark.parametrize("writer_chunk", [1021, CHUNK])
def test_a_pass_made_by_the_read_gives_the_same_workbook(
    reader_chunk: int,
    writer_chunk: int,
    compress_on_the_way: bool,
    own_passes: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not compress_on_the_way:
        monkeypatch.setattr(xlsx_context, "COMPRESS_ON_THE_WAY", 0)
    data = workbook([f"mid:{n}@amt.de#{n:x}" for n in range(60)])
    changes = Changes(appends=(request("mid:3@amt.de#3", 90), request("mid:new@amt.de#1", 91)))
    present = read_with_pass(data, reader_chunk, writer_chunk)
    own_passes.clear()  # made while the test workbook was built
    assert present.sheet is not None
    assert (present.sheet.prefix is not None) == compress_on_the_way
    from_pass = apply_changes(data, SCHEMA, changes, chunk_size=writer_chunk, present=present)
    assert own_passes == [], "the writer took the read's pass"
    alone = apply_changes(data, SCHEMA, changes, chunk_size=writer_chunk)
    assert own_passes == [1]
    same_workbook(from_pass, alone)
    assert keys_in_sheet(from_pass[0]).count("mid:3@amt.de#3") == 1
    assert keys_in_sheet(from_pass[0])[-1] == "mid:new@amt.de#1"


@settings(max_examples=30, deadline=None)
@given(
    keys=st.lists(HOSTILE, min_size=1, max_size=8, unique=True),
    shared=st.booleans(),
    reader_chunk=st.integers(min_value=64, max_value=5000),
)
def test_a_pass_over_hostile_rows_cut_anywhere_gives_the_same_workbook(
    keys: list[str], shared: bool, reader_chunk: int
) -> None:
    """Differential: whatever the rows hold and wherever the reader's chunks cut the sheet,
    writing from the read's pass gives what the writer gives alone."""
    rows = tuple(request(key, n) for n, key in enumerate(keys, start=1))
    data, _ = apply_changes(empty_workbook(), SCHEMA, Changes(appends=rows))
    if shared:
        data = to_shared_strings(data)
    changes = Changes(appends=(request("mid:neu@amt.de#9", 99),))
    present = read_with_pass(data, reader_chunk, 1021)
    assert present.sheet is not None
    from_pass = apply_changes(data, SCHEMA, changes, chunk_size=1021, present=present)
    same_workbook(from_pass, apply_changes(data, SCHEMA, changes, chunk_size=1021))


@pytest.mark.parametrize("form", ["cells", "row"])
def test_a_sheet_the_reader_cannot_read_exactly_is_never_prepared(form: str) -> None:
    """A row whose cells carry r="…" after another attribute, or a row without r="…": the
    narrow read goes the calamine way, the tap is never ended, and the writer reads the sheet
    itself (here: the same workbook, or the same refusal, as without the read)."""
    data, _ = with_loose_row(workbook([f"mid:{n}@amt.de#{n:x}" for n in range(40)]), 12, form)
    present = read_with_pass(data, 4093)
    assert present.sheet is None
    changes = Changes(appends=(request("mid:new@amt.de#1", 91),))
    if form == "row":
        return  # the writer refuses such a sheet either way (test_xlsx_present_keys)
    same_workbook(
        apply_changes(data, SCHEMA, changes, present=present), apply_changes(data, SCHEMA, changes)
    )


def test_updates_make_the_writer_read_the_column_itself(own_passes: list[int]) -> None:
    """With updates the writer looks rows up by Nr.: the read's pass (made without that
    column) is not taken, and the result is the writer's own."""
    data = workbook(["mid:1@amt.de#1", "mid:2@amt.de#2"])
    changes = Changes(
        appends=(request("mid:3@amt.de#3", 3),),
        updates=(CellUpdate("2026-0001", "last_feedback", NOW.date()),),
    )
    present = read_with_pass(data, 4093)
    own_passes.clear()
    from_read = apply_changes(data, SCHEMA, changes, present=present)
    assert own_passes == [1]
    same_workbook(from_read, apply_changes(data, SCHEMA, changes))


def store_at(tmp_path: Path, data: bytes, **kwargs: object) -> WorkbookStore:
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(data)
    return WorkbookStore(
        path, SCHEMA, writer=apply_changes, backup_dir=tmp_path / "sicherung", **kwargs
    )  # type: ignore[arg-type]


def test_the_store_writes_from_the_pass_of_its_read(tmp_path: Path, own_passes: list[int]) -> None:
    data = workbook([f"mid:{n}@amt.de#{n:x}" for n in range(30)])
    store = store_at(tmp_path, data)
    store.read(columns=("contact_person",), prepare_write=True)  # as a poll does
    changes = Changes(appends=(request("mid:new@amt.de#1", 91),))
    own_passes.clear()
    result = store.commit(changes, now=NOW)
    assert own_passes == []
    expected = apply_changes(data, SCHEMA, changes)
    same_workbook((store.path.read_bytes(), result), (expected[0], result))


def test_a_pass_of_an_older_version_is_not_taken(tmp_path: Path, own_passes: list[int]) -> None:
    """Staff save the list between the read and the commit: the pass describes the old file,
    so the writer reads the new one itself, and staff's row stays."""
    data = workbook(["mid:1@amt.de#1", "mid:2@amt.de#2"])
    store = store_at(tmp_path, data)
    store.read(columns=("contact_person",), prepare_write=True)
    saved_by_staff = workbook(["mid:1@amt.de#1", "mid:2@amt.de#2", "von Hand"])
    store.path.write_bytes(saved_by_staff)
    own_passes.clear()
    store.commit(Changes(appends=(request("mid:3@amt.de#3", 4),)), now=NOW)
    assert own_passes == [1]
    assert keys_in_sheet(store.path.read_bytes()) == [
        "mid:1@amt.de#1",
        "mid:2@amt.de#2",
        "von Hand",
        "mid:3@amt.de#3",
    ]


def test_a_pass_is_handed_out_once(tmp_path: Path, own_passes: list[int]) -> None:
    """The file changes after the writer took the pass (the commit starts over on the new
    version); the pass's compressed rows were used up, and the next round reads itself."""
    data = workbook(["mid:1@amt.de#1"])
    saved_by_staff = workbook(["mid:1@amt.de#1", "von Hand"])
    changed: list[int] = []

    def staff_save() -> None:
        if not changed:
            changed.append(1)
            store.path.write_bytes(saved_by_staff)

    store = store_at(tmp_path, data, before_replace=staff_save)
    store.read(columns=("contact_person",), prepare_write=True)
    own_passes.clear()
    store.commit(Changes(appends=(request("mid:2@amt.de#2", 3),)), now=NOW)
    assert own_passes == [1], "first round from the pass, the second round reads itself"
    assert keys_in_sheet(store.path.read_bytes()) == [
        "mid:1@amt.de#1",
        "von Hand",
        "mid:2@amt.de#2",
    ]
