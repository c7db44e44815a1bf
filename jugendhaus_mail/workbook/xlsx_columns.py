"""A few columns of a worksheet, streamed from the zip without parsing the rest.

A narrow read of 50,000 rows through python-calamine parses all 42 columns and, on opening
the workbook, every shared string (19 MiB of XML) into memory. Here the worksheet XML is
inflated in chunks (`chunk_size`, 256 KiB by default); each chunk is cut right before its last
`<row` (that row is carried into the next chunk, so no cell is ever cut in two), and only the
cells of the wanted columns are picked out, by one regex per chunk. sharedStrings.xml is
streamed the same way, and only the entries those cells point to are decoded.

Values come out as python-calamine gives them (`RawValue`): numbers as float, numbers in a
date-formatted cell as date/datetime (1904 date system included), booleans, "" for errors and
formulas without a cached value, text of inline and shared strings (rich-text runs joined,
entities and `_xHHHH_` escapes decoded). A shared string is handed out as its index (`int`;
numbers are always float) until `strings()` has looked it up.

Anything this scanner does not read exactly as calamine would raises `Unreadable`, and the
caller reads the workbook through calamine instead: cells or rows without `r="…"` (a few
tools write such sheets; calamine counts their positions), rows out of order, prefixed
SpreadsheetML, ISO date cells (`t="d"`), durations (`[h]:mm`) and date-formatted numbers
before 1900-03-01 or after 9999 (calamine's own conventions there are odd).

Why one module: the cell regexes, the value conversion and the chunking that keeps a cell
whole at a chunk border only make sense together; split, each part would expose half of the
contract "exactly what calamine would have read".
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from itertools import compress, repeat
from operator import sub
from typing import IO, Protocol

from jugendhaus_mail.workbook.xlsx_cells import decode_text
from jugendhaus_mail.workbook.xlsx_sheet import col_index, col_letters
from jugendhaus_mail.workbook.xlsx_zip import (
    Relationship,
    ZipPackage,
    parse_xml,
    read_relationships,
)

RawValue = int | float | str | bool | time | date | datetime | timedelta
Pending = RawValue  # an `int` is a shared-string index not yet looked up
CHUNK_SIZE = 1 << 18  # 256 KiB of XML at a time: less held at once than 1 MiB, as fast

_EPOCH = datetime(1899, 12, 30)
_EPOCH_DAY = date(1899, 12, 30)
_DAYS_1904 = 1462  # serial 0 of the 1904 date system is serial 1462 of the 1900 one
_SAFE_SERIALS = (61.0, 2958466.0)  # 1900-03-01 .. 9999-12-31: plain arithmetic as calamine
_MS_PER_DAY = 86_400_000
_T = re.compile(rb"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_PLAIN_SI = re.compile(rb'><t(?: xml:space="preserve")?>([^<]*)</t></si>')  # one plain run
_SI_ITEM = re.compile(  # an entry (after "<si"), between NULs: (its plain text, or all of it)
    r'(?<![^\0])(?:><t(?: xml:space="preserve")?>([^<\0]*)</t></si>[^\0]*|([^\0]+))'
)
_V = re.compile(rb"<v\b[^>]*?(?:/>|>(.*?)</v>)", re.S)
_IS = re.compile(rb"<is\b[^>]*?(?:/>|>(.*?)</is>)", re.S)
_ROW = re.compile(rb'<row(?: r="(\d+)"|(?! r=")(?=[\s>/]))')  # "" for a row without r
_ATTR = re.compile(rb"""\b([st])\s*=\s*["']([^"']*)["']""")
_BUILTIN_DATES = {*range(14, 23), 45, 47}  # calamine: 46 ([h]:mm:ss) is a duration


class Unreadable(Exception):
    """This part is not written the way the scanner reads exactly; use calamine."""


class RowsOutOfOrder(Unreadable):
    """Row numbers that do not count upwards (or one twice): Excel refuses such a file, and
    calamine reads it without a word."""


# --- text -----------------------------------------------------------------------------------


def rich_text(inner: bytes) -> str:
    """The text of an <is> or <si>: every run, phonetic hints left out."""
    if b"<rPh" in inner:
        inner = _PHONETIC.sub(b"", inner)
    return "".join(decode_text(m.group(1) or b"") for m in _T.finditer(inner))


# --- number formats -------------------------------------------------------------------------


def format_kind(code: str) -> str:
    """calamine's reading of a number format: "date", "duration" or "" (a plain number)."""
    escaped = quoted = am_pm = hms = False
    brackets = 0
    previous = " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\*":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            return ""
        elif char == "[":
            brackets += 1
        elif char == "]" and brackets == 1 and hms:
            return "duration"
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif brackets == 0 and not am_pm and char in "aA":
            am_pm = True
        elif brackets == 0 and char in ("pm/PM" if am_pm else "dmhysDMHYS"):
            return "date"
        elif not (hms and _same_ascii_letter(char, previous)):
            hms = previous == "[" and char in "mhsMHS"
        previous = char
    return ""


