"""Worksheet XML as text: cell references, rows and cells, and the worksheet part as a whole.
No DOM: rows and columns are found by literal search, and only the rows the writer touches
are parsed."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.xlsx_cells import cell_value, value_text, xml_escape

MAX_ROW = 1_048_576

_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


# --- references --------------------------------------------------------------------------


def col_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


@cache
def col_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def split_ref(ref: str) -> tuple[int, int]:
    """Column and row of a cell reference: AB12 -> (28, 12)."""
    match = _REF.fullmatch(ref.strip())
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return col_index(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class Area:
    first_col: int
    first_row: int
    last_col: int
    last_row: int

    @classmethod
    def parse(cls, text: str) -> Area | None:
        """A range like A1:C5 or a cell like B7; None for whole rows or columns (A:A, 3:3)."""
        parts = text.split(":")
        try:
            corners = [split_ref(part) for part in parts]
        except ValueError:
            return None
        if len(corners) not in (1, 2):
            return None
        (c1, r1), (c2, r2) = corners[0], corners[-1]
        return cls(min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2))

    def __str__(self) -> str:
        first = f"{col_letters(self.first_col)}{self.first_row}"
        last = f"{col_letters(self.last_col)}{self.last_row}"
        return first if first == last else f"{first}:{last}"

    def overlaps(self, other: Area) -> bool:
        return (
            self.first_col <= other.last_col
            and other.first_col <= self.last_col
            and self.first_row <= other.last_row
            and other.first_row <= self.last_row
        )


def attributes(raw: bytes) -> dict[str, str]:
    return {
        m.group(1).decode(): html.unescape((m.group(2) or m.group(3) or b"").decode("utf-8"))
        for m in _ATTR.finditer(raw)
    }


def render_attributes(attrs: dict[str, str]) -> bytes:
    return b"".join(b' %s="%s"' % (k.encode(), xml_escape(v).encode()) for k, v in attrs.items())


# --- rows and cells -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    col: int
    attrs: dict[str, str]
    inner: bytes | None  # None for an empty element (<c .../>)
    raw: bytes

    @property
    def has_content(self) -> bool:
        """A value, inline text or formula; a style alone is no content."""
        if not self.inner:
            return False
        if b"<f" in self.inner or b"<is" in self.inner:
            return True
        return bool(cell_value(self.inner))

    @property
    def has_formula(self) -> bool:
        return self.inner is not None and re.search(rb"<f\b", self.inner) is not None


@dataclass(frozen=True)
class RowXml:
    number: int
    attrs: dict[str, str]
    cells: tuple[Cell, ...]
    trailer: bytes  # anything after the cells (an <extLst>), kept as it is
    start: int
    end: int

    def cell(self, col: int) -> Cell | None:
        return next((c for c in self.cells if c.col == col), None)


def parse_cells(inner: bytes) -> tuple[tuple[Cell, ...], bytes]:
    cells, last = [], 0
    for match in _CELL.finditer(inner):
        if inner[last : match.start()].strip():
            break  # e.g. <extLst>: cells never come after it
        attrs = attributes(match.group(1))
        col = split_ref(attrs["r"])[0] if "r" in attrs else 0
        cells.append(Cell(col, attrs, match.group(2), match.group(0)))
        last = match.end()
    return tuple(cells), inner[last:].strip()


def parse_row(sheet: bytes, start: int) -> RowXml:
    """The <row> element that begins at `start`."""
    tag_end = sheet.index(b">", start)
    head = sheet[start + 4 : tag_end]
    attrs = attributes(head.rstrip(b"/"))
    if head.endswith(b"/"):
        return RowXml(int(attrs.get("r", "0")), attrs, (), b"", start, tag_end + 1)
    end = sheet.index(b"</row>", tag_end)
    cells, trailer = parse_cells(sheet[tag_end + 1 : end])
    return RowXml(int(attrs.get("r", "0")), attrs, cells, trailer, start, end + 6)


def render_row(number: int, attrs: dict[str, str], cells: list[bytes], trailer: bytes) -> bytes:
    """A <row> with the given cells. A hidden row keeps `hidden`: the writer never puts new
    requests into hidden rows (it refuses instead), so nothing staff hid is shown again."""
    rest = {k: v for k, v in attrs.items() if k not in ("r", "spans")}
    ordered = {"r": str(number), **rest}  # spans is an optional hint that could turn stale
    return b"<row%s>%s%s</row>" % (render_attributes(ordered), b"".join(cells), trailer)


def cell_text(cell: Cell, shared: dict[int, str]) -> str | None:
    """The cell's value as text (numbers as Excel shows them unformatted), None when empty."""
    return value_text(cell.attrs.get("t", "n"), cell.inner, shared)


