"""The declarative description of the workbook (`workbook_schema/anfrageliste.toml`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jugendhaus_mail.resources import resource_dir

COLUMN_TYPES = ("text", "int", "date", "datetime")
OWNERS = ("service", "intake", "staff", "shared")
STAFF_LIST = "staff"  # a dropdown fed by the names in Mitarbeitende


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str
    owner: str
    list: str | None = None
    width: float = 14
    hidden: bool = False

    @property
    def service_writes_later(self) -> bool:
        """True where the service may change the cell of an existing row."""
        return self.owner in ("service", "shared")


@dataclass(frozen=True)
class Sheet:
    name: str
    table: str
    columns: tuple[Column, ...]
    deadline_columns: tuple[str, ...] = ()
    finished_statuses: tuple[str, ...] = ()

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(f"{self.name}: no column with key {key!r}")

    @property
    def by_header(self) -> dict[str, Column]:
        return {c.header: c for c in self.columns}


@dataclass(frozen=True)
class Schema:
    version: int
    lists: dict[str, tuple[str, ...]]
    sheets: tuple[Sheet, ...]

    def sheet(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(f"schema has no sheet {name!r}")

    @property
    def requests(self) -> Sheet:
        return self.sheet("Anfragen")

    @property
    def staff(self) -> Sheet:
        return self.sheet("Mitarbeitende")

    @property
    def absences(self) -> Sheet:
        return self.sheet("Abwesenheiten")


def parse_schema(data: dict[str, object]) -> Schema:
    lists = {name: tuple(values) for name, values in data["lists"].items()}  # type: ignore[attr-defined]
    sheets = []
    for raw in data["sheets"]:  # type: ignore[attr-defined]
        columns = tuple(Column(**col) for col in raw["columns"])
        for col in columns:
            if col.type not in COLUMN_TYPES or col.owner not in OWNERS:
                raise ValueError(f"schema: column {col.key!r} has bad type or owner")
            if col.list is not None and col.list != STAFF_LIST and col.list not in lists:
                raise ValueError(f"schema: column {col.key!r} names unknown list {col.list!r}")
        finished = raw.get("finished_when", {}).get("status", [])
        sheets.append(
            Sheet(
                name=raw["name"],
                table=raw["table"],
                columns=columns,
                deadline_columns=tuple(raw.get("deadline_columns", ())),
                finished_statuses=tuple(finished),
            )
        )
    return Schema(version=int(data["version"]), lists=lists, sheets=tuple(sheets))  # type: ignore[call-overload]


@cache
def load_schema(path: Path | None = None) -> Schema:
    """The bundled schema (or another file, for tests)."""
    path = path or resource_dir("workbook_schema") / "anfrageliste.toml"
    with path.open("rb") as fh:
        return parse_schema(tomllib.load(fh))