def _same_ascii_letter(a: str, b: str) -> bool:
    return a == b or (a.isascii() and b.isascii() and a.lower() == b.lower())


def style_kinds(styles: bytes | None) -> tuple[str, ...]:
    """Per cell style (`s="…"`), how calamine reads a number in it."""
    if not styles:
        return ()
    root = ET.fromstring(styles)
    formats = next((n for n in root if n.tag.endswith("}numFmts")), None)
    custom = {
        node.get("numFmtId", ""): format_kind(node.get("formatCode", ""))
        for node in (formats if formats is not None else ())
        if node.tag.endswith("}numFmt")
    }
    cell_xfs = next((n for n in root if n.tag.endswith("}cellXfs")), None)
    kinds = []
    for xf in cell_xfs if cell_xfs is not None else ():
        fmt = xf.get("numFmtId", "0")
        if fmt in custom:
            kinds.append(custom[fmt])
        else:
            kinds.append("date" if fmt.isdigit() and int(fmt) in _BUILTIN_DATES else "")
    return tuple(kinds)


# --- cell values ----------------------------------------------------------------------------


class CellReader:
    """Cell values as calamine gives them, decoded by a function chosen once per distinct
    attribute text (`s="3" t="s"`), which the cells of a sheet share a handful of."""

    def __init__(self, kinds: tuple[str, ...], date1904: bool) -> None:
        self.kinds = kinds  # per style index
        self.date1904 = date1904
        self.decoders: dict[bytes, Callable[[bytes], Pending | None]] = {}
        self.inline: dict[bytes, Callable[[bytes], Pending | None]] = {}
        self._days: dict[bytes, date] = {}  # whole-day serials repeat; one date object each

    def value(self, attrs: bytes, inner: bytes | None) -> Pending | None:
        """The cell's value from its inner XML; None for an empty cell."""
        if not inner:
            return None
        if _type_and_style(attrs)[0] == "inlineStr":
            found = _IS.search(inner)
            return rich_text(found.group(1) or b"") if found else None
        if b"<is" in inner:
            raise Unreadable("an inline string in a cell of another type")
        found = _V.search(inner)
        raw = found.group(1) if found else None
        if not raw:
            return None  # a formula without a cached value (or <v></v>): calamine gives ""
        return self.decoder(attrs)(raw)

    def content(self, attrs: bytes, plain: bytes, inline: bytes, inner: bytes) -> Pending | None:
        """The value of a cell as `_cell_pattern` splits it; None for an empty cell."""
        if plain:
            return (self.decoders.get(attrs) or self.decoder(attrs))(plain)
        if inline:
            return (self.inline.get(attrs) or self.inline_decoder(attrs))(inline)
        return self.value(attrs, inner)

    def inline_decoder(self, attrs: bytes) -> Callable[[bytes], Pending | None]:
        """How to read the text of a cell written `<is><t>text</t></is>` (calamine reads it
        in a cell of any type; the scanner leaves that to calamine)."""
        found = self.inline.get(attrs)
        if found is None:
            plain = _type_and_style(attrs)[0] == "inlineStr"
            found = self.inline[attrs] = decode_text if plain else _unreadable
        return found

    def decoder(self, attrs: bytes) -> Callable[[bytes], Pending | None]:
        """How to read the <v> of a cell with these attributes."""
        found = self.decoders.get(attrs)
        if found is None:
            found = self.decoders[attrs] = self._decoder_for(*_type_and_style(attrs))
        return found

    def _decoder_for(self, kind: str, style: int) -> Callable[[bytes], Pending | None]:
        if kind == "n":
            fmt = self.kinds[style] if style < len(self.kinds) else ""
            return self._date if fmt == "date" else _unreadable if fmt else float
        return _DECODERS.get(kind, _unreadable)

    def _date(self, raw: bytes) -> date | datetime:
        known = self._days.get(raw)
        if known is not None:
            return known
        serial = float(raw)
        if not _SAFE_SERIALS[0] <= serial:
            raise Unreadable("early date")
        if self.date1904:
            serial += _DAYS_1904
        if serial >= _SAFE_SERIALS[1]:
            raise Unreadable("date after 9999")
        if serial.is_integer():
            day = self._days[raw] = _EPOCH_DAY + timedelta(days=int(serial))
            return day
        ms = serial * _MS_PER_DAY
        return _EPOCH + timedelta(milliseconds=int(ms + 0.5))  # Rust rounds half away


