"""The narrow read streams the sheets from the zip and never opens calamine: it must give
exactly what the calamine read gives, restricted to the same columns (which rows exist, their
`_row`, every value and its type, the headers reported missing) — on workbooks made by our
writer, by openpyxl, re-saved by LibreOffice, and on hostile cell contents."""

from __future__ import annotations

import io
import random
import re
import sys
import zipfile
from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from workbook_helpers import SCHEMA, big_requests_xlsx, built
from xlsx_fixtures import (
    inject_everything,
    libreoffice_resave,
    new_workbook,
    request,
    rewrite,
    staff_rows,
    to_shared_strings,
)

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook import reader
from jugendhaus_mail.workbook.model import Changes, Snapshot
from jugendhaus_mail.workbook.reader import ALWAYS_KEPT, ROW_KEY, read_snapshot, streamed_snapshot
from jugendhaus_mail.workbook.xlsx_columns import _si_text, _si_texts, format_kind
from jugendhaus_mail.workbook.xlsx_writer import apply_changes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench_intake import full_rows

INTAKE = ["received", "requester_email", "contact_person", "sgb2_contact", "last_feedback"]
NARROW = [INTAKE, ["status"], [], ["birth_date", "feedback_weeks", "home_visit_planned"]]
HEADERS = {c.key: c.header for c in SCHEMA.requests.columns}


def calamine_narrow(data: bytes, columns: Collection[str]) -> Snapshot:
    """The full read (python-calamine), restricted to the columns a narrow read keeps."""
    full = read_snapshot(data, SCHEMA)
    keep = set(columns) | ALWAYS_KEPT | {ROW_KEY}
    requests = [{k: v for k, v in row.items() if k in keep} for row in full.requests]
    return Snapshot(
        requests,
        full.staff,
        full.absences,
        full.fingerprint,
        full.missing_headers,
        full.appointments,
    )


def assert_same(data: bytes, columns: Collection[str], chunk_size: int = 1 << 18) -> None:
    expected = calamine_narrow(data, columns)
    got = streamed_snapshot(data, SCHEMA, columns, expected.fingerprint, chunk_size=chunk_size)
    assert got is not None, "the stream gave up on a canonical workbook"
    assert [r[ROW_KEY] for r in got.requests] == [r[ROW_KEY] for r in expected.requests]
    for mine, theirs in zip(got.requests, expected.requests, strict=True):
        assert mine == theirs
        assert [type(v) for v in mine.values()] == [type(theirs[k]) for k in mine]
    assert got.staff == expected.staff
    assert got.absences == expected.absences
    assert got.appointments == expected.appointments
    assert got.missing_headers == expected.missing_headers
    assert read_snapshot(data, SCHEMA, columns=columns) == got


def filled_workbook(tmp_path: Path, rows: int) -> bytes:
    empty = new_workbook(tmp_path, SCHEMA)
    data, _ = apply_changes(empty, SCHEMA, Changes(appends=full_rows(rows)))
    return data


def test_a_new_workbook_reads_alike(tmp_path: Path) -> None:
    data = built(tmp_path).read_bytes()
    for columns in NARROW:
        assert_same(data, columns)


@pytest.mark.parametrize("shared", [False, True], ids=["inline strings", "shared strings"])
def test_a_year_of_full_rows_reads_alike(tmp_path: Path, shared: bool) -> None:
    data = filled_workbook(tmp_path, 300)
    if shared:
        data = to_shared_strings(data)
    for columns in NARROW:
        assert_same(data, columns)


def test_rows_staff_typed_in_excel_style_read_alike(tmp_path: Path) -> None:
    data = new_workbook(tmp_path, SCHEMA)
    data, _ = apply_changes(data, SCHEMA, Changes(appends=(request(1), request(2))))
    typed = [
        {HEADERS["nr"]: "2026-0099", HEADERS["status"]: "  Neu ", HEADERS["birth_date"]: "1.2.08"},
        {HEADERS["status"]: "nur Status"},  # no Nr.: the row still counts
        {HEADERS["nr"]: "   ", HEADERS["contact_due"]: date(2026, 5, 4)},  # blank Nr.
        {HEADERS["nr"]: "   "},  # nothing but a blank: no row
        {HEADERS["received"]: datetime(2026, 1, 2, 3, 4, 5), HEADERS["feedback_weeks"]: 4},
        {HEADERS["nr"]: "=SUMME(1;2)", HEADERS["customer_number"]: 12345},
    ]
    data = staff_rows(data, typed)
    for columns in NARROW:
        assert_same(data, columns)


