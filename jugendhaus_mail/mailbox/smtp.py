"""Sending mail over SMTP (STARTTLS, implicit TLS or, for tests on localhost, plain).

Used by the IMAP backend and by any site that sends through its own relay. Transient failures
(4xx replies, dropped or refused connections) are retried with the shared bounded backoff; a
refused login (535) is raised once as MailboxAuthError and never retried. A 5xx refusal of this
one mail (every recipient refused, or the message itself after DATA: too large, content) is a
MailRefusedError: the outbox records it and sends the rest.

A reply lost after the server accepted the message (connection cut after the final ".") cannot
be told apart from a failed send; SMTP has no way around that, so such a retry may deliver twice.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

from jugendhaus_mail.config import MailboxSettings, Settings
from jugendhaus_mail.errors import ConfigError, MailboxAuthError, MailboxError
from jugendhaus_mail.mailbox import secret_from_env
from jugendhaus_mail.mailbox.retry import MailRefusedError, TransientError, with_retries

log = logging.getLogger(__name__)

SMTP_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
SMTP_TIMEOUT_SECONDS = 60.0


def make_tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verify the server certificate and host name; `ca_file` (if set) is the only trusted CA."""
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(
            f"Die CA-Datei {ca_file} aus [mailbox] ca_file kann nicht gelesen werden ({exc}); "
            "bitte Pfad prüfen (PEM-Datei mit dem CA-Zertifikat des Servers)."
        ) from None


def smtp_server(mailbox: MailboxSettings) -> tuple[str, int]:
    host = mailbox.smtp_host or mailbox.host
    return host, mailbox.smtp_port or SMTP_DEFAULT_PORTS[mailbox.smtp_security]


