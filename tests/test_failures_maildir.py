"""A Maildir file that a mail reader (Dovecot) moved from new/ to cur/ between the listing and
the move is still filed, without an error."""

from __future__ import annotations

import os
from pathlib import Path

from jugendhaus_mail.mailbox import Folder, open_mailbox
from tests.site import make_site, request_mail, utc


def test_a_mail_moved_from_new_to_cur_meanwhile_is_still_filed(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    site.deliver(request_mail("Fallanfrage", "x", message_id="<m@x.de>"), utc(2026, 3, 9), "m1")
    settings = site.app(utc(2026, 3, 10)).settings
    with open_mailbox(settings) as mailbox:
        [message] = list(mailbox.list_new())
        source = site.maildir / "new" / message.handle
        os.rename(source, site.maildir / "cur" / f"{message.handle}:2,S")  # Dovecot shows it
        mailbox.move(message.handle, Folder.ERFASST)
    assert site.inbox() == []
    assert len(site.folder("Erfasst")) == 1


def test_poll_files_a_mail_moved_meanwhile_and_exits_0(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    site.deliver(request_mail("Fallanfrage", "x", message_id="<m@x.de>"), utc(2026, 3, 9), "m1")
    [path] = (site.maildir / "new").iterdir()
    os.rename(path, site.maildir / "cur" / f"{path.name}:2,")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    assert site.inbox() == [] and len(site.folder("Erfasst")) == 1
