"""Mail as staff and partners read it: a From with the team's name, subjects that unfold to
exactly what was written, a phone number that never wraps, one word ("Ansprechpartner") for
one thing, what to do instead of "Zu finden in: Anfrageliste" for people who cannot open it,
the absence `Art` as entered, and external requesters listed in the digest."""

from __future__ import annotations

import random
import re
import subprocess
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import compat32
from email.policy import default as default_policy
from pathlib import Path

import pytest

from jugendhaus_mail.notify.mime import build_raw
from jugendhaus_mail.notify.render import (
    AbsenceMail,
    MailRenderer,
    OfficeHoursSlot,
    RenderedMail,
    for_recipients,
)
from tests.look_pdf import words
from tests.site import make_site, outgoing, request_mail, utc
from tests.test_notify_render import SAMPLES, office_renderer, reminder, visible_text

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
WORDS = ["Eingangsbestätigung", "Ihrer", "Anfrage", "vom", "16.03.2026", "„Hausbesuch“", "–",
         "Rückmeldung", "fällig", "[2026-0001]", "Überfällig", "(3 Arbeitstage):", "Straße",
         "Jugendsozialberatungsstellenübergreifend", "x" * 70, "ä" * 40, "😀", "=?utf-8?q?x?=",
         "AW:", "Sozialgesetzbuch"]  # fmt: skip


@pytest.fixture(scope="module")
def renderer() -> MailRenderer:
    return office_renderer()


