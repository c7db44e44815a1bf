"""`check --nagios`: one line in the monitoring-plugin format, exit 0/1/2/3, as Icinga, Nagios,
Checkmk and Zabbix run it (a real process; only the first line of stdout counts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc

ADMIN = 'admin_address = "it@rostock.de"\n'
# label=value[UOM];[warn];[crit];[min];[max], see the Monitoring Plugins Development Guidelines
PERFDATA = re.compile(r"[a-z_]+=(\d+|U);[^;\s]*;[^;\s]*;[^;\s]*(;[^;\s]*)?")
LINE = re.compile(
    r"JUGENDHAUS-MAIL (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| ((?:\S+ ?)+))?"
)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site", ADMIN)
    set_staff(site, STAFF)
    return site


def nagios(site: Site, now: str) -> tuple[int, str, str, dict[str, str]]:
    result = site.cli("check", "--nagios", now=now, check=False)
    assert result.stderr == "", result.stderr
    [line] = result.stdout.splitlines()
    match = LINE.fullmatch(line)
    assert match, line
    perf: dict[str, str] = {}
    for item in (match[3] or "").split():
        assert PERFDATA.fullmatch(item), item
        label, _, rest = item.partition("=")
        perf[label] = rest.split(";")[0]
    return result.returncode, match[1], match[2], perf


def test_healthy_after_an_intake(site: Site) -> None:
    auto = request_mail(
        "Abwesend", "bin weg", message_id="<a@x>", headers=[("Auto-Submitted", "auto-replied")]
    )
    site.deliver(auto, utc(2026, 3, 30, 6, 30), "auto")
    site.cli("poll", now="2026-03-30T09:00")
    code, state, text, perf = nagios(site, "2026-03-30T09:07")
    assert (code, state) == (0, "OK"), text
    assert text == "letzter Abruf vor 7 Minuten, 0 Anfrage(n) warten, 0 Mail(s) unversandt"
    assert perf == {
        "waiting": "0",
        "unsent": "0",
        "unaddressed": "0",
        "minutes_since_intake": "7",
        "set_aside_today": "1",
    }


def test_rows_waiting_long_for_the_open_workbook_are_a_warning(site: Site) -> None:
    site.deliver(request_mail("Fallanfrage", "x", message_id="<w@x>"), utc(2026, 3, 30, 6), "w")
    (site.root / ".~lock.Anfrageliste.xlsx#").write_text(
        ",Maria Meier,pc1,30.03.2026 08:55,file:///x;", encoding="utf-8"
    )
    site.cli("poll", now="2026-03-30T09:00")
    code, state, _text, perf = nagios(site, "2026-03-30T09:10")
    assert (code, state, perf["waiting"]) == (0, "OK", "1")
    site.cli("poll", now="2026-03-30T10:05")  # the intake itself is fine
    code, state, text, perf = nagios(site, "2026-03-30T10:06")
    assert (code, state) == (1, "WARNING"), text
    assert text == "1 Anfrage(n) warten seit 30.03. 09:00 auf die Anfrageliste"
    assert perf["waiting"] == "1"


def test_a_site_nobody_can_be_told_about_is_a_warning(tmp_path: Path) -> None:
    site = make_site(tmp_path / "fresh")
    site.cli("poll", now="2026-03-30T09:00")
    code, state, text, _perf = nagios(site, "2026-03-30T09:01")
    assert (code, state) == (1, "WARNING")
    assert "Blatt Mitarbeitende: keine aktiven Mitarbeitenden" in text
    assert "[mail] admin_address fehlt" in text


def test_an_overdue_intake_is_critical(site: Site) -> None:
    site.cli("poll", now="2026-03-30T09:00")
    code, state, text, perf = nagios(site, "2026-03-30T09:45")
    assert (code, state) == (2, "CRITICAL"), text
    assert text.startswith("seit 45 Minuten kein erfolgreicher Abruf des Postfachs")
    assert "(Dienst läuft nicht)" in text
    assert perf["minutes_since_intake"] == "45"


def test_a_damaged_state_database_is_critical(site: Site) -> None:
    site.cli("poll", now="2026-03-30T09:00")
    database = site.root / "state" / "jugendhaus-mail.sqlite3"
    for leftover in database.parent.glob("jugendhaus-mail.sqlite3-*"):
        leftover.unlink()
    database.write_bytes(b"kein SQLite" * 100)
    code, state, text, _perf = nagios(site, "2026-03-30T09:01")
    assert (code, state) == (2, "CRITICAL"), text
    assert "Zustandsdatenbank" in text


def test_an_unreadable_config_is_unknown(site: Site) -> None:
    config = site.config.read_text(encoding="utf-8")
    site.config.write_text(config.replace("backend =", "bakend ="), encoding="utf-8")
    code, state, text, perf = nagios(site, "2026-03-30T09:00")
    assert (code, state) == (3, "UNKNOWN")
    assert text.startswith("Konfiguration nicht lesbar:") and "[mailbox] backend" in text
    assert perf == {}


def test_a_failed_intake_is_a_warning_until_it_is_overdue(site: Site) -> None:
    (site.root / "postfach").rename(site.root / "weg")
    site.cli("poll", now="2026-03-30T09:00", check=False)
    code, state, text, perf = nagios(site, "2026-03-30T09:05")
    assert (code, state) == (1, "WARNING"), text
    assert text == "Abruf des Postfachs: letzter Lauf fehlgeschlagen"
    assert perf["minutes_since_intake"] == "U"  # never succeeded: undetermined


def test_mail_queued_longer_than_an_hour_is_a_warning(site: Site) -> None:
    from jugendhaus_mail.state import StateDB

    site.cli("poll", now="2026-03-30T10:00")
    with StateDB(site.root / "state") as state:  # queued 08:55, 09:30 office time, not sent
        state.queue_mail("2026-0001|letter|a", b"Subject: a\r\n\r\nx", utc(2026, 3, 30, 6, 55))
        state.queue_mail("2026-0001|letter|b", b"Subject: b\r\n\r\nx", utc(2026, 3, 30, 7, 30))
    code, state_name, text, perf = nagios(site, "2026-03-30T10:05")
    assert (code, state_name) == (1, "WARNING"), text
    assert text == "1 Mail(s) seit über 60 Minuten unversandt"
    assert perf["unsent"] == "2"
