"""Domain exceptions. The CLI turns each into one line that tells the admin what to do."""

from __future__ import annotations

import traceback
from pathlib import Path


class JugendhausError(Exception):
    """Base class: the message is shown to the admin as it is."""


class ConfigError(JugendhausError):
    pass


class WorkbookError(JugendhausError):
    pass


class WorkbookLocked(WorkbookError):
    """Someone has the workbook open (a lock file exists or the file cannot be opened to write)."""


class WorkbookChanged(WorkbookError):
    """The file changed between load and replace; the caller reloads and re-applies."""


class WorkbookUnsafe(WorkbookError):
    """The service cannot write without risking staff content (e.g. rows below the table)."""


class MailboxError(JugendhausError):
    """The mailbox could not be reached or an operation failed; the cycle can be retried."""


class MailboxAuthError(MailboxError):
    """Credentials were refused. Not retried until the admin fixes them."""


def describe_unexpected(exc: BaseException) -> str:
    """Type and code location only: the message of an unexpected error may hold mail data."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" in {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"unerwarteter Fehler ({type(exc).__name__}{where}); bitte mit dem Protokoll melden"
