"""The daily digest as a browser draws it, on a desktop and on a phone.

Renders a realistic digest, screenshots it with headless Chromium at 1024 and 390 pixels wide,
and keeps the PNGs in test-artifacts/ for people to look at. The checks decode the PNG with zlib
(no imaging library): real content, the urgency colours present, nothing wider than the screen,
and the whole digest inside the picture, whatever height the fonts at hand give it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time

import pytest

from jugendhaus_mail.notify.render import (
    DialogInfo,
    DigestAbsence,
    DigestItem,
    DigestMail,
    MailRenderer,
    OfficeHoursSlot,
)
from tests.screenshots import (
    ARTIFACTS,
    Picture,
    Shot,
    assert_fits_and_ends,
    decode_png,
    near,
    take_screenshots,
)

WIDTHS = {"desktop": 1024, "phone": 390}
PAGE_BACKGROUND = (0xEE, 0xF1, 0xF5)
ACCENTS = {"red": (0xB3, 0x26, 0x1E), "amber": (0xD0, 0x8A, 0x00), "blue": (0x1F, 0x4E, 0x79)}


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


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
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
    return take_screenshots(page, "digest", WIDTHS, tmp_path_factory)


@pytest.fixture(scope="module")
def pictures(screenshots: dict[str, Shot]) -> dict[str, Picture]:
    return {name: decode_png(shot.path.read_bytes()) for name, shot in screenshots.items()}


@pytest.mark.parametrize("name", sorted(WIDTHS))
def test_screenshot_is_kept_for_people_and_as_wide_as_the_screen(
    screenshots: dict[str, Shot], pictures: dict[str, Picture], name: str
) -> None:
    assert screenshots[name].path.parent == ARTIFACTS
    assert pictures[name].width == WIDTHS[name]
    # a real digest, not an empty page: several screens of content on a phone
    assert screenshots[name].page_height > 600


@pytest.mark.parametrize("name", sorted(WIDTHS))
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


@pytest.mark.parametrize("name", sorted(WIDTHS))
def test_digest_fits_the_screen_width_and_ends_inside_the_picture(
    screenshots: dict[str, Shot], pictures: dict[str, Picture], name: str
) -> None:
    assert_fits_and_ends(pictures[name], screenshots[name], PAGE_BACKGROUND)


def test_the_end_check_notices_a_page_longer_than_its_picture(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The check above can fail: a page of content down to its last pixel is caught."""
    page = tmp_path_factory.mktemp("long") / "long.html"
    page.write_text(
        '<html><body style="margin:0;background:#eef1f5">'
        '<div style="height:900px;margin:0 20px;background:#1f4e79"></div></body></html>',
        encoding="utf-8",
    )
    shot = take_screenshots(page, "probe-long", {"phone": 390}, tmp_path_factory)["phone"]
    assert shot.page_height == 900
    picture = decode_png(shot.path.read_bytes())
    assert_fits_and_ends(picture, shot, PAGE_BACKGROUND)
    content_row = bytes((0x1F, 0x4E, 0x79)) * (picture.width - 20) + bytes(PAGE_BACKGROUND) * 20
    blue_to_the_end = [content_row] * 10
    cut = Picture(picture.width, picture.height, picture.rows[:-10] + blue_to_the_end)
    with pytest.raises(AssertionError, match="endet nicht"):
        assert_fits_and_ends(cut, shot, PAGE_BACKGROUND)
    wide = Shot(shot.path, shot.width, shot.width + 1, shot.page_height)
    with pytest.raises(AssertionError, match="breiter als der Bildschirm"):
        assert_fits_and_ends(picture, wide, PAGE_BACKGROUND)
