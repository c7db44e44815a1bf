"""The report's tables, each with the chart that shows it; shared by the workbook and the HTML.

A `Block` is a small table: a category column and one column per series (e.g. "2. Halbjahr
2026" and "1. Halbjahr 2026"). The workbook writes each block as cells plus a native chart over
them; the HTML summary draws some of them as inline SVG bars.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import zip_longest

from jugendhaus_mail.report.figures import (
    END_REASONS,
    RECHTSKREISE,
    UNKNOWN,
    Figures,
    NoticeFigures,
    Rules,
)
from jugendhaus_mail.report.period import MONTHS_SHORT_DE, month_label
from jugendhaus_mail.report.summary import RULE_LABELS
from jugendhaus_mail.rules.model import KINDS

COLUMN, STACKED, BAR, PIE, LINE = "column", "stacked", "bar", "pie", "line"
CURRENT, PREVIOUS = "1F4E79", "9FB3C8"  # this period dark, the one before it light
PALETTE = ("1F4E79", "D08A00", "2E8B57", "8E44AD", "B3261E", "17A2B8", "5B6573")
NOTICE_COLOURS = (CURRENT, "B3261E", PREVIOUS, "E8A09A")


@dataclass(frozen=True)
class Block:
    key: str
    title: str
    headers: tuple[str, ...]  # the category column's header, then one per series
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]  # (category, values per series)
    chart: str  # COLUMN | STACKED | BAR | PIE | LINE
    axis_title: str = "Anzahl"
    colours: tuple[str, ...] = (CURRENT, PREVIOUS)  # per series (per category for PIE)

    @property
    def series(self) -> tuple[str, ...]:
        return self.headers[1:]


def blocks(
    current: Figures, previous: Figures, rules: Rules | None = None
) -> dict[str, list[Block]]:
    """Sheet name -> its blocks, in order."""
    r = rules or Rules()
    pair = (current.period.label, previous.period.label)
    sheets = {
        "Anfragen": _request_blocks(current, previous, pair),
        "Ansprechpartner": [_contact_block(current, previous, pair, r)],
        "Hausbesuche": _home_visit_blocks(current, previous, pair, r),
        "Gemeinsame Fälle": _joint_blocks(current, previous, pair),
    }
    if current.notices is not None and previous.notices is not None:
        sheets["Erinnerungen"] = [_notice_block(current.notices, previous.notices, pair)]
    return sheets


def _compare(
    key: str,
    title: str,
    category: str,
    pair: tuple[str, str],
    rows: list[tuple[str, int, int]],
    chart: str = BAR,
) -> Block:
    return Block(key, title, (category, *pair), tuple((c, (a, b)) for c, a, b in rows), chart)


def _request_blocks(c: Figures, p: Figures, pair: tuple[str, str]) -> list[Block]:
    now, before = c.requests, p.requests
    months_now, months_before = list(now.by_month_kind), list(before.by_month_kind)
    with_year = len({m[0] for m in months_now + months_before}) > 2 or len(months_now) > 12
    timeline = tuple(
        (
            " / ".join(_short(x, with_year) for x in (m, b) if x),
            (_total(now.by_month_kind, m), _total(before.by_month_kind, b)),
        )
        for m, b in zip_longest(months_now, months_before)
    )
    rk_values = _with_unknown(RECHTSKREISE, now.by_rechtskreis, before.by_rechtskreis)
    kind_values = _with_unknown(KINDS, now.by_kind, before.by_kind)
    return [
        Block(
            "per_month",
            "Anfragen je Monat im Vergleich zum Vorzeitraum",
            ("Monat", *pair),
            timeline,
            LINE,
        ),
        _by_month(
            "per_month_rechtskreis",
            "Anfragen je Monat nach Rechtskreis",
            now.by_month_rechtskreis,
            rk_values,
        ),
        _by_month(
            "per_month_kind", "Anfragen je Monat nach Anfrageart", now.by_month_kind, kind_values
        ),
        _compare(
            "by_rechtskreis",
            "Anfragen nach Rechtskreis",
            "Rechtskreis",
            pair,
            _counts(now.by_rechtskreis, before.by_rechtskreis, rk_values),
        ),
        _compare(
            "by_kind",
            "Anfragen nach Anfrageart",
            "Anfrageart",
            pair,
            _counts(now.by_kind, before.by_kind, kind_values),
        ),
    ]


def _by_month(
    key: str, title: str, table: dict[tuple[int, int], Counter[str]], values: tuple[str, ...]
) -> Block:
    shown = [v for v in values if v != UNKNOWN or any(c[v] for c in table.values())]
    rows = tuple(
        (month_label(month, short=True), tuple(counts[v] for v in shown))
        for month, counts in table.items()
    )
    return Block(key, title, ("Monat", *shown), rows, STACKED, colours=PALETTE)


def _contact_block(c: Figures, p: Figures, pair: tuple[str, str], rules: Rules) -> Block:
    limit = rules.contact_days
    buckets: list[tuple[str, int, int | None]] = [
        ("am selben Tag", 0, 0),
        ("1 bis 2 AT", 1, 2),
        (f"3 bis {limit} AT", 3, limit),
        (f"{limit + 1} bis {2 * limit} AT", limit + 1, 2 * limit),
        (f"mehr als {2 * limit} AT", 2 * limit + 1, None),
    ]

    def count(days: list[int], low: int, high: int | None) -> int:
        return sum(1 for d in days if d >= low and (high is None or d <= high))

    rows = [
        (label, count(c.contact.days, lo, hi), count(p.contact.days, lo, hi))
        for label, lo, hi in buckets
    ]
    rows.append(("noch offen, Frist abgelaufen", c.contact.open_overdue, p.contact.open_overdue))
    return _compare(
        "contact_days",
        "Zeit bis zur Benennung des Ansprechpartners (Arbeitstage)",
        "Arbeitstage bis zur Benennung",
        pair,
        rows,
        COLUMN,
    )


def _home_visit_blocks(c: Figures, p: Figures, pair: tuple[str, str], r: Rules) -> list[Block]:
    now, before = c.home_visits, p.home_visits
    timing = [
        (f"innerhalb von {r.home_visit_days} AT", now.within.hits, before.within.hits),
        (
            "später",
            now.within.total - now.within.hits - now.open_overdue,
            before.within.total - before.within.hits - before.open_overdue,
        ),
        ("offen, Frist abgelaufen", now.open_overdue, before.open_overdue),
    ]
    results = Block(
        "home_visit_result",
        f"Ergebnis der Hausbesuche ({pair[0]})",
        ("Ergebnis", pair[0]),
        (
            ("angetroffen", (now.met,)),
            ("nicht angetroffen", (now.not_met,)),
            ("ohne Ergebnis eingetragen", (now.without_result,)),
        ),
        PIE,
        colours=("2E8B57", "D08A00", "9FB3C8"),
    )
    return [
        _compare(
            "home_visit_timing",
            "Hausbesuche: rechtzeitig durchgeführt?",
            "Hausbesuch",
            pair,
            timing,
        ),
        results,
    ]


def _joint_blocks(c: Figures, p: Figures, pair: tuple[str, str]) -> list[Block]:
    now, before = c.joint, p.joint
    flow = [
        ("begonnen", now.started, before.started),
        ("laufend am Stichtag", now.running, before.running),
        ("beendet", now.ended.total(), before.ended.total()),
    ]
    reasons = _with_unknown(END_REASONS, now.ended, before.ended)
    return [
        _compare("joint_flow", "Gemeinsame Fälle", "Gemeinsame Fälle", pair, flow, COLUMN),
        _compare(
            "joint_ended",
            "Beendete gemeinsame Fälle nach Beendigungsgrund",
            "Beendigungsgrund",
            pair,
            _counts(now.ended, before.ended, reasons),
        ),
    ]


def _notice_block(now: NoticeFigures, before: NoticeFigures, pair: tuple[str, str]) -> Block:
    headers = (
        "Frist",
        f"Erinnerungen {pair[0]}",
        f"Eskalationen {pair[0]}",
        f"Erinnerungen {pair[1]}",
        f"Eskalationen {pair[1]}",
    )
    rows = tuple(
        (
            label,
            (
                now.reminders[rule],
                now.escalations[rule],
                before.reminders[rule],
                before.escalations[rule],
            ),
        )
        for rule, label in RULE_LABELS.items()
    )
    title = "Versandte Erinnerungen und Eskalationen"
    return Block("notices", title, headers, rows, BAR, colours=NOTICE_COLOURS)


def _counts(
    now: Counter[str], before: Counter[str], values: tuple[str, ...]
) -> list[tuple[str, int, int]]:
    return [(v, now[v], before[v]) for v in values]


def _with_unknown(values: tuple[str, ...], *counts: Counter[str]) -> tuple[str, ...]:
    """The list values, plus "ohne gültige Angabe" when some row had none of them."""
    return (*values, UNKNOWN) if any(c[UNKNOWN] for c in counts) else values


def _total(table: dict[tuple[int, int], Counter[str]], month: tuple[int, int] | None) -> int | None:
    return None if month is None else table[month].total()


def _short(month: tuple[int, int], with_year: bool) -> str:
    name = MONTHS_SHORT_DE[month[1] - 1]
    return f"{name} {month[0] % 100:02d}" if with_year else name
