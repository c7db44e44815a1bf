"""Make a report from the live sources (workbook, state database) and put it somewhere: files
for the `report` command and the demo, mail attachments for the Qualitätsdialog reminder.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from jugendhaus_mail.app import App
from jugendhaus_mail.config import Settings
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.report.content import Report, make_report
from jugendhaus_mail.report.figures import Rules, SentNotice
from jugendhaus_mail.report.html import report_html
from jugendhaus_mail.report.period import Period, ReportError, half_year_before
from jugendhaus_mail.report.xlsx import XLSX_MIME, report_workbook
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

log = logging.getLogger(__name__)

Attachment = tuple[str, bytes, str]


def rules_from(settings: Settings) -> Rules:
    deadlines = settings.deadlines
    return Rules(deadlines.contact_person_days, deadlines.home_visit_days, deadlines.feedback_weeks)


def sent_notices(state: StateDB | None) -> list[SentNotice] | None:
    """Every key in the outbox with its sending time; None when the database cannot be read."""
    if state is None:
        return None
    try:
        rows = state.outbox_log()
    except sqlite3.Error as exc:
        log.warning("Versandprotokoll nicht lesbar, Bericht ohne Erinnerungen: %s", exc)
        return None
    return [SentNotice(str(key), _moment(sent_at)) for key, sent_at in rows]


def build_report(app: App, period: Period, state: StateDB | None) -> Report:
    """The report for `period` from the workbook as it is now (and the sent mail, if given)."""
    today = app.calendar.local_date(app.now)
    if period.start > today:
        raise ReportError(
            f"Der Zeitraum {period.label} beginnt erst am {period.start:%d.%m.%Y}; "
            "bitte einen Zeitraum angeben, der schon begonnen hat."
        )
    snapshot = app.store().read()
    return make_report(
        snapshot.requests,
        app.calendar,
        period,
        today,
        rules=rules_from(app.settings),
        sent=sent_notices(state),
        office_name=app.settings.office.name,
    )


def write_report(report: Report, out: Path) -> tuple[Path, Path]:
    """Write the workbook to `out` (.xlsx) and the HTML summary beside it (same name, .html)."""
    if out.suffix.lower() != ".xlsx":
        raise ReportError(
            f"--out {out}: Die Datei muss auf .xlsx enden, z. B. {report.file_stem}.xlsx."
        )
    folder = out.resolve().parent
    if not folder.is_dir():
        raise ReportError(f"Den Ordner {folder} gibt es nicht; bitte anlegen oder --out ändern.")
    html = out.with_suffix(".html")
    try:
        _replace(out, report_workbook(report))
        _replace(html, report_html(report).encode("utf-8"))
    except PermissionError as exc:
        raise ReportError(
            f"{exc.filename or out} lässt sich nicht schreiben (geöffnet oder keine "
            "Schreibrechte?); bitte schließen oder einen anderen Pfad mit --out angeben."
        ) from None
    return out, html


def attachments(report: Report) -> tuple[Attachment, ...]:
    return (
        (f"{report.file_stem}.xlsx", report_workbook(report), XLSX_MIME),
        (f"{report.file_stem}.html", report_html(report).encode("utf-8"), "text/html"),
    )


def dialog_statistics(
    outbox: Outbox, key: str, requests: list[Row], calendar: WorkCalendar, today: date
) -> tuple[Attachment, ...]:
    """The half-year report to attach to the Qualitätsdialog notice `key`.

    The period is the last calendar half-year that ended before `today` (see `period`). Built
    only when the notice is still to be queued; a failure is logged and the reminder goes out
    without statistics rather than not at all.
    """
    if outbox.state.already_queued(key):
        return ()
    period = half_year_before(today)
    try:
        report = make_report(
            requests,
            calendar,
            period,
            today,
            rules=rules_from(outbox.settings),
            sent=sent_notices(outbox.state),
            office_name=outbox.settings.office.name,
        )
        files = attachments(report)
    except Exception as exc:  # the reminder matters more than its attachment
        log.warning(
            "Halbjahresbericht %s nicht erstellt (%s); Qualitätsdialog-Erinnerung ohne Statistik",
            period.code,
            type(exc).__name__,
        )
        return ()
    log.info("Halbjahresbericht %s für den Qualitätsdialog angehängt", period.code)
    return files


def _replace(path: Path, data: bytes) -> None:
    from jugendhaus_mail.fsync import write_durably

    write_durably(path, data)


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
