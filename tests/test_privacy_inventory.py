"""docs/datenschutz.md matches the code: every store and every state table it lists exists in the
inventory and vice versa; every table a real state database holds after a full cycle, every
Maildir folder and every file the service writes into its state folder is in the inventory."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import jugendhaus_mail
from jugendhaus_mail.config import RetentionSettings
from jugendhaus_mail.privacy.inventory import MAIL_FOLDERS, STATE_TABLES, STORES
from tests.privacy_helpers import full_site, state_tables
from tests.site import Site

DOC = Path(__file__).resolve().parents[1] / "docs" / "datenschutz.md"


def doc_tables() -> list[list[list[str]]]:
    tables: list[list[list[str]]] = [[]]
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                tables[-1].append(cells)
        elif tables[-1]:
            tables.append([])
    return [t[1:] for t in tables if t]  # without the header row


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = full_site(tmp_path_factory.mktemp("inventory") / "site")
    site.config.write_text(
        site.config.read_text(encoding="utf-8")
        + "[retention]\nmonths = 1\nmail_months = 1\nsent_months = 1\nbackup_days = 1\n"
        "letters_days = 1\nstate_days = 1\n",
        encoding="utf-8",
    )
    assert site.run("privacy", "erase", "--nr", "2026-0002", now="2026-03-19T09:00") == 0
    assert site.run("retention", now="2026-06-19T09:00") == 0
    return site


def test_the_stores_in_the_document_are_the_stores_in_the_code() -> None:
    stores, tables, keys = doc_tables()[:3]
    assert [row[0] for row in stores] == [s.name for s in STORES]
    assert [row[0].strip("`") for row in tables] == list(STATE_TABLES)
    fields = [f.name for f in dataclasses.fields(RetentionSettings)]
    assert sorted(row[0].strip("`") for row in keys) == sorted(fields)


def test_every_table_of_a_real_state_database_is_in_the_inventory(site: Site) -> None:
    assert state_tables(site.root / "state") <= set(STATE_TABLES)
    source = "".join(p.read_text(encoding="utf-8") for p in
                     Path(jugendhaus_mail.__file__).parent.rglob("*.py"))  # fmt: skip
    for table in STATE_TABLES:
        assert re.search(rf"CREATE TABLE IF NOT EXISTS {table}\b", source), table


def test_every_folder_and_state_file_the_service_writes_is_in_the_inventory(site: Site) -> None:
    folders = {p.name[1:] for p in site.maildir.iterdir() if p.is_dir() and p.name.startswith(".")}
    assert folders and folders <= set(MAIL_FOLDERS)
    places = " ".join(s.where for s in STORES)
    for path in (site.root / "state").iterdir():
        name = path.name + ("/" if path.is_dir() else "")
        assert re.sub(r"-(wal|shm)$", "", name) in places, name
