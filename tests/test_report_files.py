"""`report` on the command line, the files it writes, the Qualitätsdialog mail and the demo.

The workbook is checked as a user would: reopened with openpyxl (numbers in the overview,
charts on every sheet) and as the zip it is (each chart's series point at cells holding the
numbers). The history is the one worked out by hand in test_report_figures.py.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from jugendhaus_mail.cli import main
from jugendhaus_mail.report.period import Period, ReportError, half_year_before, parse_period
from tests.site import Site, outgoing
from tests.test_report_figures import history_site

PRIVATE = ("Jonas", "Müller", "123D456789", "Lange Straße", "Kowalski")
CHART_NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
SHEETS = ["Übersicht", "Anfragen", "Ansprechpartner", "Hausbesuche", "Gemeinsame Fälle",
          "Erinnerungen", "Definitionen"]  # fmt: skip


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Path, str]:
    site = history_site(tmp_path_factory.mktemp("files") / "site")
    out = site.root / "Berichte" / "Halbjahresbericht-2026-H2.xlsx"
    out.parent.mkdir()
    assert site.run("report", "2026-H2", "--out", str(out), now="2027-03-02T09:00") == 0
    return site, out, out.with_suffix(".html").read_text(encoding="utf-8")


def overview_rows(path: Path | bytes) -> dict[str, tuple[object, ...]]:
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    sheet = openpyxl.load_workbook(source)["Übersicht"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "Bereich")
    return {str(row[1]): row for row in rows[header + 1 :] if row[0]}


def test_cli_writes_workbook_and_summary_and_prints_where(
    written: tuple[Site, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    site, out, _ = written
    assert out.is_file() and out.with_suffix(".html").is_file()
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == SHEETS
    assert site.run("report", "2026-H2", "--out", str(out), now="2027-03-02T09:00") == 0
    printed = capsys.readouterr().out
    assert "2. Halbjahr 2026, verglichen mit 1. Halbjahr 2026" in printed
    assert str(out) in printed and str(out.with_suffix(".html")) in printed
    assert "Ansprechpartner innerhalb von 5 Arbeitstagen: 71,4\N{NO-BREAK SPACE}%" in printed


def test_overview_sheet_holds_every_key_figure_with_both_periods(
    written: tuple[Site, Path, str],
) -> None:
    rows = overview_rows(written[1])
    # (now, before, change) as in test_report_figures.test_key_figures_with_their_change
    assert rows["Anfragen insgesamt"][2:5] == (9, 3, "↑ +6")
    assert rows["Zeit bis zur Benennung (Median)"][2:6] == (2, 4, "↓ −2 Arbeitstage", "besser")
    assert rows["Ansprechpartner innerhalb von 5 Arbeitstagen"][2:4] == (71.4, 66.7)
    assert rows["Ansprechpartner innerhalb von 5 Arbeitstagen"][6:8] == ("5 von 7", "2 von 3")
    assert rows["Hausbesuch innerhalb von 10 Arbeitstagen"][2:4] == (66.7, 100)
    assert rows["Begonnen"][:4] == ("Gemeinsame Fälle", "Begonnen", 3, 2)
    assert rows["Rückmeldung im vereinbarten Intervall"][2:4] == (66.7, 100)
    assert rows["Kinderschutz-Hinweise"][2:4] == (1, 0)
    assert rows["Eskalationen versandt"][2:5] == (1, 1, "→ unverändert")
    notes = [
        r[0] for r in openpyxl.load_workbook(written[1])["Übersicht"].iter_rows(values_only=True)
    ]
    assert "1 Zeile: „Eingang“ fehlt oder ist kein Datum" in notes


def test_every_topic_sheet_has_native_charts_over_its_own_cells(
    written: tuple[Site, Path, str],
) -> None:
    path = written[1]
    workbook = openpyxl.load_workbook(path)
    charts_per_sheet = {name: len(workbook[name]._charts) for name in SHEETS}
    assert charts_per_sheet == {"Übersicht": 1, "Anfragen": 5, "Ansprechpartner": 1,
                                "Hausbesuche": 2, "Gemeinsame Fälle": 2, "Erinnerungen": 1,
                                "Definitionen": 0}  # fmt: skip
    values = openpyxl.load_workbook(path, data_only=True)
    with zipfile.ZipFile(path) as package:
        charts = sorted(
            n for n in package.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)
        )
        assert len(charts) == 12
        kinds = set()
        for name in charts:
            root = ElementTree.fromstring(package.read(name))
            plot = root.find("c:chart/c:plotArea", CHART_NS)
            assert plot is not None
            kinds |= {child.tag.split("}")[1] for child in plot if child.tag.endswith("Chart")}
            refs = [f.text or "" for f in root.iterfind(".//c:val/c:numRef/c:f", CHART_NS)]
            assert refs, name
            for ref in refs:
                assert all(isinstance(v, int | float) for v in cell_values(values, ref)), ref
    assert kinds == {"barChart", "lineChart", "pieChart"}


def cell_values(workbook: openpyxl.Workbook, reference: str) -> list[object]:
    sheet_name, cells = reference.rsplit("!", 1)
    sheet = workbook[sheet_name.strip("'")]
    found = sheet[cells.replace("$", "")]
    cells_flat = [c for row in found for c in row] if isinstance(found, tuple) else [found]
    return [c.value for c in cells_flat if c.value is not None]


def test_the_december_month_chart_points_at_the_three_december_requests(
    written: tuple[Site, Path, str],
) -> None:
    sheet = openpyxl.load_workbook(written[1])["Anfragen"]
    rows = [row for row in sheet.iter_rows(values_only=True) if row[0] in ("Dez / Jun", "Dez 2026")]
    assert rows[0][:3] == ("Dez / Jun", 3, 0)  # month by month against the previous half-year
    assert rows[1][:6] == ("Dez 2026", 1, 1, 0, 1, 0)  # SGB II, SGB III, SGB VIII, extern, ?


def test_no_personal_data_and_no_case_numbers_in_either_file(
    written: tuple[Site, Path, str],
) -> None:
    _, path, html = written
    with zipfile.ZipFile(path) as package:
        text = " ".join(package.read(n).decode("utf-8") for n in package.namelist())
    for content in (text, html):
        assert not any(word in content for word in PRIVATE)
        assert not re.search(r"2026-0\d{3}", content)


def test_html_summary_is_self_contained_german_and_shows_changes_in_words(
    written: tuple[Site, Path, str],
) -> None:
    html = written[2]
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert not re.search(r"(?:https?:)?//[a-z]", html.replace("http://www.w3.org", ""))
    assert html.count("<svg") >= 10  # charts plus the small bars of each figure
    assert "Halbjahresbericht für den Qualitätsdialog" in html
    assert "71,4\N{NO-BREAK SPACE}%" in html and "↑ +4,7 Prozentpunkte" in html
    assert "(schlechter)" in html and "(besser)" in html
    assert "So ist gezählt" in html and "nicht bestimmbar" in html


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["2026-H3"], "nicht verstanden"),
        ([], "Welcher Zeitraum?"),
        (["2026-H1", "--from", "2026-01-01", "--to", "2026-06-30"], "nicht beides"),
        (["--from", "2026-06-30", "--to", "2026-01-01"], "liegt vor --from"),
        (["--from", "2026-13-01", "--to", "2026-12-31"], "erwartet ein Datum"),
        (["2027-H2"], "beginnt erst am 01.07.2027"),
    ],
)
def test_cli_errors_say_what_to_fix(
    written: tuple[Site, Path, str],
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    site, out, _ = written
    assert site.run("report", *arguments, "--out", str(out), now="2027-03-02T09:00") == 2
    assert message in capsys.readouterr().err


def test_out_must_be_an_xlsx_in_an_existing_folder(
    written: tuple[Site, Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = written[0]
    assert site.run("report", "2026-H2", "--out", str(tmp_path / "b.pdf"), now="2027-03-02") == 2
    assert "muss auf .xlsx enden" in capsys.readouterr().err
    missing = tmp_path / "fehlt" / "b.xlsx"
    assert site.run("report", "2026-H2", "--out", str(missing), now="2027-03-02") == 2
    assert "gibt es nicht" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (parse_period("2026-H2", None, None), Period(date(2026, 1, 1), date(2026, 6, 30))),
        (parse_period("2026-h1", None, None), Period(date(2025, 7, 1), date(2025, 12, 31))),
        # whole months: the same number of months before
        (parse_period(None, "2026-03-01", "2026-05-31"),
         Period(date(2025, 12, 1), date(2026, 2, 28))),
        # any other range: the same number of days before
        (parse_period(None, "2026-03-10", "2026-03-19"),
         Period(date(2026, 2, 28), date(2026, 3, 9))),
    ],
)  # fmt: skip
def test_previous_period_of_equal_length(period: Period, previous: Period) -> None:
    assert period.previous() == previous


@pytest.mark.parametrize(
    ("today", "code"),
    [(date(2027, 3, 3), "2026-H2"), (date(2026, 9, 2), "2026-H1"), (date(2026, 7, 1), "2026-H1"),
     (date(2026, 6, 30), "2025-H2"), (date(2026, 1, 1), "2025-H2")],
)  # fmt: skip
def test_the_dialog_reports_on_the_last_half_year_that_has_ended(today: date, code: str) -> None:
    assert half_year_before(today).code == code


def test_years_outside_2000_to_2099_are_refused() -> None:
    with pytest.raises(ReportError):
        parse_period("1999-H2", None, None)
    with pytest.raises(ReportError):
        parse_period(None, "0001-01-01", "2026-01-01")


# --- the Qualitätsdialog reminder -------------------------------------------------------------


def dialog_mails(site: Site) -> list[EmailMessage]:
    return [m for m in outgoing(site) if "Qualitätsdialog" in str(m["Subject"])]


def test_the_qualitaetsdialog_reminder_carries_the_last_half_year_report(tmp_path: Path) -> None:
    site = history_site(tmp_path / "site", with_unsent=False)
    # The March 2027 dialog is due Wed 31.03.2027 and organised by SGB II; the reminder window
    # opens four weeks before, on Wed 03.03.2027. The last half-year that has ended: 2026-H2.
    assert site.run("remind", now="2027-03-03T08:00") == 0
    [mail] = dialog_mails(site)
    assert {a.addr_spec for a in mail["To"].addresses} >= {"ralf.timmermann@jobcenter-ge.de"}
    assert "hängt an" in mail.get_body(("plain",)).get_content()
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    # the report, its summary, and the dialog's calendar entry (.ics, tested with the reminders)
    assert set(files) == {
        "Halbjahresbericht-2026-H2.xlsx",
        "Halbjahresbericht-2026-H2.html",
        "2027-1-qualitaetsdialog.ics",
    }
    workbook = files["Halbjahresbericht-2026-H2.xlsx"]
    assert workbook.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert overview_rows(workbook.get_content())["Anfragen insgesamt"][2:4] == (9, 3)
    html = files["Halbjahresbericht-2026-H2.html"].get_content()
    assert "2. Halbjahr 2026" in html and not any(word in html for word in PRIVATE)

    assert site.run("remind", now="2027-03-03T14:00") == 0
    assert site.run("remind", now="2027-03-04T08:00") == 0
    assert len(dialog_mails(site)) == 1  # once, not every cycle


def test_the_reminder_still_goes_out_when_the_report_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault injection: the reminder matters more than its attachment."""
    import jugendhaus_mail.jobs.report as build

    def broken(report: object) -> bytes:
        raise RuntimeError("Platte voll")

    monkeypatch.setattr(build, "report_workbook", broken)
    site = history_site(tmp_path / "site", with_unsent=False)
    assert site.run("remind", now="2027-03-03T08:00") == 0
    [mail] = dialog_mails(site)
    names = [part.get_filename() for part in mail.iter_attachments()]
    assert names == ["2027-1-qualitaetsdialog.ics"]  # the calendar entry, no report
    assert "hängt an" not in mail.get_body(("plain",)).get_content()
    assert "Halbjahresbericht 2026-H2 nicht erstellt (RuntimeError)" in caplog.text


# --- the demo ---------------------------------------------------------------------------------


def test_demo_writes_a_report_for_its_half_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    assert main(["--now", "2026-11-25T09:30", "demo", "--dir", str(folder)]) == 0
    printed = capsys.readouterr().out
    workbook = folder / "Halbjahresbericht-2026-H2.xlsx"
    assert str(workbook) in printed and str(workbook.with_suffix(".html")) in printed
    rows = overview_rows(workbook)
    assert rows["Anfragen insgesamt"][2] == 10  # the demo mailbox's requests, all in November
    assert rows["Kinderschutz-Hinweise"][2] == 1
    assert "vorläufig" in workbook.with_suffix(".html").read_text(encoding="utf-8").lower()
