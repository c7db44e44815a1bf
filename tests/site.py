"""A complete office site in a temp folder: config, Maildir, workbook, state."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import openpyxl

from jugendhaus_mail.app import App
from jugendhaus_mail.config import load_settings
from jugendhaus_mail.mailbox.maildir import deliver
from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.schema import load_schema
from jugendhaus_mail.workdays import WorkCalendar

CONFIG = """
[office]
holiday_region = "DE-MV"
domain = "rostock.de"
[mailbox]
backend = "maildir"
path = "postfach"
[workbook]
path = "Anfrageliste.xlsx"
[mail]
team_address = "FM-Jugendhaus@rostock.de"
"""


@dataclass
class Site:
    root: Path
    config: Path

    @property
    def maildir(self) -> Path:
        return self.root / "postfach"

    @property
    def workbook(self) -> Path:
        return self.root / "Anfrageliste.xlsx"

    def app(self, now: datetime) -> App:
        settings = load_settings(self.config)
        return App(settings, now, WorkCalendar.from_settings(settings.office))

    def deliver(self, raw: bytes, received: datetime, unique: str) -> None:
        deliver(self.maildir, raw, received, unique)

    def folder(self, name: str) -> list[Path]:
        path = self.maildir / f".{name}" / "cur"
        return sorted(path.iterdir()) if path.is_dir() else []

    def inbox(self) -> list[Path]:
        return sorted(p for sub in ("new", "cur") for p in (self.maildir / sub).iterdir())

    def requests(self) -> list[dict[str, Any]]:
        """The Anfragen rows as staff would see them (openpyxl, by header text)."""
        workbook = openpyxl.load_workbook(self.workbook)
        sheet = workbook["Anfragen"]
        rows = list(sheet.iter_rows(values_only=False))
        headers = [cell.value for cell in rows[0]]
        result = []
        for row in rows[1:]:
            values = {h: c for h, c in zip(headers, row, strict=False) if h}
            if any(c.value not in (None, "") for c in values.values()):
                result.append(values)
        return result

    def run(self, *args: str, now: str) -> int:
        """The CLI in this process (fast); use `cli` where a real process matters."""
        from jugendhaus_mail.cli import main

        return main(["--config", str(self.config), "--now", now, *args])

    def cli(
        self,
        *args: str,
        now: str | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "jugendhaus_mail", "--config", str(self.config)]
        if now:
            command += ["--now", now]
        full_env = {**os.environ, **(env or {})}
        result = subprocess.run(
            [*command, *args], capture_output=True, text=True, env=full_env, timeout=300
        )
        if check and result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result


def make_site(root: Path, extra_config: str = "") -> Site:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "jugendhaus-mail.toml"
    config.write_text(CONFIG + extra_config, encoding="utf-8")
    for sub in ("tmp", "new", "cur"):
        (root / "postfach" / sub).mkdir(parents=True, exist_ok=True)
    build_workbook(root / "Anfrageliste.xlsx", load_schema())
    return Site(root, config)


def request_mail(
    subject: str,
    body: str,
    sender: str = "Anna Schulz <anna.schulz@jobcenter-ge.de>",
    message_id: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "FM-Jugendhaus@rostock.de"
    message["Subject"] = subject
    message["Date"] = "Mon, 09 Mar 2026 10:00:00 +0100"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers:
        message[name] = value
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _person(name: str, email: str, role: str, rechtskreis: str, **extra: str) -> dict[str, str]:
    return {
        "name": name,
        "email": email,
        "role": role,
        "rechtskreis": rechtskreis,
        "active": "Ja",
        **extra,
    }


STAFF = [
    _person("Lena Kowalski", "lena.kowalski@rostock.de", "JSB", "SGB VIII", phone="0381 555 0311"),
    _person("Frank Dettmann", "frank.dettmann@rostock.de", "Sachgebietsleitung", "SGB VIII"),
    _person("Ralf Timmermann", "ralf.timmermann@jobcenter-ge.de", "Teamleitung", "SGB II"),
    _person(
        "Anna Schulz",
        "anna.schulz@jobcenter-ge.de",
        "IFK SGB II",
        "SGB II",
        team_lead="Ralf Timmermann",
    ),
    _person("Eva Extern", "eva@gmail.com", "Teamleitung", "SGB II"),
]


def set_staff(site: Site, rows: list[dict[str, Any]]) -> None:
    from jugendhaus_mail.commands.demo import fill_table
    from jugendhaus_mail.workbook.schema import load_schema

    workbook = openpyxl.load_workbook(site.workbook)
    fill_table(workbook["Mitarbeitende"], [c.key for c in load_schema().staff.columns], rows)
    workbook.save(site.workbook)


def outgoing(site: Site) -> list[EmailMessage]:
    """Every mail the service sent, oldest first (Maildir backend: folder Postausgang)."""
    import email
    import email.policy

    folder = site.maildir / ".Postausgang" / "new"
    messages = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return sorted(messages, key=lambda m: (m["Date"].datetime, m["Subject"]))
