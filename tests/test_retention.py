"""Retention: personal columns of cases closed longer than `[retention] months` are emptied in
the workbook (the statistics columns stay), the name is gone from the whole file, matching
state is purged, and `--dry-run` shows case numbers and columns only."""

from __future__ import annotations

import json
import threading
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.jobs.retention import cutoff_date
from jugendhaus_mail.service.loop import Service, StopSignal
from jugendhaus_mail.service.watcher import Sleeper
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workdays import WorkCalendar
from tests.site import STAFF, Site, make_site, request_mail, set_staff, utc
from tests.test_letters import set_cells

NAMES = ("Zyprian Quellenberg", "Berta Sonnenschein", "Carla Wolkenstein")
CUSTOMERS = ("111A111111", "222B222222", "333C333333")


def body(number: int) -> str:
    return (
        f"Name: {NAMES[number]}\nKundennummer: {CUSTOMERS[number]}\n"
        f"Geburtsdatum: 0{number + 1}.05.2008\nAnschrift: Lindenweg {number + 1}, 18055 Rostock\n"
    )


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site", "[retention]\nmonths = 24\n")
    set_staff(site, STAFF)
    for number in range(3):
        raw = request_mail(f"Fallanfrage {NAMES[number]}", body(number),
                           message_id=f"<c{number}@jobcenter-ge.de>")  # fmt: skip
        site.deliver(raw, utc(2026, 3, 9, 8 + number), f"c{number}")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    # staff close two cases in Excel and write a note (Excel keeps text as shared strings)
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(2, headers["Fallende am"], datetime(2026, 3, 20))
    sheet.cell(2, headers["Bemerkungen"], f"Mutter von {NAMES[0]} angerufen")
    sheet.cell(3, headers["Fallende am"], datetime(2026, 6, 30))
    workbook.save(site.workbook)
    with StateDB(site.root / "state") as state:
        state.queue_mail(
            "2026-0001|letter|test", b"Subject: noch nicht versandt\r\n\r\nx", utc(2026, 3, 21)
        )
    return site