def test_rows_formatted_ahead_but_empty_do_not_count(tmp_path: Path) -> None:
    """A table formatted down to row 400: styled empty cells everywhere, one value in a
    column the narrow read does not keep."""
    data = filled_workbook(tmp_path, 3)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    empty = "".join(f'<c r="{chr(65 + i)}{{n}}" s="1"/>' for i in range(20))
    rows = [f'<row r="{n}">{empty.format(n=n)}</row>' for n in range(5, 401)]
    rows[100] = rows[100].replace(
        '<c r="Q105" s="1"/>', '<c r="Q105" s="1" t="inlineStr"><is><t>Neu</t></is></c>'
    )
    sheet = sheet.replace("</sheetData>", "".join(rows) + "</sheetData>")
    data = rewrite(data, {"xl/worksheets/sheet1.xml": sheet.encode()})
    for size in (1 << 18, 4096):
        assert_same(data, INTAKE, chunk_size=size)
    assert [r["_row"] for r in read_snapshot(data, SCHEMA, columns=INTAKE).requests] == [
        2,
        3,
        4,
        105,
    ]


def test_everything_openpyxl_cannot_keep_does_not_disturb_the_stream(tmp_path: Path) -> None:
    data = filled_workbook(tmp_path, 20)
    assert_same(inject_everything(data).data, INTAKE)


def test_tiny_chunks_cut_through_cells_and_shared_strings(tmp_path: Path) -> None:
    data = to_shared_strings(filled_workbook(tmp_path, 40))
    for size in (1, 7, 64, 333):
        assert_same(data, INTAKE, chunk_size=size)
        assert_same(data, ["status"], chunk_size=size)


def test_self_closing_and_unusual_cells_next_to_kept_ones_read_alike(tmp_path: Path) -> None:
    """Styled empty cells (`<c r="G3" s="1"/>`) right before and after kept cells, extra
    attributes, a formula with its cached value, an empty `<v/>`, a row whose only value is
    in a column the read does not keep and rows that are nothing but styling, in pieces that
    cut anywhere."""
    data = to_shared_strings(filled_workbook(tmp_path, 12))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    columns = {c.key: chr(ord("A") + i) for i, c in enumerate(SCHEMA.requests.columns[:26])}
    email, person, status = columns["requester_email"], columns["contact_person"], "Q"

    def cell(ref: str, replacement: str) -> None:
        nonlocal sheet
        sheet, count = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', replacement, sheet, count=1)
        assert count == 1, ref

    cell(f"{email}3", f'<c r="{email}3" s="1"/>')
    cell(f"{person}3", f'<c r="{person}3" s="1" cm="1" t="str"><f>1+1</f><v>2</v></c>')
    cell(f"{email}4", f'<c r="{email}4" s="1" t="s" ph="1"><v>0</v></c>')
    cell(f"{person}4", f'<c r="{person}4" s="1"><v/></c>')
    cell("A5", '<c r="A5" s="1"/>')
    cell(f"{email}5", f'<c r="{email}5"/>')
    empty = "".join(f'<c r="{letter}{{n}}" s="1"/>' for letter in "ABCDEFGHIJKLMNOPQRST")
    rows = [f'<row r="{n}">{empty.format(n=n)}</row>' for n in range(14, 30)]
    rows[3] = rows[3].replace(
        f'<c r="{status}17" s="1"/>', f'<c r="{status}17" t="inlineStr"><is><t>Neu</t></is></c>'
    )
    rows[5] = '<row r="19" spans="1:42"/>'
    sheet = sheet.replace("</sheetData>", "".join(rows) + "</sheetData>")
    data = rewrite(data, {"xl/worksheets/sheet1.xml": sheet.encode()})
    for size in (1, 7, 333, 1 << 18):
        for columns_read in (INTAKE, ["nr", "service_key"], ["status"]):
            assert_same(data, columns_read, chunk_size=size)
    numbers = [r[ROW_KEY] for r in read_snapshot(data, SCHEMA, columns=INTAKE).requests]
    assert 17 in numbers and 18 not in numbers and 19 not in numbers


