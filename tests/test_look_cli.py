"""What the command line shows: German throughout, global options anywhere, errors naming files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from jugendhaus_mail.cli import COMMANDS, build_parser, main
from tests.site import make_site

ENGLISH = (
    "usage:",
    "positional arguments",
    "options:",
    "show this help",
    "show program's version",
    "error:",
    "the following arguments",
    "invalid choice",
    "unrecognized arguments",
    "expected one argument",
)


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jugendhaus_mail", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("command", [None, *sorted(COMMANDS)])
def test_help_has_german_headings_and_no_english(
    command: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"] if command is None else [command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Aufruf: jugendhaus-mail")
    assert "Optionen:" in out
    assert "-h, --help" in out and "diese Hilfe anzeigen" in out
    if command is None or command in ("letter", "report"):
        assert "Positionsargumente:" in out
    for english in ENGLISH:
        assert english not in out.lower(), (english, out)


def test_version_help_is_german(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "Versionsnummer anzeigen" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "es fehlt: BEFEHL"),
        (["gibtsnicht"], "'gibtsnicht' gibt es nicht"),
        (["poll", "--quatsch"], "unbekannte Angabe(n): --quatsch"),
        (["letter", "2026-0001", "brief", "--out", "x.docx"], "'brief' gibt es nicht"),
        (["letter", "2026-0001", "einladung"], "es fehlt: --out"),
        (["--config"], "--config erwartet einen Wert"),
    ],
)
def test_wrong_arguments_end_in_one_german_line_with_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Fehler: ") and err.count("\n") == 1, err
    assert expected in err
    assert "--help" in err
    for english in ENGLISH:
        assert english not in err.lower(), (english, err)


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_bad_now_ends_like_every_other_error(where: str, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    config = ["--config", str(site.config)]
    now = ["--now", "morgen früh"]
    argv = [*config, *now, "check"] if where == "before" else ["check", *config, *now]
    result = _run(*argv)
    assert result.returncode == 2
    assert result.stderr.startswith("Fehler: ") and result.stderr.count("\n") == 1
    assert "'morgen früh' ist kein Zeitpunkt" in result.stderr
    assert "Traceback" not in result.stderr


def test_global_options_work_after_the_command(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    before = _run("--config", str(site.config), "--now", "2026-03-10T08:00", "check")
    after = _run("check", "--config", str(site.config), "--now", "2026-03-10T08:00")
    assert before.returncode == after.returncode and after.returncode in (0, 1), after.stderr
    assert after.stdout == before.stdout and "Konfiguration" in after.stdout
    args = build_parser().parse_args(["--config", "a.toml", "poll", "--dry-run"])
    assert args.config == Path("a.toml") and args.now is None and args.verbose is False
    args = build_parser().parse_args(["poll", "--config", "b.toml", "-v", "--now", "2026-03-10"])
    assert args.config == Path("b.toml") and args.now == "2026-03-10" and args.verbose is True
    # given after the command wins over the one before it
    args = build_parser().parse_args(["--config", "a.toml", "poll", "--config", "b.toml"])
    assert args.config == Path("b.toml")


def test_a_broken_workbook_error_names_the_workbook(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    workbook = site.root / "Anfrageliste.xlsx"
    workbook.write_bytes(b"PK\x03\x04 kaputt")
    result = _run("poll", "--config", str(site.config), "--now", "2026-03-10T08:00")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Fehler: {workbook}: "), result.stderr


def test_a_missing_config_names_the_file(tmp_path: Path) -> None:
    result = _run("check", "--config", str(tmp_path / "fehlt.toml"))
    assert result.returncode == 2
    assert re.search(r"Fehler: .*fehlt\.toml", result.stderr), result.stderr
