"""The store's cache of the last snapshot, kept compact.

A request row as a dict of 43 keys costs about 2.3 KiB before its values; as a tuple beside
one shared key list about 0.4 KiB. Every `read()` builds fresh dicts from the tuples (the
values are shared, they are immutable), so a caller may change its rows without touching the
cache, and the cache no longer doubles the memory of a snapshot the caller holds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from operator import itemgetter

from jugendhaus_mail.workbook.model import CellValue, FileFingerprint, Row, Snapshot
from jugendhaus_mail.workbook.reader import ALWAYS_KEPT, ROW_KEY


@dataclass(frozen=True)
class CompactRows:
    keys: tuple[str, ...]
    values: list[tuple[CellValue, ...]]

    @classmethod
    def of(cls, rows: list[Row]) -> CompactRows:
        keys = tuple(rows[0]) if rows else ()
        if len(keys) > 1:
            try:  # the reader gives every row of a sheet the same keys
                return cls(keys, list(map(itemgetter(*keys), rows)))
            except KeyError:
                pass
        # get() keeps it right if one row lacks a key
        return cls(keys, [tuple(row.get(key) for key in keys) for row in rows])

    def rows(self, wanted: frozenset[str] | None = None) -> list[Row]:
        if wanted is None:
            keys = self.keys
            return [dict(zip(keys, values, strict=True)) for values in self.values]
        chosen = [(i, key) for i, key in enumerate(self.keys) if key in wanted]
        return [{key: values[i] for i, key in chosen} for values in self.values]


@dataclass(frozen=True)
class CompactSnapshot:
    requests: CompactRows
    staff: CompactRows
    absences: CompactRows
    appointments: CompactRows
    fingerprint: FileFingerprint
    missing_headers: dict[str, tuple[str, ...]]
    columns: frozenset[str] | None  # request columns held; None: every column

    @classmethod
    def of(cls, snapshot: Snapshot, columns: Collection[str] | None) -> CompactSnapshot:
        return cls(
            CompactRows.of(snapshot.requests),
            CompactRows.of(snapshot.staff),
            CompactRows.of(snapshot.absences),
            CompactRows.of(snapshot.appointments),
            snapshot.fingerprint,
            dict(snapshot.missing_headers),
            _wanted(columns),
        )

    def covers(self, columns: Collection[str] | None) -> bool:
        wanted = _wanted(columns)
        return self.columns is None or (wanted is not None and wanted <= self.columns)

    def snapshot(self, columns: Collection[str] | None = None) -> Snapshot:
        """Fresh dicts; only `columns` of the requests (as the reader would give them)."""
        wanted = _wanted(columns)
        keys = None if wanted is None or wanted == self.columns else wanted | {ROW_KEY}
        return Snapshot(
            requests=self.requests.rows(keys),
            staff=self.staff.rows(),
            absences=self.absences.rows(),
            fingerprint=self.fingerprint,
            missing_headers=dict(self.missing_headers),
            appointments=self.appointments.rows(),
        )

    def narrowed(self, columns: Collection[str]) -> CompactSnapshot:
        """The same, holding only `columns` of the requests (frees the rest)."""
        wanted = _wanted(columns)
        if wanted is None or wanted == self.columns:
            return self
        keep = [i for i, key in enumerate(self.requests.keys) if key in wanted | {ROW_KEY}]
        pick = itemgetter(*keep) if len(keep) > 1 else lambda values: (values[keep[0]],)
        requests = CompactRows(
            tuple(self.requests.keys[i] for i in keep), list(map(pick, self.requests.values))
        )
        return CompactSnapshot(
            requests,
            self.staff,
            self.absences,
            self.appointments,
            self.fingerprint,
            self.missing_headers,
            wanted,
        )


def _wanted(columns: Collection[str] | None) -> frozenset[str] | None:
    return None if columns is None else frozenset(columns) | ALWAYS_KEPT