def _nothing(raw: bytes) -> None:
    return None


def _unreadable(raw: bytes) -> Pending:
    raise Unreadable("a cell type or number format calamine reads its own way")


def _boolean(raw: bytes) -> bool:
    if raw not in (b"0", b"1"):
        raise Unreadable("boolean neither 0 nor 1")
    return raw == b"1"


_DECODERS: dict[str, Callable[[bytes], Pending | None]] = {
    "s": int,  # the shared string's index
    "str": decode_text,
    "b": _boolean,
    "e": _nothing,  # calamine gives "" for #N/A and the like
}


@lru_cache(maxsize=4096)
def _type_and_style(attrs: bytes) -> tuple[str, int]:
    found = {m.group(1): m.group(2) for m in _ATTR.finditer(attrs)}
    style = found.get(b"s", b"0")
    return found.get(b"t", b"n").decode(), int(style) if style.isdigit() else 0


# --- streaming ------------------------------------------------------------------------------


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def pieces(stream: Readable, marker: bytes, chunk_size: int) -> Iterator[bytes]:
    """The stream in pieces that each end right before a `marker` (or at the end), so no
    element starting with `marker` is ever cut in two."""
    carry = b""
    while chunk := stream.read(chunk_size):
        buffer = carry + chunk
        cut = buffer.rfind(marker)
        if cut <= 0:
            carry = buffer
            continue
        carry = buffer[cut:]
        yield buffer[:cut]
    if carry:
        yield carry


OtherRow = tuple[int, list[Pending]]  # row number, values of the other columns


class KeptCells:
    """The kept columns of the rows that have a value in one of them, column by column:
    shared-string indices in an array (-1: none), other values in a list beside it. Tens of
    thousands of rows cost a few large buffers instead of an object per row and per index,
    which would stay with the process (freed, but not given back) after the read."""

    def __init__(self, width: int) -> None:
        self.numbers = array("q")  # the rows' numbers
        self.shared = [array("q") for _ in range(width)]
        self.values: list[list[Pending | None]] = [[] for _ in range(width)]

    def __len__(self) -> int:
        return len(self.numbers)

    def indices(self) -> set[int]:
        """Every shared string these cells point to."""
        found: set[int] = set()
        for shared in self.shared:
            found.update(shared)
        found.discard(-1)
        return found


class _Block:
    """The kept cells of one piece: a slot for each of its rows, filled where a cell is."""

    def __init__(self, numbers: list[int], width: int) -> None:
        self.numbers = numbers
        self.has = bytearray(len(numbers))  # 1: the row has a kept value
        none = array("q", (-1,)) * len(numbers)
        self.shared = [array("q", none) for _ in range(width)]
        self.values: list[list[Pending | None]] = [[None] * len(numbers) for _ in range(width)]

    def missing(self) -> list[int]:
        """The positions of the rows without a kept value."""
        if 0 not in self.has:
            return []
        return [index for index, found in enumerate(self.has) if not found]

    def move_to(self, cells: KeptCells) -> None:
        """Append the rows with a kept value to `cells`."""
        full = 0 not in self.has
        keep = self.has
        cells.numbers.extend(self.numbers if full else compress(self.numbers, keep))
        for shared, mine in zip(cells.shared, self.shared, strict=True):
            shared.extend(mine if full else compress(mine, keep))
        for values, theirs in zip(cells.values, self.values, strict=True):
            values.extend(theirs if full else compress(theirs, keep))


