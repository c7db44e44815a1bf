"""Nothing silently unsent: a site that cannot tell anyone anything is not "in Ordnung".

A fresh site has no staff and no admin address; `check` says which sheet or key to fill and
exits 1. A mail the service wanted to send but could address to nobody allowed is a problem in
`check`, in the watchdog's mail and in the next digest, not only a log line. `digest` never
says "heute schon versandt" when nothing went out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jugendhaus_mail.service.health import Status
from jugendhaus_mail.service.watchdog import run_watchdog
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

ADMIN = 'admin_address = "it-jugendhaus@rostock.de"\n'
KINDERSCHUTZ = request_mail("Kinderschutz: dringender Hinweis", "Bitte melden.", message_id="<k@x>")


def check(site: Site, now: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = site.run("check", now=now)
    return code, capsys.readouterr().out.splitlines()


def problems(lines: list[str]) -> list[str]:
    return [line.removeprefix("PROBLEM ") for line in lines if line.startswith("PROBLEM ")]


def test_a_fresh_site_without_staff_and_admin_is_not_healthy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(tmp_path / "site")
    code, lines = check(site, "2026-03-30T09:00", capsys)
    assert code == 1
    found = problems(lines)
    assert len(found) == 2, lines
    assert found[0].startswith("Blatt Mitarbeitende: keine aktiven Mitarbeitenden mit E-Mail")
    assert "Aktiv = Ja eintragen" in found[0]
    assert found[1].startswith("[mail] admin_address fehlt")
    assert "alles in Ordnung" not in "\n".join(lines)


def test_staff_without_jsb_or_sachgebietsleitung_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(tmp_path / "site", ADMIN)
    inactive_jsb = {**STAFF[0], "active": "Nein"}
    outside_lead = {**STAFF[1], "email": "frank.dettmann@gmail.com"}
    set_staff(site, [inactive_jsb, outside_lead, STAFF[2], STAFF[3]])
    code, lines = check(site, "2026-03-30T09:00", capsys)
    assert code == 1
    found = problems(lines)
    assert [text.split(" – ")[0] for text in found] == [
        "Blatt Mitarbeitende: niemand mit Rolle JSB, Aktiv = Ja und einer Adresse in "
        "[mail] internal_domains",
        "Blatt Mitarbeitende: niemand mit Rolle Sachgebietsleitung, Aktiv = Ja und einer "
        "Adresse in [mail] internal_domains",
    ]


def test_a_complete_site_is_healthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = make_site(tmp_path / "site", ADMIN)
    set_staff(site, STAFF)
    code, lines = check(site, "2026-03-30T09:00", capsys)
    assert code == 0, lines
    assert "OK      Empfänger vollständig: JSB, Sachgebietsleitung und admin_address" in lines


def test_an_alert_nobody_could_receive_is_shown_by_check_watchdog_and_the_next_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(tmp_path / "site", ADMIN)
    site.deliver(KINDERSCHUTZ, utc(2026, 3, 30, 6, 50), "k")
    assert site.run("poll", now="2026-03-30T09:00") == 0
    capsys.readouterr()
    # the acknowledgement to the Jobcenter went out; the Kinderschutz alert had nobody
    assert [str(m["To"]) for m in outgoing(site)] == ["anna.schulz@jobcenter-ge.de"]

    code, lines = check(site, "2026-03-30T09:05", capsys)
    assert code == 1
    [unsent] = [p for p in problems(lines) if p.startswith("Nicht gesendet")]
    assert unsent.startswith("Nicht gesendet (30.03.2026 09:00): „[2026-0001] Kinderschutz")
    assert "kein Empfänger – bitte im Blatt Mitarbeitende" in unsent

    app = site.app(utc(2026, 3, 30, 9, 10))
    with app.state() as state:
        report = run_watchdog(app, state, Status(started=app.now.isoformat()))
    assert report.raised == ["unaddressed"]
    [alert] = [m for m in outgoing(site) if "Störung" in str(m["Subject"])]
    assert str(alert["To"]) == "it-jugendhaus@rostock.de"
    body = alert.get_body(("plain",)).get_content()
    assert "1 Mitteilung(en) des Dienstes erreichten niemanden" in body

    # the digest without leaders: nothing sent, and it says so; never "schon versandt"
    for minute in ("00", "30"):
        assert site.run("digest", now=f"2026-03-31T07:{minute}") == 0
        out = capsys.readouterr().out
        assert "heute schon versandt" not in out
        assert "nicht versandt: kein Empfänger" in out
    set_staff(site, STAFF)
    assert site.run("digest", now="2026-03-31T08:00") == 0
    assert "heute schon versandt" not in capsys.readouterr().out
    [digest] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    text = digest.get_body(("plain",)).get_content()
    assert "NICHT ZUGESTELLTE MITTEILUNGEN DES DIENSTES" in text
    assert "Kinderschutz" in text.split("NICHT ZUGESTELLTE")[1]
    assert "Tagesüberblick" in text.split("NICHT ZUGESTELLTE")[1]  # the earlier, unaddressed try
    html = digest.get_body(("html",)).get_content()
    assert "Nicht zugestellte Mitteilungen des Dienstes" in html
    assert site.run("digest", now="2026-03-31T08:30") == 0
    assert "Tagesübersicht: heute schon versandt (08:00 Uhr)." in capsys.readouterr().out
    # listed once: the next digest does not repeat it
    assert site.run("digest", now="2026-04-01T07:00") == 0
    latest = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])][-1]
    assert "NICHT ZUGESTELLTE" not in latest.get_body(("plain",)).get_content()


def test_an_acknowledgement_to_an_outside_domain_is_a_problem_not_only_a_log_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(tmp_path / "site", ADMIN)
    set_staff(site, STAFF)
    mail = request_mail(
        "Fallanfrage",
        "Hallo",
        sender="D. Lorenz <d.lorenz@jugendwerkstatt-warnowblick.de>",
        message_id="<ext@x>",
    )
    site.deliver(mail, utc(2026, 3, 30, 7), "ext")
    assert site.run("poll", now="2026-03-30T09:00") == 0
    capsys.readouterr()
    code, lines = check(site, "2026-03-30T09:05", capsys)
    assert code == 1
    [unsent] = problems(lines)
    assert "Eingangsbestätigung" in unsent
    assert "nur Empfänger außerhalb von [mail] internal_domains" in unsent
    # a week later it is history, no longer a problem
    code, lines = check(site, "2026-04-07T09:06", capsys)
    assert not [p for p in problems(lines) if "Nicht gesendet" in p], lines
