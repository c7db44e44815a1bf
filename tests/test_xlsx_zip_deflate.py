"""A large replaced part is compressed on a second thread while the next piece is made: the
package written holds exactly the content given, and the very bytes one compressor fed in order
would write; a failure while the pieces are made stops the save with that failure."""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsx_fixtures import new_workbook

from jugendhaus_mail.errors import WorkbookError
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workbook.xlsx_deflate import Precompressed, StretchCompressor, crc32_combine
from jugendhaus_mail.workbook.xlsx_zip import CHUNK, ZipPackage

SHEET = "xl/worksheets/sheet1.xml"


def big_sheet(size: int) -> bytes:
    rng = random.Random(15)
    rows: list[bytes] = []
    total = number = 0
    while total < size:
        number += 1
        text = "".join(
            rng.choice("abcdefghäöü &amp; €0123456789") for _ in range(rng.randrange(40))
        )
        cell = f'<c r="A{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        rows.append(f'<row r="{number}">{cell}</row>'.encode())
        total += len(rows[-1])
    return b"<worksheet><sheetData>" + b"".join(rows) + b"</sheetData></worksheet>"


def cut(content: bytes, sizes: list[int]) -> Iterator[bytes | memoryview]:
    at, turn = 0, 0
    while at < len(content):
        size = sizes[turn % len(sizes)]
        yield memoryview(content)[at : at + size] if turn % 2 else content[at : at + size]
        at, turn = at + size, turn + 1


@pytest.mark.parametrize("sizes", [[CHUNK], [CHUNK // 3, 7, CHUNK + 5], [4 * CHUNK], [61]])
def test_a_large_part_compressed_alongside_is_the_part_given(
    tmp_path: Path, sizes: list[int]
) -> None:
    data = new_workbook(tmp_path, load_schema())
    content = big_sheet(3 * CHUNK + 12345)
    out = ZipPackage(data).rebuild({SHEET: cut(content, sizes)})
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        assert archive.testzip() is None
        assert archive.read(SHEET) == content
        info = archive.getinfo(SHEET)
    one = zlib.compressobj(1, zlib.DEFLATED, -15)
    expected = one.compress(content) + one.flush()
    start = info.header_offset + 30 + len(info.filename)
    assert out[start : start + info.compress_size] == expected
    for name in ZipPackage(data).names:  # every other member as it was
        if name != SHEET:
            assert zipfile.ZipFile(io.BytesIO(out)).read(name) == zipfile.ZipFile(
                io.BytesIO(data)
            ).read(name)


def test_a_failure_while_the_pieces_are_made_stops_the_save(tmp_path: Path) -> None:
    data = new_workbook(tmp_path, load_schema())

    def failing() -> Iterator[bytes | memoryview]:
        yield from cut(big_sheet(2 * CHUNK), [CHUNK // 2])
        raise WorkbookError("kaputt")

    with pytest.raises(WorkbookError, match="kaputt"):
        ZipPackage(data).rebuild({SHEET: failing()})


def stretch(content: bytes) -> Precompressed:
    compressor = StretchCompressor(CHUNK)
    for piece in cut(content, [CHUNK // 2]):
        assert not isinstance(piece, Precompressed)
        compressor.add(piece)
    return Precompressed(compressor.finish(), compressor.crc, compressor.size)


@pytest.mark.parametrize("leading", [b"", b"MZ-stub"])  # plain zip, and the zipfile path
def test_a_stretch_compressed_before_is_copied_between_fresh_ones(
    tmp_path: Path, leading: bytes
) -> None:
    data = leading + new_workbook(tmp_path, load_schema())
    content = big_sheet(3 * CHUNK)
    head, middle, rest = content[:1000], content[1000 : 2 * CHUNK + 17], content[2 * CHUNK + 17 :]
    out = ZipPackage(data).rebuild({SHEET: [head, stretch(middle), memoryview(rest)]})
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        assert archive.testzip() is None  # the checksum of the joined stretches is right
        assert archive.read(SHEET) == content
    assert stretch(middle).content() == middle


@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_checksums_of_stretches_join_to_the_checksum_of_the_whole(a: bytes, b: bytes) -> None:
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=700), max_size=12), st.integers(1, 2000))
def test_a_stretch_knows_the_checksum_of_what_it_took(pieces: list[bytes], batch: int) -> None:
    """Taken on the second thread, batch after batch: the same as over the whole at once."""
    compressor = StretchCompressor(batch)
    for piece in pieces:
        compressor.add(piece)
    compressed = b"".join(compressor.finish(zlib.Z_FINISH))
    whole = b"".join(pieces)
    assert (compressor.crc, compressor.size) == (zlib.crc32(whole), len(whole))
    assert zlib.decompress(compressed, -15) == whole
