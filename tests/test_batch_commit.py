"""Group commit: the durable steps of a poll do not grow with the number of mails.

A poll records its mails (with numbers and acknowledgements) in one transaction per group,
files them with one sync per folder, and stores the acknowledgements in `Postausgang` with one
sync for all files, then one for the folder, and only then notes them as sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from jugendhaus_mail import fsync
from jugendhaus_mail.jobs.intake import poll
from jugendhaus_mail.mailbox import maildir
from jugendhaus_mail.state import StateDB
from tests.site import Site, make_site, request_mail, utc
from tests.test_exactly_once import acknowledgements

NOW = utc(2026, 3, 10, 8, 0)


def fill(site: Site, count: int) -> None:
    for i in range(count):
        raw = request_mail(
            f"Fallanfrage Nummer {i}",
            f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n",
            message_id=f"<g{i}@jobcenter-ge.de>",
        )
        site.deliver(raw, utc(2026, 3, 9, 7, 0) + timedelta(minutes=i), f"m{i:04d}")


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The durable steps in the order they happen (observed; each still does its work)."""
    seen: list[str] = []
    transaction = StateDB.transaction
    sync_files, sync_directory = fsync.sync_files, maildir.sync_directory
    mark_sent = StateDB.mark_mails_sent

    def observed_transaction(self: StateDB):  # type: ignore[no-untyped-def]
        seen.append("transaction")
        return transaction(self)

    def observed_sync_files(paths: list[Path], folder: Path) -> None:
        seen.append(f"sync files {folder.parent.name} ({len(paths)})")
        sync_files(paths, folder)

    def observed_sync_directory(directory: Path) -> None:
        seen.append(f"sync folder {directory.parent.name}/{directory.name}")
        sync_directory(directory)

    def observed_mark_sent(self: StateDB, keys: list[str], now: object, *args: object) -> None:
        seen.append(f"noted as sent ({len(keys)})")
        mark_sent(self, keys, now, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(StateDB, "transaction", observed_transaction)
    monkeypatch.setattr(maildir, "sync_files", observed_sync_files)
    monkeypatch.setattr(maildir, "sync_directory", observed_sync_directory)
    monkeypatch.setattr(StateDB, "mark_mails_sent", observed_mark_sent)
    yield seen


def durable_steps(tmp_path: Path, count: int, steps: list[str]) -> list[str]:
    site = make_site(tmp_path / f"site{count}")
    fill(site, count)
    steps.clear()
    report = poll(site.app(NOW))
    assert report.written == count
    assert acknowledgements(site) == [f"2026-{n:04d}" for n in range(1, count + 1)]
    return [step.replace(f"({count})", "(all)") for step in steps]


def test_the_durable_steps_of_a_poll_do_not_grow_with_its_mails(
    tmp_path: Path, steps: list[str]
) -> None:
    few, many = durable_steps(tmp_path, 3, steps), durable_steps(tmp_path, 40, steps)
    assert few == many
    assert many.count("sync files .Postausgang (all)") == 1
    sent = many.index("sync files .Postausgang (all)")
    # files, then the folder, then the database
    assert many[sent + 1 : sent + 3] == ["sync folder .Postausgang/new", "noted as sent (all)"]
    assert many.count("sync folder .Erfasst/cur") == 1
    assert many.count("transaction") <= 12  # whatever the number of mails


def test_the_batch_is_recorded_before_anything_is_filed(
    tmp_path: Path, steps: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site")
    fill(site, 5)
    record = StateDB.record_batch

    def observed(self: StateDB, records, mails, now, *rest):  # type: ignore[no-untyped-def]
        steps.append(f"record {len(records)} mails, {len(mails)} acknowledgements")
        assert len(site.inbox()) == 5  # nothing filed yet
        record(self, records, mails, now, *rest)

    monkeypatch.setattr(StateDB, "record_batch", observed)
    steps.clear()
    poll(site.app(NOW))
    recorded = steps.index("record 5 mails, 5 acknowledgements")
    assert steps.index("sync folder .Erfasst/cur") > recorded
    assert site.inbox() == []
