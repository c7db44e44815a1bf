"""Hostile mail through the whole intake: whatever arrives, every mail gets an outcome, the
cycle never crashes, and one mail that trips a bug cannot block the inbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.jobs.intake import poll
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


EXCEL_CELL_LIMIT = 32_767
HOSTILE_TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=60),
    st.sampled_from(
        [
            '=HYPERLINK("http://x";"klick")',
            "+49 381 1234",
            "-1+1",
            "@SUMME(A1)",
            "\tTab vorn",
            "#NV",
            "‮gnuthcA",
            "Zeile\x0bmit\x1fSteuerzeichen",
            "Ü" * 33_000,
        ]
    ),
)
NAMES = st.one_of(
    st.sampled_from(["Schulz, Anna", "Schulz, Anna (Jobcenter Rostock)", "=cmd|' /C calc'!A0"]),
    st.text(st.characters(whitelist_categories=["L", "Zs", "P"]), min_size=1, max_size=40),
)


def _visible(text: object) -> str:
    """What a reader sees of a text, as an oracle independent of the production code:
    letters and digits in order."""
    return "".join(ch for ch in str(text or "") if ch.isalnum())


def _mail(subject: str, name: str, body: str, index: int) -> bytes:
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage()
    message["From"] = Address(name, "anna.schulz", "jobcenter-ge.de")
    message["To"] = "FM-Jugendhaus@rostock.de"
    message["Subject"] = subject
    message["Message-ID"] = f"<fuzz{index}@jobcenter-ge.de>"
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cases=st.lists(
        st.tuples(HOSTILE_TEXT, NAMES, HOSTILE_TEXT, st.sampled_from([0, 33_000])),
        min_size=1,
        max_size=4,
    )
)
def test_hostile_requests_become_rows_whose_cells_hold_exactly_the_text(
    tmp_path_factory: pytest.TempPathFactory, cases: list[tuple[str, str, str, int]]
) -> None:
    import openpyxl

    site = make_site(tmp_path_factory.mktemp("rows") / "site")
    subjects = []
    for index, (text, name, client, padding) in enumerate(cases):
        # a header line cannot carry line breaks; everything else goes in as it is
        subject = "Fallanfrage " + "".join(ch for ch in text if ch.isprintable())[:2000]
        body = f"Name: {client}\nKundennummer: 123A45678{index}\n" + "Textblock " * (padding // 10)
        site.deliver(_mail(subject, name, body, index), utc(2026, 3, 9, 7, index), f"h{index}")
        subjects.append(subject)
    report = poll(site.app(NOW))
    assert [m.outcome for m in report.mails] == ["request"] * len(cases)
    workbook = openpyxl.load_workbook(site.workbook)
    sheet = workbook["Anfragen"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    rows = list(sheet.iter_rows(min_row=2, max_row=1 + len(cases)))
    assert len(rows) == len(cases)
    for row, subject in zip(rows, subjects, strict=True):
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)  # never a formula
            assert len(str(cell.value or "")) <= EXCEL_CELL_LIMIT
        stored, wanted = _visible(row[headers["Betreff"] - 1].value), _visible(subject)
        if len(subject) <= 400:
            assert stored == wanted
        else:  # a very long subject is cut: what is there is its start
            assert stored and wanted.startswith(stored)
        assert row[headers["Anfrageart"] - 1].value == "Fallanfrage"
        assert row[headers["E-Mail Anfragende"] - 1].value == "anna.schulz@jobcenter-ge.de"
