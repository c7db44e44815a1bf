"""The German mail templates as staff and requesters will read them."""

from __future__ import annotations

import html as htmllib
import re
import subprocess
import sys
from dataclasses import fields
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from jugendhaus_mail.notify.render import (
    STAGE_DUE,
    STAGE_ESCALATION,
    STAGE_REMINDER,
    VERBIS_END,
    VERBIS_START,
    AbsenceMail,
    AcknowledgementMail,
    AppointmentCareMail,
    AppointmentConflictMail,
    AppointmentSlot,
    ContactPersonMail,
    DialogInfo,
    DigestAbsence,
    DigestItem,
    DigestMail,
    GoalsReviewMail,
    KinderschutzMail,
    LateAcknowledgementMail,
    LetterCoverMail,
    MailData,
    MailRenderer,
    MailTemplateError,
    OfficeHoursSlot,
    Person,
    QualitaetsdialogMail,
    ReminderMail,
    RenumberedMail,
    RowsRestoredMail,
    VerbisMail,
    WatchdogClearMail,
    WatchdogMail,
)
from jugendhaus_mail.resources import resource_dir
from jugendhaus_mail.service.watchdog import WorkbookOpenMail

NR = "2026-0042"
THURSDAY = date(2026, 3, 12)
AFTERNOON = OfficeHoursSlot(THURSDAY, time(13, 30), time(18, 0))
MORNING = OfficeHoursSlot(THURSDAY, time(7, 30), time(12, 30))
XSS_NAME = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'


def office_renderer() -> MailRenderer:
    """The renderer with the bundled templates and a sample office (shared with other mail
    tests)."""
    return MailRenderer(
        None,
        office_name="Berufliche Jugendsozialberatung im Jugendhaus Rostock",
        office_phone="0381 381-4711",
        team_address="FM-Jugendhaus@rostock.de",
    )


@pytest.fixture(scope="module")
def renderer() -> MailRenderer:
    return office_renderer()


def reminder(stage: str, **changes: object) -> ReminderMail:
    values: dict[str, object] = {
        "nr": NR,
        "stage": stage,
        "rule_label": "Rückmeldung im gemeinsamen Fall",
        "kind": "Fallanfrage",
        "due": date(2026, 3, 17),
        "responsible": "Jana Krüger",
        "days_overdue": 3 if stage == STAGE_ESCALATION else 0,
        "done_hint": "Erledigt, sobald „Letzte Rückmeldung“ ein neues Datum hat.",
    }
    values.update(changes)
    return ReminderMail(**values)  # type: ignore[arg-type]


def item(nr: str, label: str, due: date, who: str = "", overdue: int = 0) -> DigestItem:
    return DigestItem(nr, "Hausbesuch", label, due, who, overdue)


def digest(**changes: object) -> DigestMail:
    values: dict[str, object] = {
        "today": THURSDAY,
        "overdue": [
            item("2026-0031", "Hausbesuch durchführen", date(2026, 3, 2), "Jörg Weiß", 8),
            item("2026-0035", "Ansprechpartner benennen", date(2026, 3, 9), "", 3),
            item("2026-0036", "Rückmeldung im gemeinsamen Fall", date(2026, 3, 10), "Jana", 2),
        ],
        "due_soon": [
            item("2026-0040", "Ansprechpartner benennen", THURSDAY, "Jana Krüger"),
            item("2026-0041", "Hausbesuch durchführen", date(2026, 3, 13), "Jörg Weiß"),
        ],
        "new": [item(f"2026-00{n}", "Ansprechpartner benennen", date(2026, 3, 19))
                for n in (43, 44, 45, 46)],
        "without_contact": [item("2026-0035", "Ansprechpartner benennen", date(2026, 3, 9))],
        "absences": [DigestAbsence("Jana Krüger", date(2026, 3, 11), THURSDAY,
                                   (MORNING, AFTERNOON))],
        "next_dialog": DialogInfo(date(2026, 3, 31), "SGB II"),
        "since": datetime(2026, 3, 11, 7, 0),
    }  # fmt: skip
    values.update(changes)
    return DigestMail(**values)  # type: ignore[arg-type]


