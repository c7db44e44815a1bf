"""Reading `[mailbox]`: the backend and everything each backend needs to connect."""

from __future__ import annotations

import re
from pathlib import Path

from jugendhaus_mail.config.model import BACKENDS, EWS_AUTH, TLS_MODES, MailboxSettings
from jugendhaus_mail.config.section import _check_email, _check_env_name, _Section


def _mailbox(section: _Section) -> MailboxSettings:
    section.require("backend", "erlaubt: " + ", ".join(BACKENDS))
    backend = section.choice("backend", "maildir", BACKENDS)
    settings = MailboxSettings(
        backend=backend,
        path=section.path("path", Path("postfach") if backend == "maildir" else None),
        address=section.get("address", "", str, _check_email),
        endpoint=section.get(
            "endpoint",
            "",
            str,
            lambda v: (
                None
                if re.match(r"https?://", v)
                else "erwartet: eine URL wie https://mail.example.de/EWS/Exchange.asmx"
            ),
        ),
        username=section.get("username", "", str),
        password_env=section.get("password_env", "", str, _check_env_name),
        auth=section.choice("auth", "ntlm", EWS_AUTH),
        tenant_id=section.get("tenant_id", "", str),
        client_id=section.get("client_id", "", str),
        client_secret_env=section.get("client_secret_env", "", str, _check_env_name),
        certificate_path=section.path("certificate_path", None),
        host=section.get("host", "", str),
        port=section.int_range("port", 0, 0, 65535),
        security=section.choice("security", "tls", TLS_MODES),
        smtp_host=section.get("smtp_host", "", str),
        smtp_port=section.int_range("smtp_port", 0, 0, 65535),
        smtp_security=section.choice("smtp_security", "starttls", TLS_MODES),
        smtp_username=section.get("smtp_username", "", str),
        smtp_password_env=section.get("smtp_password_env", "", str, _check_env_name),
        ca_file=section.path("ca_file", None),
        inbox_folder=section.get("inbox_folder", "INBOX", str),
        sent_folder=section.get("sent_folder", "Sent", str),
        retries=section.int_range("retries", 3, 0, 20),
        retry_backoff_seconds=section.get(
            "retry_backoff_seconds",
            2.0,
            float,
            lambda v: None if 0 <= v <= 600 else "erlaubt: 0 bis 600",
        ),
        batch_size=section.int_range("batch_size", 500, 1, 100_000),
        authority_host=section.get(
            "authority_host",
            "",
            str,
            lambda v: (
                None
                if re.fullmatch(r"https://[^/\s]+/?", v)
                else "erwartet: nur der Anmelde-Host wie https://login.microsoftonline.us"
            ),
        ).rstrip("/"),
        sent_copy_grace_minutes=section.int_range("sent_copy_grace_minutes", 10, 0, 1440),
        throttle_budget_seconds=section.get(
            "throttle_budget_seconds",
            120.0,
            float,
            lambda v: None if 0 <= v <= 3600 else "erlaubt: 0 bis 3600 (Sekunden je Durchgang)",
        ),
    )
    required = {
        "maildir": ("path",),
        "ews": ("endpoint", "address", "username"),
        "graph": ("address", "tenant_id", "client_id"),
        "imap": ("host", "username", "password_env"),
    }[backend]
    for key in required:
        if not getattr(settings, key):
            section.fail(key, f'fehlt; für backend = "{backend}" nötig')
    for key in ("smtp_host", "smtp_username", "smtp_password_env"):
        if backend != "imap" and getattr(settings, key):
            section.fail(
                key,
                f'gilt nur für backend = "imap"; mit "{backend}" wird darüber nichts versendet. '
                "Bitte den Schlüssel entfernen oder das Backend wechseln.",
            )
    if backend == "ews" and settings.auth != "oauth" and not settings.password_env:
        section.fail("password_env", "fehlt; nennen Sie die Umgebungsvariable mit dem Passwort")
    if backend == "graph" and not (settings.client_secret_env or settings.certificate_path):
        section.fail("client_secret_env", "oder certificate_path fehlt; eins von beiden ist nötig")
    return settings
