"""The read-back of an append proves the old rows unchanged by their checksum and parses only
what follows them (read_back.py). It must see what the full read-back sees: the same rows,
and every slip of the writer — an old row lost or changed, a new row doubled — caught before
the file is replaced."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest
from openpyxl.styles import Font
from openpyxl.utils import column_index_from_string
from test_workbook_shapes_layout import saved, staff_sheet
from test_xlsx_present_keys import NOW, SCHEMA, request, workbook
from xlsx_fixtures import edit_part, reopen

from jugendhaus_mail.errors import WorkbookError, WorkbookUnsafe
from jugendhaus_mail.workbook import read_back as read_back_module
from jugendhaus_mail.workbook import store as store_module
from jugendhaus_mail.workbook.model import Changes, CommitResult
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import Schema
from jugendhaus_mail.workbook.store import AppendingWriter, WorkbookStore
from jugendhaus_mail.workbook.xlsx_context import write_tap
from jugendhaus_mail.workbook.xlsx_deflate import StretchProof
from jugendhaus_mail.workbook.xlsx_writer import PresentKeys, apply_changes
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage

SHEET = "xl/worksheets/sheet1.xml"
COLUMNS = ("contact_person",)  # what the intake reads


@pytest.fixture(params=["wide", "narrow"], autouse=True)
def window(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """ "wide": the read's pass keeps every row of these small sheets in its window, so the
    read-back inflates the sheet; "narrow": it compresses most of them on the way, and the
    read-back finds that stretch in the new file instead of inflating it."""
    if request.param == "narrow":  # and the sheet read in small chunks, so rows leave it
        monkeypatch.setattr(store_module, "write_tap", lambda sheet: write_tap(sheet, 509))
        monkeypatch.setattr(store_module, "read_snapshot", partial(read_snapshot, chunk_size=997))
    return str(request.param)


@pytest.fixture
def stretches(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each read-back found the compressed old rows (True) or inflated the part."""
    found: list[bool] = []
    original = read_back_module._split_around_stretch

    def counted(*args: object) -> object:
        split = original(*args)  # type: ignore[arg-type]
        found.append(split is not None)
        return split

    monkeypatch.setattr(read_back_module, "_split_around_stretch", counted)
    return found


