"""The watchdog: notices what keeps the service from its work and tells someone, once.

Problems, each with a stable id:
- `intake`: no successful intake for `[watchdog] intake_overdue_minutes` → admin;
- `auth`: the mailbox refused the log-in (see `guard.py`) → admin;
- `workbook_open`: new requests wait longer than `[watchdog] pending_minutes` because the
  workbook is open → the JSB (admin in copy), naming who has it open from the lock file;
- `pending`: they wait that long for another reason (the file cannot be written safely) → admin;
- `stale_lock`: a lock file older than one working day (left behind by a crash?) → admin;
- `unaddressed`: a mail of the service found no allowed recipient within the last week → admin;
- `undelivered`: mail refused for good or stuck in the outbox (`notify/outbox.py`) → admin;
- `throttled`: Microsoft Graph cut several intake cycles in a row short (`mailbox/retry.py`).

A problem is mailed when it appears (outbox key `watchdog|ID|since`, so exactly once) and gets
an all-clear to the same people when it is gone. Open problems live in the state database.
Mail that cannot go out now (the mailbox is down) stays queued; every later cycle sends it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from jugendhaus_mail.app import App
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.jobs.guard import current_block, guarded_mailbox
from jugendhaus_mail.notify.outbox import Outbox
from jugendhaus_mail.notify.render import MailData, WatchdogClearMail, WatchdogMail
from jugendhaus_mail.rules.staff import Staff
from jugendhaus_mail.service.health import Status, intake_overdue
from jugendhaus_mail.state import StateDB
from jugendhaus_mail.workbook.locks import LockInfo, find_lock, probe_writable

log = logging.getLogger(__name__)

OPEN_KEY = "watchdog.open"


@dataclass(frozen=True)
class WorkbookOpenMail(MailData):
    """To the JSB: requests wait because the workbook is open (no request content)."""

    TEMPLATE: ClassVar[str] = "workbook_open"
    count: int
    waiting_since: datetime
    owner: str  # from the lock file; "" when unknown
    program: str  # "Excel" | "LibreOffice" | ""
    open_since: datetime | None
    file_name: str
    lock_file: str  # "" when no lock file was found (the file just cannot be opened to write)


@dataclass(frozen=True)
class Problem:
    id: str
    text: str  # one or two sentences; no social data, no secrets
    what_to_do: str
    jsb_mail: WorkbookOpenMail | None = None  # goes to the JSB instead of the admin


@dataclass
class WatchdogReport:
    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    still_open: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"gemeldet: {', '.join(self.raised)}"] if self.raised else []
        parts += [f"Entwarnung: {', '.join(self.cleared)}"] if self.cleared else []
        parts += [f"weiter offen: {', '.join(self.still_open)}"] if self.still_open else []
        return "; ".join(parts) or "alles in Ordnung"


def run_watchdog(app: App, state: StateDB, status: Status) -> WatchdogReport:
    report = WatchdogReport()
    known = _load(state)
    current = {problem.id: problem for problem in find_problems(app, state, status)}
    outbox = Outbox(app.settings, state, app.now)
    for problem in current.values():
        if problem.id in known:
            report.still_open.append(problem.id)
            continue
        known[problem.id] = _raise(app, outbox, problem)
        report.raised.append(problem.id)
    for problem_id in [pid for pid in known if pid not in current]:
        _clear(app, outbox, problem_id, known.pop(problem_id))
        report.cleared.append(problem_id)
    state.put(OPEN_KEY, json.dumps(known, ensure_ascii=False))
    status.alerts = [str(entry["text"]) for entry in known.values()]
    if outbox.planned:
        _send(app, state, outbox)
    return report


def find_problems(app: App, state: StateDB, status: Status) -> list[Problem]:
    problems = []
    block = current_block(state)
    if block is not None:
        problems.append(
            Problem(
                "auth",
                "Das Teampostfach lehnt die Anmeldung des Dienstes ab.",
                f"{block.message}\nDamit das Konto nicht gesperrt wird, versucht der Dienst es "
                "höchstens einmal pro Stunde. Nach dem Korrigieren der Zugangsdaten hebt "
                "`jugendhaus-mail check` die Sperre sofort auf.",
            )
        )
    overdue = intake_overdue(status, app.settings, app.now)
    if overdue is not None and block is None:
        intake = status.jobs.get("intake")
        error = f" Letzter Fehler: {intake.detail}" if intake and intake.detail else ""
        problems.append(
            Problem(
                "intake",
                f"Seit {int(overdue.total_seconds() // 60)} Minuten kein erfolgreicher Abruf "
                f"des Teampostfachs.{error}",
                "Bitte prüfen, ob das Postfach erreichbar ist: `jugendhaus-mail check` sagt, "
                "was fehlt. Verloren geht nichts: die Mails bleiben im Posteingang, bis der "
                "Abruf wieder klappt.",
            )
        )
    problems += _pending_problems(app, state, status)
    problems += _unaddressed_problems(app, state)
    problems += _outbox_problems(app, state)
    stale = stale_lock_problem(app)
    if stale is not None:
        problems.append(stale)
    return problems


def _pending_problems(app: App, state: StateDB, status: Status) -> list[Problem]:
    pending = state.pending_times()
    if not pending:
        return []
    oldest = min(pending)
    if app.now - oldest <= timedelta(minutes=app.settings.watchdog.pending_minutes):
        return []
    path = app.settings.workbook.path
    lock = find_lock(path, app.calendar.tz)
    since = f"{oldest.astimezone(app.calendar.tz):%d.%m.%Y %H:%M}"
    if lock is None and not _unwritable(path):
        return [
            Problem(
                "pending",
                f"{len(pending)} neue Anfrage(n) warten seit {since} auf die Anfrageliste: "
                f"{status.pending_reason or 'die Datei lässt sich nicht beschreiben'}",
                "`jugendhaus-mail check` zeigt den Grund. Sobald er behoben ist, trägt der "
                "Dienst die wartenden Anfragen von selbst ein.",
            )
        ]
    mail = WorkbookOpenMail(
        count=len(pending),
        waiting_since=oldest,
        owner=lock.owner if lock else "",
        program={"excel": "Excel", "libreoffice": "LibreOffice"}[lock.kind] if lock else "",
        open_since=lock.since if lock else None,
        file_name=path.name,
        lock_file=lock.path.name if lock else "",
    )
    owner = f" von {lock.owner}" if lock else ""
    return [
        Problem(
            "workbook_open",
            f"Die Anfrageliste ist geöffnet{owner}; {len(pending)} neue Anfrage(n) warten seit "
            f"{since}.",
            "Die JSB ist gebeten, die Liste zu schließen.",
            jsb_mail=mail,
        )
    ]


def _outbox_problems(app: App, state: StateDB) -> list[Problem]:
    from jugendhaus_mail.mailbox.retry import lasting_throttling
    from jugendhaus_mail.notify.outbox import undelivered_mail

    problems = []
    stuck = undelivered_mail(state, app.now)
    if stuck:
        lines = "\n".join(f"- {mail.line()}" for mail in stuck[:10])
        problems.append(
            Problem(
                "undelivered",
                f"{len(stuck)} Mail(s) des Dienstes nicht zugestellt oder hängen fest:\n{lines}",
                "Die übrigen Mails gehen weiter hinaus. Abgelehnte Mails (falsche Adresse, zu "
                "groß) versucht der Dienst nicht erneut: Adresse im Blatt Mitarbeitende bzw. "
                "Anhang prüfen. `jugendhaus-mail check` zeigt den Stand.",
            )
        )
    throttled = lasting_throttling(state)
    if throttled is not None:
        problems.append(
            Problem(
                "throttled",
                throttled,
                "Verloren geht nichts; jeder Abruf macht dort weiter, wo der letzte aufhörte. "
                "Hält es an, im Microsoft 365 Admin Center prüfen, ob andere Apps dasselbe "
                "Postfach stark abfragen; [mailbox] throttle_budget_seconds erlaubt längeres "
                "Warten je Abruf.",
            )
        )
    return problems


def _unaddressed_problems(app: App, state: StateDB) -> list[Problem]:
    from jugendhaus_mail.service.monitoring import UNADDRESSED_DAYS, recent_unaddressed

    entries = recent_unaddressed(state, app.now)
    if not entries:
        return []
    subjects = "; ".join(f"„{entry.subject}“" for entry in entries[:5])
    more = f" und {len(entries) - 5} weitere" if len(entries) > 5 else ""
    return [
        Problem(
            "unaddressed",
            f"{len(entries)} Mitteilung(en) des Dienstes erreichten niemanden: {subjects}{more}.",
            f"Grund: {entries[-1].reason}. `jugendhaus-mail check` zeigt jede einzelne; die "
            f"nächste Tagesübersicht nennt sie auch. Die Meldung erlischt {UNADDRESSED_DAYS} "
            "Tage nach der letzten solchen Mitteilung.",
        )
    ]


def _unwritable(path: Path) -> bool:
    error = probe_writable(path)
    return error is not None and not isinstance(error, FileNotFoundError)


def stale_lock_problem(app: App) -> Problem | None:
    lock: LockInfo | None = find_lock(app.settings.workbook.path, app.calendar.tz)
    if lock is None or lock.since is None:
        return None
    since = lock.since.replace(tzinfo=app.calendar.tz)  # naive: office time
    limit = datetime.combine(
        app.calendar.add_working_days(since.date(), 1), since.timetz()
    )  # same clock time on the next working day
    if app.now < limit:
        return None
    return Problem(
        "stale_lock",
        f"Anfrageliste seit {lock.since:%d.%m.%Y %H:%M} gesperrt, länger als einen Arbeitstag.",
        f"Die Sperrdatei {lock.path.name} im Ordner der Anfrageliste sagt, {lock.owner} habe "
        "die Liste geöffnet. Bitte klären, ob das noch stimmt (auch auf anderen Rechnern). "
        "Wenn nicht, ist die Sperrdatei nach einem Absturz liegen geblieben: dann "
        f"{lock.path.name} löschen. Solange sie da ist, trägt der Dienst nichts ein.",
    )


def _raise(app: App, outbox: Outbox, problem: Problem) -> dict[str, object]:
    admin = [app.settings.mail.admin_address] if app.settings.mail.admin_address else []
    to, cc = admin, []
    mail: MailData = WatchdogMail(problem.text, problem.what_to_do, app.now)
    if problem.jsb_mail is not None:
        jsb = _jsb_addresses(app)
        if jsb:
            to, cc, mail = jsb, admin, problem.jsb_mail
    log.error("Warnung: %s", problem.text)
    _alert(app, "problem", problem.id, f"{problem.text}\n{problem.what_to_do}")
    if not (to or cc):
        log.error("Keine Adresse für Warnungen ([mail] admin_address); nur hier gemeldet")
    else:
        outbox.queue(f"watchdog|{problem.id}|{app.now.isoformat()}", mail, to, cc)
    return {"since": app.now.isoformat(), "text": problem.text, "to": to, "cc": cc}


def _clear(app: App, outbox: Outbox, problem_id: str, entry: dict[str, object]) -> None:
    since, text = str(entry["since"]), str(entry["text"])
    log.warning("Entwarnung: %s", text)
    _alert(app, "cleared", problem_id, f"Wieder in Ordnung: {text}")
    to = _addresses(entry.get("to"))
    cc = _addresses(entry.get("cc"))
    if to or cc:
        mail = WatchdogClearMail(text, datetime.fromisoformat(since), app.now)
        outbox.queue(f"watchdog|{problem_id}|{since}|clear", mail, to, cc)


def _alert(app: App, kind: str, problem_id: str, text: str) -> None:
    """`[watchdog] alert_command`, once per warning and all-clear: the way out when the
    mailbox the warning mail would take is the thing that failed. Never raises."""
    command = app.settings.watchdog.alert_command
    if not command:
        return
    env = {**os.environ, "JHM_ALERT": kind, "JHM_PROBLEM": problem_id}
    try:
        done = subprocess.run(
            command, input=text, text=True, env=env, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("[watchdog] alert_command ließ sich nicht ausführen: %s", exc)
        return
    if done.returncode != 0:
        log.warning(
            "[watchdog] alert_command endete mit Code %s: %s",
            done.returncode,
            (done.stderr or "").strip()[:200],
        )


def _addresses(value: object) -> list[str]:
    return [str(a) for a in value] if isinstance(value, list) else []


def _jsb_addresses(app: App) -> list[str]:
    try:
        staff = Staff(app.store().read().staff)
    except JugendhausError:
        return []
    return [member.email for member in staff.by_role("JSB")]


def _send(app: App, state: StateDB, outbox: Outbox) -> None:
    try:
        with guarded_mailbox(app, state) as mailbox:
            if mailbox is not None:
                outbox.flush(mailbox)
    except JugendhausError as exc:
        log.warning("Warnung vorgemerkt, Versand später: %s", exc)


def _load(state: StateDB) -> dict[str, dict[str, object]]:
    raw = state.get(OPEN_KEY)
    return json.loads(raw) if raw else {}
