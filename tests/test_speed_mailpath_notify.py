"""The cheaper steps of an acknowledgement give what the frozen ones gave (issue 15): the From
line made once per team address and name, the text tidied without a pattern search when it
has no run of blank lines, a stencil looked up with one hash of its key."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from jugendhaus_mail.notify import mails, mime, render
from jugendhaus_mail.notify.outgoing import _named


def from_line_before(sender: str, sender_name: str) -> str:
    """`build_raw`'s From line as it was made for every mail (commit 7bece7d)."""
    return mime._address_field("From", [_named(mime._checked(sender), sender_name)])


def tidy_before(value: str) -> str:
    """`render._tidy_text` as it was (commit 7bece7d)."""
    lines = [line.rstrip() for line in value.strip("\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _outcome(function: object, *args: object) -> object:
    try:
        return function(*args)  # type: ignore[operator]
    except Exception as exc:
        return type(exc).__name__, str(exc)


SENDERS = st.sampled_from(
    [
        "FM-Jugendhaus@rostock.de",
        "Team <team@rostock.de>",
        "kein",
        "",
        "a@b",
        "x\n@rostock.de",
        "ä@rostock.de",
        " team@rostock.de ",
    ]
)
NAMES = st.one_of(
    st.sampled_from(["", "Berufliche Jugendsozialberatung im Jugendhaus", 'A "B" \\ C', "Jüp",
                     "x" * 60, "ü" * 30, "\x00\n", "Team, Jugendhaus"]),
    st.text(max_size=50),
)  # fmt: skip


@given(SENDERS, NAMES)
@settings(max_examples=300, deadline=None)
def test_the_from_line_is_unchanged_also_from_the_cache(sender: str, name: str) -> None:
    for _ in range(2):
        assert _outcome(mime._from_field, sender, name) == _outcome(from_line_before, sender, name)


TIDY_TEXT = st.lists(
    st.sampled_from(["a", " ", "\t", "\n", "\r\n", "\r", "\n\n\n", "\x0b", "\x0c", "\x1c", "\x85",
                     "\u2028", "\u2029", "\u00a0", "ü"]),
    max_size=40,
).map("".join)  # fmt: skip


@given(st.one_of(TIDY_TEXT, st.text(max_size=100)))
@settings(max_examples=500, deadline=None)
@example("a\n\n\nb")
@example("a\u2028\u2028\u2028b")
def test_tidy_text_is_unchanged(text: str) -> None:
    assert render._tidy_text(text) == tidy_before(text)


def test_stencils_render_what_the_templates_render() -> None:
    """Each mail the way `render_mail` makes it from its stencil (also the second time, and
    with a key that cannot be hashed) is the mail the templates make."""
    renderer = render.MailRenderer(
        None, office_name="Jugendhaus", office_phone="0381 1", team_address="t@rostock.de"
    )
    slot = mails.OfficeHoursSlot(date(2026, 3, 3), time(7, 30), time(12, 30))
    acks = [
        mails.AcknowledgementMail(
            nr=f"2026-{i:04d}",
            requester_name=("", "IFK 1", "Anna <b>&")[i % 3],
            kind=("Stellungnahme", "Kinderschutz")[i % 2],
            received=datetime(2026, 3, 2, 7, 0, tzinfo=UTC) + timedelta(hours=5 * i),
            contact_person_due=date(2026, 3, 9),
            next_office_hours=slot if i % 4 else None,
        )
        for i in range(12)
    ]
    for mail in acks + acks:
        assert renderer.render_mail(mail) == renderer.render(mail.TEMPLATE, mail.context())
    assert any(isinstance(s, render._Stencil) for s in renderer._stencils.values())