@pytest.fixture
def read_backs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each read-back took the short way (True) or found it did not apply."""
    taken: list[bool] = []
    original = read_back_module.read_back

    def counted(*args: object, **kwargs: object) -> object:
        found = original(*args, **kwargs)  # type: ignore[arg-type]
        taken.append(found is not None)
        return found

    monkeypatch.setattr(store_module, "read_back", counted)
    return taken


def commit_after_read(path: Path, data: bytes, changes: Changes) -> CommitResult:
    path.write_bytes(data)
    store = WorkbookStore(path, SCHEMA, writer=apply_changes, backup_dir=path.parent / "s")
    store.read(columns=COLUMNS, prepare_write=True)  # as a poll does before it saves
    result = store.commit(changes, now=NOW)
    cached = store.read(columns=COLUMNS)  # what the store now believes the file holds
    assert cached.requests == read_snapshot(path, SCHEMA, columns=COLUMNS).requests
    return result


def staff_made(title_rows: int, rows: int) -> bytes:
    return saved(staff_sheet(title_rows=title_rows, rows=rows)[0])


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(workbook([f"mid:{n}@amt.de#{n:x}" for n in range(50)]), id="shared"),
        pytest.param(staff_made(0, 12), id="typed-in"),
        pytest.param(staff_made(2, 12), id="title-rows"),
        pytest.param(staff_made(1, 0), id="header-only"),
    ],
)
def test_the_short_read_back_sees_what_the_full_one_sees(
    tmp_path: Path, data: bytes, read_backs: list[bool], stretches: list[bool], window: str
) -> None:
    changes = Changes(appends=(request("mid:neu@amt.de#1", 201), request("mid:neu@amt.de#2", 202)))
    commit_after_read(tmp_path / "Anfrageliste.xlsx", data, changes)
    assert read_backs == [True]
    big_enough = len(ZipPackage(data).read(SHEET)) > 3 * 509
    assert stretches == ([True] if window == "narrow" and big_enough else [])
    keys = [
        row["service_key"] for row in read_snapshot(tmp_path / "Anfrageliste.xlsx", SCHEMA).requests
    ]
    assert keys[-2:] == ["mid:neu@amt.de#1", "mid:neu@amt.de#2"]


def test_an_update_inside_the_old_rows_is_read_back_in_full(
    tmp_path: Path, read_backs: list[bool]
) -> None:
    """A trailing styled row the new row fills is not an old row any more: the checksum does
    not hold, and the whole file is read back (and found right)."""
    workbook, ws, _table = staff_sheet(rows=3, table_rows=5)  # two empty table rows below
    for row in ws.iter_rows(min_row=5, max_row=6, max_col=3):
        for cell in row:
            cell.font = Font(italic=True)  # styled, no value: written as <c r="A5" s="…"/>
    data = saved(workbook)
    assert b'<row r="5"' in ZipPackage(data).read(SHEET)
    commit_after_read(tmp_path / "Anfrageliste.xlsx", data, Changes(appends=(request("k", 9),)))
    assert read_backs == [False]  # read back in full; the cache matched the file (above)


Slip = tuple[str, str]  # (a regex on the sheet XML, what the match becomes)
KEY_COLUMN = "AP"  # where `workbook()` keeps the service key (checked below)


def slipping_writer(slip: Slip) -> AppendingWriter:
    """The service's writer, with a slip in the sheet it writes."""

    def writer(
        data: bytes, schema: Schema, changes: Changes, *, present: PresentKeys | None = None
    ) -> tuple[bytes, CommitResult]:
        written, result = apply_changes(data, schema, changes, present=present)
        xml = ZipPackage(written).read(SHEET).decode()
        old = re.search(slip[0], xml, re.S)
        assert old is not None, slip[0]
        return edit_part(written, SHEET, old.group(0), old.expand(slip[1])), result

    return writer


LOST = (r'<row r="7".*?</row>', "")
# row 7's key cell points to row 8's shared string: row 7's key is gone, row 8's is there twice
KEY_CHANGED = (
    rf'(<c r="{KEY_COLUMN}7"[^>]*><v>)\d+(</v>.*?<c r="{KEY_COLUMN}8"[^>]*><v>)(\d+)',
    r"\g<1>\g<3>\g<2>\g<3>",
)
NEW_DOUBLED = (r'(<row r="12".*?</row>)', r"\1\1")


def test_the_key_column_is_where_the_slips_expect_it() -> None:
    data = workbook(["mid:1@amt.de#1"])
    xml = ZipPackage(data).read(SHEET).decode()
    assert re.search(rf'<c r="{KEY_COLUMN}2"[^>]*t="s"', xml)
    header = SCHEMA.requests.column("service_key").header
    assert [c.value for c in reopen(data)[1]][column_index_from_string(KEY_COLUMN) - 1] == header


@pytest.mark.parametrize("prepared", [True, False])
@pytest.mark.parametrize(
    "slip, problem",
    [
        (LOST, "fehlen Zeilen|vorhandene Anfrage fehlt"),
        (KEY_CHANGED, "vorhandene Anfrage fehlt"),
    ],
    ids=["old-row-lost", "old-key-changed"],
)
def test_a_slip_in_the_old_rows_is_caught_before_the_file_is_replaced(
    tmp_path: Path,
    slip: Slip,
    problem: str,
    prepared: bool,
) -> None:
    """With the read's pass (the checksum no longer holds: the file is read back whole) and
    without it."""
    assert_caught(tmp_path, slip, problem, prepared)


