"""What every backend's `check` shares: the test mail of `check --send-test`."""

from __future__ import annotations

from email.message import EmailMessage

from jugendhaus_mail.config import Settings


def test_message(settings: Settings, to: str, via: str) -> EmailMessage:
    """The mail `check --send-test` sends as the team mailbox; `via` names the way it went."""
    message = EmailMessage()
    message["From"] = settings.mail.team_address
    message["To"] = to
    message["Subject"] = "Testmail von jugendhaus-mail"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"Diese Mail hat `jugendhaus-mail check --send-test` über {via} verschickt.\n"
        f"Wenn sie angekommen ist, kann der Dienst als {settings.mail.team_address} senden. "
        "Sie müssen nichts weiter tun.\n"
    )
    return message
