"""Telling a crash recovery from another mail: the key is Message-ID *and* content digest.

Tools that build Message-IDs from a timestamp in seconds give two different mails the same ID;
the same mail delivered twice, or read again after a crash, has the same ID and content.
Databases written before the digest was added keep working (their keys are "mid:<ID>").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jugendhaus_mail.intake.context import CaseIndex, IntakeContext
from jugendhaus_mail.intake.cycle import request_row
from jugendhaus_mail.intake.ledger import content_digest
from jugendhaus_mail.intake.parse import parse_message
from jugendhaus_mail.jobs.intake import poll
from tests.site import Site, make_site, outgoing, request_mail, utc

NOW = utc(2026, 3, 10, 8, 0)
SECOND = utc(2026, 3, 9, 9, 0, 0)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def acknowledged(site: Site) -> list[str]:
    return sorted(str(m["Subject"])[1:10] for m in outgoing(site))


def test_two_different_mails_with_one_message_id_in_one_second_become_two_rows(
    site: Site,
) -> None:
    first = request_mail("Fallanfrage", "Name: Lea Koch\n", message_id="<1773046800@fachverfahren>")
    second = request_mail("Hausbesuch", "Name: Tom Berg\n", message_id="<1773046800@fachverfahren>")
    site.deliver(first, SECOND, "one")
    site.deliver(second, SECOND, "two")
    report = poll(site.app(NOW))
    assert [(m.outcome, m.nr) for m in report.mails] == [
        ("request", "2026-0001"),
        ("request", "2026-0002"),
    ]
    rows = site.requests()
    assert sorted(r["Name junger Mensch"].value for r in rows) == ["Lea Koch", "Tom Berg"]
    assert len({r["Dienst-Schlüssel"].value for r in rows}) == 2
    assert len(site.folder("Erfasst")) == 2 and site.folder("Nicht erfasst") == []
    assert acknowledged(site) == ["2026-0001", "2026-0002"]


def test_the_same_mail_twice_in_one_cycle_is_a_duplicate_never_recovered(site: Site) -> None:
    raw = request_mail("Fallanfrage", "Name: Lea Koch\n", message_id="<same@jobcenter-ge.de>")
    site.deliver(raw, SECOND, "a")
    site.deliver(raw, SECOND, "b")
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["request", "duplicate"]
    assert "2026-0001" in (report.mails[1].reason or "")
    assert [r["Nr."].value for r in site.requests()] == ["2026-0001"]
    assert len(site.folder("Erfasst")) == 1 and len(site.folder("Nicht erfasst")) == 1


def test_one_mail_delivered_twice_with_other_transport_headers_is_one_request(site: Site) -> None:
    raw = request_mail("Fallanfrage", "Name: Lea Koch\n", message_id="<relay@jobcenter-ge.de>")
    site.deliver(b"Received: from mx1.rostock.de\r\n" + raw, SECOND, "mx1")
    site.deliver(b"Received: from mx2.rostock.de\n" + raw.replace(b"\r\n", b"\n"), SECOND, "mx2")
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["request", "duplicate"]


def test_the_digest_ignores_line_endings_and_folding_but_not_the_content() -> None:
    raw = request_mail("Fallanfrage Ausbildung", "Name: Lea Koch\n", message_id="<d@x.de>")
    assert content_digest(raw) == content_digest(raw.replace(b"\r\n", b"\n"))
    assert content_digest(raw) != content_digest(raw.replace(b"Lea Koch", b"Lea Kochh"))
    assert content_digest(b"") == content_digest(b"")
    assert content_digest(b"\xff\xfe: \x00\r\n\r\n\x80") != content_digest(b"")


def record_as_an_older_version_did(site: Site, raw: bytes, nr_year: int = 2026) -> str:
    """What a version before the digest left after a crash between recording a request and
    filing its mail: a row under the key "mid:<Message-ID>", the mail still in the inbox."""
    app = site.app(NOW)
    parsed = parse_message(raw)
    assert parsed.key.startswith("mid:") and "#" not in parsed.key
    with app.state() as state:
        ctx = IntakeContext(app.settings, app.calendar, state, app.store(), app.now)
        cases = CaseIndex(app.store().read())
        row = request_row(ctx, parsed, SECOND, cases.staff_rechtskreis)
        return state.record_request(parsed.key, nr_year, 0, SECOND, row, NOW)


def test_a_crash_recorded_by_an_older_version_is_recovered_after_the_upgrade(site: Site) -> None:
    raw = request_mail("Fallanfrage", "Name: Lea Koch\n", message_id="<old@jobcenter-ge.de>")
    site.deliver(raw, SECOND, "old")
    assert record_as_an_older_version_did(site, raw) == "2026-0001"
    report = poll(site.app(NOW))
    assert [(m.outcome, m.nr) for m in report.mails] == [("recovered", "2026-0001")]
    [row] = site.requests()
    assert row["Nr."].value == "2026-0001"
    assert row["Dienst-Schlüssel"].value == "mid:old@jobcenter-ge.de"  # as the old row queued it
    assert len(site.folder("Erfasst")) == 1 and site.folder("Nicht erfasst") == []
    assert acknowledged(site) == ["2026-0001"]
    # a reply to that mail is still recognised by its Message-ID
    site.deliver(
        request_mail(
            "AW: Fallanfrage",
            "Danke",
            message_id="<re@jobcenter-ge.de>",
            headers=[("In-Reply-To", "<old@jobcenter-ge.de>")],
        ),
        utc(2026, 3, 9, 10),
        "re",
    )
    report = poll(site.app(NOW))
    assert [(m.outcome, m.nr) for m in report.mails] == [("reply", "2026-0001")]
    # and the same mail delivered once more is a duplicate, as it was before the upgrade
    site.deliver(raw, utc(2026, 3, 9, 11), "again")
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["duplicate"]
    assert len(site.requests()) == 1


def test_a_second_mail_with_an_old_recorded_message_id_in_the_same_cycle_is_not_recovered(
    site: Site,
) -> None:
    raw = request_mail("Fallanfrage", "Name: Lea Koch\n", message_id="<ts@fachverfahren>")
    other = request_mail("Hausbesuch", "Name: Tom Berg\n", message_id="<ts@fachverfahren>")
    site.deliver(raw, SECOND, "a")
    site.deliver(other, SECOND, "b")
    record_as_an_older_version_did(site, raw)
    report = poll(site.app(NOW))
    # the old key cannot tell the two apart: the first read recovers it, the other one is
    # another mail (its content differs from the first) and becomes a request of its own
    assert [(m.outcome, m.nr) for m in report.mails] == [
        ("recovered", "2026-0001"),
        ("request", "2026-0002"),
    ]
    assert sorted(r["Nr."].value for r in site.requests()) == ["2026-0001", "2026-0002"]
