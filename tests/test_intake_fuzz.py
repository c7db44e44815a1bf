"""Hostile mail through the whole intake: whatever arrives, every mail gets an outcome, the
cycle never crashes, and one mail that trips a bug cannot block the inbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.commands.poll import poll
from tests.site import make_site, request_mail, utc

NOW = utc(2026, 3, 10, 8, 0)

HEADER_NAMES = st.sampled_from(
    [
        "From",
        "Subject",
        "Message-ID",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Auto-Submitted",
        "In-Reply-To",
        "References",
        "Date",
        "Precedence",
        "Sender",
    ]
)
HEADER_VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            'multipart/mixed; boundary="b"',
            "text/html; charset=x-unknown",
            "base64",
            "=?utf-8?B?w7w=?=",
            "<x@y>",
            "auto-replied",
            "bulk",
            "[2026-0001] AW: x",
        ]
    ),
)
MESSAGES = st.one_of(
    st.binary(max_size=400),
    st.builds(
        lambda headers, body: (
            "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n" + body
        ).encode("utf-8", "surrogatepass"),
        st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8),
        st.text(max_size=300),
    ),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(MESSAGES, min_size=1, max_size=12))
def test_any_batch_of_mail_gets_an_outcome_for_every_message(
    tmp_path_factory: pytest.TempPathFactory, batch: list[bytes]
) -> None:
    site = make_site(tmp_path_factory.mktemp("fuzz") / "site")
    for index, raw in enumerate(batch):
        site.deliver(raw, utc(2026, 3, 9, 7) + timedelta(minutes=index), f"f{index}")
    report = poll(site.app(NOW))
    assert len(report.mails) == len(batch)
    assert all(m.outcome in ("request", "set_aside", "duplicate", "reply") for m in report.mails)
    assert site.inbox() == []
    assert len(site.requests()) == sum(m.outcome == "request" for m in report.mails)
    assert poll(site.app(NOW)).mails == []


def test_a_mail_that_trips_a_bug_is_set_aside_and_the_others_go_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jugendhaus_mail.intake.cycle as cycle

    real = cycle.extract_fields

    def fails_on_one(body: str, **kwargs: object):  # type: ignore[no-untyped-def]
        if "Gift" in body:
            raise ValueError("simulated bug")
        return real(body, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cycle, "extract_fields", fails_on_one)
    site = make_site(tmp_path / "site")
    site.deliver(
        request_mail("Fallanfrage", "Gift", message_id="<p1@x.de>"), utc(2026, 3, 9, 7), "p1"
    )
    site.deliver(
        request_mail("Fallanfrage", "gut", message_id="<p2@x.de>"), utc(2026, 3, 9, 8), "p2"
    )
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["set_aside", "request"]
    assert "Verarbeitungsfehler" in (report.mails[0].reason or "")
    assert len(site.requests()) == 1 and len(site.folder("Nicht erfasst")) == 1
