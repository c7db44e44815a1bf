"""The writer streams the sheet and the shared strings in pieces: wherever the pieces are cut
(inside a tag, a cell, a row, a shared string), the workbook it writes is the very same, and
staff see exactly the rows and values the service meant to write. New rows rendered the fast
way (per-column work done once per save) are the bytes the general cell writer makes."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlsx_fixtures import (
    SHEET,
    edit_part,
    inject_everything,
    members,
    new_workbook,
    reopen,
    staff_rows,
    to_shared_strings,
)

from jugendhaus_mail.workbook.model import CellUpdate, CellValue, Changes, NewRow
from jugendhaus_mail.workbook.schema import Schema, load_schema
from jugendhaus_mail.workbook.xlsx_cells import shared_strings, xml_escape
from jugendhaus_mail.workbook.xlsx_context import open_context
from jugendhaus_mail.workbook.xlsx_new_rows import render_new_row, row_renderer, template_styles
from jugendhaus_mail.workbook.xlsx_stream import shared_strings_stream
from jugendhaus_mail.workbook.xlsx_writer import apply_changes
from jugendhaus_mail.workbook.xlsx_zip import CHUNK, ZipPackage

H = {column.key: column.header for column in load_schema().requests.columns}
SIZES = (CHUNK, 4093, 997, 61)  # whole part at once, then borders inside rows, cells, tags


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def row(n: int, **values: CellValue) -> NewRow:
    base: dict[str, CellValue] = {
        "nr": f"2026-{n:04d}",
        "subject": f"Anfrage {n} =SUMME(A1) & <b>",  # formula-like text gets quotePrefix
        "received": datetime(2026, 3, 1, 9, 30) + timedelta(hours=n),
        "contact_due": date(2026, 3, 4) + timedelta(days=n % 9),
        "attachments": n % 4,
        "notes": f"Zeile {n}: _x0041_ Umlaute äöü €" if n % 3 else None,
    }
    return NewRow(f"<key-{n}@example>", {**base, **values})


def big_workbook(tmp_path: Path, schema: Schema, rows: int) -> bytes:
    """Rows written by the service, then saved the way Excel saves (shared strings)."""
    empty = new_workbook(tmp_path, schema)
    filled, _ = apply_changes(empty, schema, Changes(appends=tuple(map(row, range(1, rows + 1)))))
    return to_shared_strings(filled)


def same_whatever_the_cut(data: bytes, schema: Schema, changes: Changes) -> bytes:
    results = [apply_changes(data, schema, changes, chunk_size=size) for size in SIZES]
    first_out, first_result = results[0]
    for out, result in results[1:]:
        assert out == first_out
        assert result == first_result
    return first_out


def values_by_header(data: bytes) -> list[dict[str, object]]:
    ws = reopen(data)
    headers = [cell.value for cell in ws[1]]
    return [
        {str(h): cell.value for h, cell in zip(headers, line, strict=True) if h}
        for line in ws.iter_rows(min_row=2)
    ]


def test_a_sheet_read_in_small_pieces_gets_every_change(tmp_path: Path, schema: Schema) -> None:
    data = big_workbook(tmp_path, schema, 300)
    assert len(members(data)[SHEET]) > 100 * 997  # many pieces at every size but the first
    changes = Changes(
        appends=(row(5), row(301), row(302, notes="neu")),  # row 5 is there: appended once
        updates=(
            CellUpdate("2026-0007", "last_feedback", date(2026, 5, 1)),
            CellUpdate("2026-0150", "contact_due", date(2026, 6, 2)),
            CellUpdate("2026-0300", "last_feedback", date(2026, 5, 3)),
            CellUpdate("2026-0302", "last_feedback", date(2026, 5, 4)),  # appended just now
            CellUpdate("2026-9999", "last_feedback", date(2026, 5, 5)),  # not in the sheet
        ),
    )

    out = same_whatever_the_cut(data, schema, changes)

    before, after = values_by_header(data), values_by_header(out)
    assert [r[H["nr"]] for r in after] == [f"2026-{n:04d}" for n in range(1, 303)]
    assert after[300][H["service_key"]] == "<key-301@example>"
    assert after[301][H["notes"]] == "neu"
    assert after[6][H["last_feedback"]] == datetime(2026, 5, 1)
    assert after[149][H["contact_due"]] == datetime(2026, 6, 2)
    assert after[299][H["last_feedback"]] == datetime(2026, 5, 3)
    assert after[301][H["last_feedback"]] == datetime(2026, 5, 4)
    changed = {6: H["last_feedback"], 149: H["contact_due"], 299: H["last_feedback"]}
    for index, old in enumerate(before):
        expected = dict(old)
        if index in changed:
            expected[changed[index]] = after[index][changed[index]]
        assert after[index] == expected


def test_trailing_styled_rows_further_up_than_the_pieces_kept(
    tmp_path: Path, schema: Schema
) -> None:
    """Empty rows with styles below the last request (a table staff stretched) are filled
    first, even when they reach further back than the last pieces the writer keeps."""
    data = big_workbook(tmp_path, schema, 40)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["Anfragen"]
    table = next(iter(sheet.tables.values()))
    for number in range(42, 142):
        for col in range(1, sheet.max_column + 1):
            sheet.cell(number, col).fill = openpyxl.styles.PatternFill("solid", fgColor="FFEEAA")
    table.ref = re.sub(r"\d+$", "141", table.ref)
    table.autoFilter.ref = table.ref
    buffer = io.BytesIO()
    workbook.save(buffer)

    out = same_whatever_the_cut(buffer.getvalue(), schema, Changes(appends=(row(41), row(42))))

    ws = reopen(out)
    assert [ws.cell(n, 1).value for n in (41, 42, 43, 44)] == [
        "2026-0040",
        "2026-0041",
        "2026-0042",
        None,
    ]
    assert ws.cell(44, 1).fill.fgColor.rgb == "00FFEEAA"  # the styled rows below stay styled


@pytest.mark.parametrize("variant", ["inline", "shared", "enriched", "attributes reordered"])
def test_every_workbook_kind_is_written_the_same_in_pieces(
    tmp_path: Path, schema: Schema, variant: str
) -> None:
    data = staff_rows(
        new_workbook(tmp_path, schema),
        [{"Nr.": "2025-0001", "Betreff": "Fall", "Dienst-Schlüssel": "k1"}],
    )
    if variant != "inline":
        data = to_shared_strings(data)
    if variant == "enriched":
        data = inject_everything(data).data
    if variant == "attributes reordered":  # cells with r= not first: read whole, as before
        xml = members(data)[SHEET].decode()
        data = edit_part(
            data, SHEET, xml, re.sub(r'<c r="(\w+)" s="(\d+)"', r'<c s="\2" r="\1"', xml)
        )
    changes = Changes(
        appends=(row(1), row(2, status="Neu")),
        updates=(CellUpdate("2025-0001", "contact_due", date(2025, 3, 11)),),
    )

    out = same_whatever_the_cut(data, schema, changes)

    rows = values_by_header(out)
    assert [r[H["nr"]] for r in rows] == ["2025-0001", "2026-0001", "2026-0002"]
    assert rows[0][H["contact_due"]] == datetime(2025, 3, 11)
    assert rows[1][H["subject"]] == "Anfrage 1 =SUMME(A1) & <b>"
    assert rows[2][H["attachments"]] == 2


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=date(1899, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1899, 1, 1), max_value=datetime(2100, 1, 1)),
    st.text(max_size=40),
    st.sampled_from(["=1+1", "+49 151", "-", "@x", "_x0041_", "a&b<c>\"d'", "\t"]),
)


@pytest.fixture(scope="module")
def shared_workbook(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> bytes:
    data = new_workbook(tmp_path_factory.mktemp("wb"), schema)
    return to_shared_strings(staff_rows(data, [{"Nr.": "2025-0001", "Dienst-Schlüssel": "k"}]))


@given(rows=st.lists(st.dictionaries(st.integers(1, 42), values, max_size=42), max_size=4))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fast_rows_are_the_bytes_of_the_general_cell_writer(
    shared_workbook: bytes, schema: Schema, rows: list[dict[int, CellValue]]
) -> None:
    fast_context = open_context(ZipPackage(shared_workbook), schema.requests)
    slow_context = open_context(ZipPackage(shared_workbook), schema.requests)
    above = fast_context.sheet.row(2)
    fast = row_renderer(fast_context, template_styles(fast_context, above))
    template = template_styles(slow_context, above)
    for number, by_col in enumerate(rows + rows, start=3):  # each value again: from the cache
        expected = render_new_row(slow_context, number, by_col, template, None)
        assert fast(number, by_col) == expected
    assert fast_context.styles is not None and slow_context.styles is not None
    assert fast_context.styles.xml() == slow_context.styles.xml()  # same formats added


entry = st.one_of(
    st.text(max_size=12).map(lambda t: f"<si><t>{xml_escape(t)}</t></si>"),
    st.text(max_size=12).map(lambda t: f'<si><t xml:space="preserve">{xml_escape(t)}</t></si>'),
    st.just("<si/>"),
    st.just("<si\r\n><t>Zeilenende im Tag</t></si>"),
    st.just('<si><r><rPr><b/></rPr><t>fett</t></r><r><t xml:space="preserve"> und</t></r></si>'),
    st.just('<si><t>カ</t><rPh sb="0" eb="1"><t>か</t></rPh><phoneticPr fontId="1"/></si>'),
    st.just("<si>\n  <t>_x0041_ &amp; &#228;</t>\n</si>"),
)


@given(
    entries=st.lists(entry, min_size=1, max_size=30),
    wanted=st.sets(st.integers(0, 35), max_size=10),
    size=st.integers(1, 90),
)
@settings(max_examples=150, deadline=None)
def test_shared_strings_read_in_pieces_are_the_whole_part_read_at_once(
    entries: list[str], wanted: set[int], size: int
) -> None:
    part = (
        f'<?xml version="1.0"?>\n<sst xmlns="x" count="{len(entries)}">{"".join(entries)}</sst>'
    ).encode()
    pieces = iter([part[at : at + size] for at in range(0, len(part), size)])
    assert shared_strings_stream(pieces, wanted) == shared_strings(part, wanted)