def test_inline_strings_in_every_form_read_alike(tmp_path: Path) -> None:
    """Inline strings as the service writes them (one run, xml:space) and in the forms other
    tools write: empty runs, entities and _xHHHH_ escapes, blanks, rich text, phonetic hints;
    in pieces that cut anywhere."""
    data = filled_workbook(tmp_path, 12)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    email = chr(ord("A") + [c.key for c in SCHEMA.requests.columns].index("requester_email"))
    forms = [
        '<c r="{ref}" s="1" t="inlineStr"><is><t></t></is></c>',
        '<c r="{ref}" s="1" t="inlineStr"><is><t/></is></c>',
        '<c r="{ref}" t="inlineStr"><is><t>a &amp; b &#228; _x0041_ &lt;c r="A1"/&gt;</t></is></c>',
        '<c r="{ref}" s="1" t="inlineStr"><is><t xml:space="preserve">   </t></is></c>',
        '<c r="{ref}" t="inlineStr"><is><t>x</t><rPh sb="0" eb="1"><t>y</t></rPh></is></c>',
        '<c r="{ref}" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>',
        '<c r="{ref}" t="inlineStr"><is><t xml:space="preserve"> Frau Ö </t></is></c>',
    ]
    for row, form in enumerate(forms, start=2):
        ref = f"{email}{row}"
        sheet, count = re.subn(
            rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', form.format(ref=ref), sheet, count=1
        )
        assert count == 1, ref
    data = rewrite(data, {"xl/worksheets/sheet1.xml": sheet.encode()})
    for size in (1, 7, 333, 1 << 18):
        assert_same(data, INTAKE, chunk_size=size)
    emails = [r["requester_email"] for r in read_snapshot(data, SCHEMA, columns=INTAKE).requests]
    assert emails[2] == 'a & b ä A <c r="A1"/>' and emails[6] == "Frau Ö"


@pytest.mark.parametrize(
    "form",
    [
        '<c r="{ref}" s="1" t="s"><is><t>typ s</t></is></c>',
        '<c r="{ref}" s="1"><is><t>ohne Typ</t></is></c>',
        '<c r="{ref}" t="str"><is><r><t>ri</t></r></is></c>',
    ],
)
def test_an_inline_string_in_a_cell_of_another_type_goes_the_calamine_way(
    tmp_path: Path, form: str
) -> None:
    """calamine reads the <is> of a cell whatever its type says; the scanner leaves it."""
    data = filled_workbook(tmp_path, 3)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    email = chr(ord("A") + [c.key for c in SCHEMA.requests.columns].index("requester_email"))
    ref = f"{email}3"
    sheet, count = re.subn(
        rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', form.format(ref=ref), sheet, count=1
    )
    assert count == 1
    data = rewrite(data, {"xl/worksheets/sheet1.xml": sheet.encode()})
    fingerprint = read_snapshot(data, SCHEMA).fingerprint
    assert streamed_snapshot(data, SCHEMA, INTAKE, fingerprint) is None
    narrow = read_snapshot(data, SCHEMA, columns=INTAKE)
    assert narrow.requests == calamine_narrow(data, INTAKE).requests
    assert narrow.requests[1]["requester_email"] in ("typ s", "ohne Typ", "ri")


SI_PARTS = [
    '<si><t xml:space="preserve">Frau Müller</t></si>', "<si><t>plain</t></si>", "<si/>",
    "<si><t/></si>", "<si><t></t></si>", "<si><t>a &amp; b</t></si>", "<si><t>x_x0041_y</t></si>",
    '<si><r><rPr><b/></rPr><t>Fr</t></r><r><t xml:space="preserve"> X </t></r></si>',
    '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>', "<si><t>a</t></si>\n  ",
    '<si><t xml:space="preserve">   </t></si>', "<si><t>&lt;c r=&quot;A1&quot;&gt;</t></si>",
    "<si><t>nul\x00inside</t></si>", '<si foo="1"><t>attr</t></si>', "<si><t>a</t></si></sst>",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(SI_PARTS), min_size=1, max_size=12))
def test_shared_strings_read_in_bulk_as_one_by_one(entries: list[str]) -> None:
    """The bulk unwrapping of plain entries gives what reading each entry alone gives."""
    parts = [entry.encode()[len(b"<si") :] for entry in entries]
    assert _si_texts(parts) == [_si_text(part) for part in parts]


