"""The next Sprechzeit an acknowledgement names is worked out once per cycle (issue 15): every
acknowledgement of a cycle names the one due at that cycle's moment, and a later cycle the one
due then."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jugendhaus_mail.rules import next_office_hour
from tests.site import STAFF, make_site, outgoing, request_mail, set_staff, utc

BODY = "Name: Person\nKundennummer: 123D456789\n"


def named_day(ack_text: str, slots: list[datetime]) -> list[str]:
    return [f"{slot:%d.%m.%Y}" for slot in slots if f"{slot:%d.%m.%Y}" in ack_text]


def test_each_cycle_names_the_sprechzeit_due_at_its_own_moment(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    set_staff(site, STAFF)
    for i in range(3):
        raw = request_mail(f"Fallanfrage {i}", BODY, message_id=f"<s{i}@jobcenter-ge.de>")
        site.deliver(raw, utc(2026, 3, 30, 7, 15 + i), f"s{i}")
    site.run("poll", now="2026-03-30T09:15")
    raw = request_mail("Fallanfrage später", BODY, message_id="<s9@jobcenter-ge.de>")
    site.deliver(raw, utc(2026, 3, 31, 16, 0), "s9")
    site.run("poll", now="2026-03-31T19:00")

    slots = []
    for now in ("2026-03-30T09:15", "2026-03-31T19:00"):
        app = site.app(datetime.fromisoformat(now).replace(tzinfo=ZoneInfo("Europe/Berlin")))
        slot = next_office_hour(app.now, app.calendar, app.settings.office.office_hours)
        assert slot is not None
        slots.append(slot[0].astimezone(app.calendar.tz))
    assert slots[0].date() != slots[1].date()
    acks = {str(m["Subject"]): m.get_body(("plain",)).get_content() for m in outgoing(site)}
    assert len(acks) == 4
    for subject, text in acks.items():
        expected = slots[1] if subject.startswith("[2026-0004]") else slots[0]
        assert named_day(text, slots) == [f"{expected:%d.%m.%Y}"], subject
