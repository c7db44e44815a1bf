"""The README and deploy/ as an admin follows them: file names that exist, messages quoted as
the program prints them, the complete list of columns the service writes, section references
that exist, and `make demo` installing only what the program needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jugendhaus_mail.workbook.schema import load_schema
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Paths that exist only on a running site or a server, not in the checkout
RUNTIME = (
    "demo/", "state/", "/etc/", "/var/", "/opt/", "/srv/", "postfach", "~$", ".~lock",
    "Halbjahresbericht-", "DATEI", "probe.docx", "jugendhaus-mail.toml", "Anfrageliste.xlsx",
    ".Anfrageliste.xlsx", ".jugendhaus-mail.lock", "<", "…", "*", "C:\\", "/EWS/",
    "https://", "/etc", "Sent Items", "new/", "cur/", "text/",
)  # fmt: skip


def _backticked(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def _mentioned_files(text: str) -> set[str]:
    found = set()
    for token in _backticked(text):
        for word in token.split():
            word = word.strip("(),;:")
            if any(marker in word for marker in RUNTIME):
                continue
            if re.fullmatch(r"[\w.-]+/[\w./-]*", word):  # a path in the checkout
                found.add(word)
    return found


def test_every_file_the_readme_names_exists() -> None:
    mentioned = _mentioned_files(README)
    assert {"workbook_schema/anfrageliste.toml", "deploy/jugendhaus-mail.service"} <= mentioned
    missing = sorted(
        m
        for m in mentioned
        if not any((base / m.rstrip("/")).exists() for base in (ROOT, ROOT / "jugendhaus_mail"))
    )
    assert missing == []


@pytest.mark.parametrize("doc", ["deploy/windows.md", "deploy/jugendhaus-mail.service"])
def test_deploy_installs_from_the_checkout_and_points_to_existing_sections(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert "pip install jugendhaus-mail" not in text  # the package is not on the public index
    assert "pip install ." in text
    headings = {h.strip() for h in re.findall(r"^#+ (.+)$", README, flags=re.M)}
    for section in re.findall(r"Abschnitt „([^“]+)“", text):
        assert section in headings, section


def test_troubleshooting_quotes_messages_as_the_program_prints_them() -> None:
    table = README.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for pattern in ("jugendhaus_mail/**/*.py", "templates/mail/*")
        for p in ROOT.glob(pattern)
    )
    # a quoted message is literal text between the "…" gaps the program fills in
    flat = " ".join(sources.replace('"\n', "").replace('f"', "").split())
    quotes = [q for row in table.splitlines()[2:] for q in _backticked(row.split("|")[1])]
    quotes += re.findall(r"„([^“]+)“", "\n".join(r.split("|")[1] for r in table.splitlines()[2:]))
    assert len(quotes) >= 12
    for quote in quotes:
        # example values in the README stand where the program fills in the real ones
        examples = (
            r"…|N\b|HH:MM|/…/jugendhaus-mail\.toml: \[mailbox\] bakend|'morgen'"
            r"|\(Hilfe: jugendhaus-mail --help\)"  # argparse's prog, checked by running it below
        )
        for fragment in re.split(examples, quote.removeprefix("Fehler: ")):
            fragment = fragment.strip(" .–-")
            if len(fragment) < 4 or fragment.startswith(("check", "digest", "--send-test")):
                continue
            words = [re.escape(w) for w in fragment.split()]
            pattern = r'[\s"]*'.join(words)
            assert re.search(pattern, flat), (quote, fragment)


def test_the_quoted_argument_error_is_what_the_program_prints(tmp_path: Path) -> None:
    [quoted] = re.findall(r"`(Fehler: --now: [^`]+)`", README)
    from tests.site import make_site

    site = make_site(tmp_path / "site")
    result = subprocess.run(
        [sys.executable, "-m", "jugendhaus_mail", "--config", str(site.config), "--now", "morgen",
         "check"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == quoted


def test_the_readme_lists_every_column_the_service_writes() -> None:
    section = README.split("**Columns the service writes**", 1)[1].split("**Looks", 1)[0]
    listed = set(_backticked(section))
    schema = load_schema()
    for sheet in (schema.requests, *(s for s in schema.sheets if s.name == "Termine")):
        written = {c.header for c in sheet.columns if c.owner != "staff"}
        assert written <= listed, (sheet.name, sorted(written - listed))
    staff_only = {c.header for c in schema.requests.columns if c.owner == "staff"}
    assert listed & staff_only == {"Bemerkungen"}  # named for the restore note only


def test_make_demo_installs_only_what_the_program_needs(tmp_path: Path) -> None:
    make = require_tool("make")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    def planned(target: str) -> list[str]:
        result = subprocess.run(
            [make, "-n", target], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return [line for line in result.stdout.splitlines() if "pip install" in line]

    demo = planned("demo")
    assert any(line.rstrip().endswith("install -q -e .") for line in demo), demo
    assert not any("[test]" in line for line in demo)
    assert any("'.[test]'" in line for line in planned("test"))
    # a venv made for the tests needs nothing more for the demo
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").touch()
    checksum = subprocess.run(
        ["cksum", "pyproject.toml"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    for stamp in ("app", "test"):
        (tmp_path / ".venv" / f".installed-{stamp}-{checksum}").touch()
    assert planned("demo") == [] and planned("test") == []
