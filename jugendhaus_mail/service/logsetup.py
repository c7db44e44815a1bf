"""Logging: the console and, when `[logging] file` is set, a rotating file (optionally JSON
lines, one object per record, for log collectors).

Private by default. The program's own messages carry case numbers, outcomes and reasons, never
mail bodies, names of young people or secrets. Other libraries are held to WARNING and above
on every handler: at DEBUG, imapclient, exchangelib and urllib3 log whole protocol dialogues,
and those contain mail.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

OWN_LOGGER = "jugendhaus_mail"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_jugendhaus_mail_handler"


class OwnDetailOnly(logging.Filter):
    """Below WARNING, only this program's records pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return record.name == OWN_LOGGER or record.name.startswith(OWN_LOGGER + ".")


class OfficeTime(logging.Formatter):
    """Times in the office's zone, whatever zone the server runs in (often UTC)."""

    def __init__(self, fmt: str | None = None, *, zone: tzinfo) -> None:
        super().__init__(fmt)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone)
        return f"{moment:{datefmt or '%Y-%m-%d %H:%M:%S'}},{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        """One line per event: line breaks and control characters in values staff typed or
        mail carried (and in tracebacks) are written as escapes, so nobody can forge a line."""
        return escape_line_breaks(super().format(record))


class JsonLines(OfficeTime):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone)
        entry = {
            "time": moment.isoformat(timespec="milliseconds"),  # with the offset
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def escape_line_breaks(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        code = ord(match[0])
        return _NAMED.get(match[0]) or (f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}")

    return _BREAKS.sub(escape, text)


def install(
    level: int,
    *,
    console_level: int,
    file: Path | None,
    json_lines: bool,
    console: bool,
    timezone: str = "Europe/Berlin",
) -> None:
    """Replace this program's handlers on the root logger (calling it again reconfigures)."""
    zone = ZoneInfo(timezone)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    levels = []
    if console:
        handler: logging.Handler = logging.StreamHandler()
        handler.setFormatter(OfficeTime(TEXT_FORMAT, zone=zone))
        _add(root, handler, console_level)
        levels.append(console_level)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
        handler.setFormatter(
            JsonLines(zone=zone) if json_lines else OfficeTime(TEXT_FORMAT, zone=zone)
        )
        _add(root, handler, level)
        levels.append(level)
    root.setLevel(min(levels, default=level))


def foreign_handlers() -> bool:
    """True when someone else (e.g. a test runner) already handles the root logger."""
    return any(not getattr(h, _MARK, False) for h in logging.getLogger().handlers)


def _add(root: logging.Logger, handler: logging.Handler, level: int) -> None:
    setattr(handler, _MARK, True)
    handler.setLevel(level)
    handler.addFilter(OwnDetailOnly())
    root.addHandler(handler)
