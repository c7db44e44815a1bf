"""Calendar files (.ics) for dates staff must keep, so Outlook takes them with one click.

- The office's time zone with its VTIMEZONE (Outlook needs the component, not just a TZID).
- A duty with a date but no time (a due date) becomes a 30-minute entry at 08:00 office time:
  a reminder at the start of the office day, not an all-day block in the calendar.
- The UID is stable per case and duty (`<Nr>-<duty>@jugendhaus-mail`), so a changed date
  updates the same calendar entry; SEQUENCE is the minute the file was made (it grows with
  every change without the service counting anything).
- Only the case number and what is due: never the young person's name or mail content.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEADLINE_TIME = time(8, 0)
DURATION = timedelta(minutes=30)
ICS_MIME = "text/calendar"
_EPOCH = datetime(2020, 1, 1, tzinfo=ZoneInfo("UTC"))


def ics_attachment(
    uid_key: str, summary: str, when: date | datetime, now: datetime, zone: ZoneInfo
) -> tuple[str, bytes, str]:
    """(file name, bytes, MIME type) for the outbox; `when` naive = office time in `zone`."""
    import icalendar  # only mail that carries a date pays for the import

    if isinstance(when, datetime):
        start = when.astimezone(zone) if when.tzinfo else when.replace(tzinfo=zone)
    else:
        start = datetime.combine(when, DEADLINE_TIME, tzinfo=zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//jugendhaus-mail//Jugendhaus//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{_safe(uid_key)}@jugendhaus-mail")
    event.add("sequence", max(0, int((now - _EPOCH).total_seconds() // 60)))
    event.add("dtstamp", now.astimezone(ZoneInfo("UTC")))
    event.add("dtstart", start)
    event.add("dtend", start + DURATION)
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    name = f"{_safe(uid_key)}.ics"
    return name, calendar.to_ical(), ICS_MIME


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)
