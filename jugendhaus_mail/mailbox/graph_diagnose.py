"""`check` for the Graph backend: sign-in, inbox, folders and optionally a test mail."""

from __future__ import annotations

from collections.abc import Callable

from jugendhaus_mail.config import Settings
from jugendhaus_mail.errors import JugendhausError
from jugendhaus_mail.mailbox import graph
from jugendhaus_mail.mailbox.base import Folder
from jugendhaus_mail.mailbox.diagnose import test_message
from jugendhaus_mail.mailbox.graph_auth import authority_host_for


def diagnose(
    settings: Settings,
    send_test_to: str | None = None,
    *,
    token_provider: Callable[[], str] | None = None,
    graph_url: str | None = None,
) -> list[tuple[bool, str]]:
    """Check sign-in, inbox, folders and optionally sending; one German line per step."""
    address = settings.mailbox.address
    lines: list[tuple[bool, str]] = [
        (
            True,
            f"Microsoft Graph: Anmeldung bei {authority_host_for(settings)}, Postfach über "
            f"{graph_url or settings.mailbox.endpoint or graph.GRAPH_URL}.",
        )
    ]
    try:
        with graph.GraphMailbox(
            settings, token_provider=token_provider, graph_url=graph_url
        ) as box:
            box.sign_in()
            app = settings.mailbox.client_id
            lines.append((True, f"Anmeldung bei Microsoft Entra ID als App {app} erfolgreich."))
            count = box.inbox_count()
            lines.append((True, f"Posteingang von {address} lesbar: {count} Nachrichten."))
            for folder in (Folder.ERFASST, Folder.NICHT_ERFASST):
                created = box.ensure_folder(folder.value)
                state = "neu angelegt" if created else "vorhanden"
                lines.append((True, f"Ordner „{folder.value}“ unter dem Posteingang: {state}."))
            if send_test_to:
                box.send(test_message(settings, send_test_to, "Microsoft Graph"))
                sent = f"Testnachricht an {send_test_to} gesendet; Kopie in „Gesendete Elemente“."
                lines.append((True, sent))
    except JugendhausError as exc:
        lines.append((False, str(exc)))
    return lines