@pytest.mark.parametrize("prepared", [True, False])
def test_a_new_row_written_twice_is_caught_before_the_file_is_replaced(
    tmp_path: Path, prepared: bool
) -> None:
    """Two rows with one number (Excel would refuse the file): the short read-back checks
    that the rows after the old ones count upwards, and the full one (no pass prepared) does
    not hand such a sheet to calamine, which would take it without a word."""
    assert_caught(tmp_path, NEW_DOUBLED, "Zeilennummern doppelt", prepared)


def assert_caught(tmp_path: Path, slip: Slip, problem: str, prepared: bool) -> None:
    # rows 2..11; 12 is new
    assert_refused(tmp_path, slipping_writer(slip), 10, prepared, WorkbookUnsafe, problem)


def assert_refused(
    tmp_path: Path,
    writer: AppendingWriter,
    rows: int,
    prepared: bool,
    error: type[WorkbookError],
    problem: str | None = None,
) -> None:
    """A request appended through `writer` to a list of `rows` rows: the save is refused
    with `error` and the file stays byte for byte as it was."""
    data = workbook([f"mid:{n}@amt.de#{n:x}" for n in range(rows)])
    path = tmp_path / "Anfrageliste.xlsx"
    path.write_bytes(data)
    store = WorkbookStore(path, SCHEMA, writer=writer, backup_dir=tmp_path / "s")
    store.read(columns=COLUMNS, prepare_write=prepared)
    with pytest.raises(error, match=problem):
        store.commit(Changes(appends=(request("mid:neu@amt.de#1", 99),)), now=NOW)
    assert path.read_bytes() == data


@pytest.mark.parametrize("window", ["narrow"], indirect=True)
def test_a_damaged_copy_of_the_old_rows_is_never_taken_for_them(
    tmp_path: Path, window: str
) -> None:
    """The writer's copy of the compressed old rows arrives damaged in the new file (one byte
    in its middle): found by its first bytes, but its SHA-256 differs, so the read-back does
    not vouch for it, and the file is not replaced."""
    proofs: list[StretchProof] = []

    def damaging(
        data: bytes, schema: Schema, changes: Changes, *, present: PresentKeys | None = None
    ) -> tuple[bytes, CommitResult]:
        assert present is not None and present.sheet is not None and present.sheet.prefix
        proofs.append(present.sheet.prefix.proof())
        written, result = apply_changes(data, schema, changes, present=present)
        at = written.find(proofs[0].lead) + proofs[0].length // 2
        return written[:at] + bytes([written[at] ^ 0x55]) + written[at + 1 :], result

    assert_refused(tmp_path, damaging, 60, True, WorkbookError)
    assert proofs  # the writer was given the compressed copy it damaged


@pytest.mark.parametrize("window", ["narrow"], indirect=True)
def test_an_old_row_changed_after_the_compressed_copy_is_caught(
    tmp_path: Path, window: str
) -> None:
    """The writer copies the compressed stretch intact but changes an old row after it (here:
    the last old row's key points to another row's string, same length): the stretch is found,
    but the old rows after it no longer have their checksum, so the file is read back whole
    and the lost key refuses the save."""

    def changing(
        data: bytes, schema: Schema, changes: Changes, *, present: PresentKeys | None = None
    ) -> tuple[bytes, CommitResult]:
        assert present is not None and present.sheet is not None
        offset, piece = present.sheet.window[-1]
        last = re.search(rb'(<c r="AP61"[^>]*><v>)(\d+)(</v>)', piece)
        assert last is not None
        other = b"%d" % (int(last.group(2)) - 2)
        assert len(other) == len(last.group(2))
        changed = piece[: last.start(2)] + other + piece[last.end(2) :]
        present.sheet.window[-1] = (offset, changed)
        return apply_changes(data, schema, changes, present=present)

    assert_refused(tmp_path, changing, 60, True, WorkbookUnsafe, "vorhandene Anfrage fehlt")
