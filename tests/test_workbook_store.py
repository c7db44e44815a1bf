"""Writing the shared workbook safely: locks, atomic replace, backups, concurrent edits."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from workbook_helpers import (
    SCHEMA,
    built,
    excel_lock_bytes,
    new_row,
    openpyxl_writer,
    staff_edit,
    write_excel_lock,
    write_libreoffice_lock,
)

from jugendhaus_mail.errors import WorkbookChanged, WorkbookError, WorkbookLocked, WorkbookUnsafe
from jugendhaus_mail.workbook.locks import excel_owner, find_lock, probe_writable
from jugendhaus_mail.workbook.model import CellUpdate, Changes, CommitResult
from jugendhaus_mail.workbook.reader import read_snapshot
from jugendhaus_mail.workbook.schema import Schema
from jugendhaus_mail.workbook.store import WorkbookStore

NOW = datetime(2026, 4, 3, 10, 15)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ONE_ROW = Changes(appends=(new_row("mail:1", "2026-0001", subject="Fallanfrage Familie K."),))


def make_store(
    path: Path,
    *,
    backups: int = 10,
    sleep: Callable[[float], None] = lambda seconds: None,
    before_replace: Callable[[], None] | None = None,
) -> WorkbookStore:
    return WorkbookStore(
        path,
        SCHEMA,
        writer=openpyxl_writer,
        backup_dir=path.parent / "sicherungen",
        backups=backups,
        sleep=sleep,
        before_replace=before_replace,
    )


def keys_in(path: Path) -> list[object]:
    return [row["service_key"] for row in read_snapshot(path, SCHEMA).requests]


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if "jhm-tmp" in p.name)


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A workbook the service cannot open for writing, like one Excel holds on a share.

    Non-root: read-only mode. Root ignores modes, so the file is made immutable instead."""
    path = built(tmp_path)
    if not IS_ROOT:
        path.chmod(0o444)
        yield path
        path.chmod(0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
        pytest.skip("als root ohne chattr +i lässt sich keine gesperrte Datei nachstellen")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


# --- lock files ------------------------------------------------------------------------------


def test_excel_owner_file_names_the_colleague_and_stays(tmp_path: Path) -> None:
    path = built(tmp_path)
    lock = write_excel_lock(path, "Jürgen Müller")
    info = find_lock(path)
    assert info is not None
    assert (info.kind, info.owner, info.path) == ("excel", "Jürgen Müller", lock)
    assert info.since == datetime.fromtimestamp(lock.stat().st_mtime).replace(microsecond=0)
    assert "Excel geöffnet von Jürgen Müller seit" in info.describe()
    assert lock.read_bytes() == excel_lock_bytes("Jürgen Müller")


@pytest.mark.parametrize(
    ("data", "owner"),
    [
        (excel_lock_bytes("Kim Berg"), "Kim Berg"),
        # Word layout: the UTF-16 length sits at offset 54
        (bytes([3]) + b"Ana" + b"\0" * 50 + b"\x03\x00" + "Ana".encode("utf-16-le"), "Ana"),
        (bytes([4]) + b"Lutz" + b"\0" * 20, "Lutz"),  # cut short: the ANSI name still counts
        (b"", "unbekannt"),
        (b"\xff" * 165, "unbekannt"),
    ],
)
def test_excel_owner_formats(data: bytes, owner: str) -> None:
    assert excel_owner(data) == owner


def test_libreoffice_lock_file_names_owner_host_and_time(tmp_path: Path) -> None:
    path = built(tmp_path)
    lock = write_libreoffice_lock(path, "kberg", "PC-JSB-04", datetime(2026, 4, 3, 8, 15))
    info = find_lock(path)
    assert info is not None
    assert (info.kind, info.owner, info.host) == ("libreoffice", "kberg", "PC-JSB-04")
    assert info.since == datetime(2026, 4, 3, 8, 15)
    assert info.describe() == (
        "Die Arbeitsmappe ist in LibreOffice geöffnet von kberg (Rechner PC-JSB-04) seit "
        f"03.04.2026 08:15 (Sperrdatei {lock.name})."
    )
    write_libreoffice_lock(path, "kberg", "PC", NOW, name="Berg\\, Kim")
    named = find_lock(path)
    assert named is not None and named.owner == "Berg, Kim"


def test_stale_locks_are_reported_with_their_age_and_never_deleted(tmp_path: Path) -> None:
    path = built(tmp_path)
    lock = write_libreoffice_lock(path, "kberg", "PC-JSB-04", NOW - timedelta(days=3))
    info = find_lock(path)
    assert info is not None and info.age(NOW) == timedelta(days=3)
    with pytest.raises(WorkbookLocked):
        make_store(path).commit(ONE_ROW, now=NOW)
    assert lock.exists()
    lock.unlink()
    excel = write_excel_lock(path, "Kim Berg")
    old = (NOW - timedelta(days=2)).timestamp()
    os.utime(excel, (old, old))
    info = find_lock(path)
    assert info is not None and info.age(NOW) == timedelta(days=2)
    assert excel.exists()


def test_lock_file_in_other_letter_case_counts(tmp_path: Path) -> None:
    path = built(tmp_path)
    (tmp_path / "~$ANFRAGELISTE.XLSX").write_bytes(excel_lock_bytes("Kim Berg"))
    info = find_lock(path)
    assert info is not None and info.owner == "Kim Berg"


def test_no_lock_and_a_writable_file(tmp_path: Path) -> None:
    path = built(tmp_path)
    before = path.stat()
    assert find_lock(path) is None
    assert probe_writable(path) is None
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_size == before.st_size


def test_probe_reports_a_file_that_cannot_be_opened_for_writing(unwritable: Path) -> None:
    error = probe_writable(unwritable)
    assert isinstance(error, PermissionError)


# --- commit ----------------------------------------------------------------------------------


def test_commit_appends_and_replaces_the_file_atomically_keeping_its_mode(tmp_path: Path) -> None:
    path = built(tmp_path)
    path.chmod(0o640)
    original = path.read_bytes()
    inode = path.stat().st_ino
    result = make_store(path).commit(ONE_ROW, now=NOW)
    assert result.appended_keys == ("mail:1",)
    assert keys_in(path) == ["mail:1"]
    (request,) = read_snapshot(path, SCHEMA).requests
    assert request["nr"] == "2026-0001" and request["_row"] == 2  # the table's empty row
    assert path.stat().st_ino != inode  # a new file renamed into place, not rewritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert result.backup is not None
    assert Path(result.backup).read_bytes() == original
    assert Path(result.backup).name == "Anfrageliste.2026-04-03_10-15-00.xlsx"
    assert leftovers(path) == []


def test_commit_updates_a_cell_found_by_nr(tmp_path: Path) -> None:
    path = built(tmp_path)
    store = make_store(path)
    store.commit(ONE_ROW, now=NOW)
    update = CellUpdate(nr="2026-0001", column="contact_notified", value=date(2026, 4, 6))
    result = store.commit(Changes(updates=(update,)), now=NOW)
    assert result.updated == 1
    assert store.read().requests[0]["contact_notified"] == date(2026, 4, 6)


def test_read_sees_every_change_and_hands_out_copies(tmp_path: Path) -> None:
    path = built(tmp_path)
    store = make_store(path)
    store.commit(ONE_ROW, now=NOW)
    first = store.read()
    first.requests[0]["notes"] = "nur in meiner Kopie"
    assert store.read().requests[0]["notes"] is None
    staff_edit(path, "Anfragen", "Bemerkungen", 2, "Rückruf erbeten")
    again = store.read()
    assert again.requests[0]["notes"] == "Rückruf erbeten"
    assert again.fingerprint == read_snapshot(path, SCHEMA).fingerprint


@pytest.mark.skipif(not IS_ROOT, reason="nur root darf Dateien anderen Nutzern geben")
def test_the_replaced_file_keeps_its_owner(tmp_path: Path) -> None:
    path = built(tmp_path)
    os.chown(path, 1234, 1234)
    make_store(path).commit(ONE_ROW, now=NOW)
    assert (path.stat().st_uid, path.stat().st_gid) == (1234, 1234)


def test_nothing_to_do_leaves_the_file_alone(tmp_path: Path) -> None:
    path = built(tmp_path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    result = make_store(path).commit(Changes(), now=NOW)
    assert result == CommitResult(appended_keys=(), updated=0)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert not (tmp_path / "sicherungen").exists()


def test_backups_rotate_keeping_the_newest(tmp_path: Path) -> None:
    path = built(tmp_path)
    store = make_store(path, backups=3)
    versions = []
    for n in range(5):
        versions.append(path.read_bytes())
        changes = Changes(appends=(new_row(f"mail:{n}", f"2026-{n:04d}"),))
        store.commit(changes, now=NOW + timedelta(minutes=n))
    backups = sorted((tmp_path / "sicherungen").iterdir())
    assert [p.name for p in backups] == [
        "Anfrageliste.2026-04-03_10-17-00.xlsx",
        "Anfrageliste.2026-04-03_10-18-00.xlsx",
        "Anfrageliste.2026-04-03_10-19-00.xlsx",
    ]
    assert [p.read_bytes() for p in backups] == versions[2:]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in backups)
    store.commit(Changes(appends=(new_row("mail:9", "2026-0009"),)), now=NOW)  # same minute
    names = sorted(p.name for p in (tmp_path / "sicherungen").iterdir())
    assert "Anfrageliste.2026-04-03_10-15-00.xlsx" in names  # a replayed `now` keeps its backup
    assert len(names) == 3


@pytest.mark.parametrize("kind", ["excel", "libreoffice"])
def test_an_open_workbook_is_not_written(tmp_path: Path, kind: str) -> None:
    path = built(tmp_path)
    original = path.read_bytes()
    if kind == "excel":
        write_excel_lock(path, "Kim Berg")
        expected = r"in Excel geöffnet von Kim Berg seit \d\d\.\d\d\.\d{4} \d\d:\d\d"
    else:
        write_libreoffice_lock(path, "kberg", "PC-JSB-04", datetime(2026, 4, 3, 8, 15))
        expected = "in LibreOffice geöffnet von kberg .* seit 03.04.2026 08:15"
    with pytest.raises(WorkbookLocked, match=expected):
        make_store(path).commit(ONE_ROW, now=NOW)
    assert path.read_bytes() == original
    assert leftovers(path) == [] and not (tmp_path / "sicherungen").exists()


def test_a_workbook_that_cannot_be_opened_for_writing_is_not_written(unwritable: Path) -> None:
    original = unwritable.read_bytes()
    with pytest.raises(WorkbookLocked, match=r"nicht zum Schreiben öffnen.*Besitzer unbekannt"):
        make_store(unwritable).commit(ONE_ROW, now=NOW)
    assert unwritable.read_bytes() == original
    assert leftovers(unwritable) == []


def test_a_lock_appearing_during_the_commit_stops_it(tmp_path: Path) -> None:
    path = built(tmp_path)
    original = path.read_bytes()

    def colleague_opens() -> None:
        write_excel_lock(path, "Kim Berg")

    store = make_store(path, before_replace=colleague_opens)
    with pytest.raises(WorkbookLocked, match="Kim Berg"):
        store.commit(ONE_ROW, now=NOW)
    assert path.read_bytes() == original and leftovers(path) == []


def test_a_staff_edit_between_load_and_replace_is_kept_and_the_change_reapplied(
    tmp_path: Path,
) -> None:
    path = built(tmp_path)
    make_store(path).commit(ONE_ROW, now=NOW)
    calls: list[int] = []

    def colleague_saves() -> None:
        calls.append(1)
        if len(calls) == 1:
            staff_edit(path, "Anfragen", "Bemerkungen", 2, "Rückruf erbeten")

    store = make_store(path, before_replace=colleague_saves)
    changes = Changes(appends=(new_row("mail:2", "2026-0002", subject="Hausbesuch"),))
    result = store.commit(changes, now=NOW)
    assert len(calls) == 2
    assert result.appended_keys == ("mail:2",)
    rows = read_snapshot(path, SCHEMA).requests
    assert [r["service_key"] for r in rows] == ["mail:1", "mail:2"]
    assert rows[0]["notes"] == "Rückruf erbeten"
    assert leftovers(path) == []


def test_a_file_that_keeps_changing_gives_up_after_three_rounds(tmp_path: Path) -> None:
    path = built(tmp_path)
    edits: list[str] = []

    def colleague_saves() -> None:
        edits.append(f"Stand {len(edits)}")
        staff_edit(path, "Mitarbeitende", "Name", 2, edits[-1])

    with pytest.raises(WorkbookChanged, match="3-mal"):
        make_store(path, before_replace=colleague_saves).commit(ONE_ROW, now=NOW)
    assert len(edits) == 3
    snapshot = read_snapshot(path, SCHEMA)
    assert snapshot.requests == [] and snapshot.staff[0]["name"] == "Stand 2"
    assert leftovers(path) == []


def test_a_failing_writer_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    path = built(tmp_path)
    original = path.read_bytes()

    def broken(data: bytes, schema: Schema, changes: Changes) -> tuple[bytes, CommitResult]:
        raise WorkbookUnsafe("Unter der Tabelle stehen Zeilen von Hand.")

    store = WorkbookStore(path, SCHEMA, writer=broken, backup_dir=tmp_path / "sicherungen")
    with pytest.raises(WorkbookUnsafe, match="Unter der Tabelle"):
        store.commit(ONE_ROW, now=NOW)
    assert path.read_bytes() == original
    assert leftovers(path) == [] and not (tmp_path / "sicherungen").exists()


def doubling_writer(data: bytes, schema: Schema, changes: Changes) -> tuple[bytes, CommitResult]:
    """A writer bug: the new request lands twice."""
    data, result = openpyxl_writer(data, schema, changes)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    ws = workbook["Anfragen"]
    ws.append([cell.value for cell in ws[ws.max_row]])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), result


