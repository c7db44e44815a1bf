"""`make demo` shows the whole working day whenever it runs: on a Saturday, on Christmas Day,
at night. Without --now it pins its clock to 09:30 on the latest working day; its output is the
summary (intake, reminders, an escalation, the digest, an absence notice), never log lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jugendhaus_mail.commands.demo import demo_moment, play
from jugendhaus_mail.config import OfficeSettings
from jugendhaus_mail.workdays import WorkCalendar

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d|\b(INFO|WARNING|ERROR|DEBUG)\b|^\{")
PARTS = {
    "intake": "Posteingang abholen (poll):",
    "a request taken in": "  erfasst",
    "a reminder": "Erinnerung: ",
    "an escalation": "Überfällig (",
    "the digest": "  Tagesüberblick ",
    "an absence notice": "Abwesenheit in der Sprechzeit: ",
}


def calendar() -> WorkCalendar:
    return WorkCalendar.from_settings(OfficeSettings(holiday_region="DE-MV"))


@pytest.mark.parametrize(
    ("real_now", "expected"),
    [
        (datetime(2026, 12, 5, 10, 0, tzinfo=UTC), "2026-12-04T09:30"),  # Saturday → Friday
        (datetime(2026, 12, 6, 22, 0, tzinfo=UTC), "2026-12-04T09:30"),  # Sunday night
        (datetime(2026, 12, 7, 5, 0, tzinfo=UTC), "2026-12-07T09:30"),  # Monday, early
        (datetime(2026, 12, 26, 12, 0, tzinfo=UTC), "2026-12-23T09:30"),  # 24./25./26. closed
        (datetime(2027, 1, 1, 0, 30, tzinfo=UTC), "2026-12-30T09:30"),  # New Year, 31.12. closed
    ],
)
def test_the_demo_clock_is_a_working_day_morning(real_now: datetime, expected: str) -> None:
    moment = demo_moment(real_now, calendar())
    local = moment.astimezone(calendar().tz)
    assert local.replace(tzinfo=None).isoformat(timespec="minutes") == expected


def assert_whole_day(out: str) -> None:
    missing = [name for name, text in PARTS.items() if text not in out]
    assert not missing, (missing, out)
    assert "heute kein Versand" not in out


@pytest.mark.parametrize(
    "real_now",
    [datetime(2026, 12, 5, 10, 0, tzinfo=UTC), datetime(2026, 12, 25, 20, 0, tzinfo=UTC)],
    ids=["saturday", "christmas"],
)
def test_on_a_weekend_or_holiday_the_demo_still_shows_the_whole_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], real_now: datetime
) -> None:
    assert play(tmp_path / "demo", now=None, real_now=real_now) == 0
    out = capsys.readouterr().out
    assert_whole_day(out)
    assert "(letzter Arbeitstag; andere Zeit mit --now)" in out


def test_with_now_the_demo_keeps_that_time_even_on_a_saturday(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert play(tmp_path / "demo", now="2026-12-05T10:00") == 0
    out = capsys.readouterr().out
    assert "Die Demo spielt am Samstag, 05.12.2026 um 10:00 Uhr\n" in out
    assert "Tagesübersicht: heute kein Versand (Samstag)." in out


def test_make_demo_prints_the_summary_and_no_log_lines(tmp_path: Path) -> None:
    """As `make demo` runs it: a process, the real clock, no --now."""
    result = subprocess.run(
        [sys.executable, "-m", "jugendhaus_mail", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert_whole_day(result.stdout)
    logged = [line for line in result.stdout.splitlines() if LOG_LINE.search(line)]
    assert logged == []
    assert "Nicht zugestellt" in result.stdout  # the outside requester, said in words
