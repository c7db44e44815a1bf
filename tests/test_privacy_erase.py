"""Erasure, access and the transmission log per young person across every store the service
writes: after an erase the young person's name, customer number, birth date and address are in
no file under the site (workbook, backups, Maildir folders, state database with its WAL,
letters, logs); the case number and a deletion record stay; the others' data stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from jugendhaus_mail.privacy import erase as erase_module
from jugendhaus_mail.state import StateDB
from tests.privacy_helpers import PEOPLE, files_naming, full_site, person_terms
from tests.site import Site
from tests.test_letters import set_cells


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return full_site(tmp_path / "site")


def test_before_the_erase_the_person_is_everywhere(site: Site) -> None:
    found = files_naming(site.root, person_terms(0))
    stores = {path.split("/")[0] for path in found}
    assert {"Anfrageliste.xlsx", "postfach", "state", "briefe"} <= stores
    assert any(p.startswith("postfach/.Erfasst") for p in found)
    assert any(p.startswith("postfach/.Nicht erfasst") for p in found)  # the auto-reply
    assert any(p.startswith("postfach/.Postausgang") for p in found)  # the mailed letter
    assert any(p.startswith("state/backups/") for p in found)


def test_erase_leaves_no_trace_of_the_person_and_keeps_the_others(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        site.run("privacy", "erase", "--name", "Zyprian Quellenberg", now="2026-03-19T09:00") == 0
    )
    out = capsys.readouterr().out
    assert "2026-0001" in out and "Zyprian" not in out
    assert files_naming(site.root, person_terms(0)) == {}
    others = files_naming(site.root, person_terms(1) + person_terms(2))
    assert "Anfrageliste.xlsx" in others
    assert any(p.startswith("postfach/.Erfasst") for p in others)
    rows = {str(r["Nr."].value): r for r in site.requests()}
    assert rows["2026-0001"]["Name junger Mensch"].value is None
    assert rows["2026-0001"]["Anfrageart"].value == "Hausbesuch"  # statistics stay
    assert rows["2026-0002"]["Name junger Mensch"].value == PEOPLE[1][0]
    with StateDB(site.root / "state") as state:
        (what, by) = state.conn.execute(
            "SELECT what, by_whom FROM deletions WHERE nr = '2026-0001'"
        ).fetchone()
    assert "Anfrageliste" in what and "Postausgang" in what and by
    wal = site.root / "state" / "jugendhaus-mail.sqlite3-wal"
    assert (
        not wal.exists() or wal.stat().st_size == 0 or files_naming(wal.parent, ["Zyprian"]) == {}
    )


def test_dry_run_changes_no_byte(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    before = {
        p: p.read_bytes() for p in site.root.rglob("*") if p.is_file() and "logs" not in p.parts
    }
    assert site.run("privacy", "erase", "--kundennummer", "111A111111", "--dry-run",
                    now="2026-03-19T09:00") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "würde gelöscht" in out and "Probelauf" in out
    after = {
        p: p.read_bytes() for p in site.root.rglob("*") if p.is_file() and "logs" not in p.parts
    }
    assert after == before


def test_an_ambiguous_name_lists_the_candidates_and_does_nothing(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.privacy_helpers import body
    from tests.site import request_mail, utc

    twin = body(0).replace("111A111111", "999Z999999").replace("01.05.2008", "09.09.2009")
    site.deliver(request_mail("Fallanfrage", twin, message_id="<twin@jc.de>"),
                 utc(2026, 3, 18, 8), "twin")  # fmt: skip
    assert site.run("poll", now="2026-03-18T10:00") == 0
    before = site.workbook.read_bytes()
    assert (
        site.run("privacy", "erase", "--name", "Quellenberg, Zyprian", now="2026-03-19T09:00") == 1
    )
    err = capsys.readouterr().err
    assert "mehrere Personen" in err and "2026-0001" in err and "2026-0004" in err
    assert "nichts wurde verändert" in err
    assert site.workbook.read_bytes() == before


def test_a_workbook_open_in_excel_is_recorded_and_finished_by_a_later_run(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(erase_module, "WAIT_SECONDS", 0.0)
    lock = site.root / "~$Anfrageliste.xlsx"
    lock.write_bytes(b"\x05Maria" + b" " * 50)
    assert site.run("privacy", "erase", "--nr", "2026-0001", now="2026-03-19T09:00") == 1
    out = capsys.readouterr().out
    assert "NICHT erreicht: Anfrageliste" in out
    left = files_naming(site.root, person_terms(0))
    assert set(left) == {"Anfrageliste.xlsx"}  # mail, backups, letters, state are clean
    lock.unlink()
    assert site.run("privacy", "erase", "--nr", "2026-0001", now="2026-03-19T10:00") == 0
    assert files_naming(site.root, person_terms(0)) == {}
    with StateDB(site.root / "state") as state:
        assert state.conn.execute("SELECT COUNT(*) FROM erase_pending").fetchone()[0] == 0


def test_export_holds_every_row_and_mail_about_the_person_and_nothing_about_others(
    site: Site, tmp_path: Path
) -> None:
    out = tmp_path / "auskunft" / "Auskunft.html"
    out.parent.mkdir()
    assert site.run("privacy", "export", "--name", "Zyprian Quellenberg", "--out", str(out),
                    now="2026-03-19T09:00") == 0  # fmt: skip
    page = out.read_text(encoding="utf-8")
    for term in ("Zyprian Quellenberg", "111A111111", "01.05.2008", "Lindenweg 1", "2026-0001"):
        assert term in page
    assert "anna.schulz@jobcenter-ge.de" in page  # the transmission log
    found = files_naming(out.parent, ["Zyprian Quellenberg", "[2026-0001]"])
    mails = sorted(p.name for p in (out.parent / "Auskunft-Dateien").glob("*.eml"))
    # the request, the auto-reply naming them, the acknowledgement, the letter mail
    assert len(mails) == 4 and all(f"Auskunft-Dateien/{m}" in found for m in mails)
    assert any("Nicht-erfasst" in m for m in mails)
    assert any(p.endswith(".docx") for p in found)
    assert files_naming(out.parent, person_terms(1) + person_terms(2) + ["2026-0002"]) == {}


def test_log_names_recipients_time_and_kind_without_content(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert site.run("privacy", "log", "--nr", "2026-0001", now="2026-03-19T09:00") == 0
    out = capsys.readouterr().out
    assert "Eingangsbestätigung" in out and "anna.schulz@jobcenter-ge.de" in out
    letter = next(line for line in out.splitlines() if "Brief an den jungen Menschen" in line)
    assert "(hausbesuch)" in letter and "Anlage(n) → lena.kowalski@rostock.de" in letter
    assert "Zyprian" not in out and "Lindenweg" not in out


def test_a_mailbox_that_is_down_is_recorded_and_finished_by_the_next_retention_run(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.maildir.rename(site.root / "postfach-weg")  # the mail server is unreachable
    assert site.run("privacy", "erase", "--nr", "2026-0001", now="2026-03-19T09:00") == 1
    out = capsys.readouterr().out
    assert "NICHT erreicht: Postfach" in out and "nachgeholt" in out
    left = files_naming(site.root, person_terms(0))
    assert left and all(p.startswith("postfach-weg/") for p in left)
    with StateDB(site.root / "state") as state:
        assert state.conn.execute("SELECT store FROM erase_pending").fetchall() == [("mailbox",)]
        traces = state.conn.execute("SELECT traces FROM erase_pending").fetchone()[0]
    assert "Zyprian" not in traces and "111A111111" not in traces
    (site.root / "postfach-weg").rename(site.maildir)
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(text + "[retention]\nbackup_days = 3650\n", encoding="utf-8")
    assert site.run("retention", now="2026-03-20T07:00") == 0
    # the auto-reply names them without case number or Message-ID: found by the traces
    assert files_naming(site.root, person_terms(0)) == {}
    with StateDB(site.root / "state") as state:
        assert state.conn.execute("SELECT COUNT(*) FROM erase_pending").fetchone()[0] == 0


def test_data_staff_typed_elsewhere_is_named_as_left_for_a_person_to_remove(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    set_cells(site, {"Beendigungsgrund": "Umzug zu Zyprian Quellenbergs Vater"})
    assert site.run("privacy", "erase", "--nr", "2026-0001", now="2026-03-19T09:00") == 1
    out = capsys.readouterr().out
    assert "NICHT erreicht: Anfrageliste: Daten der Person stehen noch in anderen Zellen" in out
    assert set(files_naming(site.root, person_terms(0))) == {"Anfrageliste.xlsx"}
