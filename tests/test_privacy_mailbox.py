"""The mailbox side of retention and erasure on all four backends: the service lists the mail in
its folders (by age) and deletes it for good, against real Maildirs, Dovecot and the EWS and
Graph fakes."""

from __future__ import annotations

import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.mailbox import open_mailbox
from jugendhaus_mail.mailbox.base import Folder
from tests.backend_sites import (  # noqa: F401  (fixtures)
    ALL_BACKENDS,
    BackendSite,
    backend_site_fixture,
    imap_server_for_sites_fixture,
)
from tests.site import request_mail, utc


@pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
def test_folder_mail_is_listed_by_age_and_deleted_for_good(backend_site: BackendSite) -> None:
    site = backend_site
    for number, day in enumerate((2, 3, 9)):
        raw = request_mail(
            f"Fallanfrage {number}", f"Name: Person {number}\n", message_id=f"<a{number}@jc.de>"
        )
        site.mailbox.deliver(raw, utc(2026, 3, day, 9), f"a{number}")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    assert len(site.mailbox.folder("Erfasst")) == 3
    settings = load_settings(site.site.config)
    with open_mailbox(settings) as box:
        old = list(box.list_folder(Folder.ERFASST, before=utc(2026, 3, 5)))
        assert [m.received for m in old] == [utc(2026, 3, 2, 9), utc(2026, 3, 3, 9)]
        assert all(b"Fallanfrage" in m.raw for m in old)
        ages = list(box.list_folder(Folder.ERFASST, content=False))
        assert len(ages) == 3
        assert box.delete(Folder.ERFASST, [m.handle for m in old]) == 2
        assert box.delete(Folder.ERFASST, [m.handle for m in old]) == 0  # gone already: fine
        assert list(box.list_folder(Folder.NICHT_ERFASST)) == []
        sent = list(box.list_folder(Folder.POSTAUSGANG, before=utc(2099, 1, 1)))
        assert len(sent) == len(site.mailbox.kept_copies()) == 3
        assert box.delete(Folder.POSTAUSGANG, [sent[0].handle]) == 1
    left = site.mailbox.folder("Erfasst")
    assert len(left) == 1 and b"Fallanfrage 2" in left[0]
    assert len(site.mailbox.kept_copies()) == 2
