"""Intake near the floor, measured side by side in one run (issue 15).

    .venv/bin/python bench/bench_intake.py [--rows 10000] [--mails 1000] [--big-rows 50000]
                                           [--repeat 3] [--no-memory]

On a realistic request list (every column filled, strings shared as after a save in Excel)
and realistic mail (multipart/alternative as Outlook sends it, with transport headers):
  1. one bare openpyxl load + save of the workbook;
  2. one `poll` of 1,000 mails (parse, classify, state database, move, acknowledgements to
     `Postausgang`, one workbook write with backup and read-back verification);
  3. one `poll` of 0 mails on the same workbook (what a cycle costs without mail);
  4. the standard library's parse of the same 1,000 mails
     (`email.message_from_bytes(raw, policy=email.policy.default)`);
  5. one `poll` of 0 mails on a state database that wrote every row, on a version of the
     file it never compared (what the first poll after each save by staff costs: the restore
     check reads every row; the polls 2 and 3 start on a new installation, and later polls on a
     file only the service changed skip that check).
Prints medians of `--repeat` runs (each run interleaves the five, each in folders of its own,
after one untimed small poll and the import of openpyxl, and once the file system is at rest:
see `settle_file_system`) and the ratios
  poll(1,000) / openpyxl load+save                       target <= 0.1
  (poll(1,000) - poll(0)) / stdlib parse of the 1,000     target <= 3
and the peak memory (VmHWM) of a poll of 1,000 mails into 50,000 full rows in a fresh process
(target <= 150 MiB), and of 5. on 50,000 rows.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from bench_workbook import PEAK_RSS, cpu_model, openpyxl_load_save  # noqa: E402

from jugendhaus_mail.workbook.model import Changes, NewRow  # noqa: E402
from jugendhaus_mail.workbook.schema import Schema, load_schema  # noqa: E402
from jugendhaus_mail.workbook.xlsx_writer import apply_changes  # noqa: E402

TARGET_POLL_RATIO = 0.1
TARGET_MARGINAL_RATIO = 3.0
TARGET_PEAK_MIB = 150
# Waiting for the file system (see `settle_file_system`): a probe creates PROBE_FILES files
# every 3 s; the disk counts as at rest when STEADY_PROBES probes in a row each cost at most
# 1.5x the fastest probe and at most PROBE_CEILING per file. Measured on this machine after
# the last bench's cleanup: 150-440 us per file for about 3 minutes, with single probes down
# to 30 us in between (three in a row were not enough: the poll then still paid 0.15 s), and
# 21-30 us from then on.
PROBE_FILES = 200
PROBE_CEILING = 100e-6
STEADY_PROBES = 10
SETTLE_MAX_SECONDS = 540.0
KINDS = ("Fallanfrage", "Hausbesuch", "Stellungnahme", "Sonstiges")

CONFIG = """
[office]
holiday_region = "DE-MV"
domain = "rostock.de"
[mail]
team_address = "FM-Jugendhaus@rostock.de"
internal_domains = ["rostock.de", "jobcenter-ge.de"]
[mailbox]
backend = "maildir"
path = "postfach"
batch_size = 5000
[workbook]
path = "Anfrageliste.xlsx"
"""


def full_rows(count: int) -> tuple[NewRow, ...]:
    """Rows with every one of the 42 columns filled, as a year of staff work leaves them."""
    rows = []
    for i in range(count):
        received = datetime(2024, 1, 2, 8, 15) + timedelta(minutes=37 * i)
        day = received.date()
        kind = KINDS[i % len(KINDS)]
        values = {
            "nr": f"{received.year}-{i + 1:05d}",
            "received": received,
            "channel": "Teampostfach",
            "kind": kind,
            "subject": f"Anfrage {kind} für Kundennr. {123000 + i}",
            "requester_name": f"Integrationsfachkraft {i % 97}",
            "requester_email": f"ifk{i % 97}@jobcenter-ge.de",
            "rechtskreis": "SGB II" if i % 3 else "SGB III",
            "client_name": f"Junger Mensch {i}",
            "customer_number": f"{123000 + i}D{i % 10}",
            "birth_date": date(2000 + i % 8, 1 + i % 12, 1 + i % 28),
            "address": f"Musterstraße {i % 200}, 18055 Rostock",
            "attachments": i % 4,
            "contact_due": day + timedelta(days=7),
            "contact_person": f"Fachkraft {i % 12}",
            "contact_notified": day + timedelta(days=1),
            "status": "In Bearbeitung",
            "sgb2_contact": f"IFK {i % 31}",
            "consent": "Ja",
            "confidentiality_waiver": "Ja",
            "joint_consultation": day + timedelta(days=10),
            "agreed_sgb2": "Ja",
            "agreed_sgb8": "Nein" if i % 5 == 0 else "Ja",
            "feedback_weeks": 4,
            "last_feedback": day + timedelta(days=20),
            "next_feedback_due": day + timedelta(days=48),
            "home_visit_due": day + timedelta(days=14),
            "home_visit_planned": received + timedelta(days=12, hours=2),
            "home_visit_staff": f"Fachkraft {(i + 3) % 12}",
            "announcement_sent": day + timedelta(days=5),
            "home_visit_done": day + timedelta(days=12),
            "home_visit_result": "angetroffen",
            "care_weeks": 12,
            "care_until": day + timedelta(days=94),
            "follow_up_talk": day + timedelta(days=60),
            "follow_up_due": day + timedelta(days=90),
            "conference_sgb2": f"Fallkonferenz mit IFK {i % 31}",
            "conference_sgb8": f"Fallkonferenz JSB {i % 7}",
            "case_end": day + timedelta(days=120),
            "end_reason": "Ziel erreicht",
            "notes": f"Rückruf vereinbart, Unterlagen vollständig ({i})",
        }
        rows.append(NewRow(f"mid:bench-old-{i}@jobcenter-ge.de#{i:016x}", values))  # type: ignore[arg-type]
    return tuple(rows)


def full_workbook(folder: Path, schema: Schema, rows: int) -> bytes:
    from xlsx_fixtures import new_workbook, to_shared_strings

    build = folder / "build"
    build.mkdir(exist_ok=True)
    empty = new_workbook(build, schema)
    filled, _ = apply_changes(empty, schema, Changes(appends=full_rows(rows)))
    shutil.rmtree(build)
    return to_shared_strings(filled)


def mail(i: int) -> bytes:
    """A request as an Outlook client of a Jobcenter sends it: text and HTML, transport
    headers, a signature."""
    kind = ("Fallanfrage", "Hausbesuch", "Stellungnahme")[i % 3]
    sent = datetime(2026, 3, 2, 7, 0, tzinfo=UTC) + timedelta(minutes=i)
    date_header = email.utils.format_datetime(sent)
    fields = [
        f"Name: Jugendliche Person {i}",
        f"Kundennummer: {i:03d}D{i:06d}",
        "Anschrift: Lange Straße 3, 18055 Rostock",
        "Geburtsdatum: 01.02.2005",
    ]
    text = (
        "Sehr geehrte Damen und Herren,\r\n\r\nich bitte um Unterstützung für folgenden "
        "jungen Menschen:\r\n\r\n" + "\r\n".join(fields) + "\r\n\r\nMit freundlichen Grüßen\r\n"
        f"IFK {i}\r\nJobcenter Rostock, Team U25\r\nTelefon 0381 123-{i % 1000:03d}\r\n"
    )
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "</head><body><p>Sehr geehrte Damen und Herren,</p><p>ich bitte um Unterstützung für "
        "folgenden jungen Menschen:</p><p>" + "<br>".join(fields) + "</p><p>Mit freundlichen "
        f"Grüßen<br>IFK {i}<br>Jobcenter Rostock, Team U25</p></body></html>"
    )
    boundary = f"_000_bench{i:06d}_"
    head = (
        "Received: from mx1.rostock.de (mx1.rostock.de [10.1.2.3])\r\n"
        "\tby mail.rostock.de with ESMTPS id 4Abc123; " + date_header + "\r\n"
        "Received: from jobcenter-ge.de (mail.jobcenter-ge.de [192.0.2.10])\r\n"
        "\tby mx1.rostock.de with ESMTP id 4Abc124; " + date_header + "\r\n"
        f"From: IFK {i} <ifk{i % 40}@jobcenter-ge.de>\r\nTo: FM-Jugendhaus@rostock.de\r\n"
        f"Subject: {kind} Nr. {i}\r\nDate: {date_header}\r\n"
        f"Message-ID: <bench{i}@jobcenter-ge.de>\r\nMIME-Version: 1.0\r\n"
        "Thread-Topic: Anfrage\r\nContent-Language: de-DE\r\nX-MS-Has-Attach: \r\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
    )
    import quopri

    def part(ctype: str, body: str) -> str:
        encoded = quopri.encodestring(body.encode()).decode().replace("\n", "\r\n")
        return (
            f'--{boundary}\r\nContent-Type: {ctype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{encoded}\r\n"
        )

    body = part("text/plain", text) + part("text/html", html) + f"--{boundary}--\r\n"
    return (head + body).encode()


def prepare(folder: Path, workbook: bytes, mails: int) -> None:
    from jugendhaus_mail.mailbox.maildir import deliver

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "Anfrageliste.xlsx").write_bytes(workbook)
    (folder / "jugendhaus-mail.toml").write_text(CONFIG, encoding="utf-8")
    for sub in ("tmp", "new", "cur"):
        (folder / "postfach" / sub).mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    for i in range(mails):
        deliver(folder / "postfach", mail(i), start + timedelta(minutes=i), f"b{i}")
    # A mail server syncs each mail it delivers; `deliver` does not. Without this the poll's
    # own syncs would write out the thousand mails just made (and whatever else the bench
    # left unwritten), which is the bench's cost, not the poll's.
    os.sync()


def seed_written(folder: Path, rows: int) -> None:
    """A state database that wrote every row of the workbook (as after a year of service),
    but never compared this version of the file: the next poll runs the full restore check,
    as it does after each save by staff."""
    from jugendhaus_mail.config import load_settings
    from jugendhaus_mail.state import Record, StateDB, encode_row

    now = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    with StateDB(load_settings(folder / "jugendhaus-mail.toml").state_dir) as state:
        records = []
        for row in full_rows(rows):
            received = row.values["received"]
            assert isinstance(received, datetime)
            values = {k: v for k, v in row.values.items() if k != "nr"}
            nr = str(row.values["nr"])
            records.append(
                Record(row.service_key, "request", received.replace(tzinfo=UTC), nr, row=values)
            )
        state.record_batch(records, {}, now, {})
        state.mark_written([r.key for r in records], now)
        # the copies as a restore check leaves them (with the key): staff changed nothing
        copies = {
            row.service_key: (
                str(row.values["nr"]),
                encode_row({**row.values, "service_key": row.service_key}),
            )
            for row in full_rows(rows)
        }
        state.refresh_written(copies, now)


def run_poll(folder: Path, expected: int) -> float:
    from jugendhaus_mail.app import App
    from jugendhaus_mail.config import load_settings
    from jugendhaus_mail.jobs.intake import poll
    from jugendhaus_mail.workdays import WorkCalendar

    settings = load_settings(folder / "jugendhaus-mail.toml")
    now = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    app = App(settings, now, WorkCalendar.from_settings(settings.office))
    began = time.perf_counter()
    report = poll(app)
    seconds = time.perf_counter() - began
    assert report.written == expected, f"{report.written} of {expected} written"
    assert len(report.planned) == expected, f"{len(report.planned)} acknowledgements"
    sent = folder / "postfach" / ".Postausgang" / "new"
    assert expected == 0 or len(os.listdir(sent)) == expected, "acknowledgements not stored"
    return seconds


def settle_file_system(folder: Path, pause: float = 3.0) -> tuple[bool, float, list[float]]:
    """Wait until creating files costs what it costs on a disk at rest; (at rest, seconds
    waited, the probes' cost per file). Gives up after SETTLE_MAX_SECONDS.

    Why: ext4 without a journal (this VM) does not hand out an inode freed in the last 60 s
    (360 s while its table block is unwritten, and new files keep it so) and checks the freed
    ones one by one, so after a test run or the last bench's cleanup the poll's thousand
    acknowledgement files cost 0.1-0.6 s instead of 0.03 s, for one to several minutes. A mail
    server's disk does not delete thousands of files a minute; the bench measures the poll,
    not those minutes. The probe files are kept until the end: the probe deletes nothing."""
    folder.mkdir()
    began = time.monotonic()
    probes: list[float] = []
    data = b"x" * 7000  # about an acknowledgement
    while True:
        probe = folder / str(len(probes))
        probe.mkdir()
        start = time.perf_counter()
        for i in range(PROBE_FILES):
            fd = os.open(probe / str(i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.close(fd)
        probes.append((time.perf_counter() - start) / PROBE_FILES)
        limit = min(1.5 * min(probes), PROBE_CEILING)
        waited = time.monotonic() - began
        steady = probes[-STEADY_PROBES:]
        if len(steady) == STEADY_PROBES and all(cost <= limit for cost in steady):
            return True, waited, probes
        if waited > SETTLE_MAX_SECONDS:
            return False, waited, probes
        time.sleep(pause)


def stdlib_parse(raws: list[bytes]) -> None:
    for raw in raws:
        email.message_from_bytes(raw, policy=email.policy.default)


def own_parse(raws: list[bytes]) -> None:
    from jugendhaus_mail.intake.parse import parse_message

    for raw in raws:
        parse_message(raw)


def timed(action: object) -> float:
    began = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - began


POLL_CHILD = """
import sys
sys.path[:0] = [{root!r}, {bench!r}, {tests!r}]
from pathlib import Path
import bench_intake
print(bench_intake.run_poll(Path(sys.argv[1]), int(sys.argv[2])))
"""


def measure_peak(folder: Path, mails: int) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one poll in a fresh interpreter."""
    code = POLL_CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), tests=str(ROOT / "tests"))
    out = subprocess.run(
        [sys.executable, "-c", code + "import sys;" + PEAK_RSS, str(folder), str(mails)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[1]), float(out[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--mails", type=int, default=1_000)
    parser.add_argument("--big-rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the 50,000-row run")
    args = parser.parse_args()
    schema = load_schema()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}")
    raws = [mail(i) for i in range(args.mails)]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        workbook = full_workbook(base, schema, args.rows)
        print(
            f"workbook: {args.rows} rows x 42 columns, shared strings, "
            f"{len(workbook) / 2**20:.1f} MiB; mails: {args.mails}, "
            f"{sum(map(len, raws)) // len(raws)} bytes each; median of {args.repeat} runs"
        )
        runs: dict[str, list[float]] = {
            "load_save": [], "poll": [], "poll0": [], "parse": [], "edited": [], "own": []
        }  # fmt: skip
        # Both sides warmed up before timing: openpyxl imported, and one small poll run (the
        # imports and the compiled templates of a service that has run a cycle). The first
        # poll of a fresh `poll` process costs about 0.2 s more (measured on this machine).
        import openpyxl  # noqa: F401

        settled, waited, probes = settle_file_system(base / "settle")
        print(
            f"file system: {PROBE_FILES} new files at {probes[-1] * 1e6:.0f} us each "
            f"(slowest probe {max(probes) * 1e6:.0f} us), waited {waited:.0f} s"
            + ("" if settled else " -- NOT at rest: the polls include slow file creation")
        )
        # after the wait: this VM pages out memory not touched for a minute (DAMON, as set up
        # here), so the warm-up runs last and brings the poll's code and libraries back
        prepare(base / "warm-up", workbook, 5)
        run_poll(base / "warm-up", 5)
        for run in range(args.repeat):
            # each run in folders of its own: deleting the last run's 2,000 mail files just
            # before a poll made this VM's disk (ext4, mounted with discard) write the next
            # thousand files up to 15x slower, which measured the cleanup, not the poll
            full, empty, edited_folder = (
                base / f"{name}{run}" for name in ("full", "empty", "edited")
            )
            prepare(full, workbook, args.mails)
            prepare(empty, workbook, 0)
            prepare(edited_folder, workbook, 0)
            seed_written(edited_folder, args.rows)
            runs["load_save"].append(timed(lambda: openpyxl_load_save(workbook)))
            runs["poll"].append(run_poll(full, args.mails))
            runs["poll0"].append(run_poll(empty, 0))
            runs["parse"].append(timed(lambda: stdlib_parse(raws)))
            runs["edited"].append(run_poll(edited_folder, 0))
            runs["own"].append(timed(lambda: own_parse(raws)))
        load_save, poll, poll0, parse, edited, own = (statistics.median(runs[k]) for k in runs)
        ratio = poll / load_save
        marginal = (poll - poll0) / parse
        print(f"  openpyxl load + save              {load_save:7.2f} s")
        each = " / ".join(f"{seconds:.2f}" for seconds in runs["poll"])
        print(f"  poll of {args.mails} mails               {poll:7.2f} s  ({each})")
        print(f"  poll of 0 mails                   {poll0:7.2f} s")
        print(f"  stdlib parse of the {args.mails} mails   {parse:7.2f} s")
        print(f"  poll of 0 mails after staff saved the list (full restore check) {edited:5.2f} s")
        verdict = "ok" if ratio <= TARGET_POLL_RATIO else "MISSED"
        print(
            f"    poll / openpyxl load+save  {ratio:6.3f}  "
            f"(target <= {TARGET_POLL_RATIO})  {verdict}"
        )
        print(
            f"    (the poll's own parse of the {args.mails} mails {own:.2f} s = "
            f"{own / load_save:.3f} of load+save; the stdlib's default-policy parse "
            f"{parse / load_save:.3f})"
        )
        verdict = "ok" if marginal <= TARGET_MARGINAL_RATIO else "MISSED"
        print(
            f"    marginal per mail / stdlib parse {marginal:6.2f}  "
            f"(target <= {TARGET_MARGINAL_RATIO})  {verdict}"
        )
        if not args.no_memory:
            big = base / "big"
            prepare(big, full_workbook(base, schema, args.big_rows), args.mails)
            rss, seconds = measure_peak(big, args.mails)
            verdict = "ok" if rss <= TARGET_PEAK_MIB else "MISSED"
            print(
                f"  poll of {args.mails} mails into {args.big_rows} rows, "
                f"fresh process: {seconds:.2f} s"
            )
            print(f"    peak RSS {rss:.0f} MiB (target <= {TARGET_PEAK_MIB})  {verdict}")
            edited_big = base / "edited-big"
            prepare(edited_big, (big / "Anfrageliste.xlsx").read_bytes(), 0)
            seed_written(edited_big, args.big_rows)
            rss, seconds = measure_peak(edited_big, 0)
            verdict = "ok" if rss <= TARGET_PEAK_MIB else "MISSED"
            print(
                f"  poll of 0 mails into {args.big_rows} rows after staff saved the list "
                f"(full restore check), fresh process: {seconds:.2f} s"
            )
            print(f"    peak RSS {rss:.0f} MiB (target <= {TARGET_PEAK_MIB})  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