@pytest.mark.parametrize("bug", ["drops rows", "doubles a row"])
def test_a_written_file_that_loses_or_doubles_rows_is_never_put_in_place(
    tmp_path: Path, bug: str
) -> None:
    path = built(tmp_path)
    make_store(path).commit(ONE_ROW, now=NOW)
    original = path.read_bytes()
    empty = built(tmp_path, "leer.xlsx").read_bytes()

    def dropping_writer(
        data: bytes, schema: Schema, changes: Changes
    ) -> tuple[bytes, CommitResult]:
        return empty, CommitResult(appended_keys=("mail:9",), updated=0)

    writer = dropping_writer if bug == "drops rows" else doubling_writer
    store = WorkbookStore(path, SCHEMA, writer=writer, backup_dir=tmp_path / "sicherungen")
    changes = Changes(appends=(new_row("mail:9", "2026-0009"),))
    with pytest.raises(WorkbookUnsafe, match="Prüfung vor dem Speichern fehlgeschlagen"):
        store.commit(changes, now=NOW)
    assert path.read_bytes() == original and leftovers(path) == []


def test_replace_is_retried_while_a_scanner_holds_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = built(tmp_path)
    real_replace = os.replace
    failures = [PermissionError(13, "Permission denied"), OSError(16, "Device or resource busy")]

    def flaky_replace(src: str | Path, dst: str | Path) -> None:
        if failures:
            raise failures.pop(0)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    slept: list[float] = []
    make_store(path, sleep=slept.append).commit(ONE_ROW, now=NOW)
    assert slept == [0.1, 0.2]
    assert keys_in(path) == ["mail:1"]


