"""`check` for the EWS backend: log-in, inbox, folders and optionally a test mail."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.mailbox import ews
from jugendhaus_mail.mailbox.base import Folder
from jugendhaus_mail.mailbox.diagnose import test_message


def diagnose(
    settings: Settings,
    send_test_to: str | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    token_url: str | None = None,
) -> list[tuple[bool, str]]:
    """Check the EWS mailbox step by step for `jugendhaus-mail check`: (ok?, German text) each."""
    box = settings.mailbox
    host = urlsplit(box.endpoint).hostname or box.endpoint
    lines: list[tuple[bool, str]] = []
    if host.lower() in ews.EXCHANGE_ONLINE_HOSTS:
        lines.append((False, ews.EXCHANGE_ONLINE_NOTICE.format(host=host)))
    mailbox = ews.EwsMailbox(settings, sleep=sleep, token_url=token_url)
    try:
        count = mailbox.inbox_count()
        who = box.client_id if box.auth == "oauth" else box.username
        lines.append(
            (True, f"Anmeldung an {host} als {who}, Zugriff auf {box.address}: in Ordnung")
        )
        lines.append((True, f"Posteingang gelesen: {count} Mail(s) liegen dort"))
        for folder in (Folder.ERFASST, Folder.NICHT_ERFASST):
            state = "wurde angelegt" if mailbox.ensure_folder(folder) else "ist vorhanden"
            lines.append((True, f"Ordner „{folder.value}“ im Posteingang {state}"))
        if send_test_to:
            mailbox.send(test_message(settings, send_test_to, "Exchange (EWS)"))
            lines.append((True, f"Testmail an {send_test_to} gesendet (Kopie: Gesendete Elemente)"))
    except JugendhausError as exc:
        lines.append((False, str(exc)))
    finally:
        mailbox.close()
    return lines
