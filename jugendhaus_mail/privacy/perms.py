"""Warnings when social data is readable by everyone on the machine (Art. 32 DSGVO)."""

from __future__ import annotations

import os
import stat

from jugendhaus_mail.config import Settings


def exposure_warnings(settings: Settings) -> list[str]:
    """One German sentence per path that every account on the machine can read."""
    if os.name != "posix":
        return []  # Windows: the share's ACLs decide; nothing meaningful to read here
    lines = []
    for path, what in (
        (settings.state_dir, "Der Ordner mit Zustandsdatenbank und Sicherungen"),
        (settings.workbook.path, "Die Anfrageliste"),
    ):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & stat.S_IROTH:
            fix = "chmod o-rwx" if path.is_dir() else "chmod o-r"
            lines.append(
                f"{what} {path} ist für alle Benutzer des Rechners lesbar (Sozialdaten). Bitte "
                f"die Rechte einschränken, z. B. `{fix} {path}`."
            )
    return lines