def test_replace_gives_up_as_locked_and_leaves_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = built(tmp_path)
    original = path.read_bytes()

    def busy(src: str | Path, dst: str | Path) -> None:
        raise OSError(16, "Device or resource busy")

    monkeypatch.setattr(os, "replace", busy)
    slept: list[float] = []
    with pytest.raises(WorkbookLocked, match="von einem anderen Programm belegt"):
        make_store(path, sleep=slept.append).commit(ONE_ROW, now=NOW)
    assert len(slept) == 4
    assert path.read_bytes() == original and leftovers(path) == []


def test_a_temp_file_left_by_a_crash_does_not_get_in_the_way(tmp_path: Path) -> None:
    path = built(tmp_path)
    (tmp_path / ".Anfrageliste.xlsx.jhm-tmp").write_bytes(b"halb geschrieben")
    make_store(path).commit(ONE_ROW, now=NOW)
    assert keys_in(path) == ["mail:1"] and leftovers(path) == []


def test_a_missing_workbook_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match="jugendhaus-mail init"):
        make_store(tmp_path / "Anfrageliste.xlsx").commit(ONE_ROW, now=NOW)


def test_a_symlinked_workbook_is_written_at_its_target_and_the_link_stays(tmp_path: Path) -> None:
    share = tmp_path / "freigabe"
    share.mkdir()
    target = built(share)
    link = tmp_path / "dienst" / "Anfrageliste.xlsx"
    link.parent.mkdir()
    link.symlink_to(target)
    make_store(link).commit(ONE_ROW, now=NOW)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert keys_in(target) == ["mail:1"]
    assert leftovers(target) == [] and leftovers(link) == []