WHERE = f"Sie finden die Anfrage in der Anfrageliste im Blatt Anfragen unter Nr. {NR}."
# (mail, expected subject, sentences in both parts)
SAMPLES: list[tuple[MailData, str, list[str]]] = [
    (
        AcknowledgementMail(NR, "Jürgen Müller", "Fallanfrage", datetime(2026, 3, 10, 9, 15),
                            date(2026, 3, 17), AFTERNOON),
        f"[{NR}] Eingangsbestätigung Ihrer Anfrage vom 10.03.2026",
        ["Guten Tag Jürgen Müller,", "bis spätestens 17.03.2026 teilen wir Ihnen einen "
         "Ansprechpartner mit", "Donnerstag, 12.03.2026, 13:30–18:00 Uhr", f"[{NR}]",
         "im Betreff stehen"],
    ),
    (
        LateAcknowledgementMail(NR, "Jürgen Müller", "Fallanfrage", datetime(2026, 1, 20, 9, 15),
                                date(2026, 3, 10)),
        f"[{NR}] Ihre Anfrage vom 20.01.2026 ist nachträglich erfasst",
        ["Guten Tag Jürgen Müller,", "am 10.03.2026 nachträglich in unsere Anfrageliste "
         "aufgenommen", "Bitte entschuldigen Sie die späte Rückmeldung.", f"[{NR}]"],
    ),
    (
        ContactPersonMail(NR, "Jürgen Müller", date(2026, 3, 10),
                          Person("Jana Krüger", "jana.krueger@rostock.de", "0381 381-4712")),
        f"[{NR}] Ihr Ansprechpartner in der Jugendsozialberatung: Jana Krüger",
        ["für Ihre Anfrage Nr. 2026-0042 vom 10.03.2026", "Jana Krüger",
         "jana.krueger@rostock.de", "0381 381\u20114712"],  # never wraps (spaces: see norm)
    ),
    (
        reminder(STAGE_REMINDER),
        f"[{NR}] Erinnerung: Rückmeldung im gemeinsamen Fall bis 17.03.2026",
        ["läuft am Dienstag, 17.03.2026 ab", "Jana Krüger",
         WHERE, "„Letzte Rückmeldung“"],
    ),
    (
        reminder(STAGE_DUE),
        f"[{NR}] Heute fällig: Rückmeldung im gemeinsamen Fall",
        ["läuft heute ab", "17.03.2026", WHERE],
    ),
    (
        reminder(STAGE_ESCALATION),
        f"[{NR}] Überfällig (3 Arbeitstage): Rückmeldung im gemeinsamen Fall",
        ["seit 3 Arbeitstagen überschritten", "als Leitung", "Jana Krüger", "17.03.2026",
         WHERE],
    ),
    (
        KinderschutzMail(NR, "Jürgen Müller", "j.mueller@jobcenter-ge.de",
                         datetime(2026, 3, 12, 10, 5)),
        f"[{NR}] Kinderschutz: neue Anfrage im Teampostfach – bitte sofort ansehen",
        ["Jürgen Müller", "j.mueller@jobcenter-ge.de", "12.03.2026 10:05 Uhr",
         "Teampostfach, Ordner Erfasst",
         "Den Inhalt der Mail enthält diese Nachricht absichtlich nicht"],
    ),
    (
        AbsenceMail("Jana Krüger", THURSDAY, date(2026, 3, 13), (MORNING, AFTERNOON), True),
        "Kurzfristige Abwesenheit in der Sprechzeit: Jana Krüger, 12.03.2026 bis 13.03.2026",
        ["Jana Krüger", "Kurzfristig", "Donnerstag, 12.03.2026, 07:30–12:30 Uhr",
         "Donnerstag, 12.03.2026, 13:30–18:00 Uhr", "keine warmen Übergaben"],
    ),
    (
        VerbisMail(NR, VERBIS_START, "Jürgen Müller", date(2026, 3, 10), date(2026, 4, 2)),
        f"[{NR}] VerBIS: gemeinsamer Fall beginnt – bitte Kennung HJC-VIII eintragen",
        ["HJC-VIII", "ab 02.04.2026",
         "Weiterbildung (Selbst- und Fremdförderung) unter 15 Stunden pro Woche",
         "keine Veröffentlichung", "vom 10.03.2026"],
    ),
    (
        VerbisMail(NR, VERBIS_END, "", date(2026, 3, 10), date(2026, 4, 2), date(2026, 9, 30),
                   "Ziele erreicht"),
        f"[{NR}] VerBIS: gemeinsamer Fall beendet – bitte Lebenslauf ergänzen",
        ["am 30.09.2026 beendet", "Grund: Ziele erreicht", "02.04.2026 bis 30.09.2026",
         "Weiterbildung (Selbst- und Fremdförderung) unter 15 Stunden pro Woche",
         "keine Veröffentlichung"],
    ),
    (
        QualitaetsdialogMail(date(2026, 3, 31), "SGB II", statistics_attached=True),
        "Qualitätsdialog SGB II/SGB VIII bis 31.03.2026 – Organisation: SGB II",
        ["Dienstag, 31.03.2026", "Reflexion vergangener Fälle", "Halbjahresstatistik"],
    ),
    (
        AppointmentConflictMail(NR, (AppointmentSlot("SGB II", datetime(2026, 11, 9, 9, 0)),
                                     AppointmentSlot("SGB VIII", datetime(2026, 11, 10),
                                                     all_day=True)), 5),
        f"[{NR}] Termine beider Seiten nah beieinander: SGB II 09.11.2026 und SGB VIII "
        "10.11.2026",
        ["höchstens 5 Arbeitstage auseinander", "Montag, 09.11.2026, 09:00 Uhr",
         "Dienstag, 10.11.2026", "Doppeleinladungen vermeiden"],
    ),
    (
        AppointmentCareMail(NR, AppointmentSlot("SGB III", datetime(2026, 11, 20, 9, 30)),
                            date(2026, 11, 30)),
        f"[{NR}] SGB III-Termin am 20.11.2026 in der Betreuungszeit SGB VIII (bis 30.11.2026)",
        ["Freitag, 20.11.2026, 09:30 Uhr", "Montag, 30.11.2026", "nicht neu ein"],
    ),
    (
        GoalsReviewMail(date(2026, 1, 30), 2026),
        "Jährliche Prüfung der gemeinsamen Ziele 2026 bis 30.01.2026",
        ["einmal im Jahr", "Freitag, 30.01.2026"],
    ),
    (
        digest(),
        "Tagesüberblick 12.03.2026: 3 überfällig · 2 bald fällig · 4 neu",
        ["Donnerstag, 12.03.2026", "2026-0031", "8 Arbeitstage überfällig", "Jörg Weiß",
         "fällig 02.03.2026", "betrifft heute die Sprechzeit 07:30–12:30 Uhr",
         "31.03.2026", "Organisation: SGB II"],
    ),
    (
        LetterCoverMail(NR, "Ankündigung Hausbesuch", "Ankündigung_Hausbesuch_2026-0042.docx",
                        "Jana Krüger"),
        f"[{NR}] Brief zum Ausdrucken: Ankündigung Hausbesuch",
        ["Bitte ausdrucken und per Post versenden", "Ankündigung_Hausbesuch_2026-0042.docx",
         "Guten Tag Jana Krüger,"],
    ),
    (
        WatchdogMail("Das Teampostfach ist seit 2 Stunden nicht erreichbar.",
                     "Bitte prüfen Sie das Passwort des Dienstkontos (JUGENDHAUS_MAIL_PASSWORD).",
                     datetime(2026, 3, 12, 6, 0, tzinfo=UTC)),
        "jugendhaus-mail: Störung – Das Teampostfach ist seit 2 Stunden nicht erreichbar.",
        ["Das Teampostfach ist seit 2 Stunden nicht erreichbar.",
         "Bitte prüfen Sie das Passwort", "12.03.2026 07:00 Uhr"],
    ),
    (
        WatchdogClearMail("Das Teampostfach ist seit 2 Stunden nicht erreichbar.",
                          datetime(2026, 3, 12, 7, 0), datetime(2026, 3, 12, 9, 30)),
        "jugendhaus-mail: wieder in Ordnung – Das Teampostfach ist seit 2 Stunden nicht "
        "erreichbar.",
        ["Entwarnung", "12.03.2026 07:00 Uhr", "12.03.2026 09:30 Uhr"],
    ),
    (
        WorkbookOpenMail(3, datetime(2026, 3, 12, 8, 5, tzinfo=UTC), "Maria Meier", "Excel",
                         datetime(2026, 3, 12, 7, 55), "Anfrageliste.xlsx", "~$Anfrageliste.xlsx"),
        "Bitte Anfrageliste schließen – 3 Anfragen warten",
        ["Maria Meier", "3 neue Anfragen", "Donnerstag, 12.03.2026 09:05 Uhr",
         "verloren geht nichts", "~$Anfrageliste.xlsx"],
    ),
    (
        RowsRestoredMail(("2026-0031", "2026-0032"), "Anfrageliste.xlsx",
                         datetime(2026, 3, 12, 9, 5)),
        "Anfrageliste: 2 fehlende Zeilen wieder eingetragen",
        ["2026-0031", "2026-0032", "wiederhergestellt am", "12.03.2026 09:05 Uhr",
         "im Blatt „Gelöscht“"],
    ),
    (
        RenumberedMail(NR, "2026-0041", "Anna Schulz", datetime(2026, 3, 12, 8, 40)),
        f"[{NR}] Neue Nummer Ihrer Anfrage (bisher 2026-0041)",
        ["Guten Tag Anna Schulz", "12.03.2026 08:40 Uhr", f"nur noch {NR}"],
    ),
]  # fmt: skip


