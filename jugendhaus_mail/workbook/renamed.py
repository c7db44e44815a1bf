"""Columns staff renamed. The service finds columns by their header; a column whose header
staff changed is missing to it. The upgrade must not add it again under its old name (empty,
at the right end: every open request would then lack its contact person or status), and the
jobs that read it say which header took its place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from jugendhaus_mail.errors import JugendhausError, WorkbookUnsafe
from jugendhaus_mail.workbook.model import header_key
from jugendhaus_mail.workbook.reader import read_file
from jugendhaus_mail.workbook.schema import Schema, Sheet
from jugendhaus_mail.workbook.xlsx_zip import ZipPackage, locate_parts


def renamed_columns(sheet: Sheet, names: Sequence[str]) -> dict[str, str]:
    """Schema header -> the table column that took its place: the schema columns before and
    after it stand in the table with exactly one column between them, whose header the
    schema does not know. A column the schema gained in a later version has nothing between
    its neighbours in an older workbook, so it is appended as before. Not recognised: the
    schema's first and last column (staff add columns of their own at the edges) and a column
    renamed after an upgrade had appended it at the right end."""
    known = {header_key(column.header) for column in sheet.columns}
    position = {header_key(name): index for index, name in enumerate(names)}
    renamed: dict[str, str] = {}
    columns = sheet.columns
    for index in range(1, len(columns) - 1):  # at the edges a column of staff's own may stand
        if header_key(columns[index].header) in position:
            continue
        before = position.get(header_key(columns[index - 1].header))
        after = position.get(header_key(columns[index + 1].header))
        if before is None or after is None or after - before != 2:
            continue
        candidate = names[before + 1]
        if candidate.strip() and header_key(candidate) not in known:
            renamed[columns[index].header] = candidate
    return renamed


def renamed_in(path: Path, schema: Schema) -> dict[str, dict[str, str]]:
    """Sheet -> {schema header: header now there} for the columns staff renamed in `path`;
    empty when the file cannot be read now (the caller read it a moment ago: the next cycle
    reads it again)."""
    try:
        return renamed_in_package(ZipPackage(read_file(path)[0]), schema)
    except JugendhausError:
        return {}


def renamed_in_package(package: ZipPackage, schema: Schema) -> dict[str, dict[str, str]]:
    """`renamed_in` for a workbook already open as a package (the upgrade)."""
    found: dict[str, dict[str, str]] = {}
    for sheet in schema.sheets:
        try:
            parts = locate_parts(package, sheet)
        except WorkbookUnsafe:
            continue  # no such sheet or table: `check` says so
        if renamed := renamed_columns(sheet, parts.table.column_names):
            found[sheet.name] = renamed
    return found


def described_missing(headers: Sequence[str], renamed: Mapping[str, str]) -> str:
    """Missing headers for staff: „Ansprechpartner JSB“ (heißt jetzt „Ansprechpartner“?), …"""
    return ", ".join(
        f"„{header}“" + (f" (heißt jetzt „{renamed[header]}“?)" if header in renamed else "")
        for header in headers
    )