def test_a_workbook_resaved_by_libreoffice_reads_alike(tmp_path: Path, soffice: str) -> None:
    """LibreOffice writes its own XML: attributes on every row, formulas with cached values
    (text `t="str"`, errors `t="e"`), rich text in sharedStrings.xml."""
    path = tmp_path / "Anfrageliste.xlsx"
    typed = [
        {HEADERS["status"]: "nur Status", HEADERS["nr"]: " "},
        {
            HEADERS["nr"]: '="2026-"&"0777"',
            HEADERS["status"]: "=1+1",
            HEADERS["subject"]: "=NA()",
            HEADERS["requester_email"]: "=1=1",
            HEADERS["contact_person"]: CellRichText(["Frau ", TextBlock(InlineFont(b=True), "Ö")]),
            HEADERS["last_feedback"]: "=DATE(2026;2;1)",
        },
    ]
    path.write_bytes(staff_rows(filled_workbook(tmp_path, 60), typed))
    resaved = libreoffice_resave(path)
    sheet = zipfile.ZipFile(io.BytesIO(resaved)).read("xl/worksheets/sheet1.xml")
    assert b't="str"' in sheet and b't="e"' in sheet
    for columns in [*NARROW, ["subject", "status"]]:
        assert_same(resaved, columns)
        assert_same(resaved, columns, chunk_size=50)
    (formula_row,) = [r for r in read_snapshot(resaved, SCHEMA).requests if r["nr"] == "2026-0777"]
    assert formula_row["status"] == "2" and formula_row["subject"] is None


def test_shared_strings_as_excel_writes_them(tmp_path: Path) -> None:
    """Rich-text runs, phonetic hints, empty entries, entities, _xHHHH_ escapes and
    xml:space, in sharedStrings.xml and in inline strings; chunk borders anywhere."""
    data = to_shared_strings(filled_workbook(tmp_path, 4))
    sst = zipfile.ZipFile(io.BytesIO(data)).read("xl/sharedStrings.xml").decode()
    entries = [
        '<si><r><rPr><b/></rPr><t>Fr</t></r><r><t xml:space="preserve"> Müller </t></r></si>',
        '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>',
        "<si/>",
        "<si><t/></si>",
        "<si><t>a &amp; b &lt;c&gt; &#13;&#10;d</t></si>",
        "<si><t>Zeile_x000D_\nzwei _x005F_x0041_</t></si>",
        '<si><t xml:space="preserve">   </t></si>',
    ]
    sst = sst.replace("</sst>", "".join(entries) + "</sst>")
    base = sst.count("<si>") + sst.count("<si/>") - len(entries)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    columns = {c.key: i for i, c in enumerate(SCHEMA.requests.columns)}
    for offset, row in enumerate((2, 3, 4, 5)):
        for key in ("contact_person", "requester_email", "status"):
            letter = chr(ord("A") + columns[key])
            index = base + (offset * 3 + columns[key]) % len(entries)
            sheet = re.sub(
                rf'<c r="{letter}{row}"([^>]*?) t="s"><v>\d+</v></c>',
                rf'<c r="{letter}{row}"\1 t="s"><v>{index}</v></c>',
                sheet,
            )
    sheet = sheet.replace(
        "</row>",
        '<c r="AZ2" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c></row>',
        1,
    )
    data = rewrite(
        data, {"xl/sharedStrings.xml": sst.encode(), "xl/worksheets/sheet1.xml": sheet.encode()}
    )
    for size in (1, 5, 1 << 20):
        for wanted in (INTAKE, ["status"]):
            assert_same(data, wanted, chunk_size=size)


