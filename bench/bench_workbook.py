"""Workbook cost, measured side by side in one run (issue 7).

    .venv/bin/python bench/bench_workbook.py [--rows 10000] [--big-rows 50000] [--repeat 3]

Builds a request list with `init`'s code, fills it with realistic rows and stores its strings
the way Excel does (shared strings), then measures on the same file:
  1. one bare openpyxl load + save                      (the old way of writing)
  2. apply_changes with 1,000 new rows                 (target: <= 0.25 x 1.)
  3. a python-calamine read and an openpyxl read_only pass (for comparison), and the
     workbook side of a remind cycle (read_snapshot + 200 updates; target: <= 0.2 x read_only)
  4. peak memory of apply_changes on a 50,000-row workbook, in a fresh process
                                                         (target: <= 150 MiB)
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from jugendhaus_mail.workbook.model import Changes, NewRow  # noqa: E402
from jugendhaus_mail.workbook.schema import Schema, load_schema  # noqa: E402
from jugendhaus_mail.workbook.xlsx_writer import apply_changes  # noqa: E402

TARGET_WRITE_RATIO = 0.25
TARGET_PEAK_MIB = 150
KINDS = ("Fallanfrage", "Hausbesuch", "Stellungnahme", "Sonstiges")


def received_at(i: int) -> datetime:
    return datetime(2024, 1, 2, 8, 15) + timedelta(minutes=37 * i)


def request_nr(i: int) -> str:
    return f"{received_at(i).year}-{i + 1:05d}"


def request_rows(count: int, start: int = 0) -> tuple[NewRow, ...]:
    """Rows as intake appends them: 16 of 42 columns filled."""
    rows = []
    for i in range(start, start + count):
        received = received_at(i)
        values = {
            "nr": request_nr(i),
            "received": received,
            "channel": "Teampostfach",
            "kind": KINDS[i % len(KINDS)],
            "subject": f"Anfrage {KINDS[i % len(KINDS)]} für Kundennr. {123000 + i}",
            "requester_name": f"Integrationsfachkraft {i % 97}",
            "requester_email": f"ifk{i % 97}@jobcenter-rostock.example",
            "rechtskreis": "SGB II" if i % 3 else "SGB III",
            "client_name": f"Junger Mensch {i}",
            "customer_number": f"{123000 + i}D{i % 10}",
            "birth_date": date(2000 + i % 8, 1 + i % 12, 1 + i % 28),
            "address": f"Musterstraße {i % 200}, 18055 Rostock",
            "attachments": i % 4,
            "contact_due": (received + timedelta(days=7)).date(),
            "status": "Neu",
        }
        rows.append(NewRow(f"msg-{i:08d}-{'ab' * 12}", values))  # type: ignore[arg-type]
    return tuple(rows)


def excel_like_workbook(folder: Path, schema: Schema, rows: int) -> bytes:
    """A workbook with `rows` requests whose strings are shared, as after a save in Excel."""
    from xlsx_fixtures import new_workbook, to_shared_strings

    empty = new_workbook(folder, schema)
    filled, _ = apply_changes(empty, schema, Changes(appends=request_rows(rows)))
    (folder / "Anfrageliste.xlsx").unlink()
    return to_shared_strings(filled)


def timed(action: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def openpyxl_load_save(data: bytes) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook.save(io.BytesIO())


def openpyxl_read_only(data: bytes) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    for _row in workbook["Anfragen"].iter_rows(values_only=True):
        pass
    workbook.close()


def calamine_read(data: bytes) -> None:
    from python_calamine import CalamineWorkbook

    CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Anfragen").to_python()


# ru_maxrss of a child starts at the parent's size (Linux keeps it across fork + exec), so the
# child reads its own high-water mark instead.
PEAK_RSS = (
    "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))"
    " / 1024 if sys.platform == 'linux' else"
    " __import__('resource').getrusage(__import__('resource').RUSAGE_SELF).ru_maxrss / 2**20)"
)


REMIND_UPDATES = 200


def reminder_like_cycle(data: bytes, schema: Schema, rows: int) -> None:
    """What a remind cycle costs on the workbook side: a snapshot, then a few service cells."""
    from jugendhaus_mail.workbook.model import CellUpdate
    from jugendhaus_mail.workbook.reader import read_snapshot

    read_snapshot(data, schema)
    step = max(1, rows // REMIND_UPDATES)
    updates = tuple(
        CellUpdate(
            f"{2024 + (37 * i) // 525_600}-{i + 1:05d}", "contact_notified", date(2025, 1, 2)
        )
        for i in range(0, rows, step)
    )
    _, result = apply_changes(data, schema, Changes(updates=updates))
    assert result.updated == len(updates), "the bench's updates must find their rows"


def measure_peak(path: Path, appends: int) -> tuple[float, float, float]:
    """(peak RSS, Python heap peak, seconds) of apply_changes in a fresh interpreter, MiB."""
    code = (
        "import sys, time, tracemalloc;"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'bench')!r}];"
        "from bench_workbook import request_rows;"
        "from jugendhaus_mail.workbook.model import Changes;"
        "from jugendhaus_mail.workbook.schema import load_schema;"
        "from jugendhaus_mail.workbook.xlsx_writer import apply_changes;"
        "schema = load_schema(); rows = request_rows(%d, start=10**6);"
        "trace = len(sys.argv) > 2;"
        "started = time.perf_counter(); trace and tracemalloc.start();"
        "data = open(sys.argv[1], 'rb').read();"
        "out, _ = apply_changes(data, schema, Changes(appends=rows));"
        "open(sys.argv[1] + '.out', 'wb').write(out);"
        "print(trace and tracemalloc.get_traced_memory()[1] / 2**20 or 0,"
        " time.perf_counter() - started);"
    ) % appends + PEAK_RSS
    runs = []
    for trace in (False, True):  # tracemalloc slows Python down: time the run without it
        args = [sys.executable, "-c", code, str(path)] + (["trace"] if trace else [])
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        runs.append([float(x) for x in out.split()])
    (_, seconds, rss), (traced, _, _) = runs
    return rss, traced, seconds


def baseline_rss() -> float:
    """RSS of an interpreter that only imported the writer (the floor under any measurement)."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r});"
        "import jugendhaus_mail.workbook.xlsx_writer;" + PEAK_RSS
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--big-rows", type=int, default=50_000)
    parser.add_argument("--appends", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    schema = load_schema()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = excel_like_workbook(folder, schema, args.rows)
        size = len(data) / 2**20
        print(f"\nworkbook: {args.rows} rows, {size:.1f} MiB; median of {args.repeat} runs")
        new = Changes(appends=request_rows(args.appends, start=10**6))
        load_save = timed(lambda: openpyxl_load_save(data), args.repeat)
        ours = timed(lambda: apply_changes(data, schema, new), args.repeat)
        read_only = timed(lambda: openpyxl_read_only(data), args.repeat)
        calamine = timed(lambda: calamine_read(data), args.repeat)
        remind = timed(lambda: reminder_like_cycle(data, schema, args.rows), args.repeat)
        ratio = ours / load_save
        print(f"  openpyxl load + save             {load_save:7.2f} s")
        print(f"  apply_changes, {args.appends} new rows     {ours:7.2f} s")
        verdict = "ok" if ratio <= TARGET_WRITE_RATIO else "MISSED"
        print(f"    ratio {ratio:.3f} (target <= {TARGET_WRITE_RATIO})  {verdict}")
        print(f"  openpyxl read_only pass          {read_only:7.2f} s")
        print(f"  python-calamine read             {calamine:7.2f} s")
        print(f"    ratio calamine / read_only {calamine / read_only:.3f}")
        print(f"  read_snapshot + {REMIND_UPDATES} updates         {remind:7.2f} s")
        print(f"    ratio to read_only {remind / read_only:.3f} (issue 7 target <= 0.2)")

        big = folder / "big.xlsx"
        big.write_bytes(excel_like_workbook(folder, schema, args.big_rows))
        big_mib = big.stat().st_size / 2**20
        print(f"\nworkbook: {args.big_rows} rows, {big_mib:.1f} MiB")
        rss, traced, seconds = measure_peak(big, args.appends)
        floor = baseline_rss()
        verdict = "ok" if rss <= TARGET_PEAK_MIB else "MISSED"
        print(f"  apply_changes, {args.appends} new rows, fresh process: {seconds:.2f} s")
        print(f"    peak RSS {rss:.0f} MiB (target <= {TARGET_PEAK_MIB})  {verdict}")
        print(f"    interpreter + imports alone {floor:.0f} MiB; Python heap peak {traced:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
