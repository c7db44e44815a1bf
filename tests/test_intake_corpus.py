"""The real-world corpus end to end: every broken mail becomes one row or is set aside with a
reason, nothing crashes, a second cycle changes nothing, and LibreOffice opens the result."""

from __future__ import annotations

import csv
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from jugendhaus_mail.jobs.intake import poll
from tests.site import Site, make_site, utc
from tests.test_parse_corpus import corpus_files

NOW = utc(2026, 3, 10, 8, 0)


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, int]:
    files = corpus_files()
    site = make_site(tmp_path_factory.mktemp("corpus") / "site")
    for index, path in enumerate(files):
        site.deliver(
            path.read_bytes(), utc(2026, 3, 9, 7, 0) + timedelta(seconds=index), f"c{index:04d}"
        )
    return site, len(files)


def test_every_corpus_mail_is_a_row_or_set_aside_with_a_reason(
    corpus_site: tuple[Site, int],
) -> None:
    site, count = corpus_site
    report = poll(site.app(NOW))
    assert len(report.mails) == count
    for mail in report.mails:
        assert mail.outcome in ("request", "set_aside", "duplicate", "reply"), mail
        if mail.outcome != "request":
            assert mail.reason or mail.outcome == "reply", mail
    requests = [m for m in report.mails if m.outcome == "request"]
    assert report.written == len(requests)
    assert len(site.requests()) == len(requests)
    assert len(site.folder("Erfasst")) + len(site.folder("Nicht erfasst")) == count
    assert site.inbox() == []

    before = site.workbook.read_bytes()
    again = poll(site.app(NOW))
    assert again.mails == [] and again.written == 0
    assert site.workbook.read_bytes() == before


@pytest.mark.libreoffice
def test_libreoffice_opens_the_filled_workbook(
    corpus_site: tuple[Site, int], tmp_path: Path, soffice: str
) -> None:
    site, _count = corpus_site
    if not site.requests():
        poll(site.app(NOW))
    expected = {row["Nr."].value for row in site.requests()}
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1"
    command = [soffice, profile, "--headless", "--convert-to", csv_filter]
    command += ["--outdir", str(tmp_path), str(site.workbook)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    csv_path = next(tmp_path.glob("Anfrageliste*.csv"))
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "Nr."
    assert {r[0] for r in rows[1:] if r and r[0]} == expected