def test_a_narrow_read_never_opens_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a workbook, calamine parses every shared string (at 50,000 rows: 0.13 s and
    47 MiB before a single cell is read); a narrow read must not pay that."""
    data = to_shared_strings(filled_workbook(tmp_path, 30))
    expected = calamine_narrow(data, INTAKE)

    def refuse(*_args: object) -> None:
        raise AssertionError("calamine opened for a narrow read")

    monkeypatch.setattr(reader.CalamineWorkbook, "from_filelike", refuse)
    assert read_snapshot(data, SCHEMA, columns=INTAKE).requests == expected.requests


def test_cells_without_reference_go_the_calamine_way(tmp_path: Path) -> None:
    """Some tools write `<c>` without r="A1"; calamine counts positions, the stream cannot."""
    data = big_requests_xlsx(tmp_path / "norefs.xlsx", 30).read_bytes()
    assert b'<c r="' not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    fingerprint = read_snapshot(data, SCHEMA).fingerprint
    assert streamed_snapshot(data, SCHEMA, INTAKE, fingerprint) is None
    narrow = read_snapshot(data, SCHEMA, columns=INTAKE)
    assert narrow == calamine_narrow(data, INTAKE)
    assert len(narrow.requests) == 30


def with_compression_method(data: bytes, member: str, method: int) -> bytes:
    """The zip with `member` marked as compressed by `method` (99: AES, which zipfile cannot
    read), in its local header and in the central directory."""
    out = bytearray(data)
    name = member.encode()
    for signature, name_at, method_at in ((b"PK\x03\x04", 30, 8), (b"PK\x01\x02", 46, 10)):
        at = out.find(signature)
        while at >= 0:
            if out[at + name_at : at + name_at + len(name)] == name:
                out[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
            at = out.find(signature, at + 4)
    return bytes(out)


def test_a_sheet_no_reader_can_unpack_is_reported_in_german(tmp_path: Path) -> None:
    data = with_compression_method(filled_workbook(tmp_path, 5), "xl/worksheets/sheet1.xml", 99)
    with pytest.raises(WorkbookError) as caught:
        read_snapshot(data, SCHEMA, columns=INTAKE)
    assert "Bitte die Datei in Excel öffnen" in str(caught.value)


# --- hostile contents, written by openpyxl --------------------------------------------------

TEXT = st.one_of(
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
        max_size=30,
    ),
    st.sampled_from(
        [
            "Müller-Lüdenscheidt ß", "=1+1", "=HYPERLINK(\"x\")", "a_x000D_b", "_x0041_",
            "   ", "", "01.02.2026", "3.4.26 10:15 Uhr", "2026-04-03", "#N/A", "&amp; <b>",
            "x" * 5000, " führend", "WAHR", "12345",
        ]
    ),
)  # fmt: skip
VALUE = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(-(10**7), 10**7),
    # far beyond, calamine cannot read a date-formatted cell at all (see test_workbook_reader)
    st.floats(-1e7, 1e7, allow_nan=False),
    st.floats(61, 2_958_000),  # serials in date columns
    st.datetimes(datetime(1920, 1, 1), datetime(2199, 12, 31)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
    st.dates(date(1920, 1, 1), date(2199, 12, 31)),
    st.builds(lambda a, b: CellRichText([a, TextBlock(InlineFont(b=True), b)]), TEXT, TEXT),
)
FORMATS = st.sampled_from(
    ["General", "@", "0.00", "DD.MM.YYYY", "DD.MM.YYYY hh:mm", "d-mmm-yy", "#,##0 €", "0%"]
)
KEYS = ["nr", "received", "requester_email", "status", "birth_date", "feedback_weeks", "notes"]


def hostile_workbook(rows: list[list[tuple[object, str]]], date1904: bool) -> bytes:
    workbook = openpyxl.Workbook()
    if date1904:
        workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.title = "Anfragen"
    sheet.append([HEADERS.get(k, "Notizen") for k in KEYS])
    for number, row in enumerate(rows, start=2):
        for col, (value, fmt) in enumerate(row, start=1):
            cell = sheet.cell(number, col)
            cell.value = value
            cell.number_format = fmt
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.tuples(VALUE, FORMATS), min_size=len(KEYS), max_size=len(KEYS)), max_size=8
    ),
    st.booleans(),
    st.sampled_from(NARROW),
    st.sampled_from([1 << 20, 13]),
)
def test_hostile_cell_contents_read_alike(
    rows: list[list[tuple[object, str]]], date1904: bool, columns: list[str], chunk: int
) -> None:
    data = hostile_workbook(rows, date1904)
    expected = calamine_narrow(data, columns)
    got = streamed_snapshot(data, SCHEMA, columns, expected.fingerprint, chunk_size=chunk)
    if got is None:  # a value the stream leaves to calamine (e.g. a date before 1900-03-01)
        got = read_snapshot(data, SCHEMA, columns=columns)
    assert got.requests == expected.requests
    assert [[type(v) for v in r.values()] for r in got.requests] == [
        [type(v) for v in r.values()] for r in expected.requests
    ]
    assert got.missing_headers == expected.missing_headers


@pytest.fixture(scope="module")
def empty_workbook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return new_workbook(tmp_path_factory.mktemp("empty"), SCHEMA)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(TEXT, min_size=4, max_size=4), min_size=1, max_size=4),
    st.sampled_from([1 << 20, 13]),
)
def test_hostile_text_the_service_wrote_reads_alike(
    empty_workbook: bytes, rows: list[list[str]], chunk: int
) -> None:
    """Whatever text the service itself writes (as inline strings) reads back as calamine
    reads it."""
    keys = ["requester_email", "contact_person", "sgb2_contact", "status"]
    appends = tuple(request(n, **dict(zip(keys, row, strict=True))) for n, row in enumerate(rows))
    data, _ = apply_changes(empty_workbook, SCHEMA, Changes(appends=appends))
    for columns in (INTAKE, ["status"]):
        assert_same(data, columns, chunk_size=chunk)


def test_ordinary_values_never_send_the_read_to_calamine() -> None:
    rows = [
        [("2026-0001", "@"), (datetime(2026, 3, 2, 9, 30), "DD.MM.YYYY hh:mm"), ("a@b.de", "@"),
         ("Neu", "General"), (date(2008, 2, 1), "DD.MM.YYYY"), (4, "General"), (None, "@")],
        [("2026-0002", "@"), ("01.02.2026", "@"), ("", "@"), (True, "General"),
         (46054, "General"), (2.5, "0.00"), ("=1+1", "@")],
    ]  # fmt: skip
    for date1904 in (False, True):
        data = hostile_workbook(rows, date1904)
        for columns in NARROW:
            assert_same(data, columns)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("DD/MM/YY", "date"), ("H:MM:SS;@", "date"), ("#,##0\\ [$\\u20bd-46D]", ""),
        ('m"M"d"D";@', "date"), ("[h]:mm:ss", "duration"), ('"Y: "0.00"m";"Y: "-0.00"m"', ""),
        ('"$"#,##0_);[Red]("$"#,##0)', ""), ("0_ ;[Red]\\-0\\ ", ""), ("\\Y000000", ""),
        ('#,##0.0####" YMD"', ""), ("[h]", "duration"), ("[ss]", "duration"),
        ("[s].000", "duration"), ("[Blue]\\+[h]:mm;[Red]\\-[h]:mm", "duration"),
        ("[>=100][Magenta].00", ""), ("[>=100][Magenta]General", ""), ("ha/p\\\\m", "date"),
        ("#,##0.00\\ _M\"H\"_);[Red]#,##0.00\\ _M\"S\"_)", ""), ("General", ""), ("@", ""),
    ],
)  # fmt: skip
def test_number_formats_are_dates_where_calamine_says_so(code: str, kind: str) -> None:
    assert format_kind(code) == kind


def formatted_cells(codes: list[str]) -> bytes:
    """46054.25 under each number format, in a text column (where a date shows as one)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Anfragen"
    sheet.append([HEADERS["nr"], HEADERS["requester_email"]])
    for code in codes:
        sheet.append(["x", 46054.25])
        sheet.cell(sheet.max_row, 2).number_format = code
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_number_format_reading_matches_calamine_on_real_cells() -> None:
    codes = ["DD/MM/YY", "0.00", "mmm yyyy", "#,##0*y", "[$-407]DDDD", "hh:mm AM/PM", "0*d"]
    data = formatted_cells(codes)
    assert_same(data, ["requester_email"])
    shown = [row["requester_email"] for row in read_snapshot(data, SCHEMA).requests]
    assert shown[:2] == ["01.02.2026 06:00", "46054.25"]
    assert shown[3] == "46054.25"  # "*y" fills with y: no year


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_thousands_of_serials_become_the_very_same_dates_and_times(date1904: bool) -> None:
    """Milliseconds rounded as calamine rounds them, whole days as dates, both date systems."""
    generator = random.Random(15)
    serials = [generator.uniform(61, 80_000) for _ in range(1500)]
    serials += [float(generator.randint(61, 80_000)) for _ in range(300)]
    serials += [46054 + n / 86_400_000 + 0.5 / 86_400_000 for n in range(200)]  # ties
    workbook = openpyxl.Workbook()
    if date1904:
        workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.title = "Anfragen"
    sheet.append([HEADERS["nr"], HEADERS["received"], HEADERS["requester_email"]])
    for serial in serials:
        sheet.append(["x", serial, serial])
        sheet.cell(sheet.max_row, 2).number_format = "DD.MM.YYYY hh:mm:ss.000"
        sheet.cell(sheet.max_row, 3).number_format = "DD.MM.YYYY"
    out = io.BytesIO()
    workbook.save(out)
    assert_same(out.getvalue(), ["received", "requester_email"])


def test_durations_are_left_to_calamine() -> None:
    data = formatted_cells(["[h]:mm"])
    fingerprint = read_snapshot(data, SCHEMA).fingerprint
    assert streamed_snapshot(data, SCHEMA, ["requester_email"], fingerprint) is None
    narrow = read_snapshot(data, SCHEMA, columns=["requester_email"])
    assert narrow.requests == calamine_narrow(data, ["requester_email"]).requests
    assert narrow.requests[0]["requester_email"] == "46054 days, 6:00:00"
