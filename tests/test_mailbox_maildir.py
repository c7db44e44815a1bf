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


def test_receipt_is_the_mtime_not_the_time_in_the_file_name(tmp_path: Path) -> None:
    """A mail copied into the inbox later (mbsync, imapsync, a person's mail client) keeps its
    arrival as the mtime; the file name only says when the copy was made."""
    settings = settings_for(tmp_path)
    root = tmp_path / "postfach"
    arrived = datetime(2026, 1, 12, 8, 15, tzinfo=UTC)
    copied = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    path = deliver(root, raw_mail("kopiert"), copied, "copy")
    os.utime(path, (arrived.timestamp(), arrived.timestamp()))
    with open_mailbox(settings) as mailbox:
        [message] = list(mailbox.list_new())
    assert message.received == arrived


def test_the_name_stands_in_only_for_an_unusable_mtime(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    root = tmp_path / "postfach"
    named = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    broken = deliver(root, raw_mail("1970"), named, "zero")
    os.utime(broken, (0, 0))  # a copy tool that lost the time
    later = deliver(root, raw_mail("zukunft"), named, "future")
    os.utime(later, (4_102_444_800, 4_102_444_800))  # 2100, long after the file was made
    with open_mailbox(settings) as mailbox:
        assert [m.received for m in mailbox.list_new()] == [named, named]


def test_listing_is_ordered_by_mtime_across_new_and_cur(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    root = tmp_path / "postfach"
    times = [datetime(2025, month, 3, 9, 0, tzinfo=UTC) for month in (5, 1, 9)]
    for number, when in enumerate(times):
        # all copied today: the names are in the opposite order of the arrivals
        path = deliver(
            root,
            raw_mail(f"m{number}"),
            datetime(2026, 3, 10, 9, 59 - number, tzinfo=UTC),
            f"c{number}",
        )
        os.utime(path, (when.timestamp(), when.timestamp()))
        if number == 1:
            os.rename(path, root / "cur" / (path.name + ":2,S"))
    with open_mailbox(settings) as mailbox:
        assert [m.received for m in mailbox.list_new()] == sorted(times)


def test_storing_the_same_message_id_again_keeps_one_copy_in_postausgang(tmp_path: Path) -> None:
    """A crash after storing a mail but before the outbox noted it as sent: the next cycle
    hands the same mail (same Message-ID) over again, and Postausgang keeps one copy, also
    when a mail client has meanwhile moved it to cur/."""
    settings = settings_for(tmp_path)
    (tmp_path / "postfach" / "cur").mkdir(parents=True)
    message = EmailMessage()
    message["From"] = "FM-Jugendhaus@rostock.de"
    message["To"] = "anna.schulz@jobcenter-ge.de"
    message["Subject"] = "[2026-0001] Eingangsbestätigung"
    message["Message-ID"] = "<20260310080000.ab12@rostock.de>"
    message.set_content("Text")
    other = EmailMessage()
    for header in ("From", "To", "Subject"):
        other[header] = message[header]
    other["Message-ID"] = "<20260310080000.cd34@rostock.de>"
    other.set_content("Text")
    postausgang = tmp_path / "postfach" / ".Postausgang"
    with open_mailbox(settings) as mailbox:
        mailbox.send(message)
        mailbox.send(message)
    [stored] = list((postausgang / "new").iterdir())
    os.rename(stored, postausgang / "cur" / (stored.name + ":2,S"))
    with open_mailbox(settings) as mailbox:
        mailbox.send(message)
        mailbox.send(other)
    assert len(list((postausgang / "cur").iterdir())) == 1
    [new] = list((postausgang / "new").iterdir())
    assert b"cd34@rostock.de" in new.read_bytes()