class SheetScan:
    """One worksheet part, read once from top to bottom: first the header row, then the
    wanted columns of every row below it.

    Every cell and row must name its reference first (`<c r="B7"`), as Excel, LibreOffice,
    openpyxl and our writer do. A sheet that does not (calamine then counts positions) is
    caught by the same regex pass that finds the cells: each pattern also matches a `<c` or
    `<row` tag without it, and such a match raises Unreadable."""

    def __init__(
        self, stream: Readable, cells: CellReader, chunk_size: int, tap: ChunkTap | None = None
    ) -> None:
        self._pieces = pieces(stream, b"<row", chunk_size)
        self._tap = tap  # told when `rows` has read and checked the whole part
        self._cells = cells
        self._rest = b""
        self._last_row = 0
        self._in_data = False

    def _next_piece(self) -> bytes | None:
        if self._rest:
            rest, self._rest = self._rest, b""
            return rest
        piece = next(self._pieces, None)
        if piece is not None and not self._in_data:
            if b"sheetData" in piece and b"<sheetData" not in piece:
                raise Unreadable("prefixed SpreadsheetML")
            self._in_data = b"<sheetData" in piece
        return piece

    def header(self, number: int) -> dict[int, Pending] | None:
        """The cells (0-based column: value) of row `number`; None when no row of that number
        comes before the rows below it (the reader then finds no columns, as with calamine)."""
        while (piece := self._next_piece()) is not None:
            for match in _ROW.finditer(piece):
                row = self._advance(match.group(1))
                if row < number:
                    continue
                if row > number:
                    return None
                end = piece.find(b"<row", match.end())
                end = len(piece) if end < 0 else end
                self._rest = piece[end:]
                return self._all_cells(piece[match.start() : end])
        return None

    def rows(self, kept: Sequence[int], other: Sequence[int]) -> tuple[KeptCells, list[OtherRow]]:
        """The rows with a value in a `kept` column (those cells, in `kept` order), and those
        without one but with a value in an `other` column (only those values: enough to tell
        that the row is there).

        Per piece, one pass finds the row numbers and one the kept cells; the cells go into
        slots laid out for every row of the piece at once, and only a piece with a row
        without kept values is looked at row by row."""
        letters = [col_letters(index + 1).encode() for index in kept]
        if len(set(letters)) != len(letters):
            raise Unreadable("two columns under one header")
        pattern = _cells_of(tuple(letters)) if letters else None
        others = _cells_of(tuple(col_letters(i + 1).encode() for i in other)) if other else None
        slot = {letter: position for position, letter in enumerate(letters)}
        cells = KeptCells(len(letters))
        other_rows: list[OtherRow] = []
        while (piece := self._next_piece()) is not None:
            numbers = _ROW.findall(piece)
            block = _Block(self._advance_all(numbers), len(letters))
            if pattern:
                self._kept_cells(piece, pattern, slot, numbers, block)
            missing = block.missing() if others is not None else []
            if others is not None and missing:
                starts = list(_ROW.finditer(piece))
                for index in missing:
                    end = starts[index + 1].start() if index + 1 < len(starts) else len(piece)
                    start = starts[index].start()
                    if extra := self._cells_in_row(piece, start, end, others):
                        other_rows.append((block.numbers[index], extra))
            block.move_to(cells)
        if self._tap is not None and pattern is not None:  # every cell was looked at
            self._tap.end()
        return cells, other_rows

    def _advance_all(self, numbers: list[bytes]) -> list[int]:
        """The row numbers of a piece, checked as `_advance` checks one."""
        if b"" in numbers:
            raise Unreadable("a row without a leading r attribute")
        rows = list(map(int, numbers))
        if rows and (rows[0] <= self._last_row or rows != sorted(set(rows))):
            raise RowsOutOfOrder("rows out of order")
        if rows:
            self._last_row = rows[-1]
        return rows

    def _kept_cells(
        self,
        piece: bytes,
        pattern: re.Pattern[bytes],
        slot: dict[bytes, int],
        numbers: list[bytes],
        block: _Block,
    ) -> None:
        cells = self._cells
        decoders, decoder, value = cells.decoders, cells.decoder, cells.value
        inlines, inline_decoder = cells.inline, cells.inline_decoder
        shared, values, has = block.shared, block.values, block.has
        at = dict(zip(numbers, range(len(numbers)), strict=True))
        last = 0
        try:
            for letter, number, attrs, plain, inline, inner in pattern.findall(piece):
                if plain:
                    content = (decoders.get(attrs) or decoder(attrs))(plain)
                elif inline:
                    content = (inlines.get(attrs) or inline_decoder(attrs))(inline)
                elif inner:
                    content = value(attrs, inner)
                elif not letter:
                    raise Unreadable("a cell without a leading r attribute")
                else:
                    continue
                if content is None:
                    continue
                index = at[number]
                if index < last:
                    raise Unreadable("cells out of order")
                last = index
                has[index] = 1
                if type(content) is int:
                    shared[slot[letter]][index] = content
                else:
                    values[slot[letter]][index] = content
        except KeyError:
            raise Unreadable("cells outside their rows") from None

    def _cells_in_row(
        self, piece: bytes, start: int, end: int, pattern: re.Pattern[bytes]
    ) -> list[Pending]:
        values = []
        for letter, _n, attrs, plain, inline, inner in pattern.findall(piece, start, end):
            if not letter:
                raise Unreadable("a cell without a leading r attribute")
            content = self._cells.content(attrs, plain, inline, inner)
            if content is not None:
                values.append(content)
        return values

    def cells(self) -> list[tuple[int, dict[int, Pending]]]:
        """Every row from the top with its cells (0-based column: value; "" when empty)."""
        rows = []
        while (piece := self._next_piece()) is not None:
            starts = list(_ROW.finditer(piece))
            for index, match in enumerate(starts):
                end = starts[index + 1].start() if index + 1 < len(starts) else len(piece)
                number = self._advance(match.group(1))
                rows.append((number, self._all_cells(piece[match.start() : end])))
        return rows

    def _advance(self, number: bytes | None) -> int:
        if not number:
            raise Unreadable("a row without a leading r attribute")
        row = int(number)
        if row <= self._last_row:
            raise RowsOutOfOrder("rows out of order")
        self._last_row = row
        return row

    def _all_cells(self, row_xml: bytes) -> dict[int, Pending]:
        cells: dict[int, Pending] = {}
        for letters, _number, attrs, plain, inline, inner in _ANY_CELL.findall(row_xml):
            if not letters:
                raise Unreadable("a cell without a leading r attribute")
            content = self._cells.content(attrs, plain, inline, inner)
            cells[col_index(letters.decode()) - 1] = "" if content is None else content
        return cells


