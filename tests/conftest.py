"""The one place that decides which outside tools the tests may use.

LibreOffice, Chromium, pdftotext, Dovecot and the shared mail corpus are installed by `.ci/run`.
On a developer's machine a test that needs a missing one is skipped with the command that
installs it; with `CI=true` (as `.ci/run` runs) it fails instead, so a CI run can never pass
by silently testing less.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

_CORPUS_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus"


# Dovecot lives in sbin, which a non-root PATH may lack
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])

# tool -> (program names to look for, how to install it)
TOOLS: dict[str, tuple[tuple[str, ...], str]] = {
    "soffice": (
        ("soffice", "libreoffice"),
        "apt-get install -y libreoffice-calc-nogui libreoffice-writer-nogui",
    ),
    "chromium": (("chromium", "chromium-browser"), "apt-get install -y chromium"),
    "pdftotext": (("pdftotext",), "apt-get install -y poppler-utils"),
    "pdftoppm": (("pdftoppm",), "apt-get install -y poppler-utils"),
    "dovecot": (("dovecot",), "apt-get install -y dovecot-imapd"),
    "doveadm": (("doveadm",), "apt-get install -y dovecot-imapd"),
    "systemd-analyze": (("systemd-analyze",), "apt-get install -y systemd"),
    "make": (("make",), "apt-get install -y make"),
}


def find_tool(name: str) -> str | None:
    """The tool's path, or None when it is not installed (for code that only reports)."""
    names, _hint = TOOLS[name]
    return next((f for n in names if (f := shutil.which(n, path=_SEARCH_PATH))), None)


def require_tool(name: str) -> str:
    """The tool's path; skips the test without it (fails under CI=true)."""
    path = find_tool(name)
    if path is None:
        _missing(f"{name} fehlt: `{TOOLS[name][1]}` (.ci/run installiert es)")
    assert path is not None
    return path


def corpus_root() -> Path:
    override = os.environ.get("JUGENDHAUS_CORPUS")
    return Path(override) if override else _CORPUS_DEFAULT


def require_corpus() -> Path:
    """The shared real-world mail corpus (`../shared/corpus` beside the checkout)."""
    root = corpus_root()
    if not root.is_dir() or not any(root.rglob("*")):
        _missing(
            f"Mail-Korpus fehlt unter {root} (JUGENDHAUS_CORPUS setzen oder ../shared anlegen)"
        )
    return root


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def soffice() -> str:
    return require_tool("soffice")


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_tool("chromium")


@pytest.fixture(scope="session")
def pdftotext() -> str:
    return require_tool("pdftotext")
