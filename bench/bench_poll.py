"""Intake cost, measured side by side in one run (issue 2).

    .venv/bin/python bench/bench_poll.py [--rows 10000] [--mails 1000]

On the same 10,000-row request list, measures
  1. one bare openpyxl load + save of the workbook, and
  2. one `poll` of 1,000 mails from a Maildir into it (parse, classify, state database, move,
     one workbook write with backup and read-back verification),
and prints the ratio (target for the intake issue: <= 1.5; the writer issue aims at <= 0.25).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_workbook import cpu_model, excel_like_workbook, openpyxl_load_save  # noqa: E402

from jugendhaus_mail.app import App  # noqa: E402
from jugendhaus_mail.config import load_settings  # noqa: E402
from jugendhaus_mail.jobs.intake import poll  # noqa: E402
from jugendhaus_mail.mailbox.maildir import deliver  # noqa: E402
from jugendhaus_mail.workbook.schema import load_schema  # noqa: E402
from jugendhaus_mail.workdays import WorkCalendar  # noqa: E402

CONFIG = """
[office]
holiday_region = "DE-MV"
domain = "rostock.de"
[mailbox]
backend = "maildir"
path = "postfach"
batch_size = 5000
[workbook]
path = "Anfrageliste.xlsx"
"""


def mail(i: int) -> bytes:
    kind = ("Fallanfrage", "Hausbesuch", "Stellungnahme")[i % 3]
    return (
        f"From: IFK {i} <ifk{i % 40}@jobcenter-ge.de>\r\nTo: FM-Jugendhaus@rostock.de\r\n"
        f"Subject: {kind} Nr. {i}\r\nMessage-ID: <bench{i}@jobcenter-ge.de>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Name: Jugendliche Person {i}\r\nKundennummer: {i:03d}D{i:06d}\r\n"
        "Anschrift: Lange Straße 3, 18055 Rostock\r\nGeburtsdatum: 01.02.2005\r\n"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--mails", type=int, default=1_000)
    args = parser.parse_args()
    schema = load_schema()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "build").mkdir()
        data = excel_like_workbook(folder / "build", schema, args.rows)
        (folder / "Anfrageliste.xlsx").write_bytes(data)
        (folder / "jugendhaus-mail.toml").write_text(CONFIG, encoding="utf-8")
        start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
        for i in range(args.mails):
            deliver(folder / "postfach", mail(i), start + timedelta(minutes=i), f"b{i}")

        began = time.perf_counter()
        openpyxl_load_save(data)
        openpyxl_seconds = time.perf_counter() - began

        settings = load_settings(folder / "jugendhaus-mail.toml")
        now = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
        app = App(settings, now, WorkCalendar.from_settings(settings.office))
        began = time.perf_counter()
        report = poll(app)
        poll_seconds = time.perf_counter() - began
        assert report.written == args.mails, f"{report.written} of {args.mails} written"
        shutil.rmtree(folder / "postfach")

    ratio = poll_seconds / openpyxl_seconds
    print(f"machine: {cpu_model()}, Python {platform.python_version()}")
    print(f"workbook: {args.rows} rows; mails: {args.mails}")
    print(f"openpyxl load + save:      {openpyxl_seconds:7.2f} s")
    print(f"poll of {args.mails} mails:        {poll_seconds:7.2f} s")
    print(f"ratio poll / openpyxl:     {ratio:7.2f}  (target <= 1.5)")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
