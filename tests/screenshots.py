"""Headless Chromium screenshots and a small PNG decoder (zlib only, no imaging library).

A page's height depends on the fonts and the Chromium build at hand, so no test fixes it: each
page is first measured at the screen width (inside an iframe of exactly that width, because
headless Chromium lays a top-level page out at least 500 pixels wide when it only dumps the DOM),
then drawn on a picture a little taller than it. The tests then check the properties that
matter: nothing wider than the screen, and the page ends inside the picture.
"""

from __future__ import annotations

import html
import re
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
BOTTOM_MARGIN = 120  # pixels of picture below the measured end of the page

_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--force-device-scale-factor=1",
)  # fmt: skip


@dataclass
class Picture:
    width: int
    height: int
    rows: list[bytes]  # RGB, 3 bytes per pixel

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        row = self.rows[y]
        return row[3 * x], row[3 * x + 1], row[3 * x + 2]


def decode_png(data: bytes) -> Picture:
    """8-bit RGB or RGBA, not interlaced: what Chromium writes. Alpha is dropped."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "keine PNG-Datei"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        crc = int.from_bytes(data[pos + 8 + length : pos + 12 + length], "big")
        assert zlib.crc32(kind + body) == crc, f"Prüfsumme von {kind!r} stimmt nicht"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, interlace = header[8], header[9], header[12]
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    assert len(raw) == height * (stride + 1)
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, bpp)
        previous = line
        rows.append(line if bpp == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
    return Picture(width, height, rows)


def _unfilter(kind: int, line: bytes, up: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:  # add bytewise without carries, on whole rows at once
        a, b = int.from_bytes(line, "big"), int.from_bytes(up, "big")
        low, high = int("7f" * len(line), 16), int("80" * len(line), 16)
        return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(len(line), "big")
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        above = up[i]
        if kind == 1:
            out[i] = (out[i] + left) & 0xFF
        elif kind == 3:
            out[i] = (out[i] + ((left + above) >> 1)) & 0xFF
        elif kind == 4:
            corner = up[i - bpp] if i >= bpp else 0
            p = left + above - corner
            pa, pb, pc = abs(p - left), abs(p - above), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else above if pb <= pc else corner
            out[i] = (out[i] + pred) & 0xFF
        else:
            raise AssertionError(f"unbekannter PNG-Filter {kind}")
    return bytes(out)


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Shot:
    path: Path
    width: int  # the screen width the page was drawn at
    page_width: int  # the widest the page's content reaches at that width
    page_height: int  # where the page ends at that width


def measure_page(page: Path, width: int, profile: Path) -> tuple[int, int]:
    """(scroll width, scroll height) of `page` laid out at `width` pixels."""
    chromium = require_tool("chromium")
    probe = profile.parent / f"{profile.name}-probe.html"
    measure = (
        "var d=this.contentDocument.documentElement;"
        "document.body.setAttribute('data-extent', d.scrollWidth + 'x' + d.scrollHeight)"
    )
    probe.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe style="width:{width}px;height:50px;border:0" '
        f'srcdoc="{html.escape(page.read_text(encoding="utf-8"), quote=True)}" '
        f'onload="{html.escape(measure, quote=True)}"></iframe></body></html>',
        encoding="utf-8",
    )
    command = [chromium, *_FLAGS, f"--user-data-dir={profile}", "--window-size=1200,800"]
    result = subprocess.run(
        [*command, "--dump-dom", probe.as_uri()], capture_output=True, timeout=120, check=False
    )
    found = re.search(rb'data-extent="(\d+)x(\d+)"', result.stdout)
    assert found, result.stderr.decode(errors="replace")[-2000:]
    return int(found[1]), int(found[2])


def take_screenshots(
    page: Path, prefix: str, widths: dict[str, int], tmp: pytest.TempPathFactory
) -> dict[str, Shot]:
    """Screenshots of `page`, one per screen width, kept in test-artifacts/ for people to see."""
    chromium = require_tool("chromium")
    runs = {}
    for name, width in widths.items():
        target = ARTIFACTS / f"{prefix}-{name}-{width}.png"
        target.unlink(missing_ok=True)
        page_width, page_height = measure_page(page, width, tmp.mktemp(f"measure-{name}"))
        profile = tmp.mktemp(f"chromium-{name}")
        command = [
            chromium, *_FLAGS, f"--user-data-dir={profile}",
            f"--window-size={width},{page_height + BOTTOM_MARGIN}",
            f"--screenshot={target}", page.as_uri(),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        runs[name] = (Shot(target, width, page_width, page_height), process)
    for shot, process in runs.values():
        output, _ = process.communicate(timeout=120)
        assert shot.path.is_file(), output.decode(errors="replace")[-2000:]
    return {name: shot for name, (shot, _process) in runs.items()}


def assert_fits_and_ends(picture: Picture, shot: Shot, background: tuple[int, int, int]) -> None:
    """Nothing wider than the screen, and the page ends inside the picture."""
    assert shot.page_width <= shot.width, (
        f"{shot.page_width} Pixel breit: breiter als der Bildschirm"
    )
    assert (picture.width, picture.height) == (shot.width, shot.page_height + BOTTOM_MARGIN)
    right_margin = {picture.pixel(picture.width - 3, y) for y in range(picture.height)}
    assert all(near(p, background, 2) for p in right_margin), "breiter als der Bildschirm"
    bottom = {picture.pixel(x, y) for y in range(picture.height - 40, picture.height)
              for x in range(0, picture.width, 3)}  # fmt: skip
    assert all(near(p, background, 2) for p in bottom), "die Seite endet nicht im Bild"