def send_smtp(
    settings: Settings, message: EmailMessage, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Send `message` as the team mailbox to its To/Cc/Bcc recipients (Bcc is not transmitted)."""
    sender = settings.mailbox.address or settings.mail.team_address
    _send(settings, lambda c: c.send_message(message, from_addr=sender), sleep)


def send_smtp_raw(
    settings: Settings,
    data: bytes,
    recipients: Sequence[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send the stored bytes of a mail as they are (no second parse) to `recipients`."""
    sender = settings.mailbox.address or settings.mail.team_address
    _send(settings, lambda c: c.sendmail(sender, list(recipients), data), sleep)


def _send(
    settings: Settings,
    transmit: Callable[[smtplib.SMTP], dict[str, tuple[int, bytes]]],
    sleep: Callable[[float], None],
) -> None:
    """One connection per attempt, retried as `[mailbox] retries` says; a recipient refused
    while others were accepted is logged (the rest got the mail)."""
    mailbox = settings.mailbox
    host, port = smtp_server(mailbox)

    def attempt() -> None:
        with _translated_errors(mailbox):
            connection = _open(mailbox)
            try:
                refused = transmit(connection)
            finally:
                _quietly_quit(connection)
        if refused:
            who = ", ".join(f"{a} ({code})" for a, (code, _) in refused.items())
            log.warning(
                "SMTP %s:%d: Empfänger abgelehnt, an die übrigen gesendet: %s", host, port, who
            )

    with_retries(
        attempt,
        what=f"Mail über SMTP {host}:{port} senden",
        retries=mailbox.retries,
        backoff_seconds=mailbox.retry_backoff_seconds,
        sleep=sleep,
    )


def check_smtp(settings: Settings) -> str:
    """Connect and log in without sending (for `check`); returns what was checked, in German."""
    mailbox = settings.mailbox
    host, port = smtp_server(mailbox)
    with _translated_errors(mailbox):
        _quietly_quit(_open(mailbox))
    user = mailbox.smtp_username or mailbox.username
    login = f" und Anmeldung als {user}" if user else " (ohne Anmeldung)"
    return f"SMTP-Server {host}:{port} erreichbar ({mailbox.smtp_security}){login} erfolgreich"


def _open(mailbox: MailboxSettings) -> smtplib.SMTP:
    host, port = smtp_server(mailbox)
    context = make_tls_context(mailbox.ca_file)
    connection: smtplib.SMTP
    if mailbox.smtp_security == "tls":
        connection = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if mailbox.smtp_security == "starttls":
            connection.starttls(context=context)
        elif mailbox.smtp_security == "none":
            log.warning("SMTP zu %s:%d unverschlüsselt (nur für Tests/localhost)", host, port)
        user = mailbox.smtp_username or mailbox.username
        if user:
            variable = mailbox.smtp_password_env or mailbox.password_env
            key = "smtp_password_env" if mailbox.smtp_password_env else "password_env"
            _login_once(connection, user, secret_from_env(variable, key))
    except BaseException:
        connection.close()
        raise
    return connection


def _login_once(connection: smtplib.SMTP, user: str, password: str) -> None:
    # smtplib.login() tries every offered mechanism in turn: with a wrong password that is two
    # or three failed logins per attempt, which brings directory lock-out policies closer.
    connection.ehlo_or_helo_if_needed()
    offered = connection.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("PLAIN", "LOGIN"):
        if mechanism in offered:
            _login_utf8(connection, mechanism, user, password)
            return
    connection.login(user, password)


def _login_utf8(connection: smtplib.SMTP, mechanism: str, user: str, password: str) -> None:
    """AUTH PLAIN (RFC 4616) or LOGIN, once, with the name and password as UTF-8 (for ASCII the
    same bytes smtplib sends; smtplib itself encodes them as ASCII and fails on "Grüße")."""

    def encoded(*parts: str) -> str:
        return base64.b64encode(b"\0".join(p.encode() for p in parts)).decode("ascii")

    # PLAIN: everything with the command; LOGIN (what Exchange offers): the name with the
    # command, the password when asked. A server that asks (334) for PLAIN's credentials again
    # gets them again, as from smtplib.
    first = encoded("", user, password) if mechanism == "PLAIN" else encoded(user)
    then = first if mechanism == "PLAIN" else encoded(password)
    code, reply = connection.docmd("AUTH", f"{mechanism} {first}")
    if code == 334:
        code, reply = connection.docmd(then)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _quietly_quit(connection: smtplib.SMTP) -> None:
    # Once the message is accepted, a failing QUIT must not turn into a retry (a second copy).
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


@contextmanager
def _translated_errors(mailbox: MailboxSettings) -> Iterator[None]:
    """Turns smtplib/socket errors into TransientError, MailboxAuthError or MailboxError."""
    try:
        yield
    except (MailboxError, ConfigError):
        raise
    except Exception as exc:
        raise _translate(mailbox, exc) from exc


def _translate(mailbox: MailboxSettings, exc: Exception) -> Exception:
    host, port = smtp_server(mailbox)
    server = f"SMTP-Server {host}:{port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        variable = mailbox.smtp_password_env or mailbox.password_env
        return MailboxAuthError(
            f"Anmeldung am {server} als {mailbox.smtp_username or mailbox.username!r} abgelehnt "
            f"({exc.smtp_code}): Benutzername in [mailbox] smtp_username bzw. username und das "
            f"Passwort in der Umgebungsvariablen {variable} prüfen."
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if not codes or any(400 <= code < 500 for code in codes):
            return TransientError(f"{server}: Empfänger vorübergehend abgelehnt ({codes or '?'})")
        who = ", ".join(
            f"{address} ({code} {_text(reply)})"
            for address, (code, reply) in exc.recipients.items()
        )
        return MailRefusedError(
            f"{server} lehnt die Empfänger ab: {who}. Adresse im Blatt Mitarbeitende prüfen."
        )
    if isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600:
        return MailRefusedError(
            f"{server} lehnt diese Nachricht ab: {exc.smtp_code} {_text(exc.smtp_error)} "
            "(zu groß oder vom Filter abgewiesen?)"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
        )
        if 400 <= exc.smtp_code < 500:
            return TransientError(f"{server} vorübergehend nicht bereit ({exc.smtp_code} {text})")
        return MailboxError(f"{server} lehnt ab: {exc.smtp_code} {text}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailboxError(
            f"{server}: {exc} Bitte [mailbox] smtp_security/smtp_port prüfen "
            "(STARTTLS meist Port 587, TLS Port 465) oder smtp_username leer lassen."
        )
    return translate_socket_error(server, exc)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def translate_socket_error(server: str, exc: Exception) -> Exception:
    """Certificate and TLS set-up problems are permanent; drops and timeouts are transient."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailboxError(
            f"Das TLS-Zertifikat von {server} wird nicht vertraut ({exc.verify_message}): "
            "in [mailbox] ca_file das CA-Zertifikat des Servers angeben bzw. den Hostnamen so "
            "eintragen, wie er im Zertifikat steht."
        )
    if isinstance(exc, ssl.SSLError) and not isinstance(
        exc, ssl.SSLEOFError | ssl.SSLZeroReturnError
    ):
        return MailboxError(
            f"TLS-Verbindung zu {server} fehlgeschlagen ({exc.reason}): passen [mailbox] security "
            "und Port zusammen? (tls: meist 993/465, starttls: 143/587)"
        )
    if isinstance(exc, OSError | EOFError):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = "Zeitüberschreitung"
        return TransientError(
            f"{server} nicht erreichbar oder Verbindung abgebrochen ({reason}); "
            "bitte host/port, Netz und Firewall prüfen"
        )
    return MailboxError(f"{server}: unerwarteter Fehler ({type(exc).__name__})")
