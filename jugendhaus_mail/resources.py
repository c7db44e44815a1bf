"""Locate the files that ship beside the code: templates and the workbook schema.

In a wheel they live inside the package (hatch force-include); in a source checkout they
are top-level folders next to the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder `name` ("templates", "workbook_schema") wherever it was installed."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"Ordner {name!r} fehlt in der Installation ({_PACKAGE_DIR}); bitte neu installieren."
    )
