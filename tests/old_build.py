"""How versions before the one-pass `build_raw` built outgoing mail: an `EmailMessage`,
flattened when queued. Mail such versions left in the outbox is still read and sent, so the tests
build it here, exactly as it was built then."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime

from jugendhaus_mail.notify.mime import _checked, _safe_filename
from jugendhaus_mail.notify.outgoing import _CONTROL, _DOMAIN, _MESSAGE_ID, _named
from jugendhaus_mail.notify.render import RenderedMail


def build_message(
    rendered: RenderedMail,
    *,
    sender: str,
    sender_name: str = "",
    to: Sequence[str],
    cc: Sequence[str] = (),
    in_reply_to: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    now: datetime,
    domain: str,
) -> EmailMessage:
    """A multipart/alternative message (text + HTML), plus attachments (filename, data, MIME
    type) when given. Recipients must already have passed `RecipientPolicy`; addresses that
    are not plain addresses raise ValueError here, as does a naive `now`."""
    if now.tzinfo is None:
        raise ValueError("now muss eine Zeitzone haben")
    if not re.fullmatch(_DOMAIN, domain):
        raise ValueError(f"{domain!r} ist keine Domain für die Message-ID")
    if not to:
        raise ValueError("keine Empfänger")
    message = EmailMessage(policy=default_policy)
    message["From"] = _named(_checked(sender), sender_name)
    message["To"] = [_checked(a) for a in to]
    if cc:
        message["Cc"] = [_checked(a) for a in cc]
    message.set_raw("Subject", _folded_subject(rendered.subject))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{now.strftime('%Y%m%d%H%M%S')}.{secrets.token_hex(8)}@{domain}>"
    if in_reply_to is not None:
        reference = in_reply_to.strip()
        if not _MESSAGE_ID.fullmatch(reference):
            raise ValueError("In-Reply-To ist keine gültige Message-ID")
        message["In-Reply-To"] = reference
        message["References"] = reference
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    # quoted-printable keeps every line 7-bit: no relay or EWS upload can mangle umlauts
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for filename, data, mime_type in attachments:
        maintype, _, subtype = mime_type.partition("/")
        if not maintype or not subtype:
            raise ValueError(f"{mime_type!r} ist kein MIME-Typ wie application/pdf")
        message.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=_safe_filename(filename)
        )
    message["Content-Language"] = "de-DE"  # after set_content, which drops Content-* headers
    return message


def _folded_subject(subject: str) -> str:
    """The subject as header text, folded here: the email package's own folding can start a
    subject with a space or repeat words when long runs meet umlauts. Plain ASCII that fits
    stays readable; anything else becomes UTF-8 encoded words, split between characters."""
    text = " ".join(_CONTROL.sub(" ", subject).split())
    if text.isascii() and len(text) <= 68 and "=?" not in text:
        return text
    return Header(text, charset="utf-8", header_name="Subject").encode(linesep="\n")
