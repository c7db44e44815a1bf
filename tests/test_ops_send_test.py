"""`check --send-test ADRESSE` on every backend, and only to one address inside the office.

A test mail is the one mail an admin can address freely; it must never leave the office's own
domains (`[mail] internal_domains`), never go to several people at once, and a pasted address
with a line break must be refused in words, not with a traceback.
"""

from __future__ import annotations

import email.policy
from email import message_from_bytes

import pytest

from tests.backend_sites import (  # noqa: F401  (fixtures)
    ALL_BACKENDS,
    BackendSite,
    backend_site_fixture,
    imap_server_for_sites_fixture,
)

NOW = "2026-03-30T09:00"

REFUSED = [
    ("anna.schulz@gmail.com", "internal_domains"),
    ("Chef <chef@rostock.de.evil.example>", "internal_domains"),
    ("lena.kowalski@rostock.de, frank.dettmann@rostock.de", "genau eine Adresse"),
    ("lena.kowalski@rostock.de;frank.dettmann@rostock.de", "genau eine Adresse"),
    ("lena.kowalski@rostock.de frank.dettmann@rostock.de", "genau eine Adresse"),
    ("lena.kowalski@rostock.de\r\nBcc: boss@evil.example", "Zeilenumbruch"),
    ("lena.kowalski@rostock.de\n", "Zeilenumbruch"),
    ("", "keine Adresse"),
]


@pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
def test_a_test_mail_outside_the_office_or_to_several_is_refused_and_nothing_sent(
    backend_site: BackendSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = backend_site
    for address, reason in REFUSED:
        assert site.run("check", "--send-test", address, now=NOW) == 2, address
        captured = capsys.readouterr()
        [line] = captured.err.splitlines()
        assert line.startswith("Fehler: Testmail nicht gesendet:"), line
        assert reason in line, (address, line)
        assert "Traceback" not in captured.err + captured.out
    assert site.mailbox.transmitted() == []
    assert site.mailbox.kept_copies() == []
    assert not any(site.mailbox.is_send(r) for r in site.mailbox.request_log())


def test_the_refusal_names_the_allowed_domains_and_what_to_do(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    from tests.site import make_site

    assert isinstance(tmp_path, Path)
    site = make_site(tmp_path / "site", 'internal_domains = ["rostock.de"]\n')
    assert site.run("check", "--send-test", "a@jobcenter-ge.de", now=NOW) == 2
    err = capsys.readouterr().err
    assert "a@jobcenter-ge.de liegt nicht in [mail] internal_domains (rostock.de)" in err
    assert "Adresse im eigenen Haus" in err


@pytest.mark.parametrize("backend_site", ["maildir"], indirect=True)
def test_on_maildir_the_test_mail_lands_in_postausgang(
    backend_site: BackendSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = backend_site
    assert site.run("check", "--send-test", "Lena.Kowalski@rostock.de", now=NOW) == 0
    out = capsys.readouterr().out
    assert "OK      Testmail an Lena.Kowalski@rostock.de in den Ordner Postausgang gelegt" in out
    [raw] = site.mailbox.kept_copies()
    message = message_from_bytes(raw, policy=email.policy.default)
    assert str(message["To"]) == "Lena.Kowalski@rostock.de"
    assert str(message["From"]) == "FM-Jugendhaus@rostock.de"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Testmail" in str(message["Subject"])
    assert (site.root / "postfach" / ".Postausgang" / "new").is_dir()


def test_any_text_as_test_address_is_one_internal_address_or_a_refusal(tmp_path: object) -> None:
    """Fuzz: whatever an admin pastes, the result is one bare address inside the office's
    domains, or a ConfigError with a German reason; nothing else escapes."""
    from pathlib import Path

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from jugendhaus_mail.commands.check import send_test_address
    from jugendhaus_mail.config import load_settings
    from jugendhaus_mail.errors import ConfigError
    from jugendhaus_mail.notify.outgoing import RecipientPolicy
    from tests.site import make_site

    assert isinstance(tmp_path, Path)
    config = load_settings(make_site(tmp_path / "site").config)
    policy = RecipientPolicy(config.mail.internal_domains)
    pieces = st.sampled_from(
        ["lena", "@", "rostock.de", "gmail.com", ",", ";", " ", "\r\n", "\n", "<", ">", "Lena ",
         ".", "evil.example", "jobcenter-ge.de", "\x00", "\u2028", "ä", '"']
    )  # fmt: skip

    @settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(st.text(), st.lists(pieces, max_size=8).map("".join)))
    def check(raw: str) -> None:
        try:
            address = send_test_address(raw, config)
        except ConfigError as exc:
            assert str(exc).startswith("Testmail nicht gesendet: ")
            return
        assert address.count("@") == 1 and address == address.strip()
        assert not any(ch in address for ch in "\r\n\x00,; <>")
        assert policy.check(address) == address

    check()
