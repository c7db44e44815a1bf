"""Notification stages day by day, across Easter 2026 (Good Friday 3.4., Easter Monday 6.4.).

Reminder 2 working days before the due date (the config default), the due-day notice on the due
date, the escalation from the first working day after it; nothing on weekends and holidays.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from jugendhaus_mail.config import DeadlineSettings
from jugendhaus_mail.rules import Duty, Notice, duties, notices
from jugendhaus_mail.workbook.model import Row
from jugendhaus_mail.workdays import WorkCalendar

MV = WorkCalendar("DE-MV")
SETTINGS = DeadlineSettings()


def contact_duty(received: datetime) -> Duty:
    row: Row = {"nr": "2026-0007", "received": received, "kind": "Fallanfrage", "status": "Neu"}
    found, problems = duties([row], [], MV, SETTINGS, received.date())
    assert problems == []
    [duty] = [d for d in found if d.nr]
    return duty


def stages_by_day(duty: Duty, first: date, last: date) -> dict[date, str | None]:
    out: dict[date, str | None] = {}
    day = first
    while day <= last:
        found = notices([duty], MV, day, SETTINGS)
        assert len(found) <= 1
        out[day] = found[0].stage if found else None
        day += timedelta(days=1)
    return out


def test_stages_across_easter() -> None:
    # Received Mon 30.3.2026: Tue 31.3. (1), Wed 1.4. (2), Thu 2.4. (3), Good Friday and Easter
    # Monday skipped, Tue 7.4. (4), Wed 8.4. (5): due Wed 8.4.2026.
    # Two working days before it: Tue 7.4. (-1), Thu 2.4. (-2), so reminders from Thu 2.4.
    duty = contact_duty(datetime(2026, 3, 30, 9, 15))
    assert duty.due == date(2026, 4, 8)
    assert stages_by_day(duty, date(2026, 3, 31), date(2026, 4, 10)) == {
        date(2026, 3, 31): None,
        date(2026, 4, 1): None,
        date(2026, 4, 2): "reminder",
        date(2026, 4, 3): None,  # Good Friday: waits for the next working day
        date(2026, 4, 4): None,  # Saturday
        date(2026, 4, 5): None,  # Sunday
        date(2026, 4, 6): None,  # Easter Monday
        date(2026, 4, 7): "reminder",  # still the reminder (same key, sent once by the caller)
        date(2026, 4, 8): "due",
        date(2026, 4, 9): "escalation",
        date(2026, 4, 10): "escalation",
    }


def test_escalation_waits_over_a_holiday_weekend() -> None:
    # Received Thu 26.3.2026: Fri 27. (1), Mon 30. (2), Tue 31. (3), Wed 1.4. (4), Thu 2.4. (5).
    # The first working day after Thu 2.4. is Tue 7.4.: the escalation comes then.
    duty = contact_duty(datetime(2026, 3, 26, 14, 0))
    assert duty.due == date(2026, 4, 2)
    days = stages_by_day(duty, date(2026, 4, 2), date(2026, 4, 7))
    assert days == {
        date(2026, 4, 2): "due",
        date(2026, 4, 3): None,
        date(2026, 4, 4): None,
        date(2026, 4, 5): None,
        date(2026, 4, 6): None,
        date(2026, 4, 7): "escalation",
    }


def test_keys_are_stable_and_a_changed_due_date_re_arms() -> None:
    duty = contact_duty(datetime(2026, 3, 30, 9, 15))
    [first] = notices([duty], MV, date(2026, 4, 2), SETTINGS)
    [again] = notices([duty], MV, date(2026, 4, 7), SETTINGS)
    assert first.key == again.key == "2026-0007|contact_person|reminder|2026-04-08"
    moved = replace(duty, due=date(2026, 4, 9))
    [rearmed] = notices([moved], MV, date(2026, 4, 7), SETTINGS)
    assert rearmed.key == "2026-0007|contact_person|reminder|2026-04-09"
    office = Notice(Duty("goals_review", None, date(2027, 1, 29), "x", "beide"), "due", date.min)
    assert office.key == "-|goals_review|due|2027-01-29"


def test_no_reminder_when_configured_to_zero_days() -> None:
    duty = contact_duty(datetime(2026, 3, 30, 9, 15))
    no_reminders = replace(SETTINGS, reminder_days_before=0)
    assert notices([duty], MV, date(2026, 4, 7), no_reminders) == []
    assert [n.stage for n in notices([duty], MV, date(2026, 4, 8), no_reminders)] == ["due"]


def test_qualitaetsdialog_reminder_opens_weeks_ahead() -> None:
    # Dialog due Tue 31.3.2026, notice 4 weeks ahead (config default): from Tue 3.3.2026.
    found, _ = duties([], [], MV, SETTINGS, date(2026, 3, 2))
    dialog = [d for d in found if d.rule == "qualitaetsdialog"]
    assert notices(dialog, MV, date(2026, 3, 2), SETTINGS) == []
    [notice] = notices(dialog, MV, date(2026, 3, 3), SETTINGS)
    assert (notice.stage, notice.send_on) == ("reminder", date(2026, 3, 3))
    assert notice.key == "-|qualitaetsdialog|reminder|2026-03-31"
    [due] = notices(dialog, MV, date(2026, 3, 31), SETTINGS)
    assert due.stage == "due"