def _subject_line(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n")[0].decode("ascii")
    return next(line for line in head.split("\r\n") if line.startswith("Subject:"))


def test_subjects_unfold_to_exactly_what_was_written() -> None:
    rng = random.Random(13)
    for _ in range(600):
        subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 14)))
        mail = RenderedMail(subject=subject, text="x", html="<p>x</p>")
        args = dict(sender="team@rostock.de", to=["a@rostock.de"], now=NOW, domain="rostock.de")
        raw = build_raw(mail, **args)  # type: ignore[arg-type]
        first = _subject_line(raw)
        assert first != "Subject:" and not first.startswith("Subject:  "), first
        assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))
        assert str(message_from_bytes(raw, policy=default_policy)["Subject"]) == subject
        legacy = message_from_bytes(raw, policy=compat32)["Subject"]
        unfolded = re.sub(r"\r?\n(?=[ \t])", "", legacy)  # RFC 5322 unfolding
        assert str(make_header(decode_header(unfolded))) == subject


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ("", "Berufliche Jugendsozialberatung im Jugendhaus"),
        ('from_name = "Jugendhaus Rostock – Team JSB (Beratung)"\n',
         "Jugendhaus Rostock – Team JSB (Beratung)"),
    ],
)  # fmt: skip
def test_from_carries_the_teams_display_name(tmp_path: Path, extra: str, name: str) -> None:
    site = make_site(tmp_path / "site", extra)
    site.deliver(request_mail("Fallanfrage", "x", message_id="<a@x.de>"), utc(2026, 3, 9, 9), "a")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    [ack] = outgoing(site)
    [sender] = ack["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name, "FM-Jugendhaus@rostock.de")


def test_the_footer_keeps_the_phone_number_together(renderer: MailRenderer) -> None:
    rendered = renderer.render_mail(SAMPLES[0][0])
    assert "Telefon 0381\u00a0381\u20114711" in rendered.text
    assert '<span style="white-space:nowrap;">Telefon 0381\u00a0381\u20114711</span>' in (
        rendered.html
    )


def test_a_narrow_screen_shows_the_phone_number_on_one_line(
    renderer: MailRenderer, tmp_path: Path, chromium: str, pdftotext: str
) -> None:
    rendered = renderer.render_mail(SAMPLES[0][0])
    narrow = "<style>@page { size: 80mm 400mm; margin: 4mm; }</style>"
    page = tmp_path / "mail.html"
    page.write_text(rendered.html.replace("</head>", narrow + "</head>"), encoding="utf-8")
    pdf = tmp_path / "mail.pdf"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    found = words(pdftotext, pdf)
    [telefon] = [w for w in found if w.text == "Telefon"][-1:]
    number = [w for w in found if "4711" in w.text]
    assert number and abs(number[-1].top - telefon.top) < 1.0, (telefon, number)
    assert any(w.text.startswith("0381") and abs(w.top - telefon.top) < 1.0 for w in found)


def test_one_word_for_one_thing_and_whole_sentences(renderer: MailRenderer) -> None:
    for mail, _subject, _sentences in SAMPLES:
        rendered = renderer.render_mail(mail)
        for text in (rendered.subject, rendered.text, visible_text(rendered.html)):
            assert "Ansprechperson" not in text, mail.TEMPLATE
            assert "Zu finden in" not in text, mail.TEMPLATE


def test_people_outside_the_office_are_told_what_to_do_instead(renderer: MailRenderer) -> None:
    mail = reminder("reminder")
    inside = renderer.render_mail(for_recipients(mail, ["lena@rostock.de"], "rostock.de"))
    outside = renderer.render_mail(
        for_recipients(mail, ["lena@rostock.de", "anna.schulz@jobcenter-ge.de"], "rostock.de")
    )
    where = f"Sie finden die Anfrage in der Anfrageliste im Blatt Anfragen unter Nr. {mail.nr}."
    assert where in inside.text and where in visible_text(inside.html)
    instead = (
        "Fragen und Rückmeldungen schicken Sie bitte als Antwort auf diese Mail an das "
        f"Teampostfach FM-Jugendhaus@rostock.de; lassen Sie dabei [{mail.nr}] im Betreff stehen."
    )
    for text in (outside.text, visible_text(outside.html)):
        assert " ".join(instead.split()) in " ".join(text.split())
        assert "Blatt Anfragen" not in text and "eintragen" not in text


def test_absence_notices_use_the_art_staff_entered(renderer: MailRenderer) -> None:
    slot = OfficeHoursSlot(date(2026, 3, 12), *(datetime(2026, 3, 12, h).time() for h in (7, 12)))
    base = dict(person="Jana Krüger", start=date(2026, 3, 12), end=date(2026, 3, 12))
    planned_late = renderer.render_mail(
        AbsenceMail(**base, affected=[slot], short_notice=True, kind="Geplant")  # type: ignore[arg-type]
    )
    assert planned_late.subject.startswith("Geplante Abwesenheit")
    assert "Art:   Geplant" in planned_late.text and "ungeplant" not in planned_late.text
    assert "Kurzfristig" not in visible_text(planned_late.html)
    unplanned = renderer.render_mail(
        AbsenceMail(**base, affected=[slot], short_notice=True, kind="Kurzfristig")  # type: ignore[arg-type]
    )
    assert unplanned.subject.startswith("Kurzfristige Abwesenheit")
    assert "Art:   Kurzfristig" in unplanned.text


def test_an_external_requester_is_listed_in_the_digest(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 'admin_address = "it@rostock.de"\n')
    mail = request_mail(
        "Anfrage Jugendwerkstatt", "x", sender="Jugendwerkstatt <info@jugendwerkstatt.de>",
        message_id="<jw@jugendwerkstatt.de>",
    )  # fmt: skip
    site.deliver(mail, utc(2026, 3, 9, 9), "jw")
    assert site.run("poll", now="2026-03-10T08:00") == 0
    assert not [m for m in outgoing(site) if "jugendwerkstatt" in str(m["To"])]
    from tests.site import STAFF, set_staff

    set_staff(site, STAFF)
    assert site.run("digest", now="2026-03-11T07:00") == 0
    [digest] = [m for m in outgoing(site) if "Tagesüberblick" in str(m["Subject"])][:1]
    plain = digest.get_body(("plain",))
    assert plain is not None
    text = " ".join(plain.get_content().split())
    assert "nicht bestätigt (externe Adresse info@jugendwerkstatt.de)" in text
    assert "bitte von Hand antworten" in text
