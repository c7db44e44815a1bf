"""The status file: what the service did last, for `check` and for monitoring.

`state/status.json` is rewritten (atomically) after every job: when each job last ran and last
succeeded, its last result in a few words, the pending queue, the last error, and whether the
mailbox is blocked after a refused log-in. `check` turns it into plain German and exits
non-zero when the service needs someone. Nothing in it comes from a mail's content.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jugendhaus_mail.config import Settings
from jugendhaus_mail.state import StateDB

STATUS_NAME = "status.json"
JOB_LABELS = {
    "intake": "Abruf des Postfachs",
    "remind": "Erinnerungen",
    "digest": "Tagesübersicht",
    "retention": "Löschfrist",
    "watchdog": "Überwachung",
}
OK, FAILED, SKIPPED = "ok", "fehlgeschlagen", "übersprungen"


@dataclass
class JobState:
    last_run: str | None = None  # ISO moments (clock time of the service)
    last_success: str | None = None
    result: str = ""  # OK | FAILED | SKIPPED
    detail: str = ""  # a short summary, or the error (never mail content)
    failures_in_a_row: int = 0
    failures_total: int = 0


@dataclass
class Status:
    started: str | None = None
    updated: str | None = None
    pid: int | None = None
    running: bool = False
    jobs: dict[str, JobState] = field(default_factory=dict)
    pending: int = 0
    pending_since: str | None = None
    pending_reason: str = ""  # why the workbook could not be written
    last_error: str | None = None  # "job, moment: message"
    auth_blocked_until: str | None = None
    alerts: list[str] = field(default_factory=list)  # problems the watchdog has reported
    timezone: str = "Europe/Berlin"  # the office's: every time in the file is written in it

    def job(self, name: str) -> JobState:
        return self.jobs.setdefault(name, JobState())

    def record(self, name: str, at: datetime, result: str, detail: str) -> None:
        job = self.job(name)
        job.last_run, job.result, job.detail = at.isoformat(), result, detail
        if result == OK:
            job.last_success = at.isoformat()
            job.failures_in_a_row = 0
        elif result == FAILED:
            job.failures_in_a_row += 1
            job.failures_total += 1
            local = at.astimezone(ZoneInfo(self.timezone))
            self.last_error = f"{JOB_LABELS.get(name, name)}, {local:%d.%m.%Y %H:%M}: {detail}"


def refresh_from_state(status: Status, state: StateDB) -> None:
    """The pending queue and the log-in block, as the state database has them now."""
    from jugendhaus_mail.jobs.guard import current_block

    pending = state.pending_times()
    status.pending = len(pending)
    oldest = min(pending, default=None)
    status.pending_since = oldest.isoformat() if oldest else None
    if not pending:
        status.pending_reason = ""
    block = current_block(state)
    status.auth_blocked_until = block.until.isoformat() if block else None


def status_path(settings: Settings) -> Path:
    return settings.state_dir / STATUS_NAME


def load_status(settings: Settings) -> Status | None:
    try:
        data = json.loads(status_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    jobs = {name: JobState(**values) for name, values in data.pop("jobs", {}).items()}
    known = Status.__dataclass_fields__
    return Status(jobs=jobs, **{k: v for k, v in data.items() if k in known})


def save_status(settings: Settings, status: Status, now: datetime) -> None:
    """Write the file; its times are office time with the offset (`2026-03-30T09:00:00+02:00`),
    as people reading it expect, and still exact for programs."""
    status.updated = now.isoformat()
    status.timezone = settings.office.timezone
    zone = ZoneInfo(status.timezone)
    data = asdict(status)
    for key in ("started", "updated", "pending_since", "auth_blocked_until"):
        data[key] = _office_iso(data[key], zone)
    for job in data["jobs"].values():
        for key in ("last_run", "last_success"):
            job[key] = _office_iso(job[key], zone)
    path = status_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    from jugendhaus_mail.fsync import write_durably

    write_durably(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def _office_iso(value: str | None, zone: ZoneInfo) -> str | None:
    if not value:
        return value
    return datetime.fromisoformat(value).astimezone(zone).isoformat()


def intake_overdue(status: Status, settings: Settings, now: datetime) -> timedelta | None:
    """How long without a successful intake, when that is longer than the watchdog allows."""
    intake = status.jobs.get("intake")
    last = intake.last_success if intake and intake.last_success else status.started
    if last is None:
        return None
    gap = now - datetime.fromisoformat(last)
    return gap if gap > timedelta(minutes=settings.watchdog.intake_overdue_minutes) else None


def health_lines(
    status: Status | None, settings: Settings, now: datetime, *, running: bool | None = None
) -> list[tuple[bool, str]]:
    """(ok, German sentence) for `check`: the service, each job, and an overdue intake.
    `running` (whether the instance lock is held) wins over what the file says, which a
    killed service could not correct."""
    if status is None:
        return [
            (
                True,
                "Noch kein Statusbericht des Dienstes (läuft `jugendhaus-mail run`? Er schreibt "
                f"{status_path(settings).name} im Zustandsordner).",
            )
        ]
    zone = ZoneInfo(settings.office.timezone)
    alive = status.running if running is None else running
    lines = [(True, _service_line(status, zone, alive))]
    for name, job in status.jobs.items():
        label = JOB_LABELS.get(name, name)
        if job.result == FAILED:
            repeated = (
                f", {job.failures_in_a_row}-mal in Folge" if job.failures_in_a_row > 1 else ""
            )
            success = (
                f"; zuletzt erfolgreich {_when(job.last_success, zone)}" if job.last_success else ""
            )
            lines.append(
                (False, f"{label}: letzter Lauf {_when(job.last_run, zone)} fehlgeschlagen"
                 f"{repeated}{success}: {job.detail}")
            )  # fmt: skip
        else:
            state = "übersprungen" if job.result == SKIPPED else "in Ordnung"
            detail = f" – {job.detail}" if job.detail else ""
            lines.append((True, f"{label}: {state} ({_when(job.last_run, zone)}){detail}"))
    overdue = intake_overdue(status, settings, now)
    if overdue is not None:
        lines.append(
            (
                False,
                f"Seit {duration_text(overdue)} kein erfolgreicher Abruf des Postfachs (erlaubt: "
                f"{settings.watchdog.intake_overdue_minutes} Minuten, [watchdog] "
                "intake_overdue_minutes). Läuft der Dienst? Ist das Postfach erreichbar?",
            )
        )
    return lines


def _service_line(status: Status, zone: ZoneInfo, running: bool) -> str:
    if running and status.running:
        return (
            f"Dienst läuft seit {_when(status.started, zone)} (PID {status.pid}), "
            f"letzter Bericht {_when(status.updated, zone)}"
        )
    return f"Letzter Bericht {_when(status.updated, zone)} (Dienst läuft gerade nicht)"


def _when(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "nie"
    return f"{datetime.fromisoformat(value).astimezone(zone):%d.%m.%Y %H:%M}"


def duration_text(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} Minuten"
    hours = minutes // 60
    return f"{hours} Stunden" if hours < 48 else f"{hours // 24} Tagen"
