"""Going live with an old inbox: numbers follow `Eingang`, no promise of a past date, and
`--dry-run` predicts exactly what the real run does.

Scenario: the office switches the service on in March 2026; the team inbox still holds mail
from December 2025 on, copied over in a mixed order (the file names say "today", the mtimes
say when each mail really arrived).
"""

from __future__ import annotations

import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jugendhaus_mail.intake.context import IntakeContext
from jugendhaus_mail.intake.cycle import run_intake
from jugendhaus_mail.jobs.intake import poll
from jugendhaus_mail.mailbox.base import IncomingMessage
from jugendhaus_mail.workbook.locks import lock_paths
from tests.listed_mailbox import ListedMailbox
from tests.site import STAFF, Site, make_site, outgoing, request_mail, set_staff, utc

NOW = "2026-03-10T08:00"  # Tuesday
ARRIVALS = [
    utc(2025, 12, 1, 8, 5),
    utc(2025, 12, 19, 13, 40),
    utc(2026, 1, 5, 7, 0),
    utc(2026, 1, 28, 15, 12),
    utc(2026, 2, 2, 9, 0),
    utc(2026, 2, 27, 11, 30),
    utc(2026, 3, 2, 10, 0),  # Monday last week: its deadline (9 March) has passed
    utc(2026, 3, 5, 9, 0),  # Thursday: 3 working days ago, more than 2
    utc(2026, 3, 6, 9, 0),  # Friday: 2 working days ago, still acknowledged
    utc(2026, 3, 9, 16, 0),  # yesterday
]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(
        text.replace('path = "postfach"\n', 'path = "postfach"\nbatch_size = 3\n', 1),
        encoding="utf-8",
    )
    set_staff(site, STAFF)
    return site


def copy_old_inbox(site: Site, arrivals: list[datetime]) -> None:
    """Deliver in a shuffled order, as a migration tool does; the mtime keeps the arrival."""
    order = list(enumerate(arrivals))
    random.Random(11).shuffle(order)
    copied = utc(2026, 3, 10, 7, 0)
    for position, (number, arrived) in enumerate(order):
        raw = request_mail(
            f"Fallanfrage {number}", f"Kundennummer: 100D{number:06d}\n",
            message_id=f"<alt{number}@jobcenter-ge.de>",
        )  # fmt: skip
        site.deliver(raw, copied + timedelta(seconds=position), f"alt{number}")
        path = next(p for p in site.inbox() if f".alt{number}." in p.name)
        os.utime(path, (arrived.timestamp(), arrived.timestamp()))


def test_backfill_numbers_an_old_inbox_in_order_of_eingang(site: Site) -> None:
    copy_old_inbox(site, ARRIVALS)
    site.cli("poll", "--backfill", now=NOW)
    rows = sorted(site.requests(), key=lambda r: r["Eingang"].value)
    assert [r["Nr."].value for r in rows] == [
        "2025-0001", "2025-0002", *(f"2026-{n:04d}" for n in range(1, 9))
    ]  # fmt: skip
    assert [r["Kundennummer"].value for r in rows] == [f"100D{n:06d}" for n in range(10)]
    assert site.inbox() == []


def test_late_requests_get_a_short_note_and_no_promise_of_a_past_date(site: Site) -> None:
    copy_old_inbox(site, ARRIVALS)
    site.cli("poll", "--backfill", now=NOW)
    by_nr = {str(m["Subject"])[1:10]: m for m in outgoing(site)}
    rows = {r["Kundennummer"].value: r for r in site.requests()}
    late = [f"100D{n:06d}" for n in range(8)]
    for customer, row in rows.items():
        mail = by_nr[row["Nr."].value]
        text = mail.get_body(("plain",)).get_content()
        due = row["Frist Ansprechpartner"].value.strftime("%d.%m.%Y")
        if customer in late:
            assert "nachträglich erfasst" in str(mail["Subject"]), customer
            assert "nachträglich in unsere Anfrageliste aufgenommen" in text
            assert "10.03.2026" in text
            assert due not in text and "bis spätestens" not in text
        else:
            assert "Eingangsbestätigung" in str(mail["Subject"]), customer
            assert f"bis spätestens {due}" in text
    assert len(by_nr) == len(outgoing(site)) == 10  # one mail per request, never both


def test_the_digest_shows_late_requests_as_overdue(site: Site) -> None:
    copy_old_inbox(site, ARRIVALS)
    site.cli("poll", "--backfill", now=NOW)
    site.cli("digest", now="2026-03-11T07:00")
    [digest] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])]
    text = digest.get_body(("plain",)).get_content()
    overdue = text.split("ÜBERFÄLLIG", 1)[1].split("BALD FÄLLIG", 1)[0]
    listed = re.findall(r"- (\d{4}-\d{4}) · Fallanfrage · Ansprechpartner benennen", overdue)
    assert listed == ["2025-0001", "2025-0002", *(f"2026-{n:04d}" for n in range(1, 6))]


def test_the_acknowledgement_age_is_configurable(site: Site) -> None:
    site.config.write_text(
        site.config.read_text(encoding="utf-8")
        + "acknowledge_max_age_working_days = 5\n",  # appended to [mail]
        encoding="utf-8",
    )
    assert site.config.read_text(encoding="utf-8").count("[mail]") == 1
    copy_old_inbox(site, ARRIVALS[7:])  # 3 and 2 working days old, and yesterday
    site.cli("poll", now=NOW)
    subjects = [str(m["Subject"]) for m in outgoing(site)]
    assert len(subjects) == 3 and all("Eingangsbestätigung" in s for s in subjects)