def _cell_pattern(letters: bytes) -> re.Pattern[bytes]:
    """Cells of these columns: (letters, row, attributes, plain <v> text, the text of an
    inline string of one plain run, other inner XML); a `<c` tag without a leading reference
    matches with empty groups. The attributes are
    taken greedily up to the tag's end (a lazy `[^>]*?` costs a step per character); a
    self-closing cell keeps its "/" there and is told by the lookbehind."""
    return re.compile(
        rb'<c(?: r="(' + letters + rb')(\d+)"([^>]*)>(?:(?<=/>)|<v>([^<]*)</v></c>'
        rb'|<is><t(?: xml:space="preserve")?>([^<]+)</t></is></c>|(.*?)</c>)'
        rb"|(?! r=\")(?=[\s>/]))",
        re.S,
    )


@cache
def _cells_of(letters: tuple[bytes, ...]) -> re.Pattern[bytes]:
    return _cell_pattern(b"|".join(sorted(letters, key=lambda letter: -len(bytes(letter)))))


_ANY_CELL = _cell_pattern(rb"[A-Z]{1,3}")


def shared_strings(stream: IO[bytes], ordered: list[int], chunk_size: int) -> dict[int, str]:
    """Only the entries of sharedStrings.xml that are asked for (ascending indices); stops
    after the last one."""
    found: dict[int, str] = {}
    if not ordered:
        return found
    position, base = 0, 0
    for piece in pieces(stream, b"<si", chunk_size):
        parts = piece.split(b"<si")  # before the first <si: the XML prolog, or nothing
        top = base + len(parts) - 1
        end = bisect_left(ordered, top, position)
        if end > position:
            wanted = ordered[position:end]
            texts = _si_texts(list(map(parts.__getitem__, map(sub, wanted, repeat(base - 1)))))
            found.update(zip(wanted, texts, strict=True))
            position = end
        base = top
        if position == len(ordered):
            return found
    raise Unreadable("shared string index beyond the table")


def _si_texts(parts: list[bytes]) -> list[str]:
    """`_si_text` of each part. The plain entries (one run, no entity, no escape: nearly
    all) come out of one regex pass over all of them, joined by NUL (which XML text cannot
    hold); only the others are read one by one."""
    text = b"\0".join(parts).decode("utf-8")
    found = _SI_ITEM.findall(text)
    if len(found) != len(parts):  # a NUL in the XML after all
        return [_si_text(part) for part in parts]
    if "&" not in text and "_x" not in text:
        return [
            _si_text(part) if other else plain
            for (plain, other), part in zip(found, parts, strict=True)
        ]
    return [
        _si_text(part) if other or "&" in plain or "_x" in plain else plain
        for (plain, other), part in zip(found, parts, strict=True)
    ]


