"""Nothing silently unsent: a site that cannot tell anyone anything is not "in Ordnung".

A fresh site has no staff and no admin address; `check` says which sheet or key to fill and
exits 1. A mail the service wanted to send but could address to nobody allowed is a problem in
`check`, in the watchdog's mail and in the next digest, not only a log line – except the
acknowledgement to a requester outside the office's domains, which the JSB answer by hand (the
digest lists it). `digest` never says "heute schon versandt" when nothing went out.
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


def test_an_outside_requester_is_for_staff_to_answer_not_a_problem_for_the_admin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A youth workshop may not be acknowledged ([mail] internal_domains): the JSB answer by
    hand, as the digest asks them to. The admin has nothing to fix, so check stays healthy,
    lists it, and neither the watchdog nor monitoring raise it."""
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
    assert code == 0, lines
    [listed] = [line for line in lines if "Eingangsbestätigung" in line]
    assert listed.startswith("OK      Nicht gesendet (30.03.2026 09:00)")
    assert "nicht bestätigt (externe Adresse d.lorenz@jugendwerkstatt-warnowblick.de)" in listed
    assert "bitte von Hand antworten" in listed
    app = site.app(utc(2026, 3, 30, 9, 10))
    with app.state() as state:
        report = run_watchdog(app, state, Status(started=app.now.isoformat()))
    assert "unaddressed" not in report.raised
    assert site.run("digest", now="2026-03-31T07:00") == 0
    [digest] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    assert "nicht bestätigt (externe Adresse" in digest.get_body(("plain",)).get_content()


def test_a_staff_notice_with_only_outside_addresses_is_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSB's address points outside the office: the Kinderschutz alert reaches nobody
    allowed. That is the admin's to fix, so check says so, not only a log line."""
    site = make_site(tmp_path / "site", ADMIN)
    outside_jsb = {**STAFF[0], "email": "lena.kowalski@gmail.com"}
    outside_lead = {**STAFF[1], "email": "frank.dettmann@gmail.com"}
    set_staff(site, [outside_jsb, outside_lead, STAFF[2], STAFF[3]])
    site.deliver(KINDERSCHUTZ, utc(2026, 3, 30, 6, 50), "k")
    assert site.run("poll", now="2026-03-30T09:00") == 0
    capsys.readouterr()
    code, lines = check(site, "2026-03-30T09:05", capsys)
    assert code == 1
    [unsent] = [p for p in problems(lines) if p.startswith("Nicht gesendet")]
    assert "Kinderschutz" in unsent
    assert "nur Empfänger außerhalb von [mail] internal_domains" in unsent
    # a week later it is history, no longer a problem
    code, lines = check(site, "2026-04-07T09:06", capsys)
    assert not [p for p in problems(lines) if "Nicht gesendet" in p], lines