SAMPLES_BY_NAME = {mail.TEMPLATE for mail, _, _ in SAMPLES}


def visible_text(html: str) -> str:
    """What a reader sees in the HTML part, roughly: tags dropped, entities decoded."""
    without_head = re.sub(r"<head>.*?</head>", " ", html, flags=re.S)
    without_tags = re.sub(r"<[^>]+>", " ", without_head)
    return " ".join(htmllib.unescape(without_tags).split())


@pytest.mark.parametrize(
    "mail, subject, sentences", SAMPLES, ids=lambda v: getattr(v, "TEMPLATE", "")
)
def test_every_template_renders_german_text_in_both_parts(
    renderer: MailRenderer, mail: MailData, subject: str, sentences: list[str]
) -> None:
    rendered = renderer.render_mail(mail)
    assert rendered.subject == subject
    text = " ".join(rendered.text.split())
    seen = visible_text(rendered.html)
    for sentence in sentences:
        assert sentence in text, f"{sentence!r} fehlt im Textteil"
        assert sentence in seen, f"{sentence!r} fehlt im HTML-Teil"
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert 'lang="de"' in rendered.html
    assert "Automatisch versandt über das Teampostfach FM-Jugendhaus@rostock.de" in text


def test_every_bundled_template_has_a_sample_and_three_parts(renderer: MailRenderer) -> None:
    sampled = {mail.TEMPLATE for mail, _, _ in SAMPLES}
    assert set(renderer.template_names()) == sampled
    folder = resource_dir("templates") / "mail"
    for name in sampled:
        for part in ("subject.txt", "txt", "html"):
            assert (folder / f"{name}.{part}").is_file()


