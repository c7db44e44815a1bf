"""The checks of a workbook commit (see `store.py`): before the new file replaces the old one,
prove from its read-back that the changes are in and nothing was lost.

The read-back holds only the columns `checked_columns` names; `_first_problem` compares
exactly those, so reading the rest of each row would prove nothing more.
"""

from __future__ import annotations

from collections import Counter
from typing import NoReturn

from jugendhaus_mail.errors import WorkbookUnsafe
from jugendhaus_mail.workbook.model import CellValue, Changes, CommitResult, Row, Snapshot
from jugendhaus_mail.workbook.reader import normalise
from jugendhaus_mail.workbook.schema import Schema


def checked_columns(changes: Changes) -> frozenset[str]:
    """The request columns the checks compare: how rows are found, and what is updated."""
    return frozenset({"nr", "service_key", *(update.column for update in changes.updates)})


def present_keys(snapshot: Snapshot) -> frozenset[str]:
    """The service keys of the request rows as the writer compares them (stripped text)."""
    keys = (row.get("service_key") for row in snapshot.requests)
    return frozenset(text for key in keys if key is not None and (text := str(key).strip()))


def refuse_taken_numbers(before: Snapshot, changes: Changes) -> None:
    """A new row never takes a Nr. another row holds (staff may type one by hand while rows
    wait); the intake cycle gives the waiting row the next free number."""
    wanted = {
        nr for append in changes.appends if (nr := str(append.values.get("nr") or "").strip())
    }
    holders: dict[str, set[str]] = {}
    for row in before.requests:
        nr = str(row.get("nr") or "").strip()
        if nr in wanted:
            holders.setdefault(nr, set()).add(str(row.get("service_key") or ""))
    for append in changes.appends:
        nr = str(append.values.get("nr") or "").strip()
        if nr and holders.get(nr) and append.service_key not in holders[nr]:
            raise WorkbookUnsafe(
                f"Die Nr. {nr} steht inzwischen schon in der Anfrageliste (von Hand "
                "eingetragen?). Die wartende Anfrage bekommt im nächsten Durchgang die nächste "
                "freie Nummer; die anfragende Person wird informiert."
            )


def verify_written(
    schema: Schema, before: Snapshot, after: Snapshot, changes: Changes, result: CommitResult
) -> None:
    """Raise WorkbookUnsafe unless `after` holds the changes and everything `before` had."""
    problem = _first_problem(schema, before, after, changes, result)
    if problem:
        refuse(problem)


def refuse(problem: str) -> NoReturn:
    """The check failed: nothing is replaced."""
    raise WorkbookUnsafe(
        f"Prüfung vor dem Speichern fehlgeschlagen: {problem}. Die Arbeitsmappe bleibt "
        "unverändert; bitte den Fehler melden."
    )


def _first_problem(
    schema: Schema, before: Snapshot, after: Snapshot, changes: Changes, result: CommitResult
) -> str | None:
    for sheet in schema.sheets:
        lost = set(after.missing_headers.get(sheet.name, ())) - set(
            before.missing_headers.get(sheet.name, ())
        )
        if lost:
            return f"im Blatt {sheet.name} fehlen Spalten: {', '.join(sorted(lost))}"
    for name, old, new in (
        (schema.requests.name, before.requests, after.requests),
        (schema.staff.name, before.staff, after.staff),
        (schema.absences.name, before.absences, after.absences),
    ):
        if len(new) < len(old):
            return f"im Blatt {name} fehlen Zeilen ({len(old)} vorher, {len(new)} nachher)"
    keys = Counter(row.get("service_key") for row in after.requests)
    for old_key in {row.get("service_key") for row in before.requests} - {None}:
        if old_key not in keys:
            return "eine vorhandene Anfrage fehlt"
    for key in {a.service_key for a in changes.appends} | set(result.appended_keys):
        if keys[key] != 1:
            return f"neue Anfrage {keys[key]}-mal statt einmal vorhanden"
    types = {c.key: c.type for c in schema.requests.columns}
    return _update_problem(types, before.requests, after.requests, changes, result)


def _update_problem(
    types: dict[str, str],
    before: list[Row],
    after: list[Row],
    changes: Changes,
    result: CommitResult,
) -> str | None:
    """Each updated cell holds the new value, or its old one if the writer declined it."""
    if not changes.updates:
        return None  # nothing to look up (an intake save: new rows only)
    old_rows = {row.get("nr"): row for row in before}
    new_rows = {row.get("nr"): row for row in after}
    last = {(u.nr, u.column): u.value for u in changes.updates}
    applied = 0
    for (nr, column), value in last.items():
        if nr not in new_rows:
            continue
        kind = types.get(column, "text")
        now_there = _comparable(new_rows[nr].get(column), kind)
        was_there = _comparable(old_rows.get(nr, {}).get(column), kind)
        if now_there == _comparable(value, kind):
            applied += 1
        elif now_there != was_there:
            return f"Zelle {column!r} der Anfrage {nr} hat einen unerwarteten Wert"
    if applied < min(result.updated, len(last)):
        return f"nur {applied} von {result.updated} geänderten Zellen gefunden"
    return None


def _comparable(value: CellValue, column_type: str) -> CellValue:
    normal = normalise(value, column_type)
    if isinstance(normal, str):  # the writer may drop control characters Excel refuses
        return "".join(ch for ch in normal if ch >= " " or ch in "\t\n\r").strip()
    return normal
