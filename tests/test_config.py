"""The config file: defaults, validation messages that name file and key, relative paths."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.errors import ConfigError

MINIMAL = """
[office]
holiday_region = "DE-MV"
[mailbox]
backend = "maildir"
path = "postfach"
[workbook]
path = "Anfrageliste.xlsx"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jugendhaus-mail.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_gets_defaults_and_paths_relative_to_the_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.mailbox.path == tmp_path / "postfach"
    assert settings.workbook.path == tmp_path / "Anfrageliste.xlsx"
    assert settings.state_dir == tmp_path / "state"
    assert settings.office.closed_days == ((24, 12), (31, 12))
    assert settings.office.timezone == "Europe/Berlin"
    assert settings.deadlines.contact_person_days == 5
    assert settings.deadlines.home_visit_days == 10
    assert settings.schedule.digest_time == time(7, 0)
    assert settings.intake.rechtskreis_domains["jobcenter-ge.de"] == "SGB II"
    # Thursday has two Sprechzeiten by default, Wednesday none
    assert len(settings.office.office_hours[3]) == 2
    assert 2 not in settings.office.office_hours


def test_watchdog_and_retention_have_safe_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.watchdog.intake_overdue_minutes == 30
    assert settings.watchdog.pending_minutes == 60
    assert settings.retention.months == 0  # off until an office decides
    configured = load_settings(
        write(tmp_path, MINIMAL + "[watchdog]\npending_minutes = 15\n[retention]\nmonths = 24\n")
    )
    assert (configured.watchdog.pending_minutes, configured.retention.months) == (15, 24)


def test_the_bundled_example_config_is_valid(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "jugendhaus_mail" / "example_config.toml"
    settings = load_settings(write(tmp_path, example.read_text(encoding="utf-8")))
    assert settings.office.domain == "rostock.de"
    assert settings.intake.rechtskreis_domains["rostock.de"] == "SGB VIII"
    assert "jobcenter-ge.de" in settings.mail.internal_domains


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL))
    with pytest.raises(AttributeError):
        settings.office.holiday_region = "DE-BE"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[mailbox]\nbakend = "x"', "[mailbox] bakend ist unbekannt"),
        ('[office]\nholiday_region = "DE-XY"', "[office] holiday_region"),
        ('[office]\nholiday_region = "DE-MV"\nclosed_days = ["32.12"]', "[office] closed_days"),
        ('[mailbox]\nbackend = "pop3"', "erlaubt: maildir, ews, graph, imap"),
        (
            "[deadlines]\nfeedback_weeks = 8",
            "[deadlines] feedback_weeks = 8 ist nicht erlaubt: erlaubt: 1 bis 6",
        ),
        ('[deadlines]\ncontact_person_days = "fünf"', "erwartet: ganze Zahl"),
        ('[schedule]\ndigest_time = "7 Uhr"', "[schedule] digest_time"),
        ('[wokbook]\npath = "x.xlsx"', "Abschnitt [wokbook] ist unbekannt"),
        (
            '[mailbox]\nbackend = "imap"\nhost = "imap.example.de"\nusername = "u"',
            "[mailbox] password_env fehlt",
        ),
        (
            '[mailbox]\nbackend = "imap"\nhost = "h"\nusername = "u"\npassword_env = "geheim 123"',
            "NAME einer Umgebungsvariablen",
        ),
        ('[workbook]\npath = "liste.csv"', "erwartet eine .xlsx- oder .xlsm-Datei"),
        ('[office.office_hours]\nmo = ["12:30-07:30"]', "office_hours.mo"),
        ('[mail]\ninternal_domains = ["nicht eine domain"]', "[mail] internal_domains"),
        (
            "[watchdog]\nintake_overdue_minutes = 0",
            "[watchdog] intake_overdue_minutes = 0 ist nicht erlaubt: erlaubt: 1 bis 10080",
        ),
        (
            "[watchdog]\nintake_overdue_minutes = 2",
            "[watchdog] intake_overdue_minutes = 2 ist zu klein: muss größer sein als "
            "[schedule] intake_minutes (2)",
        ),
        (
            '[watchdog]\npending_minutes = "eine Stunde"',
            "[watchdog] pending_minutes hat den falschen",
        ),
        ("[watchdog]\nalarm_minutes = 5", "[watchdog] alarm_minutes ist unbekannt"),
        (
            "[retention]\nmonths = -1",
            "[retention] months = -1 ist nicht erlaubt: erlaubt: 0 bis 240",
        ),
        ("[retention]\nmonate = 24", "[retention] monate ist unbekannt"),
        (
            '[watchdog]\nalert_command = "/usr/local/bin/jhm-alarm --laut"',
            "[watchdog] alert_command hat den falschen Typ (str)",
        ),
        (
            '[watchdog]\nalert_command = ["", "--laut"]',
            "[watchdog] alert_command = ['', '--laut'] ist nicht erlaubt: erwartet: Programm",
        ),
        # an admin who sets an SMTP server for Maildir expects mail to go out: it would not
        (
            '[mailbox]\nsmtp_host = "mail.rostock.de"',
            '[mailbox] smtp_host gilt nur für backend = "imap"; mit "maildir" wird darüber '
            "nichts versendet",
        ),
    ],
)
def test_bad_values_name_file_key_and_what_is_allowed(
    tmp_path: Path, extra: str, expected: str
) -> None:
    # merge the extra section over the minimal one (TOML forbids repeating a table)
    sections: dict[str, list[str]] = {}
    current = ""
    for line in (MINIMAL + "\n" + extra).splitlines():
        if line.startswith("["):
            current = line
            sections.setdefault(current, [])
        elif line.strip():
            key = line.split("=")[0].strip()
            sections[current] = [
                item for item in sections[current] if item.split("=")[0].strip() != key
            ]
            sections[current].append(line)
    text = "\n".join(f"{head}\n" + "\n".join(lines) for head, lines in sections.items())
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_fixed_keys_are_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[workbook\] path fehlt"):
        load_settings(write(tmp_path, MINIMAL.replace('path = "Anfrageliste.xlsx"', "")))
    with pytest.raises(ConfigError, match=r"\[office\] holiday_region fehlt"):
        load_settings(write(tmp_path, MINIMAL.replace('holiday_region = "DE-MV"', "")))


def test_missing_and_broken_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="jugendhaus-mail init"):
        load_settings(tmp_path / "fehlt.toml")
    with pytest.raises(ConfigError, match="kein gültiges TOML"):
        load_settings(write(tmp_path, "[office\nholiday_region ="))
    path = tmp_path / "latin1.toml"
    path.write_bytes(
        MINIMAL.replace("DE-MV", "DE-MV").encode() + "# Schließtage\n".encode("latin-1")
    )
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(path)