@pytest.mark.parametrize("mail", [m for m, _, _ in SAMPLES], ids=lambda m: m.TEMPLATE)
def test_plain_text_is_tidy(renderer: MailRenderer, mail: MailData) -> None:
    text = renderer.render_mail(mail).text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\n\n\n" not in text
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "{{" not in text and "{%" not in text


def test_case_mails_carry_the_case_number_in_the_subject_office_mails_do_not(
    renderer: MailRenderer,
) -> None:
    for mail, _, _ in SAMPLES:
        subject = renderer.render_mail(mail).subject
        if "nr" in mail.context():
            assert subject.startswith(f"[{NR}] ")
            assert subject.count(f"[{NR}]") == 1
        else:
            assert not subject.startswith("[")


def test_requester_name_is_escaped_in_html_and_verbatim_in_text(renderer: MailRenderer) -> None:
    ack = AcknowledgementMail(NR, XSS_NAME, "Fallanfrage", datetime(2026, 3, 10, 9, 15),
                              date(2026, 3, 17), AFTERNOON)  # fmt: skip
    alert = KinderschutzMail(NR, XSS_ATTR, "x@jobcenter-ge.de", datetime(2026, 3, 12, 10, 5))
    contact = ContactPersonMail(NR, XSS_ATTR, date(2026, 3, 10), Person(XSS_NAME, XSS_ATTR))
    for mail, hostile in ((ack, XSS_NAME), (alert, XSS_ATTR), (contact, XSS_ATTR)):
        rendered = renderer.render_mail(mail)
        assert "<script" not in rendered.html
        assert "<img" not in rendered.html
        assert "onerror=alert(1)>" not in rendered.html
        assert hostile in visible_text(rendered.html)  # shown as text, not run as markup
        assert hostile in rendered.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in renderer.render_mail(contact).html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in renderer.render_mail(alert).html


