"""Mail backends behind one interface; `open_mailbox` chooses by `[mailbox] backend`.

Backends are imported only when chosen, so `--help` and the Maildir default never load
exchangelib or msal.
"""

from __future__ import annotations

import importlib
import os

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import ConfigError
from jugendhaus_mail.mailbox.base import Folder, IncomingMessage, Mailbox

__all__ = ["BACKENDS", "Folder", "IncomingMessage", "Mailbox", "open_mailbox", "secret_from_env"]

# backend name -> (module, class); each class takes (settings: Settings)
BACKENDS = {
    "maildir": ("jugendhaus_mail.mailbox.maildir", "MaildirMailbox"),
    "ews": ("jugendhaus_mail.mailbox.ews", "EwsMailbox"),
    "graph": ("jugendhaus_mail.mailbox.graph", "GraphMailbox"),
    "imap": ("jugendhaus_mail.mailbox.imap", "ImapMailbox"),
}


def open_mailbox(settings: Settings) -> Mailbox:
    module_name, class_name = BACKENDS[settings.mailbox.backend]
    backend_class = getattr(importlib.import_module(module_name), class_name)
    mailbox: Mailbox = backend_class(settings)
    return mailbox


def secret_from_env(variable: str, key: str) -> str:
    """Read a secret from the environment variable named in the config (never from the file)."""
    value = os.environ.get(variable, "")
    if not variable or not value:
        raise ConfigError(
            f"Die Umgebungsvariable {variable or '(keine)'} aus [mailbox] {key} ist nicht gesetzt; "
            "bitte für den Dienst setzen (systemd: EnvironmentFile=, Windows: Systemvariable)."
        )
    return value
