"""An acknowledgement built the fast way (stencil, bytes written once) reads in a mail client
exactly as one built the old way (templates run for the mail, an `EmailMessage` flattened):
the same headers and the same text and HTML, for hostile names and numbers too."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from jugendhaus_mail.notify.mime import build_raw
from jugendhaus_mail.notify.render import MailData, MailRenderer
from tests.old_build import build_message
from tests.test_speed_ack_render import ACKNOWLEDGEMENTS, LATE

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
RENDERER = MailRenderer(
    None,
    office_name="Jugendhaus „Süd“ <Rostock>",
    office_phone="0381 381-1234",
    team_address="FM-Jugendhaus@rostock.de",
)
SENDER, SENDER_NAME = "FM-Jugendhaus@rostock.de", "Jugendsozialberatung"
HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "MIME-Version",
    "Content-Language",
)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@given(st.lists(st.one_of(ACKNOWLEDGEMENTS, LATE), min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_an_acknowledgement_reads_as_it_did(batch: list[MailData]) -> None:
    for mail in batch:
        old_rendered = RENDERER.render(mail.TEMPLATE, mail.context())  # templates run
        old = parsed(
            build_message(
                old_rendered,
                to=["ifk@jobcenter-ge.de"],
                now=NOW,
                domain="rostock.de",
                sender=SENDER,
                sender_name=SENDER_NAME,
            ).as_bytes(policy=email.policy.SMTP)
        )
        new = parsed(
            build_raw(
                RENDERER.render_mail(mail),
                to=["ifk@jobcenter-ge.de"],
                now=NOW,
                domain="rostock.de",
                sender=SENDER,
                sender_name=SENDER_NAME,
            )
        )
        for name in HEADERS:
            assert str(new[name]) == str(old[name]), name
        assert new.get_content_type() == old.get_content_type() == "multipart/alternative"
        for kind in ("plain", "html"):
            new_body, old_body = new.get_body((kind,)), old.get_body((kind,))
            assert new_body is not None and old_body is not None
            assert new_body.get_content() == old_body.get_content(), kind