# --- the worksheet part as a whole ----------------------------------------------------------

Edit = tuple[int, int, bytes]  # replace xml[start:end] with the bytes
_SQREF_ATTR = re.compile(rb'(<(?:dataValidation|conditionalFormatting)\b[^>]*?\ssqref=")([^"]*)"')
_X14_BLOCK = re.compile(rb"<x14:(dataValidations|conditionalFormattings)\b.*?</x14:\1>", re.S)
_XM_SQREF = re.compile(rb"(<xm:sqref>)([^<]*)</xm:sqref>")
_MERGE = re.compile(rb"<mergeCell\b[^>]*?\sref=\"([^\"]+)\"")
_COL = re.compile(rb"<col\b([^>]*)/?>")
_DIMENSION = re.compile(rb'(<dimension\b[^>]*?\sref=")([^"]*)"')
_TAG_ENDS = (b" ", b">", b"/", b"\n", b"\t", b"\r")
_UNSUPPORTED = (
    "Das Blatt {sheet!r} ist in einer Form gespeichert, die der Dienst nicht sicher bearbeiten "
    "kann ({why}). Bitte die Arbeitsmappe einmal in Excel öffnen und speichern."
)


class SheetText:
    """A worksheet part, read by position; never parsed as a whole."""

    def __init__(self, xml: bytes, name: str = "Anfragen") -> None:
        self.xml, self.name = xml, name
        opening = xml.find(b"<sheetData")
        if opening < 0:
            raise WorkbookUnsafe(_UNSUPPORTED.format(sheet=name, why="keine Zeilendaten"))
        tag_end = xml.index(b">", opening)
        if xml[tag_end - 1 : tag_end] == b"/":
            raise WorkbookUnsafe(f"Das Blatt {name!r} ist leer; die Kopfzeile fehlt.")
        self.data_start, self.data_end = tag_end + 1, xml.rfind(b"</sheetData>")
        self._fast_rows = self._canonical(b"row")
        self._fast_cells = self._canonical(b"c")
        self._styles: dict[int, str] | None = None
        self._blocked: list[tuple[Area, str]] | None = None

    def _canonical(self, tag: bytes) -> bool:
        """True when every <row>/<c> starts with r="…", as Excel, LibreOffice and openpyxl
        write them; then literal searches find rows and cells."""
        span = (self.data_start, self.data_end)
        fast = self.xml.count(b"<" + tag + b' r="', *span)
        if fast == self.xml.count(b"<" + tag, *span):
            return True  # the common case; "<c" also counts e.g. "<color" in rich text
        total = sum(self.xml.count(b"<" + tag + end, *span) for end in _TAG_ENDS)
        if fast == total:
            return True
        with_ref = len(re.findall(rb"<" + tag + rb"\s[^>]*?\br\s*=", self.xml[span[0] : span[1]]))
        if with_ref != total:
            raise WorkbookUnsafe(_UNSUPPORTED.format(sheet=self.name, why="Zellen ohne Bezug"))
        return False

    def row(self, number: int) -> RowXml | None:
        return next(self.rows_at([number]), None)

    def rows_at(self, numbers: list[int]) -> Iterator[RowXml]:
        """The rows with these numbers (ascending), found in one pass over the sheet."""
        position = self.data_start
        for number in numbers:
            if self._fast_rows:
                start = self.xml.find(b'<row r="%d"' % number, position, self.data_end)
            else:
                pattern = rb"""<row\b[^>]*?\sr\s*=\s*["']%d["']""" % number
                match = re.compile(pattern).search(self.xml, position, self.data_end)
                start = match.start() if match else -1
            if start >= 0:
                row = parse_row(self.xml, start)
                position = row.end
                yield row

    def rows_backward(self) -> Iterator[RowXml]:
        end = self.data_end
        while (start := self.xml.rfind(b"<row", self.data_start, end)) >= 0:
            if self.xml[start + 4 : start + 5] in _TAG_ENDS:
                yield parse_row(self.xml, start)
            end = start

    def column_values(self, col: int) -> Iterator[tuple[int, str, bytes | None]]:
        """(row, type, inner XML) of every cell of one column, top to bottom, found without
        visiting the other cells."""
        letters = col_letters(col).encode()
        if self._fast_cells:
            pattern = rb'<c r="' + letters + rb'(\d+)"([^>]*?)(?:/>|>(.*?)</c>)'
        else:
            ref = rb"r\s*=\s*[\"']" + letters + rb"(\d+)[\"']"
            pattern = rb"<c\s(?:[^>]*?\s)?" + ref + rb"([^>]*?)(?:/>|>(.*?)</c>)"
        for match in re.compile(pattern, re.S).finditer(self.xml, self.data_start, self.data_end):
            head = match.group(0)[: match.start(2) - match.start(0)] + match.group(2)
            if self._fast_cells:  # only the type matters; skip a full attribute parse
                at = head.find(b' t="')
                kind = head[at + 4 : head.index(b'"', at + 4)].decode() if at >= 0 else "n"
            else:
                kind = attributes(head[2:]).get("t", "n")
            yield int(match.group(1)), kind, match.group(3)

    def column_style(self, col: int) -> str | None:
        """The default style of a column (<col style=…>), used where no cell gives one."""
        if self._styles is None:
            self._styles = {}
            for match in _COL.finditer(self.xml, 0, self.data_start):
                attrs = attributes(match.group(1))
                if "style" in attrs:
                    for index in range(int(attrs["min"]), min(int(attrs["max"]), 16_384) + 1):
                        self._styles[index] = attrs["style"]
        return self._styles.get(col)

    @property
    def tail(self) -> bytes:
        """Everything from </sheetData> on: merged cells, validations, formats, filters."""
        return self.xml[self.data_end :]

    def blocked_areas(self) -> list[tuple[Area, str]]:
        """Merged cells and array formulas: places a cell must not be written."""
        if self._blocked is None:
            self._blocked = []
            for match in _MERGE.finditer(self.tail):
                self._add_blocked(match.group(1), "eine verbundene Zelle")
            for ref in self._array_refs():
                self._add_blocked(ref, "eine Matrixformel")
        return self._blocked

    def _array_refs(self) -> Iterator[bytes]:
        yield from array_refs(self.xml, self.data_start, self.data_end)

    def _add_blocked(self, ref: bytes, kind: str) -> None:
        area = Area.parse(ref.decode())
        if area is not None and self._blocked is not None:
            self._blocked.append((area, kind))

    def extend_dimension(self, table: Area, new_last: int) -> list[Edit]:
        match = _DIMENSION.search(self.xml, 0, self.data_start)
        if match is None:
            return []
        old = Area.parse(match.group(2).decode()) or table
        new = Area(
            min(old.first_col, table.first_col),
            min(old.first_row, table.first_row),
            max(old.last_col, table.last_col),
            max(old.last_row, new_last),
        )
        return [(match.start(2), match.end(2), str(new).encode())]

    def extend_ranges(self, table: Area, new_last: int) -> list[Edit]:
        """Validation and conditional-formatting ranges (classic and Excel 2010) that ended
        at the table's last row grow with it."""
        tail = self.tail

        def grow(text: bytes) -> bytes:
            return _grow_sqref(text.decode(), table, new_last).encode()

        new_tail = _SQREF_ATTR.sub(lambda m: m.group(1) + grow(m.group(2)) + b'"', tail)
        new_tail = _X14_BLOCK.sub(
            lambda block: _XM_SQREF.sub(
                lambda m: m.group(1) + grow(m.group(2)) + b"</xm:sqref>", block.group(0)
            ),
            new_tail,
        )
        return [] if new_tail == tail else [(self.data_end, self.data_end + len(tail), new_tail)]

    def splice(self, edits: list[Edit]) -> Iterator[bytes | memoryview]:
        """The new part as pieces: untouched stretches are views into the old text. A
        generator, so the old text can be freed as soon as the new part is compressed."""
        ordered = sorted(edits, key=lambda e: (e[0], e[1]))
        for (_, end, _), (start, _, _) in itertools.pairwise(ordered):
            if start < end:
                raise AssertionError("overlapping sheet edits")
        return self._pieces(ordered)

    def _pieces(self, ordered: list[Edit]) -> Iterator[bytes | memoryview]:
        view = memoryview(self.xml)
        position = 0
        for start, end, replacement in ordered:
            yield view[position:start]
            yield replacement
            position = end
        yield view[position:]


def array_refs(xml: bytes, start: int, end: int) -> Iterator[bytes]:
    """The ranges of the array formulas in xml[start:end]."""
    position = start
    while (found := xml.find(b't="array"', position, end)) >= 0:
        tag_start = xml.rfind(b"<f", start, found)
        ref = attributes(xml[tag_start + 2 : xml.index(b">", found)]).get("ref")
        yield ref.encode() if ref else b""
        position = found + 1


def _grow_sqref(sqref: str, table: Area, new_last: int) -> str:
    grown = []
    for token in sqref.split():
        area = Area.parse(token)
        if (
            area is not None
            and area.last_row == table.last_row
            and area.first_col <= table.last_col
            and table.first_col <= area.last_col
        ):
            token = str(Area(area.first_col, area.first_row, area.last_col, new_last))
        grown.append(token)
    return " ".join(grown)
