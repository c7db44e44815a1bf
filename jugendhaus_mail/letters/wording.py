"""German wording for letters: dates, lists of names, Sprechzeiten, postal address lines."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, time

from jugendhaus_mail.config import TimeRange
from jugendhaus_mail.notify.render import WEEKDAYS_DE

WORKING_WEEKDAYS = range(5)  # Monday..Friday
_PLZ = re.compile(r"\b\d{5}\b")
_BEFORE_PLZ = re.compile(r"\s*,\s*(?=(?:D-)?\d{5}\b)")


def german_date(day: date) -> str:
    """24.03.2026"""
    return day.strftime("%d.%m.%Y")


def weekday_date(day: date) -> str:
    """Dienstag, 24.03.2026"""
    return f"{WEEKDAYS_DE[day.weekday()]}, {german_date(day)}"


def clock(moment: time) -> str:
    return moment.strftime("%H:%M")


def join_german(items: Sequence[str]) -> str:
    """ "A", "A und B", "A, B und C"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " und " + items[-1]


def unbreakable(phone: str) -> str:
    """A phone number that never breaks over two lines: non-breaking spaces and hyphens."""
    return phone.replace(" ", "\u00a0").replace("-", "\u2011")


def return_address(office_name: str, letterhead: Sequence[str]) -> str:
    """The small line above the window address: the letterhead line with a postcode
    ("Jugendhaus Rostock · Kopernikusstraße 1a · 18057 Rostock"), else the office's name."""
    for line in letterhead:
        if _PLZ.search(line):
            return " · ".join(part.strip() for part in line.split(",") if part.strip())
    return office_name


def time_range(item: TimeRange) -> str:
    return f"{clock(item.start)}–{clock(item.end)}"


def office_hours_text(hours: Mapping[int, tuple[TimeRange, ...]]) -> str:
    """Days with the same hours share one entry, in weekday order:
    "Montag und Dienstag 07:30–12:30 Uhr, Donnerstag 07:30–12:30 und 13:30–18:00 Uhr"."""
    groups: dict[tuple[TimeRange, ...], list[int]] = {}
    for day in sorted(hours):
        ranges = tuple(sorted(hours[day], key=lambda r: r.start))
        if ranges:
            groups.setdefault(ranges, []).append(day)
    parts = []
    for ranges, days in groups.items():
        names = join_german([WEEKDAYS_DE[d] for d in days])
        parts.append(f"{names} {join_german([time_range(r) for r in ranges])} Uhr")
    return ", ".join(parts)


def by_appointment_text(hours: Mapping[int, tuple[TimeRange, ...]]) -> str:
    """Working weekdays without Sprechzeit, e.g. "Mittwoch und Freitag nach Vereinbarung"
    (the example config documents: not listed = by appointment)."""
    days = [WEEKDAYS_DE[d] for d in WORKING_WEEKDAYS if not hours.get(d)]
    return f"{join_german(days)} nach Vereinbarung" if days else ""


def split_names(text: str) -> list[str]:
    """Names typed into one cell: "Lena Kowalski, Jürgen Weiß", "A und B", "A / B", one a line."""
    parts = re.split(r"\s*(?:[,;/&+\n]|\bund\b)\s*", text)
    return [" ".join(p.split()) for p in parts if p.strip()]


def address_lines(text: str) -> list[str]:
    """The address as lines for the window: typed line breaks are kept; on one line, the comma
    before the postcode separates street and town ("Lange Straße 3, 18055 Rostock")."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        out.extend(part for part in _BEFORE_PLZ.split(line) if part)
    return out


# The envelope's window (DIN 5008 form B): the name and the address in at most six lines of
# 10 pt in 80 mm. About 45 characters of Arial fit a line; 40 leaves room for wide letters and
# for the wider font LibreOffice takes where Arial is missing. A longer line wraps.
WINDOW_LINES = 6
WINDOW_LINE_CHARS = 40


def window_lines(name: str, address: Sequence[str]) -> int:
    """How many lines the name and `address` take in the window, long lines wrapped."""
    return sum(max(1, -(-len(line) // WINDOW_LINE_CHARS)) for line in (name, *address))


def has_postcode(lines: Sequence[str]) -> bool:
    return any(_PLZ.search(line) for line in lines)
