"""The Maildir backend against real Maildirs in a temp folder."""

from __future__ import annotations

import email
import os
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.errors import MailboxError
from jugendhaus_mail.mailbox import Folder, open_mailbox
from jugendhaus_mail.mailbox.maildir import deliver


def settings_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "jugendhaus-mail.toml"
    config.write_text(
        '[office]\nholiday_region = "DE-MV"\n[mailbox]\nbackend = "maildir"\npath = "postfach"\n'
        '[workbook]\npath = "Anfrageliste.xlsx"\n',
        encoding="utf-8",
    )
    return load_settings(config)


def raw_mail(subject: str) -> bytes:
    return f"From: a@jobcenter-ge.de\r\nSubject: {subject}\r\n\r\nText\r\n".encode()


def test_lists_oldest_first_with_delivery_time_and_moves_into_created_folders(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    root = tmp_path / "postfach"
    later = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    earlier = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    deliver(root, raw_mail("zwei"), later, "b")
    deliver(root, raw_mail("eins"), earlier, "a")
    with open_mailbox(settings) as mailbox:
        messages = list(mailbox.list_new())
        assert [m.received for m in messages] == [earlier, later]
        assert b"Subject: eins" in messages[0].raw
        mailbox.move(messages[0].handle, Folder.ERFASST)
        mailbox.move(messages[1].handle, Folder.NICHT_ERFASST)
        # moving again (crash between move and bookkeeping) is harmless
        mailbox.move(messages[0].handle, Folder.ERFASST)
        assert list(mailbox.list_new()) == []
    erfasst = list((root / ".Erfasst" / "cur").iterdir())
    assert len(erfasst) == 1 and erfasst[0].read_bytes() == raw_mail("eins")
    assert erfasst[0].name.startswith(str(int(earlier.timestamp())))
    assert len(list((root / ".Nicht erfasst" / "cur").iterdir())) == 1
    assert (root / ".Erfasst" / "maildirfolder").exists()


def test_mail_read_by_a_person_in_cur_is_still_new_to_the_service(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    root = tmp_path / "postfach"
    path = deliver(root, raw_mail("gelesen"), datetime(2026, 3, 9, tzinfo=UTC), "c")
    os.rename(path, root / "cur" / (path.name + ":2,S"))
    with open_mailbox(settings) as mailbox:
        [message] = list(mailbox.list_new())
        mailbox.move(message.handle, Folder.ERFASST)
    assert len(list((root / ".Erfasst" / "cur").iterdir())) == 1


def test_sent_mail_is_stored_complete_in_postausgang(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    (tmp_path / "postfach" / "cur").mkdir(parents=True)
    message = EmailMessage()
    message["From"] = "FM-Jugendhaus@rostock.de"
    message["To"] = "anna.schulz@jobcenter-ge.de"
    message["Subject"] = "[2026-0001] Eingangsbestätigung – Prüfung"
    message.set_content("Grüße aus dem Jugendhaus")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="Brief.pdf")
    with open_mailbox(settings) as mailbox:
        mailbox.send(message)
    [stored] = list((tmp_path / "postfach" / ".Postausgang" / "new").iterdir())
    parsed = email.message_from_bytes(stored.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "[2026-0001] Eingangsbestätigung – Prüfung"
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["Brief.pdf"]
    assert "Grüße" in parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert list((tmp_path / "postfach" / ".Postausgang" / "tmp").iterdir()) == []


def test_a_folder_that_is_not_a_maildir_is_a_clear_error(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with pytest.raises(MailboxError, match="kein Maildir"), open_mailbox(settings):
        pass
