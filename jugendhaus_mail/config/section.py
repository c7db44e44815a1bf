"""Reading one TOML table: typed values, checks, and one German message per problem."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

from jugendhaus_mail.errors import ConfigError

T = TypeVar("T")


class _Section:
    """Pops typed values out of one TOML table and remembers what was not understood."""

    def __init__(self, source: Path, name: str, table: object) -> None:
        self.source = source
        self.name = name
        if not isinstance(table, dict):
            self.fail("", "muss eine Tabelle sein, z. B. [" + name + "]")
        self.table: dict[str, Any] = dict(table) if isinstance(table, dict) else {}

    def fail(self, key: str, problem: str) -> None:
        where = f"[{self.name}] {key}".strip() if key else f"[{self.name}]"
        raise ConfigError(f"{self.source}: {where} {problem}")

    def get(
        self, key: str, default: T, kind: type, check: Callable[[Any], str | None] | None = None
    ) -> T:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(
                key, f"hat den falschen Typ ({type(value).__name__}); erwartet: {_KIND_NAMES[kind]}"
            )
        if check is not None and (problem := check(value)):
            self.fail(key, f"= {value!r} ist nicht erlaubt: {problem}")
        return value  # type: ignore[no-any-return]

    def require(self, key: str, hint: str) -> None:
        if key not in self.table:
            self.fail(key, f"fehlt; dieser Schlüssel ist Pflicht ({hint})")

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        return self.get(
            key, default, str, lambda v: None if v in allowed else "erlaubt: " + ", ".join(allowed)
        )

    def path(self, key: str, default: Path | None) -> Path | None:
        raw = self.get(key, None, str, lambda v: None if v.strip() else "darf nicht leer sein")
        if raw is None:
            return None if default is None else self._resolve(default)
        return self._resolve(Path(raw))

    def _resolve(self, path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else (self.source.parent / path)

    def int_range(self, key: str, default: int, low: int, high: int) -> int:
        return self.get(
            key, default, int, lambda v: None if low <= v <= high else f"erlaubt: {low} bis {high}"
        )

    def time_of_day(self, key: str, default: time) -> time:
        raw = self.get(
            key, None, str, lambda v: None if _parse_hhmm(v) else 'erwartet: Uhrzeit wie "07:00"'
        )
        return default if raw is None else _parse_hhmm(raw)  # type: ignore[return-value]

    def done(self) -> None:
        if self.table:
            key = sorted(self.table)[0]
            self.fail(
                key,
                "ist unbekannt; bitte Schreibweise prüfen (alle Schlüssel stehen in "
                "jugendhaus_mail/example_config.toml)",
            )


_KIND_NAMES = {
    str: "Text",
    int: "ganze Zahl",
    float: "Zahl",
    bool: "true/false",
    list: "Liste",
    dict: "Tabelle",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


def _parse_hhmm(value: str) -> time | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def _check_email(value: str) -> str | None:
    return None if not value or _EMAIL.match(value) else "erwartet: eine E-Mail-Adresse"


def _check_env_name(value: str) -> str | None:
    if not value or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return None
    return (
        "erwartet: der NAME einer Umgebungsvariablen "
        "(das Geheimnis selbst gehört nicht in die Datei)"
    )


def _domains(section: _Section, key: str) -> tuple[str, ...]:
    values: list[Any] = section.get(key, [], list)
    out = []
    for value in values:
        if not isinstance(value, str) or not _DOMAIN.match(value.lower().lstrip("@")):
            section.fail(key, f'enthält {value!r}; erwartet: Domains wie "rostock.de"')
        out.append(value.lower().lstrip("@"))
    return tuple(out)


def _check_timezone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return 'unbekannte Zeitzone; erwartet z. B. "Europe/Berlin"'
    return None


def _check_display_name(value: str) -> str | None:
    if any(ord(c) < 32 for c in value):
        return "darf keinen Zeilenumbruch enthalten"
    return None if value.strip() else "darf nicht leer sein"
