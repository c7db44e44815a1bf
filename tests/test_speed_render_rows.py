"""New rows are rendered from pieces worked out once per set of filled columns, and each new
value on a path of its own type (issue 15): the bytes are exactly those of the writer before,
kept here as a frozen copy (cells as `styled_cell_xml` and `WriteContext.cell` wrote them, a
row cell by cell as the former `row_renderer` laid it out, without its cache of cells), for
hostile values of every CellValue type, styled and unstyled columns, calculated columns, both
date systems, with and without a styles part. The cell formats added on the way (date
formats, quotePrefix) must be the same, in the same order."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlsx_fixtures import new_workbook

from jugendhaus_mail.workbook.model import CellValue
from jugendhaus_mail.workbook.schema import Schema, load_schema
from jugendhaus_mail.workbook.xlsx_cells import cell_xml, clean_text, styled_cell_xml
from jugendhaus_mail.workbook.xlsx_context import WriteContext, open_context
from jugendhaus_mail.workbook.xlsx_grow import calculated_formula
from jugendhaus_mail.workbook.xlsx_new_rows import render_new_row, row_renderer
from jugendhaus_mail.workbook.xlsx_sheet import col_letters
from jugendhaus_mail.workbook.xlsx_styles import DATE_FORMATS
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage

# --- the writer before issue 15, frozen ---------------------------------------------------

_MAX = 32_767
_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def old_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def old_clean(text: str) -> str:
    text = _ILLEGAL.sub("", text)
    if len(text) > _MAX // 2 and len(text.encode("utf-16-le")) > 2 * _MAX:
        units = 0
        for index, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > _MAX:
                return text[:index]
    return text


def old_serial(value: date, date1904: bool) -> float | None:
    day = value.date() if isinstance(value, datetime) else value
    if date1904:
        days = (day - date(1904, 1, 1)).days
    else:
        days = (day - date(1899, 12, 31)).days
        days += 1 if day >= date(1900, 3, 1) else 0
    if days < (0 if date1904 else 1):
        return None
    if not isinstance(value, datetime):
        return float(days)
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return days + seconds / 86_400


def old_number(value: CellValue, date1904: bool) -> str | None:
    if isinstance(value, int) and abs(value) < 10**15:
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, date):
        serial = old_serial(value, date1904)
        if serial is not None:
            return str(int(serial)) if serial.is_integer() else repr(serial)
    return None


def old_text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return old_clean(str(value))


def old_cell(ref: str, style_attr: str, value: CellValue, date1904: bool) -> bytes:
    if isinstance(value, bool):
        return f'<c r="{ref}"{style_attr} t="b"><v>{int(value)}</v></c>'.encode()
    number = old_number(value, date1904)
    if number is not None:
        return f'<c r="{ref}"{style_attr}><v>{number}</v></c>'.encode()
    text = old_text(value)
    if not text:
        return f'<c r="{ref}"{style_attr}/>'.encode()
    if "_x" in text:
        text = _ESCAPE.sub(r"_x005F_x\1_", text)
    body = f'<is><t xml:space="preserve">{old_escape(text)}</t></is>'
    return f'<c r="{ref}"{style_attr} t="inlineStr">{body}</c>'.encode()


def old_attribute(style: str | None) -> str:
    return f' s="{old_escape(style)}"' if style is not None else ""


def old_styled(context: WriteContext, col: int, style: str | None, value: CellValue) -> str:
    """The style attribute the former ColumnWriter gave `value` in `col`."""
    if context.styles is not None:
        if isinstance(value, date) and not isinstance(value, bool):
            kind = context.types.get(col) or ("datetime" if isinstance(value, datetime) else "date")
            if kind in DATE_FORMATS:
                style = context.styles.dated(style, kind)
        elif isinstance(value, str) and old_clean(value).startswith(_STARTS):
            style = context.styles.quoted(style)
    return old_attribute(style)


def old_renderer(
    context: WriteContext, template: dict[int, str]
) -> Callable[[int, dict[int, CellValue]], bytes]:
    area = context.table.area
    formulas = dict(context.table.formulas)
    first_data = area.first_row + context.table.header_rows

    def render(number: int, values: dict[int, CellValue]) -> bytes:
        cells = []
        for col in range(area.first_col, area.last_col + 1):
            style = template.get(col)
            ref = f"{col_letters(col)}{number}"
            if col in values:
                attribute = old_styled(context, col, style, values[col])
                cells.append(old_cell(ref, attribute, values[col], context.date1904))
            elif col in formulas:
                formula = calculated_formula(formulas[col], first_data, number)
                style_attr = f' s="{old_escape(style)}"' if style is not None else ""
                cells.append(f'<c r="{ref}"{style_attr}><f>{old_escape(formula)}</f></c>'.encode())
            elif style is not None:
                cells.append(old_cell(ref, old_attribute(style), None, False))
        return b'<row r="%d">%s</row>' % (number, b"".join(cells))

    return render


# --- hostile values ---------------------------------------------------------------------

HOSTILE_TEXT = [
    "",
    " ",
    "Anna Schulz",
    "Lange Straße 3, 18055 Rostock",
    "_x0041_",
    "A_x0041_B_X00e4_c_x00_",
    "_x005F_x0041_",
    "=1+1",
    '=HYPERLINK("http://x","klick")',
    "+49 381 123",
    "-1",
    "@SUM(A1)",
    "\t=x",
    "\r=x",
    "\x00=1",  # starts with "=" once cleaned
    "\x01\x02\x1f",  # nothing left once cleaned
    " =1",
    "a&b<c>\"d'e",
    "Zeile\r\neins\nzwei\rdrei\ttab",
    "\ud800lone\udfffsurrogates",
    "\ufffe\uffff\ufffd",
    "\u2028\u2029\x7f\x85\xa0\u200b\ue000",
    "😀 Emoji 👨‍👩‍👧",
    "שלום عربي",
    "x" * 40_000,
    "é" * 16_000 + "😀" * 400,
    "😀" * 20_000,
    "_x" * 3,
    "%d %s %b %%",
]
TEXT = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=30),
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.text(st.sampled_from("_x0041F=+-@\t\r\n&<>\"'\x00\x0b\ud83d\ude00 aä€😀"), max_size=20),
)
NUMBER = st.one_of(
    st.integers(),
    st.integers(-(10**15) - 2, -(10**15) + 2),
    st.integers(10**15 - 2, 10**15 + 2),
    st.sampled_from([0, -1, 10**20, -(10**300)]),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e300, 5e-324, 0.1, 2.5]),
)
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30))])
DAYS = st.one_of(
    st.dates(),
    st.dates(date(1899, 12, 28), date(1900, 3, 3)),
    st.dates(date(1903, 12, 30), date(1904, 1, 3)),
    st.dates(date(2024, 1, 1), date(2027, 12, 31)),
)
MOMENTS = st.one_of(
    st.datetimes(timezones=ZONES),
    st.datetimes(datetime(1899, 12, 30), datetime(1900, 3, 2), timezones=ZONES),
    st.datetimes(datetime(1903, 12, 31), datetime(1904, 1, 2)),
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)),
)
VALUE: st.SearchStrategy[CellValue] = st.one_of(
    TEXT, NUMBER, st.booleans(), DAYS, MOMENTS, st.none()
)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> bytes:
    return new_workbook(tmp_path_factory.mktemp("render"), schema)


def context_for(
    data: bytes,
    schema: Schema,
    date1904: bool,
    styled: bool,
    formulas: tuple[tuple[int, str], ...],
) -> WriteContext:
    context = open_context(ZipPackage(data), schema.requests, lookups=())
    context.date1904 = date1904
    context.table = dataclasses.replace(context.table, formulas=formulas)
    if not styled:
        context.styles = None
    return context


# --- the tests --------------------------------------------------------------------------


@given(value=VALUE, date1904=st.booleans(), style=st.sampled_from([None, "0", "1", "3", 'a"&<']))
@settings(max_examples=400, deadline=None)
def test_a_cell_is_written_as_before(value: CellValue, date1904: bool, style: str | None) -> None:
    """The reference path (`cell_xml`, `styled_cell_xml`) keeps its bytes: clean_text,
    excel_serial and the text body took shortcuts of their own."""
    attribute = old_attribute(style)
    expected = old_cell("AB12", attribute, value, date1904)
    assert styled_cell_xml("AB12", attribute, value, date1904) == expected
    assert cell_xml("AB12", style, value, date1904) == expected
    if isinstance(value, str):
        assert clean_text(value) == old_clean(value)


def test_text_without_unprintable_characters_needs_no_cleaning() -> None:
    """clean_text skips its search for printable text: no character it drops is printable."""
    dropped = [c for c in range(0x110000) if _ILLEGAL.match(chr(c))]
    assert len(dropped) == 29 + 2048 + 2
    assert not any(chr(c).isprintable() for c in dropped)


ROWS = st.lists(st.dictionaries(st.integers(0, 45), VALUE, max_size=12), min_size=1, max_size=12)


@given(
    rows=ROWS,
    repeat=st.booleans(),
    date1904=st.booleans(),
    styled=st.booleans(),
    template_kind=st.sampled_from(["columns", "none", "mixed"]),
    calculated=st.sampled_from([(), ((5, '=[@Nr]&"<x>"'),), ((1, "=1"), (44, "=ROW()"))]),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_new_rows_are_rendered_as_before(
    workbook: bytes,
    schema: Schema,
    rows: list[dict[int, CellValue]],
    repeat: bool,
    date1904: bool,
    styled: bool,
    template_kind: str,
    calculated: tuple[tuple[int, str], ...],
) -> None:
    new = context_for(workbook, schema, date1904, styled, calculated)
    old = context_for(workbook, schema, date1904, styled, calculated)
    area = new.table.area
    template = {col: str(col % 4) for col in range(area.first_col, area.last_col + 1)}
    if template_kind == "none":
        template = {}
    elif template_kind == "mixed":
        template = {col: style for col, style in template.items() if col % 3}
    if repeat:  # the same values again, in other rows and another key order
        rows = rows + [dict(reversed(row.items())) for row in rows]
    render, reference = row_renderer(new, template), old_renderer(old, template)
    for number, values in enumerate(rows, start=2):
        assert render(number, values) == reference(number, values)
    if styled:
        assert new.styles is not None and old.styles is not None
        assert new.styles.xml() == old.styles.xml()


def test_the_shortcut_matches_rendering_cell_by_cell(workbook: bytes, schema: Schema) -> None:
    """`row_renderer` and `render_new_row` (rows already there as styled empty rows) write a
    new row alike."""
    new = context_for(workbook, schema, False, True, ((3, "=[@Nr]"),))
    old = context_for(workbook, schema, False, True, ((3, "=[@Nr]"),))
    columns = new.columns
    row: dict[int, CellValue] = {
        columns["received"]: datetime(2026, 3, 2, 8, 0, 0, 123456),
        columns["subject"]: "=Betreff <1> & _x0041_",
        columns["requester_email"]: "ifk@jobcenter-ge.de",
        columns["birth_date"]: date(2005, 2, 1),
        columns["attachments"]: 3,
        columns["nr"]: "2026-0001",
    }
    template = {col: "1" for col in columns.values()}
    render = row_renderer(new, template)
    for number in (2, 99, 1_048_576):
        assert render(number, row) == render_new_row(old, number, row, template, None)
    assert new.styles is not None and old.styles is not None
    assert new.styles.xml() == old.styles.xml()


def test_equal_values_written_otherwise_are_not_taken_from_the_cache(
    workbook: bytes, schema: Schema
) -> None:
    """0.0 == -0.0, and one instant in two time zones is equal (and hashes alike), yet each
    is written as its own cell: the rows are not given a cell made for the other."""
    new = context_for(workbook, schema, False, True, ())
    old = context_for(workbook, schema, False, True, ())
    received = new.columns["received"]
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    rows: list[dict[int, CellValue]] = [
        {5: 0.0},
        {5: -0.0},
        {received: noon},
        {received: noon.astimezone(timezone(timedelta(hours=5, minutes=30)))},
        {received: noon.replace(tzinfo=None)},
    ]
    render, reference = row_renderer(new, {}), old_renderer(old, {})
    written = [render(number, values) for number, values in enumerate(rows, start=2)]
    assert written == [reference(n, values) for n, values in enumerate(rows, start=2)]
    serials = [re.findall(rb"<v>(.*?)</v>", row) for row in written]
    assert serials[:2] == [[b"0.0"], [b"-0.0"]]
    assert serials[2] == serials[4] != serials[3]  # wall-clock time: 12:00, 17:30, 12:00
