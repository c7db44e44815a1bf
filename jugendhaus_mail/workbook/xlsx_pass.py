"""The writer's full pass over a worksheet part, fed chunk by chunk.

`StreamSheet` (xlsx_stream) pulls the inflated sheet XML through this pass: `RowCutter` cuts
the chunks into pieces that each start where a row starts (recording the part before the rows
and the part after them), and `KeptRows` keeps what the writer needs of the pieces: the last
rows, the array formulas and, for an append whose keys the caller knows, the rows before the
last ones compressed once (xlsx_deflate).

The same pass can ride along another reader (`SheetTap`): the intake's narrow read of the
request list inflates the sheet anyway, so when mail waits it feeds the chunks it reads into a
tap, and the commit that follows writes from the tap's `SheetPass` instead of inflating and
compressing the sheet a second time. A `SheetPass` describes one version of the file; the
store binds it to that version's SHA-256 and hands it out once (its compressed rows are
drained as they are written).
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from dataclasses import dataclass

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.xlsx_deflate import Precompressed, StretchCompressor
from jugendhaus_mail.workbook.xlsx_sheet import _UNSUPPORTED, array_refs

_LOOSE_ROW = re.compile(rb'<row(?! r=")[\s/>]')
_LOOSE_CELL = re.compile(rb'<c(?! r=")[\s/>]')
_CLOSE = b"</sheetData>"
OPENING = 1 << 18  # how much of the first rows a tap keeps (the header row is among them)


class NotCanonical(Exception):
    """Rows or cells without r="…": read the part whole instead."""


Piece = tuple[int, bytes]  # offset into the uncompressed part, bytes starting with a row


class RowCutter:
    """Cuts a sheet part, fed in chunks of any size, into pieces of rows; records the part
    before the rows (`xml`, up to `data_start`), where they end (`data_end`) and the rest
    (`tail`, once `end` has run)."""

    def __init__(self, name: str, *, checked: bool = True) -> None:
        """`checked`: raise NotCanonical for a row or cell without r="…" (a caller whose
        chunks another reader checks that way may leave it out)."""
        self.name, self._checked = name, checked
        self.xml = b""
        self.data_start = self.data_end = -1
        self._buffer = b""
        self._offset = 0
        self._tail: list[bytes] | None = None  # after </sheetData>, once found

    @property
    def started(self) -> bool:
        return self.data_start >= 0

    def feed(self, chunk: bytes) -> list[Piece]:
        if self._tail is not None:
            self._tail.append(chunk)
            return []
        buffer = self._buffer + chunk
        if not self.started:
            at = buffer.find(b"<sheetData")
            if at < 0 or (tag_end := buffer.find(b">", at)) < 0:
                self._buffer = buffer
                return []
            if buffer[tag_end - 1 : tag_end] == b"/":
                raise WorkbookUnsafe(f"Das Blatt {self.name!r} ist leer; die Kopfzeile fehlt.")
            self.data_start = self._offset = tag_end + 1
            self.xml, buffer = buffer[: self.data_start], buffer[self.data_start :]
        close = buffer.find(_CLOSE)
        if close >= 0:
            self.data_end = self._offset + close
            self._tail, self._buffer = [buffer[close:]], b""
            return self._piece(self._offset, buffer[:close])
        cut = buffer.rfind(b"<row")
        if cut <= 0:
            self._buffer = buffer
            return []
        pieces = self._piece(self._offset, buffer[:cut])
        self._offset, self._buffer = self._offset + cut, buffer[cut:]
        return pieces

    def end(self) -> bytes:
        """The part after the rows; raises when the stream ended before they did."""
        if self._tail is None:
            raise WorkbookUnsafe(_UNSUPPORTED.format(sheet=self.name, why="keine Zeilendaten"))
        tail = b"".join(self._tail)
        self._tail = [tail]
        if _CLOSE in tail[len(_CLOSE) :]:
            raise NotCanonical
        return tail

    def _piece(self, offset: int, piece: bytes) -> list[Piece]:
        if self._checked and (_LOOSE_ROW.search(piece) or _LOOSE_CELL.search(piece)):
            raise NotCanonical
        return [(offset, piece)] if piece else []


class KeptRows:
    """What the full pass keeps of the pieces: the last `window` bytes of rows (at least), the
    array formulas' ranges and, with `compress`, every row before the kept ones compressed."""

    def __init__(self, window: int, *, compress: bool) -> None:
        self.window: deque[Piece] = deque()
        self.arrays: list[bytes] = []
        self._window_size, self._kept = window, 0
        self._stretch = StretchCompressor(window // 2) if compress else None
        self._left_crc = self._left_size = 0  # of the rows gone by, when not compressed

    def take(self, offset: int, piece: bytes) -> None:
        if b't="array"' in piece:
            self.arrays += array_refs(piece, 0, len(piece))
        self.window.append((offset, piece))
        self._kept += len(piece)
        while self._kept - len(self.window[0][1]) >= self._window_size:
            left = self.window.popleft()[1]
            self._kept -= len(left)
            if self._stretch is not None:
                self._stretch.add(left)
            else:
                self._left_crc = zlib.crc32(left, self._left_crc)
                self._left_size += len(left)

    def checksum(self, prefix: Precompressed | None) -> tuple[int, int]:
        """CRC-32 and length of every row taken (`prefix`: what `finish` gave)."""
        crc, size = (prefix.crc, prefix.size) if prefix else (self._left_crc, self._left_size)
        for _, piece in self.window:
            crc, size = zlib.crc32(piece, crc), size + len(piece)
        return crc, size

    def finish(self) -> Precompressed | None:
        """The compressed rows before the kept ones (None without `compress`)."""
        stretch, self._stretch = self._stretch, None
        if stretch is None:
            return None
        try:
            return Precompressed(stretch.finish(), stretch.crc, stretch.size)
        finally:
            stretch.close()

    def close(self) -> None:
        """Let the compressing thread go (a pass given up half way)."""
        if self._stretch is not None:
            self._stretch.close()
            self._stretch = None


@dataclass
class SheetPass:
    """The outcome of a full pass over one version of a sheet part, ready for the writer."""

    part: str  # the zip member
    xml: bytes  # the part before the rows
    data_start: int
    data_end: int
    tail: bytes
    window: deque[Piece]
    arrays: list[bytes]
    prefix: Precompressed | None  # the rows before `window`, compressed (see KeptRows)
    rows_crc: int  # CRC-32 of all rows (data_start to data_end), for the read-back
    opening: bytes  # the first rows (up to OPENING bytes), for the read-back's header row


class SheetTap:
    """The full pass fed by another reader of the same part (module docstring). `feed` never
    raises: a part the pass cannot take is simply not prepared (`result()` is None), and the
    writer then reads it itself. The reader calls `end` only after it has checked every row
    and cell for its reference (xlsx_columns.ChunkTap), so the tap does not check again."""

    def __init__(self, part: str, name: str, window: int, *, compress: bool) -> None:
        self.part = part
        self._cutter = RowCutter(name, checked=False)
        self._rows: KeptRows | None = KeptRows(window, compress=compress)
        self._result: SheetPass | None = None
        self._opening = b""

    def feed(self, chunk: bytes) -> None:
        if self._rows is None:
            return
        try:
            for offset, piece in self._cutter.feed(chunk):
                if len(self._opening) < OPENING:
                    self._opening += piece[: OPENING - len(self._opening)]
                self._rows.take(offset, piece)
        except (NotCanonical, WorkbookUnsafe):
            self.abandon()

    def end(self) -> None:
        """The reader reached the end of the part."""
        rows, self._rows = self._rows, None
        if rows is None:
            return
        try:
            tail = self._cutter.end()
            prefix = rows.finish()
        except (NotCanonical, WorkbookUnsafe):
            rows.close()
            return
        cutter = self._cutter
        crc, size = rows.checksum(prefix)
        if size != cutter.data_end - cutter.data_start:
            return  # cannot happen: every byte between is in a piece
        self._result = SheetPass(
            self.part, cutter.xml, cutter.data_start, cutter.data_end, tail,
            rows.window, rows.arrays, prefix, crc, self._opening,
        )  # fmt: skip

    def abandon(self) -> None:
        """The reader gave up (or read only part of the stream): nothing is prepared."""
        rows, self._rows = self._rows, None
        if rows is not None:
            rows.close()

    def result(self) -> SheetPass | None:
        return self._result