def test_text_from_the_context_cannot_break_the_subject_line(renderer: MailRenderer) -> None:
    mail = reminder(STAGE_DUE, rule_label="Hausbesuch\r\nBcc: boss@evil.example\n")
    subject = renderer.render_mail(mail).subject
    assert subject == f"[{NR}] Heute fällig: Hausbesuch Bcc: boss@evil.example"
    assert "\n" not in subject and "\r" not in subject


def test_missing_variable_fails_loudly(renderer: MailRenderer) -> None:
    context = reminder(STAGE_REMINDER).context()
    del context["due"]
    with pytest.raises(MailTemplateError, match="due"):
        renderer.render("reminder", context)


def test_missing_nested_attribute_fails_loudly(renderer: MailRenderer) -> None:
    context = digest().context()
    context["next_dialog"] = {"due": date(2026, 3, 31)}  # organiser missing
    with pytest.raises(MailTemplateError, match="organiser"):
        renderer.render("digest", context)


def test_unknown_stage_fails_instead_of_sending_an_odd_mail(renderer: MailRenderer) -> None:
    with pytest.raises(MailTemplateError, match="stage"):
        renderer.render_mail(reminder("sometime"))


def test_missing_template_names_the_folders(renderer: MailRenderer) -> None:
    with pytest.raises(MailTemplateError, match=r"„nope\.subject\.txt“ fehlt"):
        renderer.render("nope", {})


def test_office_override_replaces_one_template_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "reminder.subject.txt").write_text(
        "Bitte denken Sie an: {{ rule_label }} ({{ due|datum }})", encoding="utf-8"
    )
    (tmp_path / "reminder.txt").write_text(
        "Moin,\n\nNr. {{ nr }} ist am {{ due|datum }} dran.\n", encoding="utf-8"
    )
    office = MailRenderer(tmp_path, office_name="JSB Rostock")
    bundled = MailRenderer(None, office_name="JSB Rostock")
    mail = reminder(STAGE_REMINDER)
    rendered = office.render_mail(mail)
    assert (
        rendered.subject
        == f"[{NR}] Bitte denken Sie an: Rückmeldung im gemeinsamen Fall (17.03.2026)"
    )
    assert rendered.text == "Moin,\n\nNr. 2026-0042 ist am 17.03.2026 dran.\n"
    assert rendered.html == bundled.render_mail(mail).html
    assert office.render_mail(digest()) == bundled.render_mail(digest())


def test_office_override_of_the_layout_applies_to_every_html_mail(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text(
        "<html><body><p>Jugendhaus Rostock</p>{% block content %}{% endblock %}"
        "<!-- {% block title %}{% endblock %}{% block preheader %}{% endblock %} --></body></html>",
        encoding="utf-8",
    )
    office = MailRenderer(tmp_path)
    for mail in (reminder(STAGE_DUE), digest()):
        html = office.render_mail(mail).html
        assert html.startswith("<html><body><p>Jugendhaus Rostock</p>")


def test_override_folder_that_does_not_exist_is_a_config_problem(tmp_path: Path) -> None:
    with pytest.raises(MailTemplateError, match="override_dir"):
        MailRenderer(tmp_path / "vorlagen")


def test_broken_override_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "reminder.txt").write_text("Hallo\n{% if nr %}\n", encoding="utf-8")
    with pytest.raises(MailTemplateError, match=r"reminder\.txt“, Zeile"):
        MailRenderer(tmp_path).render_mail(reminder(STAGE_DUE))


