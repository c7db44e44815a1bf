"""`check` reads the service's status file and says in plain German whether someone is needed;
its exit code (0 fine, 1 needs the admin) is what monitoring uses."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.service.health import Status
from jugendhaus_mail.service.runner import Runner
from jugendhaus_mail.workdays import WorkCalendar
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc


class StoppedClock:
    rate = 1.0

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def wait(self, seconds: float, stop: threading.Event) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A site set up completely (staff, admin address): only the service itself can fail."""
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    set_staff(site, STAFF)
    return site


def runner(site: Site, moment: datetime) -> tuple[Runner, StoppedClock]:
    settings = load_settings(site.config)
    clock = StoppedClock(moment)
    status = Status(started=moment.isoformat(), pid=4711, running=True)
    return Runner(settings, WorkCalendar.from_settings(settings.office), clock, status), clock


def check(site: Site, now: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = site.run("check", now=now)
    return code, capsys.readouterr().out


def test_a_site_without_a_status_report_is_healthy_and_says_why(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(site, "2026-03-30T09:00", capsys)
    assert code == 0
    assert "OK      Noch kein Statusbericht des Dienstes (läuft `jugendhaus-mail run`?" in out


def test_rows_may_wait_for_the_workbook_a_while_then_it_is_a_problem(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.deliver(request_mail("Fallanfrage", "x", message_id="<w@x.de>"), utc(2026, 3, 9, 9), "w")
    (site.root / ".~lock.Anfrageliste.xlsx#").write_text(
        ",Maria Meier,pc1,10.03.2026 07:55,file:///x;", encoding="utf-8"
    )
    assert site.run("poll", now="2026-03-10T08:00") == 0
    code, out = check(site, "2026-03-10T08:05", capsys)
    assert code == 0
    assert "OK      1 Anfrage(n) warten seit 10.03.2026 08:00 auf die Anfrageliste" in out
    assert "Maria Meier" in out
    code, out = check(site, "2026-03-10T09:05", capsys)
    assert code == 1
    assert "PROBLEM 1 Anfrage(n) warten seit 10.03.2026 08:00" in out
    assert "länger als 60 Minuten ([watchdog] pending_minutes)" in out


def test_a_failed_job_and_an_overdue_intake_make_check_fail(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    service, clock = runner(site, utc(2026, 3, 30, 7, 0))  # 09:00 in Berlin
    assert service.run("intake") is True
    site.maildir.rename(site.root / "weg")
    clock.moment = utc(2026, 3, 30, 7, 20)
    assert service.run("intake") is False
    code, out = check(site, "2026-03-30T09:25", capsys)
    assert code == 1
    assert "PROBLEM Abruf des Postfachs: letzter Lauf 30.03.2026 09:20 fehlgeschlagen" in out
    assert "zuletzt erfolgreich 30.03.2026 09:00: " in out and "ist kein Maildir" in out
    assert "kein erfolgreicher Abruf" not in out  # 25 minutes: not yet overdue (30)
    code, out = check(site, "2026-03-30T09:45", capsys)
    assert (
        "PROBLEM Seit 45 Minuten kein erfolgreicher Abruf des Postfachs (erlaubt: 30 Minuten" in out
    )
    status = json.loads((site.root / "state" / "status.json").read_text(encoding="utf-8"))
    assert status["jobs"]["intake"]["failures_in_a_row"] == 1
    assert status["last_error"].startswith("Abruf des Postfachs, 30.03.2026 09:20: ")  # office time

    (site.root / "weg").rename(site.maildir)
    clock.moment = utc(2026, 3, 30, 7, 50)
    assert service.run("intake") is True
    code, out = check(site, "2026-03-30T09:55", capsys)
    assert code == 0, out
    assert "Abruf des Postfachs: in Ordnung (30.03.2026 09:50) – keine neuen Mails" in out
    assert "Dienst läuft gerade nicht" in out  # the file says running, but nobody holds the lock


def test_a_lock_file_older_than_a_working_day_is_a_problem(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = site.root / ".~lock.Anfrageliste.xlsx#"
    lock.write_text(",Maria Meier,pc1,02.04.2026 15:00,file:///x;", encoding="utf-8")
    # Thursday 15:00; Good Friday and Easter Monday are holidays: stale from Tuesday 15:00 on
    code, out = check(site, "2026-04-07T14:00", capsys)
    assert code == 0
    code, out = check(site, "2026-04-07T17:30", capsys)
    assert code == 1
    assert "PROBLEM Anfrageliste seit 02.04.2026 15:00 gesperrt, länger als einen Arbeitstag" in out
    assert "Die Sperrdatei .~lock.Anfrageliste.xlsx# im Ordner" in out and "Maria Meier" in out


def test_an_unexpected_error_is_named_by_type_and_place_not_by_its_text(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    service, _clock = runner(site, utc(2026, 3, 30, 7, 0))

    def explode(_app: object) -> str:
        raise ValueError("Jonas Müller, geb. 04.05.2008")  # data in an exception text

    service.jobs["remind"] = explode
    assert service.run("remind") is False
    code, out = check(site, "2026-03-30T09:05", capsys)
    assert code == 1
    assert "Erinnerungen: letzter Lauf 30.03.2026 09:00 fehlgeschlagen: unerwarteter Fehler " in out
    assert "(ValueError in test_service_health.py:" in out
    assert "Jonas" not in out
    assert "Jonas" not in (site.root / "state" / "status.json").read_text(encoding="utf-8")


def watchdog_mails(site: Site) -> list[tuple[str, str]]:
    return [
        (str(m["Subject"]), str(m["To"]))
        for m in outgoing(site)
        if str(m["Subject"]).startswith("jugendhaus-mail:")
    ]


def test_an_abandoned_lock_file_is_reported_to_the_admin_once_and_cleared(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    lock = site.root / ".~lock.Anfrageliste.xlsx#"
    lock.write_text(",Maria Meier,pc1,02.04.2026 15:00,file:///x;", encoding="utf-8")
    service, clock = runner(site, utc(2026, 4, 7, 16, 0))  # Tuesday 18:00 in Berlin
    for _ in range(2):
        assert service.run("intake") and service.run("watchdog")
    [(subject, to)] = watchdog_mails(site)
    assert to == "it@rostock.de"
    assert subject == (
        "jugendhaus-mail: Störung – Anfrageliste seit 02.04.2026 15:00 gesperrt, länger als "
        "einen Arbeitstag."
    )
    lock.unlink()
    clock.moment += timedelta(minutes=2)
    assert service.run("watchdog")
    assert [subject[:35] for subject, _ in watchdog_mails(site)] == [
        "jugendhaus-mail: Störung – Anfragel",
        "jugendhaus-mail: wieder in Ordnung ",
    ]


def test_rows_that_cannot_be_written_safely_are_reported_to_the_admin(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    workbook = openpyxl.load_workbook(site.workbook)
    workbook["Anfragen"]["B10"] = "von Hand unter der Tabelle"
    workbook.save(site.workbook)
    site.deliver(request_mail("Fallanfrage", "x", message_id="<u@x.de>"), utc(2026, 3, 30, 6), "u")
    service, clock = runner(site, utc(2026, 3, 30, 7, 0))
    assert service.run("intake") and service.run("watchdog")
    assert watchdog_mails(site) == []  # waiting a little is normal
    clock.moment += timedelta(minutes=61)
    assert service.run("intake") and service.run("watchdog")
    [(subject, to)] = watchdog_mails(site)
    assert to == "it@rostock.de"
    assert subject.startswith("jugendhaus-mail: Störung – 1 neue Anfrage(n) warten seit 30.03.2026")
    [mail] = [m for m in outgoing(site) if str(m["Subject"]) == subject]
    assert "Unter der Tabelle" in mail.get_body(("plain",)).get_content()
