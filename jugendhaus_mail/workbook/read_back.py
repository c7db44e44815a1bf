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

When the writer copied most old rows as the stretch the intake read compressed
(xlsx_pass), that stretch is not even inflated: it is found in the new part by its first bytes
and proved by the SHA-256 of its compressed bytes (the same bytes inflate to the same rows);
the compressed pieces before and after it are inflated on their own, and the part's CRC-32 in
the zip must be that of the three together (`_split_around_stretch`).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
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
from jugendhaus_mail.workbook.xlsx_deflate import StretchProof, crc32_combine
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
    # the first of them as the writer copies them compressed, and how to recognise that copy
    # (None: the writer compresses them itself); the first rows as read (the header row)
    stretch: StretchProof | None = None
    opening: bytes = b""


def read_back(
    path: Path, schema: Schema, columns: Collection[str], old: OldRows
) -> tuple[Snapshot, int] | None:
    """The new file as the narrow reader reads it, but for the old rows; and the number of
    the first row after them (`NO_ROW` when none follows). None: the file is not the old one
    with rows after it, or not readable this way; the caller then reads it whole."""
    data, fingerprint = read_file(path)
    try:
        header = header_row(ZipPackage(data), schema.requests)
        split = _split_around_stretch(data, old, header) if old.stretch else None
        if split is None:
            with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(old.part) as stream:
                split = _split(stream, old, header)
    except (WorkbookError, KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile):
        return None
    if split is None:
        return None
    head, opening, last_old, rest = split
    _refuse_rows_out_of_order(last_old, rest)
    replaced = {old.part: head + opening + rest}
    snapshot = streamed_snapshot(
        data, schema, columns, fingerprint, replaced=replaced, rows_in_order=True
    )
    if snapshot is None:
        return None
    found = _ROW_NUMBER.search(rest)
    return snapshot, int(found.group(1)) if found else NO_ROW


def _split_around_stretch(
    data: bytes, old: OldRows, header: int
) -> tuple[bytes, bytes, int, bytes] | None:
    """`_split` without inflating the old rows the writer copied compressed: that stretch is
    found in the part by its first bytes and proved by its SHA-256; the compressed stretches
    before and after it are inflated each on its own (the writer ends a stretch with a full
    flush, so none refers back into another), and the part's CRC-32 in the zip must be that
    of all three together."""
    stretch = old.stretch
    assert stretch is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(old.part)
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return None
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    end = start + info.compress_size
    at = data.find(stretch.lead, start, end)
    after = at + stretch.length
    if at < 0 or after > end or hashlib.sha256(data[at:after]).digest() != stretch.sha256:
        return None
    before, rest = zlib.decompressobj(-15), zlib.decompressobj(-15)
    head, tail = before.decompress(data[start:at]), rest.decompress(data[after:end])
    if before.eof or not rest.eof or rest.unused_data:
        return None
    crc = crc32_combine(zlib.crc32(head), stretch.crc, stretch.size)
    crc = crc32_combine(crc, zlib.crc32(tail), len(tail))
    if (crc, len(head) + stretch.size + len(tail)) != (info.CRC, info.file_size):
        return None
    rows_start = head.rfind(b"<sheetData")
    if rows_start < 0 or head.find(b">", rows_start) != len(head) - 1 or head.endswith(b"/>"):
        return None  # the stretch does not start where the rows do
    left = old.size - stretch.size  # the old rows after the stretch, at the start of `tail`
    if left <= 0 or crc32_combine(stretch.crc, zlib.crc32(tail[:left]), left) != old.crc:
        return None
    above = _through_header(old.opening, header, old.size)
    numbers = _ROW_NUMBER.findall(tail, max(0, left - OPENING), left)
    if above is None or not numbers:
        return None
    return head, above, int(numbers[-1]), tail[left:]


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