def test_templates_load_nothing_from_outside() -> None:
    folder = resource_dir("templates") / "mail"
    files = sorted(folder.iterdir())
    assert len(files) == 3 * len(SAMPLES_BY_NAME) + 3  # plus base.html, base.txt, macros.html
    for path in files:
        source = path.read_text(encoding="utf-8").lower()
        for needle in ("http://", "https://", "src=", "@import", "url(", "<style", "<link",
                       "<script", "background="):  # fmt: skip
            assert needle not in source, f"{path.name} enthält {needle!r}"


def test_rendered_html_has_no_remote_resources(renderer: MailRenderer) -> None:
    for mail, _, _ in SAMPLES:
        html = renderer.render_mail(mail).html.lower()
        assert "http" not in html
        assert "src=" not in html and "url(" not in html


PRIVATE = {
    "client_name": "Kevin Schulze",
    "name": "Kevin Schulze",
    "young_person": "Kevin Schulze",
    "address": "Lange Straße 7, 18055 Rostock",
    "kundennummer": "123D456789",
    "body": "Die Mutter berichtet von Gewalt in der Familie.",
    "mail_subject": "Kevin S., geb. 04.05.2008",
}


@pytest.mark.parametrize(
    "mail",
    [reminder(STAGE_REMINDER), reminder(STAGE_ESCALATION), digest(),
     KinderschutzMail(NR, "Jürgen Müller", "j.mueller@jobcenter-ge.de", datetime(2026, 3, 12, 10))],
    ids=lambda m: m.TEMPLATE,
)  # fmt: skip
def test_social_data_passed_by_mistake_never_reaches_the_mail(
    renderer: MailRenderer, mail: MailData
) -> None:
    rendered = renderer.render(mail.TEMPLATE, {**mail.context(), **PRIVATE})
    everything = rendered.subject + rendered.text + rendered.html
    for value in PRIVATE.values():
        assert value not in everything
    assert "Kevin" not in everything and "123D456789" not in everything


def test_contexts_have_no_field_for_social_data() -> None:
    suspicious = ("client", "customer", "kunde", "young", "address", "body", "subject", "betreff",
                  "content", "birth", "geburt")  # fmt: skip
    for context in (ReminderMail, DigestItem, DigestMail, DigestAbsence, KinderschutzMail,
                    AbsenceMail, LetterCoverMail):  # fmt: skip
        for f in fields(context):
            assert not any(word in f.name.lower() for word in suspicious), (context, f.name)


def test_absence_notice_says_planned_and_has_no_reason_field(renderer: MailRenderer) -> None:
    planned = AbsenceMail("Jana Krüger", date(2026, 4, 7), date(2026, 4, 7), (), False)
    rendered = renderer.render_mail(planned)
    assert rendered.subject == "Geplante Abwesenheit in der Sprechzeit: Jana Krüger, 07.04.2026"
    assert "zur Planung" in rendered.text and "Art:   Geplant" in rendered.text
    assert "Betroffene Sprechzeiten:\n  keine" in rendered.text
    assert "reason" not in {f.name for f in fields(AbsenceMail)}


def test_digest_summary_and_empty_sections(renderer: MailRenderer) -> None:
    empty = digest(overdue=[], due_soon=[], new=[], without_contact=[], absences=[],
                   next_dialog=None, since=None)  # fmt: skip
    rendered = renderer.render_mail(empty)
    assert rendered.subject == "Tagesüberblick 12.03.2026: 0 überfällig · 0 bald fällig · 0 neu"
    assert rendered.text.count("  keine\n") == 6
    assert visible_text(rendered.html).count("keine") == 6
    full = renderer.render_mail(digest())
    counts = "3 überfällig · 2 bald fällig · 4 neu · 1 ohne Ansprechpartner"
    assert counts in full.text and counts in visible_text(full.html)


