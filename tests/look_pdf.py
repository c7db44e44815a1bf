"""Measuring rendered PDFs: word boxes from `pdftotext -bbox`, dark pixels from `pdftoppm`."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Word:
    text: str
    page: int
    left: float  # mm from the page's left edge
    top: float  # mm from the page's top edge
    right: float
    bottom: float


def words(pdftotext: str, pdf: Path) -> list[Word]:
    html = subprocess.run(
        [pdftotext, "-bbox", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    root = ET.fromstring(html.replace('xmlns="http://www.w3.org/1999/xhtml"', ""))
    found = []
    for number, page in enumerate(root.iter("page"), start=1):
        for word in page.iter("word"):
            box = [float(word.attrib[k]) * MM_PER_PT for k in ("xMin", "yMin", "xMax", "yMax")]
            found.append(Word(word.text or "", number, *box))
    return found


def find(found: list[Word], text: str, page: int = 1) -> Word:
    matches = [w for w in found if w.text == text and w.page == page]
    assert matches, f"{text!r} nicht auf Seite {page}: {[w.text for w in found][:80]}"
    return matches[0]


def dark_rows(pdftoppm: str, pdf: Path, tmp: Path, x_from: float, x_to: float) -> list[float]:
    """Heights (mm from the top) of page 1's pixel rows with a dark pixel between x_from and
    x_to (mm), rendered at 100 dpi in grey."""
    prefix = tmp / "seite"
    subprocess.run(
        [pdftoppm, "-r", "100", "-gray", "-f", "1", "-l", "1", str(pdf), str(prefix)], check=True
    )
    [image] = sorted(tmp.glob("seite*.pgm"))
    data = image.read_bytes()
    magic, size, maxval, pixels = data.split(b"\n", 3)
    assert magic == b"P5" and maxval == b"255"
    width, height = map(int, size.split())
    per_mm = 100 / 25.4
    columns = range(int(x_from * per_mm), int(x_to * per_mm))
    return [
        round(y / per_mm, 1)
        for y in range(height)
        if min(pixels[y * width + x] for x in columns) < 200
    ]


def pixel(pdftoppm: str, pdf: Path, tmp: Path, page: int, x: float, y: float) -> tuple[int, ...]:
    """The colour (r, g, b) at x, y mm on `page`, rendered at 100 dpi."""
    prefix = tmp / f"farbe-{page}"
    if not list(tmp.glob(f"farbe-{page}*.ppm")):
        command = [pdftoppm, "-r", "100", "-f", str(page), "-l", str(page), str(pdf), str(prefix)]
        subprocess.run(command, check=True)
    [image] = sorted(tmp.glob(f"farbe-{page}*.ppm"))
    magic, size, _maxval, pixels = image.read_bytes().split(b"\n", 3)
    assert magic == b"P6"
    width, _height = map(int, size.split())
    per_mm = 100 / 25.4
    at = (int(y * per_mm) * width + int(x * per_mm)) * 3
    return tuple(pixels[at : at + 3])
