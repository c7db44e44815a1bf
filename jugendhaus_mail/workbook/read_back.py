"""The read-back of a commit (store.py) that parses only the rows the write could have touched.

When the service only appends, every row the file had stays byte for byte where it was, and
the new rows follow them. The intake's read noted where the rows of the old file are in the
sheet XML and their CRC-32 (xlsx_pass.SheetPass). Here the new file is read from disk, its
sheet inflated in full (zipfile checks the part's CRC-32 on the way), and the stretch where
the old rows must be is compared by checksum: the same length and CRC-32 means the same rows
(a CRC-32 catches any change of up to 32 bits and any other with odds of 1 in 4 billion; the
writer copies these bytes, so a slip would be a dropped or doubled row, not a forgery). Only
what comes after them, the new rows and the end of the part, is parsed, together with the
header row (and any rows above it), read from inside the compared stretch. The store takes
the old rows from its read of the old file. Where anything differs from that picture (an
update inside the old rows, staff content moved, a part that does not read back) the caller
reads the whole file back instead.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import IO

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.model import Snapshot
from jugendhaus_mail.workbook.reader import header_row, read_file, streamed_snapshot
from jugendhaus_mail.workbook.schema import Schema
from jugendhaus_mail.workbook.verify import refuse
from jugendhaus_mail.workbook.xlsx_zip import CHUNK, ZipPackage

OPENING = 1 << 20  # how far into the rows the header row (and rows above it) is looked for
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
NO_ROW = 1 << 31  # "no row after the old ones"


@dataclass(frozen=True)
class OldRows:
    """Where the rows of the version the service read are in its sheet part."""

    part: str  # the request sheet's zip member
    size: int  # bytes from the first row to </sheetData>
    crc: int  # their CRC-32


def read_back(
    path: Path, schema: Schema, columns: Collection[str], old: OldRows
) -> tuple[Snapshot, int] | None:
    """The new file as the narrow reader reads it, but for the old rows; and the number of
    the first row after them (`NO_ROW` when none follows). None: the file is not the old one
    with rows after it, or not readable this way; the caller then reads it whole."""
    data, fingerprint = read_file(path)
    try:
        header = header_row(ZipPackage(data), schema.requests)
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(old.part) as stream:
            split = _split(stream, old, header)
    except (WorkbookError, KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile):
        return None
    if split is None:
        return None
    head, opening, last_old, rest = split
    _refuse_rows_out_of_order(last_old, rest)
    replaced = {old.part: head + opening + rest}
    snapshot = streamed_snapshot(data, schema, columns, fingerprint, replaced=replaced)
    if snapshot is None:
        return None
    found = _ROW_NUMBER.search(rest)
    return snapshot, int(found.group(1)) if found else NO_ROW


def _split(stream: IO[bytes], old: OldRows, header: int) -> tuple[bytes, bytes, int, bytes] | None:
    """(the part before the rows, the old rows up to the end of the header row, the number of
    the last old row, everything after the old rows), or None when the stretch after the
    part's start is not the old rows."""
    buffer = b""
    while (at := buffer.find(b"<sheetData")) < 0 or (tag_end := buffer.find(b">", at)) < 0:
        chunk = stream.read(CHUNK)
        if not chunk:
            return None
        buffer += chunk
    if buffer[tag_end - 1 : tag_end] == b"/":
        return None
    head, buffer = buffer[: tag_end + 1], buffer[tag_end + 1 :]
    crc, need, opening, closing = 0, old.size, b"", b""
    while need:
        if not buffer and not (buffer := stream.read(CHUNK)):
            return None  # the part ends before the old rows do
        taken, buffer = buffer[:need], buffer[need:]
        crc, need = zlib.crc32(taken, crc), need - len(taken)
        if len(opening) < OPENING:
            opening += taken[: OPENING - len(opening)]
        closing = (closing + taken)[-OPENING:]
    if crc != old.crc:
        return None
    rest = buffer + stream.read()  # reading to the end checks the part's CRC-32
    above = _through_header(opening, header, old.size)
    numbers = _ROW_NUMBER.findall(closing)
    if above is None or not numbers:
        return None
    return head, above, int(numbers[-1]), rest


def _refuse_rows_out_of_order(last_old: int, rest: bytes) -> None:
    """The rows after the old ones must follow them, each number once (Excel refuses a file
    with a row number twice; the narrow reader would hand such a part to calamine, which
    takes it without a word)."""
    numbers = [last_old, *map(int, _ROW_NUMBER.findall(rest))]
    if any(later <= earlier for earlier, later in pairwise(numbers)):
        refuse("Zeilennummern doppelt oder nicht aufsteigend")


def _through_header(opening: bytes, header: int, size: int) -> bytes | None:
    """`opening` up to the end of row `header`; None when that row is not found in it."""
    at = opening.find(b'<row r="%d"' % header)
    if at < 0:
        return None
    end = opening.find(b"<row", at + 4)
    if end < 0:
        return opening if len(opening) == size else None  # the header row is the last row
    return opening[:end]
