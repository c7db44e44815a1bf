"""The garbage collector is paused while a cycle reads the workbook and left out of the
objects that live through the cycle (issue 15); the service runs for months, so after every
cycle, also one that fails, the collector must be back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from jugendhaus_mail.intake import batch as batch_module
from jugendhaus_mail.intake.context import IntakeContext
from jugendhaus_mail.intake.cycle import run_intake
from jugendhaus_mail.mailbox import open_mailbox
from jugendhaus_mail.notify.outbox import Outbox
from tests.site import make_site, request_mail, utc


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.enable()
    gc.unfreeze()


def cycle(tmp_path: Path, *, passes_while_reading: list[int] | None = None) -> None:
    site = make_site(tmp_path / "site")
    for i in range(3):
        raw = request_mail(f"Fallanfrage {i}", f"Name: Person {i}\n", message_id=f"<gc{i}@x>")
        site.deliver(raw, utc(2026, 3, 9, 7, i), f"m{i}")
    app = site.app(utc(2026, 3, 10, 7, 0))
    with app.state() as state, open_mailbox(app.settings) as mailbox:
        store = app.store()
        if passes_while_reading is not None:
            read = store.read

            def counted_read(*args: object, **kwargs: object) -> object:
                before = gc.get_stats()[0]["collections"]
                result = read(*args, **kwargs)  # type: ignore[arg-type]
                passes_while_reading.append(gc.get_stats()[0]["collections"] - before)
                return result

            store.read = counted_read  # type: ignore[method-assign]
        outbox = Outbox(app.settings, state, app.now)
        ctx = IntakeContext(app.settings, app.calendar, state, store, app.now, outbox)
        run_intake(ctx, mailbox)


def test_after_a_cycle_the_collector_runs_as_before(
    tmp_path: Path, collector_restored: None
) -> None:
    assert gc.isenabled()
    gc.set_threshold(1)  # a pass after every new container, unless paused
    passes: list[int] = []
    cycle(tmp_path, passes_while_reading=passes)
    assert passes == [0]  # paused while the workbook was read
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_after_a_failed_cycle_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_restored: None
) -> None:
    class Crash(Exception):
        pass

    def failpoint(name: str) -> None:
        raise Crash(name)

    monkeypatch.setattr(batch_module, "failpoint", failpoint)
    with pytest.raises(Crash):
        cycle(tmp_path)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_collector_switched_off_by_the_host_stays_off(
    tmp_path: Path, collector_restored: None
) -> None:
    gc.disable()
    cycle(tmp_path)
    assert not gc.isenabled() and gc.get_freeze_count() == 0
