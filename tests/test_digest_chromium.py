"""The daily digest as a browser draws it, on a desktop and on a phone.

Renders a realistic digest, screenshots it with headless Chromium at 1024 and 390 pixels wide,
and keeps the PNGs in test-artifacts/ for people to look at. The checks decode the PNG with zlib
(no imaging library): right size, real content, the urgency colours present, nothing wider than
the screen, and the whole digest inside the picture.
"""

from __future__ import annotations

import shutil
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pytest

from jugendhaus_mail.notify.render import (
    DialogInfo,
    DigestAbsence,
    DigestItem,
    DigestMail,
    MailRenderer,
    OfficeHoursSlot,
)

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SIZES = {"desktop": (1024, 1800), "phone": (390, 2400)}
PAGE_BACKGROUND = (0xEE, 0xF1, 0xF5)
ACCENTS = {"red": (0xB3, 0x26, 0x1E), "amber": (0xD0, 0x8A, 0x00), "blue": (0x1F, 0x4E, 0x79)}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="chromium ist nicht installiert (Debian: apt install chromium)",
)


def realistic_digest() -> DigestMail:
    today = date(2026, 3, 12)
    overdue = [
        DigestItem(
            "2026-0031", "Hausbesuch", "Hausbesuch durchführen", date(2026, 3, 2), "Jörg Weiß", 8
        ),
        DigestItem(
            "2026-0027",
            "Fallanfrage",
            "Rückmeldung im gemeinsamen Fall",
            date(2026, 3, 5),
            "Jana Krüger, Björn Schäfer (SGB II)",
            5,
        ),
        DigestItem("2026-0035", "Fallanfrage", "Ansprechpartner benennen", date(2026, 3, 9), "", 3),
        DigestItem(
            "2026-0019",
            "Mini-Fallkonferenz",
            "Mini-Fallkonferenz: weitere Teilnehmende benennen",
            date(2026, 3, 11),
            "Sachgebietsleitung",
            1,
        ),
    ]
    due_soon = [
        DigestItem("2026-0040", "Fallanfrage", "Ansprechpartner benennen", today, "Jana Krüger"),
        DigestItem(
            "2026-0038", "Hausbesuch", "Hausbesuch durchführen", date(2026, 3, 13), "Jörg Weiß"
        ),
        DigestItem(
            "2026-0012",
            "Fallanfrage",
            "Nachgespräch nach Betreuungszeit",
            date(2026, 3, 13),
            "Jana Krüger",
        ),
    ]
    new = [
        DigestItem("2026-0043", "Stellungnahme", "Ansprechpartner benennen", date(2026, 3, 18)),
        DigestItem("2026-0044", "Fallanfrage", "Ansprechpartner benennen", date(2026, 3, 18)),
        DigestItem(
            "2026-0045",
            "Kinderschutz",
            "Ansprechpartner benennen",
            date(2026, 3, 19),
            "Jana Krüger",
        ),
        DigestItem("2026-0046", "Sonstiges", "Ansprechpartner benennen", date(2026, 3, 19)),
    ]
    without_contact = [
        DigestItem("2026-0035", "Fallanfrage", "Ansprechpartner benennen", date(2026, 3, 9), "", 3),
        DigestItem("2026-0043", "Stellungnahme", "Ansprechpartner benennen", date(2026, 3, 18)),
    ]
    absence = DigestAbsence("Jana Krüger", date(2026, 3, 11), date(2026, 3, 13), (
        OfficeHoursSlot(today, time(7, 30), time(12, 30)),
        OfficeHoursSlot(today, time(13, 30), time(18, 0)),
    ))  # fmt: skip
    return DigestMail(
        today=today,
        overdue=overdue,
        due_soon=due_soon,
        new=new,
        without_contact=without_contact,
        absences=[absence],
        next_dialog=DialogInfo(date(2026, 3, 31), "SGB II"),
        since=datetime(2026, 3, 11, 7, 0),
        problems=["Anfragen, Zeile 57: „Eingang“ enthält kein Datum, sondern Text oder eine "
                  "Zahl. Bitte ein Datum eintragen (z. B. 03.04.2026)."],
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


def take_screenshots(
    page: Path, prefix: str, sizes: dict[str, tuple[int, int]], tmp: pytest.TempPathFactory
) -> dict[str, Path]:
    """Headless Chromium screenshots of `page`, one per size, kept in test-artifacts/."""
    runs = {}
    for name, (width, height) in sizes.items():
        target = ARTIFACTS / f"{prefix}-{name}-{width}.png"
        target.unlink(missing_ok=True)
        profile = tmp.mktemp(f"chromium-{name}")
        command = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
            f"--user-data-dir={profile}", f"--window-size={width},{height}",
            f"--screenshot={target}", page.as_uri(),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        runs[name] = (target, process)
    shots = {}
    for name, (target, process) in runs.items():
        output, _ = process.communicate(timeout=120)
        assert target.is_file(), output.decode(errors="replace")[-2000:]
        shots[name] = target
    return shots


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    renderer = MailRenderer(
        None,
        office_name="Berufliche Jugendsozialberatung im Jugendhaus Rostock",
        office_phone="0381 381-4711",
        team_address="FM-Jugendhaus@rostock.de",
    )
    rendered = renderer.render_mail(realistic_digest())
    page = ARTIFACTS / "digest.html"
    page.write_text(rendered.html, encoding="utf-8")
    (ARTIFACTS / "digest.txt").write_text(rendered.text, encoding="utf-8")
    return take_screenshots(page, "digest", SIZES, tmp_path_factory)


@pytest.fixture(scope="module")
def pictures(screenshots: dict[str, Path]) -> dict[str, Picture]:
    return {name: decode_png(path.read_bytes()) for name, path in screenshots.items()}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_screenshot_is_a_png_of_the_expected_size(
    screenshots: dict[str, Path], pictures: dict[str, Picture], name: str
) -> None:
    assert screenshots[name].parent == ARTIFACTS
    assert (pictures[name].width, pictures[name].height) == SIZES[name]


@pytest.mark.parametrize("name", sorted(SIZES))
def test_screenshot_shows_real_content_with_urgency_colours(
    pictures: dict[str, Picture], name: str
) -> None:
    picture = pictures[name]
    counts: Counter[tuple[int, int, int]] = Counter()
    for row in picture.rows[::2]:  # every second pixel of every second row
        counts.update(zip(row[0::6], row[1::6], row[2::6], strict=True))
    drawn = sum(n for colour, n in counts.items() if not near(colour, PAGE_BACKGROUND, 2))
    assert len(counts) > 50, "kaum Farben: leere oder ungestylte Seite"
    assert drawn > 0.2 * counts.total()
    for accent, rgb in ACCENTS.items():
        assert any(near(c, rgb) for c in counts), f"Akzentfarbe {accent} fehlt"


@pytest.mark.parametrize("name", sorted(SIZES))
def test_digest_fits_the_screen_width_and_ends_inside_the_picture(
    pictures: dict[str, Picture], name: str
) -> None:
    picture = pictures[name]
    right_margin = {picture.pixel(picture.width - 3, y) for y in range(picture.height)}
    assert all(near(p, PAGE_BACKGROUND, 2) for p in right_margin), "breiter als der Bildschirm"
    bottom = {picture.pixel(x, y) for y in range(picture.height - 40, picture.height)
              for x in range(picture.width)}  # fmt: skip
    assert all(near(p, PAGE_BACKGROUND, 2) for p in bottom), "länger als der Screenshot"