def _si_text(part: bytes) -> str:
    """`part` follows "<si": attributes, then content up to </si> (or "/>" for an empty one)."""
    simple = _PLAIN_SI.match(part)
    if simple:
        return decode_text(simple.group(1))
    tag_end = part.find(b">")
    if tag_end < 0 or part[tag_end - 1 : tag_end] == b"/":
        return ""
    close = part.find(b"</si>", tag_end)
    return rich_text(part[tag_end + 1 : close if close >= 0 else len(part)])


# --- the package ----------------------------------------------------------------------------


class ChunkTap(Protocol):
    """Another reader of the same part riding along a scan (the writer's full pass, see
    xlsx_pass.SheetTap): it gets every chunk as inflated, then `end()` once `SheetScan.rows`
    has read the part to its end, having checked on the way that every row and cell names
    its reference first; a scan that stops early or finds the part unreadable never calls
    `end()`."""

    def feed(self, chunk: bytes) -> None: ...

    def end(self) -> None: ...


TapFor = Callable[[str, int], ChunkTap | None]  # (zip member, size uncompressed) -> a tap


class _Tapped:
    """A member's stream that hands each chunk read to a tap as well."""

    def __init__(self, stream: Readable, tap: ChunkTap) -> None:
        self._stream, self._tap = stream, tap

    def read(self, size: int, /) -> bytes:
        chunk = self._stream.read(size)
        if chunk:
            self._tap.feed(chunk)
        return chunk


class StreamBook:
    """The workbook's parts as this scanner needs them: sheet parts by name, the shared
    strings, the cell styles and the date system."""

    def __init__(
        self,
        data: bytes,
        package: ZipPackage,
        chunk_size: int = CHUNK_SIZE,
        tap: TapFor | None = None,
        replaced: dict[str, bytes] | None = None,
    ) -> None:
        """`tap`: asked once, for the first scan of the request sheet (see `ChunkTap`).
        `replaced`: sheet parts read from these bytes instead of the zip (read_back)."""
        self.chunk_size = chunk_size
        self.tap = tap
        self._replaced = replaced or {}
        self._package = package
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        office = [r for r in read_relationships(package, "") if r.type.endswith("/officeDocument")]
        if not office:
            raise Unreadable("no workbook part")
        part = office[0].target
        root = parse_xml(package.read(part), part)
        rels = {r.rid: r for r in read_relationships(package, part)}
        self.sheets: dict[str, str | None] = {}  # name: worksheet part (None: a chart sheet …)
        for node in root.iter():
            if node.tag.endswith("}sheet"):
                rid = next((v for k, v in node.attrib.items() if k.endswith("}id")), "")
                plain = rid in rels and rels[rid].type.endswith("/worksheet")
                self.sheets[node.get("name", "")] = rels[rid].target if plain else None
        self._shared = self._target(rels.values(), "/sharedStrings")
        properties = next((n for n in root if n.tag.endswith("}workbookPr")), None)
        date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        styles = self._target(rels.values(), "/styles")
        self.cells = CellReader(style_kinds(package.read(styles) if styles else None), date1904)

    def _target(self, rels: Iterable[Relationship], suffix: str) -> str | None:
        return next(
            (
                real
                for r in rels
                if r.type.endswith(suffix) and (real := self._package.find(r.target))
            ),
            None,
        )

    def scan(self, name: str, *, tapped: bool = False) -> SheetScan:
        """`tapped`: the chunks read go to the book's tap too (once per book)."""
        part = self.sheets[name]
        real = self._package.find(part) if part else None
        if real is None:
            raise Unreadable(f"sheet part of {name!r} missing")
        stream: Readable
        if real in self._replaced:
            stream = io.BytesIO(self._replaced[real])
        else:
            stream = self._zip.open(real)
        tap_for, self.tap = (self.tap if tapped else None), (None if tapped else self.tap)
        tap = tap_for(real, self._zip.getinfo(real).file_size) if tap_for else None
        if tap is not None:
            stream = _Tapped(stream, tap)
        return SheetScan(stream, self.cells, self.chunk_size, tap)

    def strings(self, wanted: list[int]) -> dict[int, str]:
        """The shared strings of these (ascending) indices."""
        if not wanted:
            return {}
        if self._shared is None:
            raise Unreadable("shared strings without sharedStrings.xml")
        with self._zip.open(self._shared) as stream:
            return shared_strings(stream, wanted, self.chunk_size)
