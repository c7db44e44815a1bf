"""Acknowledgements are rendered from a stencil (the templates run once per kind of mail, each
mail fills in its number, name and time) and read exactly as the templates render them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.notify.render import (
    AcknowledgementMail,
    LateAcknowledgementMail,
    MailData,
    MailRenderer,
    OfficeHoursSlot,
)

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "Anna Schulz",
        "Jörg Müller-Lüdenscheidt",
        'O\'Neill "Chef" <b>&amp;</b>',
        "<script>alert(1)</script>",
        "Zeile\r\neins\nzwei\rdrei",
        "=?utf-8?b?SGFsbG8=?= Name",
        "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherung" * 3,
        "שלום עליכם محمد",
        "{{ nr }} {% if %}",
        "\u2028\u2029\x00\x7f\ue000\ue001",
        "[2026-0042]",
    ]
)
TEXTS = st.one_of(HOSTILE, st.text(max_size=40))
KINDS = st.sampled_from(["Fallanfrage", "Hausbesuch", "Kinderschutz", "Sonstiges", "", "<i>"])
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=11)), None]
)
MOMENTS = st.builds(
    lambda day, minutes, zone: (
        datetime.combine(day, time()).replace(tzinfo=zone) + timedelta(minutes=minutes)
    ),
    st.dates(date(2025, 12, 20), date(2026, 1, 5)),
    st.integers(0, 24 * 60 - 1),
    ZONES,
)
DAYS = st.dates(date(2025, 12, 20), date(2026, 1, 8))
SLOTS = st.one_of(st.none(), st.just(OfficeHoursSlot(date(2026, 1, 8), time(13, 30), time(18, 0))))
NUMBERS = st.one_of(st.sampled_from(["2026-0042", "", "  2026-0001 ", "<1>"]), TEXTS)
ACKNOWLEDGEMENTS = st.builds(
    AcknowledgementMail,
    nr=NUMBERS,
    requester_name=TEXTS,
    kind=KINDS,
    received=MOMENTS,
    contact_person_due=DAYS,
    next_office_hours=SLOTS,
)
LATE = st.builds(
    LateAcknowledgementMail,
    nr=NUMBERS,
    requester_name=TEXTS,
    kind=KINDS,
    received=MOMENTS,
    taken_in=DAYS,
)

# one renderer for all examples: its stencils are reused by mails with other values
RENDERER = MailRenderer(
    None,
    office_name="Jugendhaus <Rostock> & Co",
    office_phone="0381 381-1234",
    team_address="FM-Jugendhaus@rostock.de",
)


def templates_run(renderer: MailRenderer, mail: MailData) -> object:
    """The mail as the templates render it when run for this mail alone."""
    return renderer.render(mail.TEMPLATE, mail.context())


@given(st.lists(st.one_of(ACKNOWLEDGEMENTS, LATE), min_size=1, max_size=6))
@settings(max_examples=300, deadline=None)
def test_a_stencil_renders_every_acknowledgement_as_the_templates_do(
    batch: list[MailData],
) -> None:
    for mail in batch:
        assert RENDERER.render_mail(mail) == templates_run(RENDERER, mail)


def test_a_batch_of_acknowledgements_uses_few_stencils() -> None:
    renderer = MailRenderer(None)
    received = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    mails = [
        AcknowledgementMail(
            nr=f"2026-{i:04d}",
            requester_name=f"IFK {i}" if i % 7 else "",
            kind="Fallanfrage",
            received=received + timedelta(minutes=i),
            contact_person_due=date(2026, 3, 9),
            next_office_hours=None,
        )
        for i in range(1, 200)
    ]
    for mail in mails:
        assert renderer.render_mail(mail) == templates_run(renderer, mail)
    assert len(renderer._stencils) == 2  # with and without a name


def test_an_office_template_that_treats_a_slot_otherwise_is_run_for_every_mail(
    tmp_path: Path,
) -> None:
    (tmp_path / "acknowledgement.txt").write_text(
        "{{ requester_name|upper }} {{ nr[:4] }} {{ received.minute }}\n", encoding="utf-8"
    )
    renderer = MailRenderer(tmp_path)
    for name, minute in (("anna", 5), ("bert", 7)):
        mail = AcknowledgementMail(
            nr="2026-0042",
            requester_name=name,
            kind="Fallanfrage",
            received=datetime(2026, 3, 2, 7, minute, tzinfo=UTC),
            contact_person_due=date(2026, 3, 9),
            next_office_hours=None,
        )
        assert renderer.render_mail(mail).text == f"{name.upper()} 2026 {minute}\n"


def test_a_template_that_prints_a_time_slot_unfiltered_is_run_for_every_mail(
    tmp_path: Path,
) -> None:
    (tmp_path / "acknowledgement_late.subject.txt").write_text(
        "Eingang {{ received }}", encoding="utf-8"
    )
    renderer = MailRenderer(tmp_path)
    for minute in (5, 7):
        mail = LateAcknowledgementMail(
            nr="2026-0042",
            requester_name="Anna",
            kind="Fallanfrage",
            received=datetime(2026, 3, 2, 7, minute, tzinfo=UTC),
            taken_in=date(2026, 3, 9),
        )
        assert renderer.render_mail(mail).subject == (
            f"[2026-0042] Eingang 2026-03-02 07:{minute:02d}:00+00:00"
        )


def test_a_template_the_office_edits_between_cycles_is_compiled_again(tmp_path: Path) -> None:
    mail = LateAcknowledgementMail(
        nr="2026-0042",
        requester_name="Anna",
        kind="Fallanfrage",
        received=datetime(2026, 3, 2, 7, 5, tzinfo=UTC),
        taken_in=date(2026, 3, 9),
    )
    template = tmp_path / "acknowledgement_late.subject.txt"
    subjects = []
    for wording in ("Erste Fassung", "Zweite Fassung", "Erste Fassung"):
        template.write_text(wording + " {{ received|datum }}", encoding="utf-8")
        subjects.append(MailRenderer(tmp_path).render_mail(mail).subject)  # one per cycle
    assert subjects == [
        "[2026-0042] Erste Fassung 02.03.2026",
        "[2026-0042] Zweite Fassung 02.03.2026",
        "[2026-0042] Erste Fassung 02.03.2026",
    ]


@given(st.text(st.sampled_from(["a", "<", " ", "\n", "\t", "\u2028", "\x0c", "\xa0"]), max_size=12))
@settings(max_examples=500, deadline=None)
def test_html_ends_with_one_line_break_as_before(html: str) -> None:
    from jugendhaus_mail.notify.render import _finish

    assert _finish("Betreff", "Text", html, None).html == html.strip() + "\n"
