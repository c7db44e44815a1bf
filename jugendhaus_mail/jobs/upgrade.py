"""The upgrade step: the configured workbook gets the schema's new columns and sheets."""

from __future__ import annotations

import logging

from jugendhaus_mail.app import App
from jugendhaus_mail.workbook.migrate import Migration, migrate_workbook
from jugendhaus_mail.workbook.schema import load_schema

log = logging.getLogger(__name__)


def upgrade_workbook(app: App) -> Migration:
    """Bring the configured workbook up to the schema: new columns and sheets, after a backup
    (nothing to do when it is current or missing)."""
    path = app.settings.workbook.path
    if not path.exists():
        return Migration(())
    result = migrate_workbook(
        path,
        load_schema(),
        backup_dir=app.settings.state_dir / "backups",
        now=app.now.astimezone(app.calendar.tz),  # the backup's name in office time
    )
    if result.sheets:
        log.warning(
            "Anfrageliste um neue Blätter ergänzt (%s); Sicherung: %s",
            ", ".join(result.sheets),
            result.backup,
        )
    if result.look:
        log.warning(
            "Anfrageliste: neues Aussehen ergänzt (%s); Sicherung: %s",
            ", ".join(result.look),
            result.backup,
        )
    for sheet, old, new in result.renamed:
        log.warning(
            "Anfrageliste, Blatt %s: Spalte „%s“ heißt jetzt „%s“? Sie wird nicht neu angelegt; "
            "bitte die Überschrift wiederherstellen, bis dahin ruhen die Erinnerungen.",
            sheet,
            old,
            new,
        )
    if result.added:
        columns = ", ".join(f"{sheet}: {header}" for sheet, header in result.added)
        log.warning(
            "Anfrageliste um neue Spalten ergänzt (%s); Sicherung: %s", columns, result.backup
        )
    return result
