"""Retention across every store: after the periods in `[retention]` a closed case's young person
is in no file under the site, mail of every backend's folders is deleted by age (only what the
service sent, in Sent Items), and `--dry-run` lists per store what would go and changes nothing.
Erasure on the network backends deletes the person's mail in their folders and nothing else."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from jugendhaus_mail.state import StateDB
from tests.backend_sites import (  # noqa: F401  (fixtures)
    ALL_BACKENDS,
    NETWORK_BACKENDS,
    TEAM,
    BackendSite,
    backend_site_fixture,
    imap_server_for_sites_fixture,
)
from tests.privacy_helpers import PEOPLE, body, files_naming, full_site, person_terms
from tests.site import Site, request_mail, utc
from tests.test_letters import set_cells

ALL_KEYS = (
    "[retention]\nmonths = 2\nmail_months = 2\nsent_months = 2\nbackup_days = 30\n"
    "letters_days = 30\nstate_days = 30\n"
)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = full_site(tmp_path / "site")
    site.config.write_text(site.config.read_text(encoding="utf-8") + ALL_KEYS, encoding="utf-8")
    set_cells(site, {"Fallende am": datetime(2026, 3, 20)})
    return site


def test_dry_run_lists_every_store_and_changes_nothing(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {
        p: p.read_bytes() for p in site.root.rglob("*") if p.is_file() and "logs" not in p.parts
    }
    assert site.run("retention", "--dry-run", now="2026-06-19T09:00") == 0
    out = capsys.readouterr().out
    for store in ("2026-0001", "„Erfasst“", "„Nicht erfasst“", "„Postausgang“",
                  "Sicherungen", "Briefe", "Kopien geschriebener Zeilen"):  # fmt: skip
        assert store in out, store
    assert "würden gelöscht" in out and "Probelauf" in out and "Zyprian" not in out
    after = {
        p: p.read_bytes() for p in site.root.rglob("*") if p.is_file() and "logs" not in p.parts
    }
    assert after == before


def test_after_retention_the_closed_case_is_in_no_file_under_the_site(site: Site) -> None:
    # a colleague answered from the team mailbox with a mail client: not the service's to delete
    own = request_mail("Rückfrage", "Bitte um Rückruf.", sender=TEAM, message_id="<own@rostock.de>")
    (site.maildir / ".Postausgang" / "cur" / "1773650000.own:2,S").write_bytes(own)
    assert site.run("retention", now="2026-06-19T09:00") == 0
    assert [p.name for p in site.folder("Postausgang")] == ["1773650000.own:2,S"]
    assert files_naming(site.root, person_terms(0)) == {}
    assert site.folder("Erfasst") == [] and site.folder("Nicht erfasst") == []
    rows = {str(r["Nr."].value): r for r in site.requests()}
    assert rows["2026-0002"]["Name junger Mensch"].value == PEOPLE[1][0]  # still open
    with StateDB(site.root / "state") as state:
        data = [d for (d,) in state.conn.execute("SELECT row_json FROM written_rows")]
    assert data and not any(PEOPLE[1][0] in d for d in data)  # reduced to keys
    assert oct((site.root / "state" / "jugendhaus-mail.sqlite3").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("backend_site", NETWORK_BACKENDS, indirect=True)
def test_mail_retention_on_every_backend_deletes_only_old_mail_the_service_filed_or_sent(
    backend_site: BackendSite,
) -> None:
    site = backend_site
    for number, day in enumerate((2, 16)):
        raw = request_mail("Fallanfrage", body(number), message_id=f"<r{number}@jc.de>")
        site.mailbox.deliver(raw, utc(2026, 3, day, 9), f"r{number}")
        assert site.run("poll", now=f"2026-03-{day:02d}T12:00") == 0
    assert len(site.mailbox.folder("Erfasst")) == 2
    text = site.site.config.read_text(encoding="utf-8")
    site.site.config.write_text(text + "[retention]\nmail_months = 3\nsent_months = 3\n")
    # three months after 2.3. (but not after 16.3.): the first request and its acknowledgement
    assert site.run("retention", now="2026-06-10T09:00") == 0
    erfasst = site.mailbox.folder("Erfasst")
    assert len(erfasst) == 1 and PEOPLE[1][0].encode() in erfasst[0]
    assert site.run("retention", now="2026-07-01T09:00") == 0
    assert site.mailbox.folder("Erfasst") == []


@pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
def test_erase_removes_the_persons_mail_from_every_backends_folders(
    backend_site: BackendSite,
) -> None:
    site = backend_site
    for number in range(2):
        raw = request_mail("Fallanfrage", body(number), message_id=f"<e{number}@jc.de>")
        site.mailbox.deliver(raw, utc(2026, 3, 9, 9 + number), f"e{number}")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    assert len(site.mailbox.kept_copies()) == 2
    assert site.run("privacy", "erase", "--kundennummer", PEOPLE[0][1], now="2026-03-11T08:00") == 0
    everything = [*site.mailbox.folder("Erfasst"), *site.mailbox.kept_copies()]
    assert not any(PEOPLE[0][0].encode() in raw or b"[2026-0001]" in raw for raw in everything)
    assert any(PEOPLE[1][0].encode() in raw for raw in site.mailbox.folder("Erfasst"))
    assert len(site.mailbox.kept_copies()) == 1
    assert files_naming(site.root, person_terms(0)) == {}
