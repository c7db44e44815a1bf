"""Fuzz the cell writer with hostile text: longer than Excel's 32,767 characters, control
characters, lone surrogates, formula-like beginnings, Excel's own `_xHHHH_` escapes.

The oracle is written from the specifications, not from the writer's code: XML 1.0 allows
the characters #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; Excel
keeps at most 32,767 UTF-16 code units per cell; text Excel would turn into a formula when
edited starts with = + - @, a tab or a carriage return. The result is read back by two
independent readers (openpyxl and calamine)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook
from xlsx_fixtures import new_workbook

from jugendhaus_mail.workbook.model import Changes, NewRow
from jugendhaus_mail.workbook.schema import Schema, load_schema
from jugendhaus_mail.workbook.xlsx_writer import apply_changes

EXCEL_UNITS = 32_767
SUBJECT = [c.key for c in load_schema().requests.columns].index("subject")


def xml_char(char: str) -> bool:
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def expected_text(text: str) -> str:
    kept, units = [], 0
    for char in filter(xml_char, text):
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > EXCEL_UNITS:
            break
        kept.append(char)
        units += width
    return "".join(kept)


def formula_like(text: str) -> bool:
    return text[:1] in ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return new_workbook(tmp_path_factory.mktemp("fuzz"), load_schema())


chunks = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=5),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
    st.sampled_from(["_x0041_", "_x005F_", "\ufffe", "\uffff", "😀", "&amp;", "]]>", "<t>"]),
)
prefixes = st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "\x00=", "=HYPERLINK(", "#N/A"])
fillers = st.sampled_from(["x", "😀", "\x07", "\ud800", "ä"])
lengths = st.sampled_from([0, 0, 0, 16_383, 16_384, 32_766, 32_767, 32_768, 40_000])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prefix=prefixes,
    body=st.lists(chunks, max_size=6).map("".join),
    filler=fillers,
    repeat=lengths,
)
def test_any_text_reads_back_as_the_specifications_say(
    empty: bytes, prefix: str, body: str, filler: str, repeat: int
) -> None:
    text = prefix + body + filler * repeat
    schema: Schema = load_schema()
    row = NewRow("k", {"nr": "2026-0001", "subject": text})

    out = apply_changes(empty, schema, Changes(appends=(row,)))[0]

    expected = expected_text(text)
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(out)).get_sheet_by_name("Anfragen")
    assert calamine.to_python()[1][SUBJECT] == expected
    cell = openpyxl.load_workbook(io.BytesIO(out))["Anfragen"].cell(2, SUBJECT + 1)
    if not expected:
        assert cell.value is None
        return
    assert cell.data_type == "s"  # text, never a formula or an error
    if "_x" not in expected:  # openpyxl does not undo Excel's _xHHHH_ escapes
        assert cell.value == expected
    assert bool(cell.quotePrefix) == formula_like(expected)


def test_a_cell_at_the_limit_keeps_a_surrogate_pair_whole(empty: bytes) -> None:
    text = "x" * (EXCEL_UNITS - 1) + "😀"  # the emoji needs two units: one too many
    out = apply_changes(
        empty, load_schema(), Changes(appends=(NewRow("k", {"nr": "1", "subject": text}),))
    )[0]
    value = openpyxl.load_workbook(io.BytesIO(out))["Anfragen"].cell(2, SUBJECT + 1).value
    assert value == "x" * (EXCEL_UNITS - 1)


@pytest.mark.libreoffice
def test_libreoffice_keeps_formula_like_text_as_text(
    tmp_path: Path, empty: bytes, soffice: str
) -> None:
    """LibreOffice (7.4) reads the quote-prefixed cells as text and saves them as text; it
    drops the quotePrefix attribute when it saves, which only Excel needs."""
    from xlsx_fixtures import libreoffice_resave

    texts = ["=1+1", "+49 381 123", "@SUMME(A1)", "-5"]
    rows = tuple(NewRow(f"k{n}", {"nr": f"{n}", "subject": t}) for n, t in enumerate(texts))
    path = tmp_path / "quoted.xlsx"
    path.write_bytes(apply_changes(empty, load_schema(), Changes(appends=rows))[0])

    resaved = libreoffice_resave(path)  # LibreOffice opens and saves it as .xlsx again

    ws = openpyxl.load_workbook(io.BytesIO(resaved))["Anfragen"]
    for row, text in enumerate(texts, start=2):
        cell = ws.cell(row, SUBJECT + 1)
        assert (cell.value, cell.data_type) == (text, "s")
