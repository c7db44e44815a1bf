"""The CLI contract: help for every command, fast --help, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jugendhaus_mail.cli import COMMANDS, main
from tests.site import STAFF, make_site, request_mail, set_staff, utc

HEAVY = (
    "openpyxl",
    "exchangelib",
    "msal",
    "docxtpl",
    "holidays",
    "jinja2",
    "python_calamine",
    "requests",
)


def test_help_imports_no_mail_excel_or_calendar_library() -> None:
    code = (
        "import sys\n"
        "from jugendhaus_mail.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "Teampostfach" in result.stdout
    assert result.stdout.strip().endswith("[]"), result.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_german_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert COMMANDS[command][1] in capsys.readouterr().out


def test_python_dash_m_works_and_a_bad_config_is_one_line_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "jugendhaus-mail.toml"
    config.write_text(
        '[office]\nholiday_region = "DE-MV"\n[mailbox]\nbackend = "pop3"\n', encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "jugendhaus_mail", "--config", str(config), "poll"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert (
        "[mailbox] backend" in result.stderr
        and "erlaubt: maildir, ews, graph, imap" in result.stderr
    )


def test_init_writes_a_starter_config_and_refuses_to_overwrite_the_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "neu" / "jugendhaus-mail.toml"
    assert main(["--config", str(config), "init"]) == 0
    assert config.exists() and (tmp_path / "neu" / "Anfrageliste.xlsx").exists()
    assert (tmp_path / "neu" / "postfach" / "new").is_dir()
    before = (tmp_path / "neu" / "Anfrageliste.xlsx").read_bytes()
    assert main(["--config", str(config), "init"]) == 2
    assert "überschreibt keine Anfrageliste" in capsys.readouterr().err
    assert (tmp_path / "neu" / "Anfrageliste.xlsx").read_bytes() == before


def test_check_is_healthy_on_a_set_up_site_and_unhealthy_with_waiting_rows(
    tmp_path: Path,
) -> None:
    fresh = make_site(tmp_path / "fresh")
    unset = fresh.cli("check", now="2026-03-10T08:00", check=False)
    assert unset.returncode == 1 and "PROBLEM Blatt Mitarbeitende" in unset.stdout
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    set_staff(site, STAFF)
    healthy = site.cli("check", now="2026-03-10T08:00")
    assert "OK" in healthy.stdout and "PROBLEM" not in healthy.stdout
    # a Maildir site is told that nothing leaves the machine
    assert "Maildir versendet nichts" in healthy.stdout
    site.deliver(request_mail("Fallanfrage", "x", message_id="<w@x.de>"), utc(2026, 3, 9, 9), "w")
    (site.root / ".~lock.Anfrageliste.xlsx#").write_text(
        ",Maria Meier,pc1,10.03.2026 07:55,file:///x;"
    )
    polled = site.cli("poll", now="2026-03-10T08:00")
    assert "Warten auf die Anfrageliste: 1" in polled.stdout
    assert "1 Mail(s) in .Postausgang abgelegt, nicht versendet:" in polled.stdout
    assert "gesendet:" not in polled.stdout
    unhealthy = site.cli("check", now="2026-03-10T09:05", check=False)  # after pending_minutes
    assert unhealthy.returncode == 1
    assert "1 Anfrage(n) warten" in unhealthy.stdout
    assert "Maria Meier" in unhealthy.stdout


def test_poll_dry_run_prints_a_table_and_changes_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    site.deliver(request_mail("Hausbesuch", "x", message_id="<h@x.de>"), utc(2026, 3, 9, 9), "h")
    result = site.cli("poll", "--dry-run", now="2026-03-10T08:00")
    assert "Hausbesuch" in result.stdout and "2026-0001 (geplant)" in result.stdout
    assert "Probelauf" in result.stdout
    assert len(site.inbox()) == 1
