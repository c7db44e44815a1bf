"""`demo`: play the whole thing through on the bundled demo mailbox in a working folder.

Creates the folder with a config, a Maildir holding the demo mails (delivered relative to
"now", so some deadlines are overdue and some fresh), a new workbook with demo staff, then
runs the intake, reminders and the digest and prints what happened.

Without `--now` the demo pins its clock to 09:30 on the latest working day (today, or the
working day before a weekend or holiday), so it shows a whole working day whenever it runs:
intake, reminders, an escalation, the digest and an absence notice. Its output is the
printed summary only; log lines appear with `-v`.
"""

from __future__ import annotations

import argparse
import shutil
import tomllib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from jugendhaus_mail.errors import JugendhausError

HELP = "Demo mit mitgeliefertem Postfach in einem Arbeitsordner durchspielen"
DEMO_DATA = Path(__file__).resolve().parent.parent / "demo"
MARKER = ".jugendhaus-demo"

DEMO_CONFIG = """\
# Demo-Konfiguration, angelegt von `jugendhaus-mail demo`.
[office]
holiday_region = "DE-MV"
name = "Berufliche Jugendsozialberatung im Jugendhaus Rostock (Demo)"
domain = "rostock.de"
phone = "0381 555 03 00"
letterhead = ["Hanse- und Universitätsstadt Rostock", "Amt für Jugend, Soziales und Asyl",
              "Berufliche Jugendsozialberatung im Jugendhaus", "Musterstraße 1, 18055 Rostock"]

[mailbox]
backend = "maildir"
path = "postfach"

[workbook]
path = "Anfrageliste.xlsx"

[mail]
team_address = "FM-Jugendhaus@rostock.de"
admin_address = "it-jugendhaus@rostock.de"
"""


DEMO_TIME = time(9, 30)  # after the digest (07:00) and the first Sprechzeit has begun


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=Path, default=Path("demo"),
        help="Arbeitsordner für die Demo (Standard: ./demo; wird neu angelegt)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    return play(args.dir, now=args.now, verbose=args.verbose)


def demo_moment(real_now: datetime, calendar: Any) -> datetime:
    """09:30 office time on the latest working day up to `real_now`'s day."""
    day = calendar.previous_working_day(calendar.local_date(real_now))
    return datetime.combine(day, DEMO_TIME, tzinfo=calendar.tz).astimezone(UTC)


def play(
    folder: Path, *, now: str | None, verbose: bool = False, real_now: datetime | None = None
) -> int:
    """The demo in `folder`; `now` is --now, `real_now` the wall clock (a parameter for tests)."""
    from jugendhaus_mail.app import App
    from jugendhaus_mail.commands.poll import format_report
    from jugendhaus_mail.config import load_settings
    from jugendhaus_mail.jobs.intake import poll
    from jugendhaus_mail.service.clock import parse_now
    from jugendhaus_mail.workdays import WorkCalendar

    folder = folder.resolve()
    _prepare_folder(folder)
    config = folder / "jugendhaus-mail.toml"
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    settings = load_settings(config)
    _quiet_logging(settings, verbose)
    calendar = WorkCalendar.from_settings(settings.office)
    if now is None:
        moment = demo_moment(real_now or datetime.now(UTC), calendar)
    else:
        moment = parse_now(now, settings.office.timezone)
    app = App(settings, moment, calendar)

    delivered = deliver_demo_mail(app, settings.mailbox.path or folder / "postfach")
    create_demo_workbook(app)
    print(f"Demo-Ordner: {folder}")
    local = app.now.astimezone(calendar.tz)
    weekday = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
    print(
        f"Die Demo spielt am {weekday[local.weekday()]}, {local:%d.%m.%Y} um {local:%H:%M} Uhr"
        + ("" if now is not None else " (letzter Arbeitstag; andere Zeit mit --now)")
    )
    print(f"{delivered} Demo-Mails zugestellt in {settings.mailbox.path}\n")
    print("Posteingang abholen (poll):")
    print(format_report(app, poll(app), dry_run=False))
    _remind_and_digest(app)
    _unaddressed(app)
    _half_year_report(app, folder)
    print(f"\nAnfrageliste: {settings.workbook.path}")
    print(f"Gleiche Demo mit eigenen Befehlen: jugendhaus-mail --config {config} check")
    return 0


def _remind_and_digest(app: Any) -> None:
    from jugendhaus_mail.commands.poll import format_planned
    from jugendhaus_mail.jobs.digest import run_digest
    from jugendhaus_mail.jobs.remind import run_remind
    from jugendhaus_mail.mailbox import open_mailbox

    with app.state() as state, open_mailbox(app.settings) as mailbox:
        print("\nFristen und Erinnerungen (remind):")
        print(
            format_planned(
                run_remind(app, state, mailbox).outbox.planned, dry_run=False, filed_only=True
            )
        )
        print("\nTagesübersicht (digest):")
        report = run_digest(app, state, mailbox)
        if report.skipped_reason:
            print(f"Tagesübersicht: {report.skipped_reason}.")
        print(format_planned(report.outbox.planned, dry_run=False, filed_only=True))
    outbox = app.settings.mailbox.path / ".Postausgang" / "new"
    print(f"\nAlle Mails liegen vollständig in {outbox} (die Demo versendet nichts)")


