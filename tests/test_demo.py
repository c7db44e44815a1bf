"""`jugendhaus-mail demo` end to end: every demo mail gets the outcome its manifest promises."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from jugendhaus_mail.cli import main
from tests.site import Site

MANIFEST = tomllib.loads(
    (Path(__file__).resolve().parents[1] / "jugendhaus_mail" / "demo" / "manifest.toml").read_text(
        "utf-8"
    )
)


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    folder = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["--now", "2026-11-25T09:30", "demo", "--dir", str(folder)]) == 0
    return Site(folder, folder / "jugendhaus-mail.toml")


def test_every_request_of_the_manifest_is_one_row_with_the_promised_fields(demo_site: Site) -> None:
    rows = {r["Betreff"].value: r for r in demo_site.requests()}
    requests = [m for m in MANIFEST["mail"] if m["outcome"] == "request"]
    assert len(rows) == len(requests)
    for mail in requests:
        row = rows[mail["subject"]]
        assert row["Anfrageart"].value == mail["kind"], mail["file"]
        assert row["Rechtskreis"].value == mail["rechtskreis"], mail["file"]
        assert row["Anhänge"].value == mail["attachments"], mail["file"]
        for key, header in [
            ("client_name", "Name junger Mensch"),
            ("customer_number", "Kundennummer"),
            ("address", "Anschrift"),
        ]:
            assert row[header].value == mail.get(key), (mail["file"], header)
        if "birth_date" in mail:
            assert row["Geburtsdatum"].value.date() == date.fromisoformat(mail["birth_date"]), mail[
                "file"
            ]
        assert row["Frist Ansprechpartner"].value is not None
        assert (row["Hausbesuch fällig bis"].value is not None) == (mail["kind"] == "Hausbesuch")


def test_replies_and_automated_mail_make_no_row_and_land_in_the_right_folder(
    demo_site: Site,
) -> None:
    outcomes = [m["outcome"] for m in MANIFEST["mail"]]
    assert len(demo_site.folder("Erfasst")) == outcomes.count("request") + outcomes.count("reply")
    assert len(demo_site.folder("Nicht erfasst")) == outcomes.count("set_aside")
    assert demo_site.inbox() == []


def test_the_reply_counts_as_feedback_on_the_first_request(demo_site: Site) -> None:
    [reply] = [m for m in MANIFEST["mail"] if m["outcome"] == "reply"]
    first = next(m for m in MANIFEST["mail"] if m["file"] == reply["reply_to_file"])
    row = next(r for r in demo_site.requests() if r["Betreff"].value == first["subject"])
    assert row["Nr."].value == "2026-0001"
    assert row["Letzte Rückmeldung"].value is not None


def test_demo_staff_are_in_the_workbook(demo_site: Site) -> None:
    import openpyxl

    sheet = openpyxl.load_workbook(demo_site.workbook)["Mitarbeitende"]
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    staff = tomllib.loads(
        (Path(__file__).resolve().parents[1] / "jugendhaus_mail" / "demo" / "staff.toml").read_text(
            "utf-8"
        )
    )
    assert names == [s["name"] for s in staff["staff"]]
    table = sheet.tables["Mitarbeitende"]
    assert table.ref.endswith(str(len(names) + 1))