def test_digest_lists_items_in_the_given_order_with_words_for_urgency(
    renderer: MailRenderer,
) -> None:
    text = renderer.render_mail(digest()).text
    overdue = text.index("[!!] ÜBERFÄLLIG (3)")
    soon = text.index("[!] BALD FÄLLIG")
    assert overdue < text.index("2026-0031") < text.index("2026-0035") < text.index("2026-0036")
    assert text.index("2026-0036") < soon < text.index("2026-0040") < text.index("2026-0041")
    assert "fällig 12.03.2026 (heute)" in text
    assert "zuständig: noch offen" in text
    assert "NEU seit dem letzten Überblick vom 11.03.2026 07:00 Uhr (4)" in text


def test_aware_times_are_shown_in_office_time(renderer: MailRenderer) -> None:
    late = KinderschutzMail(NR, "Jürgen Müller", "j@jobcenter-ge.de",
                            datetime(2026, 3, 10, 23, 30, tzinfo=UTC))  # fmt: skip
    rendered = renderer.render_mail(late)
    assert "Mittwoch, 11.03.2026 00:30 Uhr" in rendered.text


def test_importing_the_notify_modules_does_not_load_jinja2() -> None:
    code = (
        "import sys, jugendhaus_mail.notify.render, jugendhaus_mail.notify.outgoing;"
        "sys.exit('jinja2' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_renderer_from_settings_uses_office_data_and_override_folder(tmp_path: Path) -> None:
    from jugendhaus_mail.config import parse_settings

    (tmp_path / "vorlagen").mkdir()
    (tmp_path / "vorlagen" / "goals_review.subject.txt").write_text(
        "Ziele {{ year }} prüfen", encoding="utf-8"
    )
    settings = parse_settings(
        {
            "office": {"holiday_region": "DE-MV", "name": "JSB Rostock", "phone": "0381 381-0"},
            "mailbox": {"backend": "maildir", "path": "postfach"},
            "workbook": {"path": "Anfrageliste.xlsx"},
            "mail": {"team_address": "FM-Jugendhaus@rostock.de"},
            "templates": {"override_dir": "vorlagen"},
        },
        tmp_path / "jugendhaus-mail.toml",
    )
    rendered = MailRenderer.from_settings(settings).render_mail(
        GoalsReviewMail(date(2026, 1, 30), 2026)
    )
    assert rendered.subject == "Ziele 2026 prüfen"
    assert ">JSB Rostock</td>" in rendered.html
    assert (
        "über das Teampostfach FM-Jugendhaus@rostock.de · Telefon 0381\u00a0381\u20110"
        in rendered.text
    )


def test_kinderschutz_acknowledgement_makes_no_routine_promise(renderer: MailRenderer) -> None:
    # even when the caller hands in the next Sprechzeit, the template offers no warm handover
    slot = OfficeHoursSlot(date(2026, 12, 7), time(7, 30), time(12, 30))
    received = datetime(2026, 12, 4, 18, 40, tzinfo=UTC)  # Friday 19:40 in Rostock
    monday = AcknowledgementMail("2026-0007", "Anna Schulz", "Kinderschutz", received,
                                 date(2026, 12, 7), slot)  # fmt: skip
    rendered = renderer.render_mail(monday)
    for part in (rendered.subject, rendered.text, rendered.html):
        for routine in ("bis spätestens", "warme Übergabe", "Sprechzeit", "Ansprechpartner bis"):
            assert routine not in part, routine
    assert "Meldung (Kinderschutz)" in rendered.subject
    assert "am nächsten Arbeitstag auf, am Montag, 07.12.2026" in rendered.text
    assert "Montag, 07.12.2026" in htmllib.unescape(re.sub(r"<[^>]+>", "", rendered.html))
    wednesday = datetime(2026, 12, 9, 7, 15, tzinfo=UTC)
    same_day = renderer.render_mail(
        AcknowledgementMail("2026-0008", "", "Kinderschutz", wednesday, date(2026, 12, 9), slot)
    )
    assert "heute auf" in same_day.text and "nächsten Arbeitstag" not in same_day.text
    assert "<strong>heute</strong>" in same_day.html