def test_one_run_is_numbered_by_eingang_whatever_order_the_backend_lists(site: Site) -> None:
    messages = [
        IncomingMessage(
            str(n),
            arrived,
            request_mail(
                f"Fallanfrage {n}", f"Kundennummer: 100D{n:06d}\n", message_id=f"<b{n}@x>"
            ),
        )
        for n, arrived in enumerate(ARRIVALS)
    ]
    random.Random(3).shuffle(messages)
    app = site.app(datetime(2026, 3, 10, 7, 0, tzinfo=UTC))
    with app.state() as state:
        ctx = IntakeContext(app.settings, app.calendar, state, app.store(), app.now)
        report = run_intake(ctx, ListedMailbox(messages))
    assert [m.received for m in report.mails] == ARRIVALS
    assert [m.nr for m in report.mails] == [
        "2025-0001", "2025-0002", *(f"2026-{n:04d}" for n in range(1, 9))
    ]  # fmt: skip


def comparable(stdout: str) -> list[str]:
    """The table and the mail list of `poll`, with the words that differ in a dry run."""
    lines = []
    for line in stdout.splitlines():
        if line.startswith(("Probelauf", "In die Anfrageliste", "Warten auf")):
            continue
        line = line.replace(" (geplant)", "")
        line = line.replace(
            "würde in .Postausgang ablegen", "in .Postausgang abgelegt, nicht versendet"
        )
        lines.append(re.sub(r"\s+", " ", line))
    return lines


def test_dry_run_predicts_exactly_what_the_real_run_does(tmp_path: Path) -> None:
    site = make_site(tmp_path / "whole")
    set_staff(site, STAFF)
    # a request taken in while the workbook was open: its number is only in the state database
    lock = lock_paths(site.workbook)["excel"]
    lock.write_bytes(b"\x05Maria" + b" " * 48)
    site.deliver(request_mail("Fallanfrage", "x", message_id="<w@x.de>"), utc(2026, 3, 2, 9), "w")
    poll(site.app(utc(2026, 3, 2, 10)))
    lock.unlink()
    first = request_mail("Hausbesuch", "Name: Lea Koch\n", message_id="<1773046800@fv>")
    mails = [
        first,
        # a reply to the mail above, in the same batch
        request_mail("AW: Hausbesuch", "Nachtrag", message_id="<r@x.de>",
                     headers=[("In-Reply-To", "<1773046800@fv>")]),
        # another mail from the same tool in the same second: same Message-ID
        request_mail("Kinderschutz", "Name: Tom Berg\n", message_id="<1773046800@fv>"),
        first,  # the first mail delivered twice
        request_mail("Abwesend", "Bin nicht da", headers=[("Auto-Submitted", "auto-replied")]),
        request_mail("Stellungnahme", "alt", message_id="<alt@x.de>"),
    ]  # fmt: skip
    arrivals = [utc(2026, 3, 9, 9), utc(2026, 3, 9, 9, 30), utc(2026, 3, 9, 9), utc(2026, 3, 9, 9),
                utc(2026, 3, 9, 12), utc(2026, 1, 20, 9)]  # fmt: skip
    for number, (raw, arrived) in enumerate(zip(mails, arrivals, strict=True)):
        site.deliver(raw, arrived, f"d{number}")
    predicted = site.cli("poll", "--dry-run", now=NOW).stdout
    assert "Probelauf" in predicted and len(site.inbox()) == 6
    real = site.cli("poll", now=NOW).stdout
    assert comparable(predicted) == comparable(real)
    table = comparable(real)[1:7]
    assert [line.split(" ", 3)[2] for line in table] == [
        "2026-0002", "2026-0003", "2026-0004", "2026-0003", "2026-0003", "–"
    ]  # fmt: skip
    assert "Kinderschutz SGB II erfasst" in table[2]  # same Message-ID, another mail
    assert table[3].endswith("doppelt, nicht erfasst: bereits erfasst als 2026-0003")
    assert "Antwort zu bestehender Anfrage" in table[4]  # a reply within the same batch
    assert "nicht erfasst: Automatische Antwort" in table[5]
    # the January mail: no promise of a past date
    assert "[2026-0002] Ihre Anfrage vom 20.01.2026 ist nachträglich erfasst" in real


def test_the_late_note_for_kinderschutz_keeps_the_hint_on_acute_danger(site: Site) -> None:
    from datetime import date

    from jugendhaus_mail.notify.render import LateAcknowledgementMail, MailRenderer

    renderer = MailRenderer.from_settings(site.app(utc(2026, 3, 10, 8)).settings)
    for kind in ("Kinderschutz", "Fallanfrage"):
        mail = LateAcknowledgementMail(
            nr="2026-0004",
            requester_name="Anna Schulz",
            kind=kind,
            received=utc(2026, 3, 9, 9),
            taken_in=date(2026, 3, 10),
        )
        rendered = renderer.render_mail(mail)
        assert (
            rendered.subject == "[2026-0004] Ihre Anfrage vom 09.03.2026 ist nachträglich erfasst"
        )
        for part in (rendered.text, rendered.html):
            assert "Guten Tag Anna Schulz" in part
            assert "10.03.2026" in part and "bis spätestens" not in part
            assert ("Allgemeinen Sozialen Dienst" in part) == (kind == "Kinderschutz")