def _quiet_logging(settings: Any, verbose: bool) -> None:
    """The demo's output is its summary; with -v the log lines come too (as for `run`)."""
    import logging

    from jugendhaus_mail.commands.session import configure_logging
    from jugendhaus_mail.service import logsetup

    if verbose:
        configure_logging(settings, verbose=True)
        return
    logsetup.install(logging.INFO, console_level=logging.INFO, file=None, json_lines=False,
                     console=False)  # fmt: skip
    logging.getLogger().addHandler(logging.NullHandler())  # no "last resort" output either


def _unaddressed(app: Any) -> None:
    """What `check` would call a problem: mail the service could address to nobody allowed."""
    with app.state() as state:
        entries = state.unaddressed()
    if not entries:
        return
    print("\nNicht zugestellt (so zeigen es auch `check`, die Überwachung und die Tagesübersicht):")
    for entry in entries:
        print(f"  „{entry.subject}“ – {entry.reason}")


def _half_year_report(app: Any, folder: Path) -> None:
    """The Qualitätsdialog report for the half-year the demo mail arrived in (still running)."""
    from jugendhaus_mail.jobs.report import build_report, write_report
    from jugendhaus_mail.report.period import half_year_of

    with app.state() as state:
        report = build_report(app, half_year_of(app.calendar.local_date(app.now)), state)
    workbook, summary = write_report(report, folder / f"{report.file_stem}.xlsx")
    print(f"\nHalbjahresbericht für den Qualitätsdialog ({report.period.label}, vorläufig):")
    print(f"  Excel mit Diagrammen: {workbook}")
    print(f"  Kurzfassung (HTML):   {summary}")


def _prepare_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise JugendhausError(
                f"{folder} ist nicht leer und kein Demo-Ordner; bitte mit --dir einen leeren "
                "oder neuen Ordner angeben."
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(
        "Von jugendhaus-mail demo angelegt; wird beim nächsten Lauf ersetzt.\n"
    )


def deliver_demo_mail(app: Any, maildir: Path) -> int:
    from jugendhaus_mail.mailbox.maildir import deliver

    manifest = tomllib.loads((DEMO_DATA / "manifest.toml").read_text(encoding="utf-8"))
    calendar = app.calendar
    now_local = app.now.astimezone(calendar.tz)
    today = calendar.previous_working_day(now_local.date())
    for index, entry in enumerate(manifest["mail"]):
        day = calendar.add_working_days(today, -int(entry["received_days_ago"]))
        hour, minute = (int(part) for part in entry["received_time"].split(":"))
        received = datetime.combine(day, time(hour, minute), tzinfo=calendar.tz)
        if received > now_local:
            received = now_local - timedelta(minutes=30 - index)
        raw = (DEMO_DATA / "mail" / entry["file"]).read_bytes()
        deliver(maildir, raw, received, f"demo{index:02d}")
    return len(manifest["mail"])


def create_demo_workbook(app: Any) -> None:
    """A new workbook from the schema, with the demo staff and absences filled in."""
    import openpyxl

    from jugendhaus_mail.workbook.build import build_workbook
    from jugendhaus_mail.workbook.schema import load_schema

    schema = load_schema()
    path = app.settings.workbook.path
    build_workbook(path, schema)
    data = tomllib.loads((DEMO_DATA / "staff.toml").read_text(encoding="utf-8"))
    workbook = openpyxl.load_workbook(path)
    fill_table(workbook["Mitarbeitende"], [c.key for c in schema.staff.columns], data["staff"])
    absences = [_absence_row(entry, app) for entry in data.get("absence", [])]
    fill_table(workbook["Abwesenheiten"], [c.key for c in schema.absences.columns], absences)
    workbook.save(path)


def _absence_row(entry: dict[str, Any], app: Any) -> dict[str, Any]:
    today = app.now.astimezone(app.calendar.tz).date()
    base = today
    if entry["relative_to"] == "next_monday":
        base = today + timedelta(days=7 - today.weekday())

    def moment(days: int, clock: str) -> datetime:
        hour, minute = (int(part) for part in clock.split(":"))
        return datetime.combine(base + timedelta(days=days), time(hour, minute))

    return {
        "name": entry["name"],
        "start": moment(entry["start_offset_days"], entry["start_time"]),
        "end": moment(entry["end_offset_days"], entry["end_time"]),
        "reason": entry["reason"],
        "kind": entry["kind"],
    }


def fill_table(sheet: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Write rows below the header of a freshly built sheet and stretch its table to them."""
    from openpyxl.utils import get_column_letter

    formats = {c: sheet.cell(row=2, column=c).number_format for c in range(1, len(keys) + 1)}
    for offset, values in enumerate(rows):
        for column, key in enumerate(keys, start=1):
            cell = sheet.cell(row=2 + offset, column=column, value=values.get(key))
            cell.number_format = formats[column]
    last_row = max(2, 1 + len(rows))
    for table in sheet.tables.values():
        table.ref = f"A1:{get_column_letter(len(keys))}{last_row}"
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref
