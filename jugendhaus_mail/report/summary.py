"""The key figures of a report, each against the previous period, with German labels and notes.

Both the workbook and the HTML summary show exactly these rows and these definitions, so the
two never disagree. A change is always written out (arrow and number), never shown by colour
alone; `better` only says which direction is an improvement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jugendhaus_mail.report.figures import Figures, Rules, Share

UP, DOWN, SAME = "↑", "↓", "→"
RULE_LABELS = {
    "contact_person": "Ansprechpartner benennen",
    "home_visit": "Hausbesuch durchführen",
    "feedback": "Rückmeldung im gemeinsamen Fall",
    "care_end": "Nachgespräch nach Betreuungszeit",
    "mini_conference": "Mini-Fallkonferenz: Teilnehmende benennen",
}


@dataclass(frozen=True)
class KeyFigure:
    label: str
    current: float | None
    previous: float | None
    unit: str = ""  # "" a count, "%" a share, "AT" working days
    current_note: str = ""  # e.g. "12 von 15"
    previous_note: str = ""
    better: int = 0  # +1: higher is better, -1: lower is better, 0: neither
    group: str = ""  # the topic it belongs to, e.g. "Hausbesuche"
    headline: bool = False  # one of the few figures shown large at the top

    @property
    def current_text(self) -> str:
        return format_value(self.current, self.unit)

    @property
    def previous_text(self) -> str:
        return format_value(self.previous, self.unit)

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(round(self.current, 1) - round(self.previous, 1), 1)

    @property
    def arrow(self) -> str:
        delta = self.delta
        if delta is None:
            return ""
        return UP if delta > 0 else DOWN if delta < 0 else SAME

    @property
    def change_text(self) -> str:
        """ "↑ +3", "↓ −12 Prozentpunkte", "→ unverändert", "kein Vergleichswert"."""
        delta = self.delta
        if delta is None:
            return "–" if self.current is None else "kein Vergleichswert"
        if delta == 0:
            return f"{SAME} unverändert"
        unit = {"%": " Prozentpunkte", "AT": " Arbeitstage"}.get(self.unit, "")
        sign = "+" if delta > 0 else "−"
        return f"{self.arrow} {sign}{german_number(abs(delta))}{unit}"

    @property
    def trend(self) -> str:
        """ "besser", "schlechter" or "" (no comparison, no change, or no direction)."""
        delta = self.delta
        if not delta or not self.better:
            return ""
        return "besser" if delta * self.better > 0 else "schlechter"


def german_number(value: float) -> str:
    """12 -> "12", 2.5 -> "2,5", 1234 -> "1.234"."""
    rounded = round(value, 1)
    if rounded == int(rounded):
        return f"{int(rounded):,}".replace(",", ".")
    return f"{rounded:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{german_number(value)}\N{NO-BREAK SPACE}%"
    if unit == "AT":
        return f"{german_number(value)}\N{NO-BREAK SPACE}AT"
    return german_number(value)


def share_note(share: Share) -> str:
    return f"{share.hits} von {share.total}" if share.total else "keine Fälle"


Value = Share | float | int | None


@dataclass(frozen=True)
class _Spec:
    label: str
    value: Callable[[Figures], Value]
    better: int = 0
    unit: str = ""
    note: Callable[[Figures], str] | None = None
    group: str = ""
    headline: bool = False


def _specs(rules: Rules) -> list[_Spec]:
    requests, contact, visits, joint = (
        "Anfragen", "Ansprechpartner", "Hausbesuche", "Gemeinsame Fälle"
    )  # fmt: skip
    return [
        _Spec("Anfragen insgesamt", lambda f: f.requests.total, group=requests, headline=True),
        _Spec("Kinderschutz-Hinweise", lambda f: f.requests.kinderschutz, group=requests),
        _Spec(
            "Zeit bis zur Benennung (Median)",
            lambda f: f.contact.median,
            better=-1,
            unit="AT",
            note=lambda f: f"{len(f.contact.days)} benannt",
            group=contact,
        ),
        _Spec(
            f"Ansprechpartner innerhalb von {rules.contact_days} Arbeitstagen",
            lambda f: f.contact.within,
            better=1,
            group=contact,
            headline=True,
        ),
        _Spec("Anfragen Hausbesuch", lambda f: f.home_visits.requests, group=visits),
        _Spec(
            f"Hausbesuch innerhalb von {rules.home_visit_days} Arbeitstagen",
            lambda f: f.home_visits.within,
            better=1,
            group=visits,
            headline=True,
        ),
        _Spec("Junger Mensch angetroffen", lambda f: f.home_visits.met, group=visits),
        _Spec("Nicht angetroffen", lambda f: f.home_visits.not_met, group=visits),
        _Spec("Begonnen", lambda f: f.joint.started, group=joint),
        _Spec("Laufend am Stichtag", lambda f: f.joint.running, group=joint),
        _Spec("Beendet", lambda f: f.joint.ended.total(), group=joint),
        _Spec(
            "Rückmeldung im vereinbarten Intervall",
            lambda f: f.joint.feedback,
            better=1,
            note=lambda f: share_note(f.joint.feedback) + _unknown_note(f.joint.feedback_unknown),
            group=joint,
            headline=True,
        ),
    ]


_NOTICE_SPECS = [
    _Spec(
        "Erinnerungen versandt",
        lambda f: f.notices.reminders.total() if f.notices else None,
        group="Erinnerungen und Eskalationen",
    ),
    _Spec(
        "Eskalationen versandt",
        lambda f: f.notices.escalations.total() if f.notices else None,
        better=-1,
        group="Erinnerungen und Eskalationen",
    ),
]


def key_figures(current: Figures, previous: Figures, rules: Rules | None = None) -> list[KeyFigure]:
    """The rows of the overview, in order; the sent notices only when the state DB was read."""
    specs = _specs(rules or Rules())
    if current.notices is not None:
        specs += _NOTICE_SPECS
    return [_figure(spec, current, previous) for spec in specs]


def _figure(spec: _Spec, current: Figures, previous: Figures) -> KeyFigure:
    now, before = spec.value(current), spec.value(previous)
    notes = (spec.note(current), spec.note(previous)) if spec.note else ("", "")
    if isinstance(now, Share) and isinstance(before, Share):
        if spec.note is None:
            notes = (share_note(now), share_note(before))
        now, before, unit = now.percent, before.percent, "%"
    else:
        unit = spec.unit
    assert not isinstance(now, Share) and not isinstance(before, Share)
    return KeyFigure(spec.label, now, before, unit, *notes, spec.better, spec.group, spec.headline)


def _unknown_note(unknown: int) -> str:
    return f", {unknown} nicht bestimmbar" if unknown else ""


DEFINITIONS = (
    ("Zeitraum und Vergleich",
     "Jede Zahl steht neben der Zahl des unmittelbar vorangehenden Zeitraums gleicher Länge "
     "(Halbjahr gegen Vorhalbjahr). Stichtag ist der letzte Tag des Zeitraums, bei einem noch "
     "laufenden Zeitraum der Tag der Erstellung."),
    ("Anfragen",
     "Zeilen im Blatt Anfragen mit „Eingang“ im Zeitraum (Kalendertag in Ortszeit), nach "
     "Monat, Rechtskreis und Anfrageart."),
    ("Arbeitstage (AT)",
     "Montag bis Freitag ohne gesetzliche Feiertage des Bundeslands und ohne Schließtage; "
     "gezählt ab dem Tag nach dem Eingang (§ 187 BGB)."),
    ("Ansprechpartner",
     "Arbeitstage von „Eingang“ bis „Ansprechpartner mitgeteilt am“, für die Anfragen des "
     "Zeitraums. Anteil innerhalb von {contact} AT: unter den benannten Anfragen und den "
     "Anfragen ohne Ansprechpartner mit abgelaufener Frist; Anfragen mit noch laufender Frist "
     "zählen nicht mit."),
    ("Hausbesuch",
     "Anfragen der Art Hausbesuch mit Eingang im Zeitraum. Rechtzeitig: „Hausbesuch "
     "durchgeführt am“ höchstens {visit} AT nach dem Eingang; offene Hausbesuche mit "
     "abgelaufener Frist zählen als nicht rechtzeitig. Angetroffen oder nicht laut "
     "„Ergebnis Hausbesuch“."),
    ("Gemeinsame Fälle",
     "Status „Gemeinsamer Fall“ oder beide Zustimmungen mit Datum der gemeinsamen "
     "Fallberatung, oder ein beendeter Fall mit Beendigungsgrund und Datum der "
     "Fallberatung. Begonnen: Fallberatung im Zeitraum; laufend: bis zum Stichtag begonnen "
     "und nicht beendet; beendet: „Fallende am“ im Zeitraum, nach Beendigungsgrund."),
    ("Rückmeldung im Intervall",
     "Für die am Stichtag laufenden gemeinsamen Fälle: Die spätere von Fallberatung und "
     "„Letzte Rückmeldung“ plus Rückmeldeintervall (sonst {weeks} Wochen) liegt nicht vor "
     "dem Stichtag, berechnet wie „Nächste Rückmeldung fällig“. Die Liste hält nur die "
     "letzte Rückmeldung: Liegt sie nach dem Stichtag, ist der Stand am Stichtag meist nicht "
     "mehr ablesbar (dann „nicht bestimmbar“ und nicht im Anteil)."),
    ("Kinderschutz-Hinweise", "Anzahl der Anfragen der Art Kinderschutz, ohne Einzelheiten."),
    ("Erinnerungen und Eskalationen",
     "Vom Dienst im Zeitraum versandte Mails zu Fristen einzelner Anfragen (Erinnerung "
     "vorab und am Fälligkeitstag; Eskalation nach Fristablauf), laut Versandprotokoll."),
    ("Nicht auswertbare Zeilen",
     "Text statt Datum oder fehlende Angaben: Die Zeile fehlt dann in der betroffenen Zahl "
     "und wird unter „Hinweise zur Datenqualität“ gezählt."),
)  # fmt: skip


def definitions(rules: Rules | None = None) -> list[tuple[str, str]]:
    """What each figure means, in German, for the footnote and the sheet "Definitionen"."""
    r = rules or Rules()
    values = {"contact": r.contact_days, "visit": r.home_visit_days, "weeks": r.feedback_weeks}
    return [(term, text.format(**values)) for term, text in DEFINITIONS]


def skipped_lines(figures: Figures) -> list[str]:
    """German lines like "2 Zeilen: „Eingang“ fehlt oder ist kein Datum"."""
    return [
        f"{n} {'Zeile' if n == 1 else 'Zeilen'}: {reason}"
        for reason, n in sorted(figures.skipped.items(), key=lambda item: (-item[1], item[0]))
    ]
