"""What one write knows about the workbook: the sheet text, the request table, where each
schema column is, the shared strings and the cell formats; and how a cell is written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.model import CellValue, header_key
from jugendhaus_mail.workbook.schema import Sheet
from jugendhaus_mail.workbook.xlsx_cells import (
    FORMULA_STARTS,
    MAX_EXACT_INT,
    SHORT_TEXT,
    cell_xml,
    clean_text,
    excel_serial,
    looks_like_formula,
    shared_index,
    style_attribute,
    styled_cell_xml,
    text_body,
    value_text,
)
from jugendhaus_mail.workbook.xlsx_pass import NotCanonical, SheetPass, SheetTap
from jugendhaus_mail.workbook.xlsx_sheet import Cell, SheetText, cell_text, col_letters, split_ref
from jugendhaus_mail.workbook.xlsx_stream import StreamSheet, shared_strings_stream
from jugendhaus_mail.workbook.xlsx_styles import DATE_FORMATS, Styles
from jugendhaus_mail.workbook.xlsx_zip import (
    CHUNK,
    TableInfo,
    WorkbookParts,
    ZipPackage,
    locate_parts,
)

Strings = Callable[[set[int]], dict[int, str]]
_REF_OPEN = b'<c r="'  # every cell the writer makes starts so, its reference next
HEAD_CHUNK = 1 << 16  # the header row is looked for in pieces this big: it is near the start
# Rows compressed in the full pass are held until the new part is written (about 1/6 of their
# size): on longer sheets (32 MiB of XML, ~20,000 full rows) the peak matters more than the
# ~15 ms this saves at 10,000 rows.
COMPRESS_ON_THE_WAY = 32 << 20


@dataclass
class WriteContext:
    """What one call knows about the workbook."""

    sheet: SheetText
    table: TableInfo
    columns: dict[str, int]  # schema key -> column index (only headers that were found)
    shared: Strings | None  # looks entries of sharedStrings.xml up
    date1904: bool
    schema: Sheet
    parts: WorkbookParts
    styles: Styles | None = None
    types: dict[int, str] = field(default_factory=dict)  # column index -> schema type

    def strings(self, wanted: set[int]) -> dict[int, str]:
        """These entries of the shared strings (the part is streamed, never held whole)."""
        return self.shared(wanted) if self.shared is not None and wanted else {}

    def cell(self, ref: str, style: str | None, value: CellValue) -> bytes:
        """One cell, its style adjusted: a date format for dates where the style shows none,
        and quotePrefix for text that Excel would otherwise take as a formula when edited."""
        if self.styles is not None:
            col = split_ref(ref)[0]
            if isinstance(value, date) and not isinstance(value, bool):
                default = "datetime" if isinstance(value, datetime) else "date"
                kind = self.types.get(col) or default
                if kind in DATE_FORMATS:
                    style = self.styles.dated(style, kind)
            elif looks_like_formula(value):
                style = self.styles.quoted(style)
        return cell_xml(ref, style, value, self.date1904)


def open_context(
    package: ZipPackage,
    schema: Sheet,
    chunk_size: int = CHUNK,
    lookups: tuple[str, ...] = ("service_key", "nr"),
    prepared: SheetPass | None = None,
) -> WriteContext:
    """The context for writing into the table of `schema`'s sheet, its columns mapped. The
    sheet and the shared strings are streamed (see xlsx_stream), the cells of the `lookups`
    columns collected on the way; a sheet in a form only the whole-text reader handles is
    read whole. `prepared`: the full pass over this very part, made by the reader that read
    the same bytes (see `write_tap`); taken instead of a pass of its own where no column is
    looked up."""
    parts = locate_parts(package, schema)
    sheet_part, shared_part = parts.sheet, parts.shared

    def source() -> Iterator[bytes]:
        return package.stream(sheet_part, chunk_size)

    def strings(wanted: set[int]) -> dict[int, str]:
        assert shared_part is not None
        return shared_strings_stream(package.stream(shared_part, chunk_size), wanted)

    def first() -> Iterator[bytes]:
        return package.stream(sheet_part, min(chunk_size, HEAD_CHUNK))

    try:
        sheet: SheetText = StreamSheet(
            source, schema.name, parts.table.area.first_row, 2 * chunk_size, first
        )
    except NotCanonical:
        sheet = SheetText(package.read(sheet_part), schema.name)
    context = WriteContext(
        sheet=sheet,
        table=parts.table,
        columns={},
        shared=strings if shared_part else None,
        date1904=parts.date1904,
        schema=schema,
        parts=parts,
        styles=Styles(package.read(parts.styles)) if parts.styles else None,
    )
    context.columns = map_columns(context)
    context.types = {col: schema.column(key).type for key, col in context.columns.items()}
    if isinstance(sheet, StreamSheet) and not lookups and prepared and prepared.part == sheet_part:
        sheet.adopt(prepared)
    elif isinstance(sheet, StreamSheet):
        try:
            sheet.collect(
                (context.columns[k] for k in lookups if k in context.columns),
                compress=not lookups and package.size(sheet_part) <= COMPRESS_ON_THE_WAY,
            )
        except NotCanonical:
            context.sheet = SheetText(package.read(sheet_part), schema.name)
    return context


def write_tap(schema: Sheet, chunk_size: int = CHUNK) -> Callable[[str, int], SheetTap]:
    """Taps for a reader of `schema`'s sheet that make the pass `open_context` would make,
    with the same window and the same rule for compressing the rows on the way."""

    def tap(part: str, size: int) -> SheetTap:
        return SheetTap(part, schema.name, 2 * chunk_size, compress=size <= COMPRESS_ON_THE_WAY)

    return tap


def map_columns(context: WriteContext) -> dict[str, int]:
    area = context.table.area
    row = context.sheet.row(area.first_row)
    cells = [c for c in (row.cells if row else ()) if area.first_col <= c.col <= area.last_col]
    shared = shared_for(context, cells)
    found: dict[str, int] = {}
    for cell in cells:
        text = cell_text(cell, shared)
        if text:
            found.setdefault(header_key(text), cell.col)
    columns = {
        column.key: found[header_key(column.header)]
        for column in context.schema.columns
        if header_key(column.header) in found
    }
    if "service_key" not in columns:
        header = context.schema.column("service_key").header
        raise WorkbookUnsafe(
            f"In der Tabelle {context.table.name!r} fehlt die Spalte {header!r}. Ohne sie kann "
            "der Dienst doppelte Einträge nicht erkennen und schreibt nichts. Bitte die Spalte "
            "wiederherstellen (Kopfzeile genau so benennen, sie darf ausgeblendet sein)."
        )
    return columns


def shared_for(context: WriteContext, cells: Iterable[Cell]) -> dict[int, str]:
    refs = (shared_index(cell.attrs.get("t", "n"), cell.inner) for cell in cells)
    return context.strings({index for index in refs if index is not None})


def column_texts(context: WriteContext, key: str) -> list[tuple[int, str]]:
    """(row, text) of every filled cell of a column below the header. Streams the column and
    keeps only small tuples: on 50,000 rows, Cell objects would cost tens of MiB."""
    header_row = context.table.area.first_row
    texts: list[tuple[int, str]] = []
    pending: list[tuple[int, int]] = []  # (row, shared string index)
    for row, kind, inner in context.sheet.column_values(context.columns[key]):
        if row <= header_row:
            continue
        index = shared_index(kind, inner)
        if index is not None:
            pending.append((row, index))
        elif (text := value_text(kind, inner, {})) and text.strip():
            texts.append((row, text.strip()))
    shared = context.strings({index for _, index in pending})
    texts += [(row, text.strip()) for row, index in pending if (text := shared.get(index, ""))]
    return [(row, text) for row, text in texts if text]


class ColumnWriter:
    """`WriteContext.cell` for one column and one base style, for many rows: the column
    letters, the style after the date or quotePrefix adjustment and, for each value met, all
    of the cell after its reference are worked out once per write. Text, dates, datetimes and
    ints are written on paths of their own (the same bytes as `styled_cell_xml`, which writes
    any other value): each new request brings several values never met before."""

    def __init__(self, context: WriteContext, col: int, style: str | None) -> None:
        self.style = style
        self._letters = col_letters(col).encode()
        self._date1904 = context.date1904
        self._styles = context.styles
        self._kind = context.types.get(col)
        self._plain = style_attribute(style)
        self._adjusted: dict[str, str] = {}  # why ("date", "datetime", "quote") -> attribute
        # why -> the cell after its reference up to the end of the attributes (the first '"'
        # closes the empty reference); "" for the column's own style
        self._opens: dict[str, bytes] = {"": b'"' + self._plain.encode()}
        self._texts: dict[str, bytes] = {}  # why -> the cell with text up to the text
        self._quoting = self._styles is not None  # text that looks like a formula is quoted
        self.head = _REF_OPEN + self._letters  # the cell up to its row number
        # date or datetime -> the adjustment its style needs ("": none)
        self._dated_why: dict[type, str] = {
            kind: self._date_kind(kind) for kind in (date, datetime)
        }
        # (type, value) -> the cell after its reference; the type too: True == 1, but they
        # are written differently
        self.known: dict[tuple[type, CellValue], bytes] = {}

    def cell(self, number: int, value: CellValue) -> bytes:
        rest = self.known.get((type(value), value)) or self.learn(value)
        return b"%s%d%s" % (self.head, number, rest)

    def learn(self, value: CellValue) -> bytes:
        if type(value) is str:  # clean_text and text_body, their searches skipped mostly
            text = value if value.isprintable() and len(value) <= SHORT_TEXT else clean_text(value)
            if not text:
                rest = self._opens[""] + b"/>"
            else:
                why = "quote" if self._quoting and text.startswith(FORMULA_STARTS) else ""
                if (
                    "_x" in text
                    or "&" in text
                    or "<" in text
                    or ">" in text
                    or '"' in text
                    or "\r" in text
                ):
                    text = text_body(text)
                opened = self._texts.get(why) or self._text_open(why)
                rest = opened + text.encode() + b"</t></is></c>"
            self.known[(str, value)] = rest
        elif type(value) is int and -MAX_EXACT_INT < value < MAX_EXACT_INT:
            rest = self.known[(int, value)] = b"%s><v>%d</v></c>" % (self._opens[""], value)
        elif type(value) is date:
            rest = self.known[(date, value)] = self._dated(value)
        elif type(value) is datetime:
            rest = self._dated(value)
            if value.tzinfo is None:  # the same instant in another zone is another time
                self.known[(datetime, value)] = rest
        else:
            rest = self._fresh(value)
            if _same_when_equal(value):
                self.known[(type(value), value)] = rest
        return rest

    def _dated(self, value: date) -> bytes:
        serial = excel_serial(value, self._date1904)
        if serial is None:
            return self._fresh(value)  # before Excel's first day: written as text
        number = str(int(serial)) if serial.is_integer() else repr(serial)
        return b"%s><v>%s</v></c>" % (self._open(self._dated_why[type(value)]), number.encode())

    def _fresh(self, value: CellValue) -> bytes:
        """The cell as `WriteContext.cell` writes it, after its (empty) reference."""
        attribute = self._plain
        if self._styles is not None:
            if isinstance(value, date) and not isinstance(value, bool):
                kind = self._kind or ("datetime" if isinstance(value, datetime) else "date")
                if kind in DATE_FORMATS:
                    attribute = self._adjust(kind)
            elif looks_like_formula(value):
                attribute = self._adjust("quote")
        return styled_cell_xml("", attribute, value, self._date1904)[len(_REF_OPEN) :]

    def _date_kind(self, kind: type) -> str:
        if self._styles is None:
            return ""
        column_type = self._kind or ("datetime" if kind is datetime else "date")
        return column_type if column_type in DATE_FORMATS else ""

    def _text_open(self, why: str) -> bytes:
        opened = self._texts[why] = self._open(why) + b' t="inlineStr"><is><t xml:space="preserve">'
        return opened

    def _open(self, why: str) -> bytes:
        opened = self._opens.get(why)
        if opened is None:
            opened = self._opens[why] = b'"' + self._adjust(why).encode()
        return opened

    def _adjust(self, why: str) -> str:
        if why not in self._adjusted:
            assert self._styles is not None
            if why == "quote":
                style = self._styles.quoted(self.style)
            else:
                style = self._styles.dated(self.style, why)
            self._adjusted[why] = style_attribute(style)
        return self._adjusted[why]


def _same_when_equal(value: CellValue) -> bool:
    """False for values equal to some of the same type that are written otherwise: -0.0 and
    0.0; datetimes with a time zone (the same instant in two zones: another wall-clock time)."""
    if type(value) is float:
        return value != 0
    return not isinstance(value, datetime) or value.tzinfo is None
