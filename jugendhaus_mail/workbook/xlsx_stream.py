"""The worksheet part and the shared strings read as streams: the writer never holds either
whole (at 50,000 rows the sheet XML is 78 MiB, sharedStrings.xml 19 MiB).

`StreamSheet` answers what `SheetText` answers, from passes over the inflated zip member: one
short pass for the part before the rows and the header row, one full pass for the columns the
writer looks up (with the last rows kept for appending), further short passes for rows to
update, and the final pass that copies the part with the edits applied into the compressor.
When the caller reads no column (new rows whose keys it knows), the full pass compresses the
rows that leave its window as it goes, and the final pass adds only the changed start and the
kept last rows around that stretch (`new_part`, xlsx_deflate).
Positions are offsets into the uncompressed XML, as in `SheetText`. The stream is cut only
where a row starts, so no search ever sees half a row.

Sheets whose rows or cells lack `r="…"` (some tools write them so; rare) raise `NotCanonical`
on the way: the caller then reads the part whole into a `SheetText`, which handles them.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from jugendhaus_mail.workbook.xlsx_cells import rich_text
from jugendhaus_mail.workbook.xlsx_deflate import Piece, Precompressed
from jugendhaus_mail.workbook.xlsx_pass import KeptRows, RowCutter, SheetPass
from jugendhaus_mail.workbook.xlsx_sheet import (
    _TAG_ENDS,
    Area,
    Edit,
    RowXml,
    SheetText,
    col_letters,
    parse_row,
)

Source = Callable[[], Iterator[bytes]]
_ROW_START = re.compile(rb'<row r="(\d+)"')
_SI_START = re.compile(rb"<si[\s>/]")
_SI_ODD = re.compile(rb"<si[^\s>/]")

ColumnCells = list[tuple[int, str, bytes | None]]


class StreamSheet(SheetText):
    """A worksheet part read in passes over its stream; see the module docstring."""

    def __init__(
        self, source: Source, name: str, header_row: int, window: int, first: Source | None = None
    ) -> None:
        """`window`: how many bytes of the last rows the full pass keeps (the writer appends
        below them; should it look further up, another pass fetches more). `first`: the same
        stream in smaller pieces, for the short first pass (the header row is near the start)."""
        self.name, self._source, self._window_size = name, source, window
        self.xml = b""  # the part before <sheetData>'s rows, once the first pass has run
        self.data_start = self.data_end = -1
        self._tail: bytes | None = None
        self._styles: dict[int, str] | None = None
        self._blocked: list[tuple[Area, str]] | None = None
        self._columns: dict[int, ColumnCells] = {}
        self._arrays: list[bytes] = []
        self._window: deque[tuple[int, bytes]] = deque()
        self._prefix: Precompressed | None = None  # the rows before the window, compressed
        self._header: RowXml | None = None
        self._header_row = header_row
        wanted = b'<row r="%d"' % header_row
        for offset, piece in self._body(source=first):
            if (at := piece.find(wanted)) >= 0:
                self._header = _shifted(parse_row(piece, at), offset)
                break

    # --- the passes ---------------------------------------------------------------------

    def _body(self, source: Source | None = None) -> Iterator[tuple[int, bytes]]:
        """(offset, piece) of the rows in <sheetData>, cut where a row starts; the part
        before and after the rows is recorded on the way."""
        cutter = RowCutter(self.name)
        chunks = (source or self._source)()
        for chunk in chunks:
            pieces = cutter.feed(chunk)
            if cutter.started:
                self.xml, self.data_start = cutter.xml, cutter.data_start
            yield from pieces
            if cutter.data_end >= 0:
                for rest in chunks:
                    cutter.feed(rest)
                self._tail, self.data_end = cutter.end(), cutter.data_end
                return
        cutter.end()  # raises: the rows never ended

    def collect(self, columns: Iterable[int], *, compress: bool = False) -> None:
        """The full pass: the cells of `columns`, array formulas, the last rows, the tail.
        `compress` (for a caller that reads no column): the rows before the last ones are
        compressed on the way, for `new_part`."""
        wanted = sorted(set(columns))
        self._columns = {col: [] for col in wanted}
        by_letters = {col_letters(col).encode(): self._columns[col] for col in wanted}
        pattern = _column_pattern(list(by_letters))
        self._prefix = None
        # the rows that leave the window are compressed on the way (see `new_part`)
        rows = KeptRows(self._window_size, compress=compress and not wanted)
        try:
            for offset, piece in self._body():
                if pattern is not None:
                    for letters, number, attrs, inner in pattern.findall(piece):
                        by_letters[letters].append(_column_cell(number, attrs, inner))
                rows.take(offset, piece)
            self._prefix = rows.finish()
        finally:
            rows.close()
        self._arrays, self._window = rows.arrays, rows.window

    def adopt(self, done: SheetPass) -> None:
        """Take the full pass another reader of these very bytes made (xlsx_pass.SheetTap)
        instead of making it again."""
        self.xml, self.data_start, self.data_end = done.xml, done.data_start, done.data_end
        self._tail, self._window, self._arrays = done.tail, done.window, done.arrays
        self._prefix, self._columns = done.prefix, {}

    def new_part(self, edits: list[Edit]) -> Iterator[Piece]:
        """`splice`; where no edit falls before the rows the full pass kept, the rows before
        them come as compressed by that pass (a stretch of its own in the new part)."""
        pieces = self.splice(edits)  # orders and checks the edits
        prefix, self._prefix = self._prefix, None
        if prefix is None:
            return pieces
        prefix_end = self.data_start + prefix.size
        head = [edit for edit in edits if edit[0] < self.data_start]
        rest = [edit for edit in edits if edit[0] >= self.data_start]
        if any(end > self.data_start for _, end, _ in head) or any(
            start < prefix_end for start, _, _ in rest
        ):
            return pieces
        kept = b"".join(piece for _, piece in self._window) + self.tail
        return _around(
            _spliced(self.xml[: self.data_start], 0, sorted(head)),
            prefix,
            _spliced(kept, prefix_end, sorted(rest)),
        )

    def _full_pass(self) -> None:
        if self._tail is None:
            self.collect(())

    # --- what SheetText answers ---------------------------------------------------------

    @property
    def tail(self) -> bytes:
        self._full_pass()
        assert self._tail is not None
        return self._tail

    def row(self, number: int) -> RowXml | None:
        if number == self._header_row:  # looked for by the first pass
            return self._header
        return super().row(number)

    def rows_at(self, numbers: list[int]) -> Iterator[RowXml]:
        """The rows with these numbers, in the order they stand, each once."""
        pending = set(numbers)
        if not pending:
            return
        for offset, piece in self._body():
            for match in _ROW_START.finditer(piece):
                number = int(match.group(1))
                if number in pending:
                    pending.discard(number)
                    yield _shifted(parse_row(piece, match.start()), offset)
                    if not pending:
                        return

    def rows_backward(self) -> Iterator[RowXml]:
        self._full_pass()
        window = list(self._window)
        while window:
            for offset, piece in reversed(window):
                end = len(piece)
                while (start := piece.rfind(b"<row", 0, end)) >= 0:
                    if piece[start + 4 : start + 5] in _TAG_ENDS:
                        yield _shifted(parse_row(piece, start), offset)
                    end = start
            window = self._rows_before(window[0][0], 4 * self._window_size)

    def _rows_before(self, limit: int, budget: int) -> list[tuple[int, bytes]]:
        kept: deque[tuple[int, bytes]] = deque()
        size = 0
        for offset, piece in self._body():
            if offset >= limit:
                break
            kept.append((offset, piece))
            size += len(piece)
            while size - len(kept[0][1]) >= budget:
                size -= len(kept.popleft()[1])
        return list(kept)

    def column_values(self, col: int) -> Iterator[tuple[int, str, bytes | None]]:
        cells = self._columns.pop(col, None)
        if cells is None:  # not collected (or handed out before): one more pass
            self.collect([col])
            cells = self._columns.pop(col)
        cells.reverse()
        while cells:  # handed out one by one, so the caller's copy replaces ours
            yield cells.pop()

    def _array_refs(self) -> Iterator[bytes]:
        self._full_pass()
        yield from self._arrays

    def _pieces(self, ordered: list[Edit]) -> Iterator[bytes | memoryview]:
        self._full_pass()
        pending = deque(ordered)
        position = skip = 0
        for chunk in self._source():
            view, end = memoryview(chunk), position + len(chunk)
            cursor = max(position, skip)
            while pending and pending[0][0] < end and cursor < end:
                start, skip, replacement = pending.popleft()
                if start > cursor:
                    yield view[cursor - position : start - position]
                yield replacement
                cursor = max(cursor, skip)
            if cursor < end:
                yield view[cursor - position :]
            position = end
        for _, _, replacement in pending:  # edits at the very end of the part
            yield replacement


def _spliced(text: bytes, base: int, ordered: list[Edit]) -> Iterator[bytes | memoryview]:
    """`text` (found at offset `base` of the part) with the edits applied."""
    view, position = memoryview(text), 0
    for start, end, replacement in ordered:
        yield view[position : start - base]
        yield replacement
        position = end - base
    yield view[position:]


def _around(
    head: Iterator[bytes | memoryview], middle: Piece, rest: Iterator[bytes | memoryview]
) -> Iterator[Piece]:
    yield from head
    yield middle
    yield from rest


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _shifted(row: RowXml, offset: int) -> RowXml:
    return dataclasses.replace(row, start=row.start + offset, end=row.end + offset)


def _column_pattern(letters: list[bytes]) -> re.Pattern[bytes] | None:
    if not letters:
        return None
    longest_first: list[bytes] = sorted(letters, key=lambda text: -len(text))
    choice = b"|".join(longest_first)
    return re.compile(rb'<c r="(' + choice + rb')(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _column_cell(number: bytes, attrs: bytes, inner: bytes) -> tuple[int, str, bytes | None]:
    at = attrs.find(b' t="')
    kind = attrs[at + 4 : attrs.index(b'"', at + 4)].decode() if at >= 0 else "n"
    return int(number), kind, inner or None  # <c …/> and <c …></c> are both empty


def shared_strings_stream(chunks: Iterator[bytes], wanted: set[int]) -> dict[int, str]:
    """Only the entries of sharedStrings.xml that are asked for, read from its stream and
    stopped after the last one asked for."""
    result: dict[int, str] = {}
    if not wanted:
        return result
    order, index, buffer = sorted(wanted), 0, b""
    for chunk in _prepend(b"", chunks):
        buffer += chunk
        cut = buffer.rfind(b"<si")
        if cut <= 0:
            continue
        index = _entries(buffer[:cut], index, order, result)
        if index > order[-1]:
            return result
        buffer = buffer[cut:]
    _entries(buffer, index, order, result)
    return result


def _entries(region: bytes, index: int, order: list[int], result: dict[int, str]) -> int:
    """Read the wanted entries among those in `region`, numbered from `index`; return the
    number of the next entry."""
    entries = region.split(b"<si")[1:]  # no other element of the part starts with "si"
    if _SI_ODD.search(region) or (entries and not entries[-1]):  # e.g. <sizzle>
        entries = [region[m.end() - 1 :] for m in _SI_START.finditer(region)]
    end = index + len(entries)
    for number in order[bisect.bisect_left(order, index) : bisect.bisect_left(order, end)]:
        entry = entries[number - index]
        tag_end = entry.index(b">")
        if entry[tag_end - 1] == 0x2F:  # "/": <si/>
            result[number] = ""
        else:
            result[number] = rich_text(entry[tag_end + 1 : entry.index(b"</si>", tag_end)])
    return end