def package_text(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        return "".join(package.read(n).decode("utf-8", "replace") for n in package.namelist())


def rows_by_nr(site: Site) -> dict[str, dict[str, object]]:
    return {
        str(row["Nr."].value): {header: cell.value for header, cell in row.items()}
        for row in site.requests()
    }


def test_dry_run_lists_case_numbers_and_columns_and_changes_nothing(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    before = site.workbook.read_bytes()
    assert site.run("retention", "--dry-run", now="2028-04-01T06:00") == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Löschfrist 24 Monate: Fälle mit Fallende am 01.04.2026 oder früher – 1 Fall/Fälle "
        "würden geleert (Fallende bis 01.04.2026).",
        "  2026-0001 (Fallende 20.03.2026): Betreff, Anfrage von, E-Mail Anfragende, "
        "Name junger Mensch, Kundennummer, Geburtsdatum, Anschrift, Bemerkungen",
        "Probelauf: nichts wurde verändert.",
    ]
    assert not any(name in out for name in NAMES)
    assert site.workbook.read_bytes() == before


def test_retention_clears_the_personal_columns_everywhere_in_the_file_and_in_the_state(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert NAMES[0] in package_text(site.workbook)  # shared string after the staff edit
    assert site.run("retention", now="2028-04-01T06:00") == 0
    assert "2026-0001 (Fallende 20.03.2026)" in capsys.readouterr().out
    rows = rows_by_nr(site)
    cleared = rows["2026-0001"]
    for header in ("Betreff", "Anfrage von", "E-Mail Anfragende", "Name junger Mensch",
                   "Kundennummer", "Geburtsdatum", "Anschrift", "Bemerkungen"):  # fmt: skip
        assert cleared[header] is None, header
    assert cleared["Anfrageart"] == "Fallanfrage" and cleared["Rechtskreis"] == "SGB II"
    assert cleared["Fallende am"] == datetime(2026, 3, 20)
    assert cleared["Eingang"] == datetime(2026, 3, 9, 9, 0)
    assert cleared["Frist Ansprechpartner"] is not None
    assert rows["2026-0002"]["Name junger Mensch"] == NAMES[1]  # ended 30.06.2026: not yet
    assert rows["2026-0003"]["Kundennummer"] == CUSTOMERS[2]
    text = package_text(site.workbook)
    assert NAMES[0] not in text and "Quellenberg" not in text and CUSTOMERS[0] not in text
    assert NAMES[1] in text
    with StateDB(site.root / "state") as state:
        assert [key for key, _ in state.unsent_mail()] == []
    assert any((site.root / "state" / "backups").iterdir())

    assert site.run("retention", now="2028-04-02T06:00") == 0
    assert "0 Fall/Fälle geleert" in capsys.readouterr().out
    site.deliver(request_mail("Fallanfrage", "neu", message_id="<n@x.de>"), utc(2028, 4, 2), "n")
    assert site.run("poll", now="2028-04-02T08:00") == 0  # the workbook is still fine to write
    assert "2028-0001" in rows_by_nr(site)


def test_a_row_without_case_number_is_named_for_manual_clearing(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    set_cells(
        site, {"Name junger Mensch": "Dora Regenbogen", "Fallende am": datetime(2025, 1, 31)}, row=5
    )
    assert site.run("retention", "--dry-run", now="2028-04-01T06:00") == 0
    out = capsys.readouterr().out
    assert "  Zeile 5: Fallende abgelaufen, aber ohne Nr. – bitte von Hand leeren" in out
    assert "Dora" not in out


def test_retention_is_off_until_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(tmp_path / "site")
    assert site.run("retention", now="2028-04-01T06:00") == 0
    assert "Löschfrist ist ausgeschaltet ([retention] months = 0)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("today", "months", "cutoff"),
    [
        (date(2028, 4, 1), 24, date(2026, 4, 1)),
        (date(2028, 3, 31), 1, date(2028, 2, 29)),
        (date(2027, 1, 15), 13, date(2025, 12, 15)),
    ],
)
def test_the_period_counts_calendar_months(today: date, months: int, cutoff: date) -> None:
    assert cutoff_date(today, months) == cutoff


class MorningClock:
    rate = 1.0

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def wait(self, seconds: float, stop: threading.Event) -> None:
        self.moment += timedelta(seconds=seconds)


def test_the_service_clears_due_cases_once_a_day_at_the_digest_time(site: Site) -> None:
    settings = load_settings(site.config)
    calendar = WorkCalendar.from_settings(settings.office)
    berlin = ZoneInfo("Europe/Berlin")
    clock = MorningClock(datetime(2028, 4, 3, 6, 30, tzinfo=berlin))  # a Monday
    stop = StopSignal()
    until = datetime(2028, 4, 3, 7, 30, tzinfo=berlin)
    service = Service(
        settings, calendar, clock, stop, watcher=Sleeper(clock, stop.event), until=until
    )
    assert "retention" in service.timetable()
    assert service.serve() == 0
    rows = rows_by_nr(site)
    assert rows["2026-0001"]["Name junger Mensch"] is None
    assert rows["2026-0002"]["Name junger Mensch"] == NAMES[1]
    status = json.loads((site.root / "state" / "status.json").read_text(encoding="utf-8"))
    assert status["jobs"]["retention"]["detail"].startswith("1 Fall/Fälle geleert")


def test_an_open_case_sharing_the_nr_of_a_closed_one_is_never_cleared(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    set_cells(site, {"Nr.": "2026-0001"}, row=4)  # a warm handover typed with a taken number
    assert site.run("retention", now="2028-04-01T06:00") == 0
    out = capsys.readouterr().out
    assert "Zeile 2 (2026-0001): Nr. steht mehrfach in der Liste" in out
    rows = [{h: c.value for h, c in row.items()} for row in site.requests()]
    open_case = next(r for r in rows if r["Kundennummer"] == CUSTOMERS[2])
    assert open_case["Name junger Mensch"] == NAMES[2] and open_case["Fallende am"] is None
    assert rows[0]["Name junger Mensch"] == NAMES[0]  # refused, not guessed
    with StateDB(site.root / "state") as state:
        assert [key for key, _ in state.unsent_mail()] == ["2026-0001|letter|test"]


def test_retention_also_drops_the_copy_kept_to_repair_a_restored_workbook(site: Site) -> None:
    assert site.run("poll", now="2026-03-11T08:00") == 0  # the ledger sees the staff edits
    assert site.run("retention", now="2028-04-01T06:00") == 0
    with StateDB(site.root / "state") as state:
        ledger = state.ledger_copies(state.ledger_numbers())
    assert sorted(nr for nr, _ in ledger.values()) == ["2026-0002", "2026-0003"]
    assert not any(NAMES[0] in data for _, data in ledger.values())
