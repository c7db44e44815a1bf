"""What flows between the intake/rules code and the workbook: rows in, changes out.

Values are keyed by the schema's column keys (English), never by position or header text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

CellValue = str | int | float | date | datetime | None
Row = dict[str, CellValue]


@dataclass(frozen=True)
class FileFingerprint:
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class Snapshot:
    """The workbook as the service reads it: one dict per data row of each sheet.

    Only columns whose header was found are present (and, after `read(columns=…)`, only those
    request columns with `nr` and `service_key`). Rows are in sheet order; `requests` rows
    carry the Excel row number under the key "_row" for messages only (rows are found by Nr.).
    """

    requests: list[Row]
    staff: list[Row]
    absences: list[Row]
    fingerprint: FileFingerprint
    missing_headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    appointments: list[Row] = field(default_factory=list)  # sheet Termine, "_row" as above


@dataclass(frozen=True)
class NewRow:
    """A row to append to `Anfragen`. `service_key` goes into the hidden key column and makes
    the append idempotent: a row whose key is already in the sheet is not appended again."""

    service_key: str
    values: Row


@dataclass(frozen=True)
class CellUpdate:
    """Set one cell of an existing request, found by its `Nr.`. Only for columns the service
    may write later (owner "service" or "shared")."""

    nr: str
    column: str
    value: CellValue


@dataclass(frozen=True)
class Changes:
    appends: tuple[NewRow, ...] = ()
    updates: tuple[CellUpdate, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.appends or self.updates)


@dataclass(frozen=True)
class CommitResult:
    appended_keys: tuple[str, ...]  # keys now in the file (newly written or found already there)
    updated: int
    backup: str | None = None
    # Updates the writer declined, one German sentence each (cell, what is there, why)
    skipped: tuple[str, ...] = ()
    read_sha256: str | None = None  # the version the changes were made on (set by the store)
    landed_sha256: str | None = None  # the version written


def header_key(text: object) -> str:
    """How headers, sheet names and typed list values are compared everywhere: trimmed, inner
    whitespace collapsed, any case ("Frist  ansprechpartner " is `Frist Ansprechpartner`)."""
    return " ".join(str(text).split()).casefold()
