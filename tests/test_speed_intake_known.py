"""A run reads what the state database knows about its mails in one go (issue 15): the
answers are those of one look-up per key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from jugendhaus_mail.state import Record, StateDB


def test_many_keys_read_at_once_give_what_one_look_up_each_gives(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    outcomes = ("request", "reply", "set_aside")
    with StateDB(tmp_path / "state") as state:
        records = [
            Record(
                f"mid:<{i}@x.de>" + ("" if i % 7 == 0 else f"#{i:016x}"),
                outcomes[i % 3],
                now - timedelta(minutes=i),
                nr=f"2026-{i:04d}" if i % 3 != 2 else None,
                reason="Rückmeldung" if i % 5 == 0 else None,
                row={"subject": "x"} if i % 3 == 0 else None,
            )
            for i in range(1, 1200)
        ]
        state.record_batch(records, {}, now, {2026: 1199})
        for record in records[::4]:
            state.mark_filed(record.key, now)
        state.flush_filed()
        keys = [r.key for r in records[::2]] + ["mid:<nie@x.de>", "sha256:00", records[3].key]
        keys += [f"mid:<{i}@x.de>" for i in range(1, 30)]  # bare keys: some recorded, most not

        many = state.seen_many(keys)

        one_by_one = {key: state.seen(key) for key in keys}
        assert many == {key: seen for key, seen in one_by_one.items() if seen is not None}
        assert len(many) > 600  # more keys than one query takes
        assert state.seen_many([]) == {}
