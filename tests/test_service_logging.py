"""Logging: a rotating file besides the console, optionally JSON lines; one line per mail with
case number and outcome; and never a mail body, a young person's name or a password, at any
level, after a full scenario through a real IMAP server."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jugendhaus_mail.service import logsetup
from jugendhaus_mail.service.clock import RATE_ENV
from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.schema import load_schema
from tests.imap_server import PASSWORD, PASSWORD_ENV, start_server
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_poll_writes_one_json_line_per_mail_with_case_number_and_outcome(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[logging]\nfile = "logs/jhm.log"\njson = true\n')
    site.deliver(request_mail("Fallanfrage", "Hallo", message_id="<a@x.de>"), utc(2026, 3, 9), "a")
    site.deliver(
        request_mail("Abwesenheit", "Bin im Urlaub", headers=[("Auto-Submitted", "auto-replied")]),
        utc(2026, 3, 9, 1),
        "b",
    )
    site.cli("poll", now="2026-03-10T08:00")
    entries = [
        json.loads(line)
        for line in (site.root / "logs" / "jhm.log").read_text(encoding="utf-8").splitlines()
    ]
    assert all(set(e) >= {"time", "level", "logger", "message"} for e in entries)
    messages = [e["message"] for e in entries if e["logger"] == "jugendhaus_mail.intake.cycle"]
    assert messages[0] == "Mail 2026-0001: erfasst"
    assert messages[1].startswith("Mail -: nicht erfasst (")


def test_the_file_rotates_and_other_libraries_stay_quiet_below_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    monkeypatch.setattr(logsetup, "MAX_BYTES", 400)
    log_file = tmp_path / "logs" / "jhm.log"
    logsetup.install(logging.DEBUG, console_level=logging.WARNING, file=log_file,
                     json_lines=False, console=False)  # fmt: skip
    for number in range(30):
        logging.getLogger("jugendhaus_mail.test").info("Zeile %d", number)
        logging.getLogger("imapclient.imaplib").debug("< FETCH BODY[] Liebe Frau Müller …")
    logging.getLogger("urllib3").warning("Verbindung zurückgesetzt")
    files = sorted(log_file.parent.iterdir())
    assert [f.name for f in files] == [f"jhm.log{s}" for s in ("", ".1", ".2", ".3", ".4", ".5")]
    text = "".join(f.read_text(encoding="utf-8") for f in files)
    assert "Zeile 29" in text and "Verbindung zurückgesetzt" in text
    assert "FETCH" not in text


CLIENT = "Zyprian Quellenberg"
CUSTOMER = "987Z654321"
BODY = (
    f"Sehr geehrte Damen und Herren,\n\nName: {CLIENT}\nKundennummer: {CUSTOMER}\n"
    "Geburtsdatum: 04.05.2008\nAnschrift: Krähenweg 17, 18055 Rostock\n\n"
    "Die Mutter berichtet von Streit in der Familie.\n"
)
SECRETS = (CLIENT, "Zyprian", "Quellenberg", CUSTOMER, "Krähenweg", "Streit in der Familie",
           "04.05.2008", PASSWORD, "Falsches-Passwort-0815")  # fmt: skip


def test_a_full_scenario_at_debug_level_leaves_no_social_data_or_secret_in_the_log(
    tmp_path: Path,
) -> None:
    server = start_server()
    try:
        root = tmp_path / "site"
        root.mkdir()
        config = root / "jugendhaus-mail.toml"
        config.write_text(
            '[office]\nholiday_region = "DE-MV"\ndomain = "rostock.de"\n'
            '[workbook]\npath = "Anfrageliste.xlsx"\n'
            '[mail]\nteam_address = "fm-jugendhaus@rostock.de"\n'
            'admin_address = "it-jugendhaus@rostock.de"\n'
            '[logging]\nlevel = "DEBUG"\nfile = "logs/jhm.log"\n'
            + server.mailbox_toml(security="none", retries=0),
            encoding="utf-8",
        )
        build_workbook(root / "Anfrageliste.xlsx", load_schema())
        site = Site(root, config)
        set_staff(site, STAFF)
        for number, kind in enumerate(("Fallanfrage", "Kinderschutz", "Hausbesuch"), start=1):
            raw = request_mail(f"{kind} {CLIENT}", BODY, message_id=f"<p{number}@jobcenter-ge.de>")
            server.deliver(raw, utc(2026, 3, 30, 5, number))

        def cli(*args: str, password: str) -> subprocess.CompletedProcess[str]:
            env = {**os.environ, PASSWORD_ENV: password, RATE_ENV: "60"}
            command = [sys.executable, "-m", "jugendhaus_mail", "--config", str(config)]
            return subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                                  timeout=120)  # fmt: skip

        assert (
            cli("--now", "2026-03-30T07:50", "poll", password="Falsches-Passwort-0815").returncode
            == 2
        )
        # an hour later the service tries again (Dovecot delays that log-in after the failure)
        ran = cli("--now", "2026-03-30T08:51", "run", "--max-seconds", "7", password=PASSWORD)
        assert ran.returncode == 0, ran.stderr
        outputs = [ran.stdout, ran.stderr]
    finally:
        server.stop()
    log = (root / "logs" / "jhm.log").read_text(encoding="utf-8")
    for number in (1, 2, 3):
        assert f"Mail 2026-000{number}: erfasst" in log
    assert "Anmeldung am Postfach abgelehnt" in log and "Sperre aufgehoben" in log
    assert "Tagesübersicht: versandt" in log
    assert "Erinnerungen: " in log and "Mail gesendet: 2026-0002|kinderschutz" in log
    for text in [log, *outputs]:
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == []
