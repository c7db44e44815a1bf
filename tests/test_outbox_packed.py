"""Queued acknowledgements are stored packed against a pattern of their kind (issue 15): a
fraction of their size, read back byte for byte by any later process, the pattern holds no
value of any mail, and it goes with the last mail that needs it."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.failpoints import ENV
from jugendhaus_mail.jobs.retention import purge_state
from jugendhaus_mail.mailpack import pack, packed_with, pattern_id, unpack
from jugendhaus_mail.notify.render import AcknowledgementMail, MailRenderer, OfficeHoursSlot
from jugendhaus_mail.privacy.erase import _erase_state
from jugendhaus_mail.privacy.person import Person
from jugendhaus_mail.state import StateDamaged, StateDB
from tests.site import make_site, request_mail, utc
from tests.test_exactly_once import acknowledgements

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
PATTERN = b"From: team@rostock.de\r\nSubject: Eingangsbest\r\n\r\n" + b"<td style=x>" * 400


def ack(n: int) -> bytes:
    return PATTERN.replace(b"Subject: ", b"Subject: [2026-%04d] " % n) + b"Nr. %d\r\n" % n


def stored(state: StateDB) -> dict[str, bytes | None]:
    rows = state.conn.execute("SELECT key, message FROM outbox").fetchall()
    return {key: None if message is None else bytes(message) for key, message in rows}


def patterns(state: StateDB) -> int:
    return int(state.conn.execute("SELECT COUNT(*) FROM outbox_patterns").fetchone()[0])


def read_fresh(path: Path) -> list[tuple[str, bytes]]:
    with StateDB(path) as other:
        return other.unsent_mail()


def test_mail_stored_packed_is_read_back_byte_for_byte_by_a_fresh_process(
    tmp_path: Path,
) -> None:
    mails = {f"2026-{n:04d}|acknowledgement": ack(n) for n in range(1, 4)}
    with StateDB(tmp_path) as state:
        state.record_batch([], mails, NOW, {}, {key: PATTERN for key in mails})
        for key, message in stored(state).items():
            assert message is not None and packed_with(message) == pattern_id(PATTERN)
            assert len(message) < len(mails[key]) // 10
        assert patterns(state) == 1
    assert dict(read_fresh(tmp_path)) == mails


def test_the_pattern_goes_with_the_last_mail_that_needs_it(tmp_path: Path) -> None:
    mails = {"a|acknowledgement": ack(1), "b|acknowledgement": ack(2)}
    with StateDB(tmp_path) as state:
        state.record_batch([], mails, NOW, {}, {key: PATTERN for key in mails})
        state.queue_mail("c|reminder", b"To: x@rostock.de\r\n\r\nas it is\r\n", NOW)
        state.mark_mails_sent(["a|acknowledgement"], NOW)
        assert patterns(state) == 1  # b still needs it
        assert dict(read_fresh(tmp_path))["b|acknowledgement"] == ack(2)
        state.mark_mails_sent(["b|acknowledgement"], NOW)
        assert patterns(state) == 0
        assert stored(state)["c|reminder"] == b"To: x@rostock.de\r\n\r\nas it is\r\n"


@pytest.mark.parametrize("how", ["retention", "erase"])
def test_clearing_unsent_mail_drops_its_pattern(tmp_path: Path, how: str) -> None:
    key = "2026-0001|acknowledgement"
    with StateDB(tmp_path) as state:
        state.record_batch([], {key: ack(1)}, NOW, {}, {key: PATTERN})
        assert patterns(state) == 1
        if how == "retention":
            assert purge_state(state, ["2026-0001"], NOW) == 1
        else:
            person = Person(numbers=["2026-0001"], rows=[])
            assert _erase_state(state, person, NOW, dry_run=False) == 1
        assert stored(state)[key] is None
        assert patterns(state) == 0


def test_a_damaged_packed_mail_stops_with_the_admins_next_step(tmp_path: Path) -> None:
    key = "2026-0001|acknowledgement"
    with StateDB(tmp_path) as state:
        state.record_batch([], {key: ack(1)}, NOW, {}, {key: PATTERN})
        damaged = bytearray(stored(state)[key] or b"")
        damaged[-3] ^= 0xFF  # inside the Adler-32 or the last deflate bytes
        state.conn.execute("UPDATE outbox SET message = ? WHERE key = ?", (bytes(damaged), key))
    with StateDB(tmp_path) as state, pytest.raises(StateDamaged, match="Sicherung"):
        state.unsent_mail()


def test_a_mail_never_starts_with_nul(tmp_path: Path) -> None:
    with StateDB(tmp_path) as state, pytest.raises(ValueError):
        state.queue_mail("k", b"\x00not a mail", NOW)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.binary(min_size=1, max_size=3000))
def test_pack_and_unpack_give_back_any_bytes(message: bytes, pattern: bytes) -> None:
    packed = pack(message, pattern, pattern_id(pattern))
    assert packed_with(packed) == pattern_id(pattern)
    assert unpack(packed, pattern) == message
    with pytest.raises(ValueError):  # another pattern never yields a mail
        unpack(packed, pattern + b"!")
    with pytest.raises(ValueError):  # nor do cut bytes
        unpack(packed[:-1], pattern)


def test_an_acknowledgements_pattern_holds_no_value_of_the_mail() -> None:
    renderer = MailRenderer(None, office_name="Jugendhaus", team_address="fm@rostock.de")
    slot = OfficeHoursSlot(date(2026, 3, 12), time(13, 30), time(18, 0))
    received = datetime(2026, 3, 10, 9, 47)
    mail = AcknowledgementMail(
        "2026-0917", "Zacharias Quendel", "Fallanfrage", received, date(2026, 3, 17), slot
    )
    first = renderer.render_mail(mail)  # makes the stencil
    rendered = renderer.render_mail(mail)
    assert rendered == first and rendered.pattern is not None
    pattern = rendered.pattern
    whole = pattern.subject + pattern.text + pattern.html
    for value in ("2026-0917", "0917", "Zacharias", "Quendel", "09:47"):
        assert value in rendered.subject + rendered.text + rendered.html
        assert value not in whole
    assert "Eingangsbestätigung" in pattern.subject  # still the template's text


def test_a_poll_stores_its_acknowledgements_packed_and_a_crash_loses_none(
    tmp_path: Path,
) -> None:
    """Killed right after the batch is recorded: the packed acknowledgements are in the
    database with their pattern, which names nobody; the next cycle sends them, whole."""
    site = make_site(tmp_path / "site")
    names = ["Zacharias Quendel", "Ottilie Wrangel", "Bodo Fennich"]
    for i, name in enumerate(names):
        raw = request_mail(
            f"Fallanfrage {i}",
            f"Name: Person {i}\nKundennummer: {i:03d}D{i:06d}\n",
            sender=f"{name} <ifk{i}@jobcenter-ge.de>",
            message_id=f"<pack{i}@jobcenter-ge.de>",
        )
        site.deliver(raw, utc(2026, 3, 9, 7, i), f"m{i}")
    crashed = site.cli("poll", now="2026-03-10T08:00", env={ENV: "after_record"}, check=False)
    assert crashed.returncode == 137, crashed.stderr
    with StateDB(site.root / "state") as state:
        queued = {k: m for k, m in stored(state).items() if k.endswith("|acknowledgement")}
        assert len(queued) == 3
        assert all(m is not None and packed_with(m) is not None for m in queued.values())
        (data,) = state.conn.execute("SELECT data FROM outbox_patterns").fetchone()
        text = email.message_from_bytes(bytes(data), policy=email.policy.default)
        shown = str(text["Subject"]) + "".join(
            part.get_content() for part in text.walk() if part.get_content_maintype() == "text"
        )
        assert "Eingangsbestätigung" in shown
        for name in names:
            assert name.split()[1] not in shown
        assert "2026-000" not in shown
        unsent = dict(state.unsent_mail())
    site.cli("poll", now="2026-03-10T08:00")
    assert acknowledgements(site) == ["2026-0001", "2026-0002", "2026-0003"]
    sent = {
        p.read_bytes()
        for sub in ("new", "cur")
        if (site.maildir / ".Postausgang" / sub).is_dir()
        for p in (site.maildir / ".Postausgang" / sub).iterdir()
    }
    assert {m for k, m in unsent.items() if k.endswith("|acknowledgement")} <= sent
    with StateDB(site.root / "state") as state:
        assert patterns(state) == 0
        assert all(m is None for m in stored(state).values())