def test_a_symlinked_workbook_open_in_excel_at_its_target_is_not_written(tmp_path: Path) -> None:
    share = tmp_path / "freigabe"
    share.mkdir()
    target = built(share)
    link = tmp_path / "Anfrageliste.xlsx"
    link.symlink_to(target)
    write_excel_lock(target, "Kim Berg")
    original = target.read_bytes()
    with pytest.raises(WorkbookLocked, match="Kim Berg"):
        make_store(link).commit(ONE_ROW, now=NOW)
    assert find_lock(link) is not None
    assert target.read_bytes() == original and link.is_symlink()


def test_a_written_file_that_loses_a_row_only_staff_filled_is_never_put_in_place(
    tmp_path: Path,
) -> None:
    """The check reads back only Nr., key and updated columns, yet still counts a row whose
    only filled cell is one it does not read (here `Bemerkungen`, typed by a colleague)."""
    path = built(tmp_path)
    make_store(path).commit(ONE_ROW, now=NOW)
    staff_edit(path, "Anfragen", "Bemerkungen", 3, "Anruf Frau K., noch ohne Nr.")
    original = path.read_bytes()

    def forgetting_writer(
        data: bytes, schema: Schema, changes: Changes
    ) -> tuple[bytes, CommitResult]:
        data, result = openpyxl_writer(data, schema, changes)
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        ws = workbook["Anfragen"]
        for row in ws.iter_rows(min_row=2):
            if any(cell.value == "Anruf Frau K., noch ohne Nr." for cell in row):
                for cell in row:
                    cell.value = None
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue(), result

    store = WorkbookStore(path, SCHEMA, writer=forgetting_writer, backup_dir=tmp_path / "s")
    update = CellUpdate(nr="2026-0001", column="contact_notified", value=date(2026, 4, 6))
    with pytest.raises(WorkbookUnsafe, match="fehlen Zeilen"):
        store.commit(Changes(updates=(update,)), now=NOW)
    assert path.read_bytes() == original and leftovers(path) == []


def test_a_narrow_read_and_a_full_read_of_the_same_version(tmp_path: Path) -> None:
    """read(columns=…) gives only those request columns (with Nr., key and row number); a full
    read after it, and after a commit, still has every column and fresh dicts."""
    path = built(tmp_path)
    store = make_store(path)
    store.commit(ONE_ROW, now=NOW)
    staff_edit(path, "Anfragen", "Bemerkungen", 2, "Rückruf erbeten")
    full = store.read().requests[0]
    (narrow,) = store.read(columns={"subject"}).requests
    assert narrow == {key: full[key] for key in ("nr", "subject", "service_key", "_row")}
    narrow["subject"] = "nur in meiner Kopie"
    assert store.read(columns=["subject"]).requests[0]["subject"] == full["subject"]
    assert store.read().requests[0] == full
    store.commit(Changes(appends=(new_row("mail:2", "2026-0002"),)), now=NOW)
    after = store.read().requests
    assert after[0] == full and after[1]["nr"] == "2026-0002" and "notes" in after[1]
    assert store.fingerprint() == read_snapshot(path, SCHEMA).fingerprint
