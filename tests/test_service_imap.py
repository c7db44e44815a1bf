"""`run` on a real Dovecot in real time: new mail is taken in within seconds through IMAP IDLE
(the timetable alone would wait an hour; after an intake the loop pauses 2 s before it
listens), and SIGTERM ends an IDLE wait at once with exit 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.schema import load_schema
from tests.imap_server import PASSWORD, PASSWORD_ENV, start_server
from tests.site import request_mail, utc

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_idle_takes_new_mail_in_within_seconds_and_sigterm_ends_the_wait(tmp_path: Path) -> None:
    server = start_server()
    process = None
    try:
        config = tmp_path / "jugendhaus-mail.toml"
        config.write_text(
            '[office]\nholiday_region = "DE-MV"\n[workbook]\npath = "Anfrageliste.xlsx"\n'
            '[mail]\nteam_address = "fm-jugendhaus@rostock.de"\n'
            "[schedule]\nintake_minutes = 60\n[watchdog]\nintake_overdue_minutes = 120\n"
            + server.mailbox_toml(),
            encoding="utf-8",
        )
        build_workbook(tmp_path / "Anfrageliste.xlsx", load_schema())
        process = subprocess.Popen(
            [sys.executable, "-m", "jugendhaus_mail", "--config", str(config),
             "--now", "2026-03-30T09:00", "run"],
            stderr=subprocess.PIPE, text=True, env={**os.environ, PASSWORD_ENV: PASSWORD},
        )  # fmt: skip
        lines: list[str] = []

        def read() -> None:
            assert process is not None and process.stderr is not None
            lines.extend(line.rstrip() for line in process.stderr)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()

        def wait_for(text: str, timeout: float) -> float:
            start = time.monotonic()
            while not any(text in line for line in lines):
                running = process is not None and process.poll() is None
                assert running and time.monotonic() - start < timeout, "\n".join([text, *lines])
                time.sleep(0.05)
            return time.monotonic() - start

        wait_for("Abruf des Postfachs: keine neuen Mails", 30)
        wait_for("Überwachung", 10)
        server.deliver(
            request_mail("Fallanfrage", "Hallo", message_id="<i@x.de>"), utc(2026, 3, 30)
        )
        taken_in = wait_for("Mail 2026-0001: erfasst", 15)
        assert taken_in < 10  # at most the 5 s pause after an intake, then IDLE reports it
        assert len(server.folder_contents("Erfasst")) == 1

        wait_for("Überwachung: alles in Ordnung", 10)
        time.sleep(6)  # past the pause: the loop now waits in IDLE
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert time.monotonic() - stopped < 5
        reader.join(timeout=5)
        assert lines[-1].endswith("Dienst beendet")
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        server.stop()
