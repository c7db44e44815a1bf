"""The intake end to end on every mail backend: Maildir, Exchange (EWS), Microsoft Graph, IMAP.

Each test runs the real CLI against a site whose `[mailbox]` points at the backend's test server
on 127.0.0.1 (see backend_sites.py) and then looks at what the server holds: the inbox,
`Erfasst`, `Nicht erfasst`, and the mail that went out. Faults are injected by the servers
(busy, 503/429 with wait hints, dropped connections, lost answers); the backends' waits are
recorded instead of slept.

Bugs found here are strict xfail tests, each with the file to fix in its reason: a lost send
answer repeated by the next cycle (EWS, Graph), the second copy of an interrupted mail filed as
a request and a reply's feedback date lost in a cut cycle (intake), a connection lost during
IMAP LOGIN taken for a wrong password, and the refusal shown twice on stderr.
"""

from __future__ import annotations

import email.policy
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from jugendhaus_mail.failpoints import ENV as FAILPOINT_ENV
from tests.backend_sites import (  # noqa: F401  (fixtures)
    ALL_BACKENDS,
    INTERNAL_DOMAINS,
    NETWORK_BACKENDS,
    TEAM,
    BackendSite,
    backend_site_fixture,
    imap_server_for_sites_fixture,
)
from tests.fake_ews import BACKOFF_MILLISECONDS
from tests.fake_graph import RETRY_AFTER_SECONDS
from tests.site import utc

NOW = "2026-03-10T08:00"  # Tuesday; every mail below came in on Monday 9 March 2026
ANNA = "Anna Schulz <anna.schulz@jobcenter-ge.de>"
CONTACT_DUE = date(2026, 3, 16)  # 5 working days after Monday 9.3.
HOME_VISIT_DUE = date(2026, 3, 23)  # 10 working days after Monday 9.3.


# --- a realistic day in the team mailbox ---------------------------------------------------------


def compose(
    subject: str,
    sender: str,
    *,
    message_id: str | None,
    text: str | None = None,
    html: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = TEAM
    message["Subject"] = subject
    message["Date"] = "Mon, 09 Mar 2026 08:00:00 +0100"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers:
        message[name] = value
    if html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text or "")
    if attachment is not None:
        message.add_attachment(
            attachment[1], maintype="application", subtype="pdf", filename=attachment[0]
        )
    return message.as_bytes(policy=email.policy.SMTP)


BOUNCE = (
    "From: Mail Delivery System <MAILER-DAEMON@mx.rostock.de>\r\n"
    f"To: {TEAM}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    "Message-ID: <20260309083000.4F1C2@mx.rostock.de>\r\nDate: Mon, 09 Mar 2026 09:30:00 +0100\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b-4F1C2"\r\n\r\n'
    "--b-4F1C2\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
    "Die Nachricht an ifk.alt@jobcenter-ge.de konnte nicht zugestellt werden.\r\n"
    "--b-4F1C2\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.rostock.de\r\n\r\n"
    "Final-Recipient: rfc822; ifk.alt@jobcenter-ge.de\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    "--b-4F1C2--\r\n"
).encode()

HAUSBESUCH = compose(
    "Anfrage Hausbesuch",
    ANNA,
    message_id="<hb-0903@jobcenter-ge.de>",
    text="Hallo liebes JSB-Team,\n\nbitte um einen gemeinsamen Hausbesuch.\n\n"
    "Name: Jonas Müller\nKundennummer: 123D456789\nAnschrift: Lange Straße 3, 18055 Rostock\n\n"
    "Viele Grüße\nAnna Schulz",
)


@dataclass(frozen=True)
class Delivery:
    label: str
    raw: bytes
    received: datetime


def monday(hour: int, minute: int) -> datetime:
    return utc(2026, 3, 9, hour, minute)


STELLUNGNAHME_HTML = (
    "<html><body><p>Guten Tag,</p><p>wir bitten um eine fachpädagogische Stellungnahme.</p>"
    "<p>Name: Jürgen Weiß<br>Kundennummer: 987D654321</p>"
    "<p>Mit freundlichen Grüßen<br>Björn Köhler</p></body></html>"
)
DAY = [
    Delivery("hausbesuch", HAUSBESUCH, monday(7, 15)),
    Delivery("stellungnahme_html", compose(
        "Bitte um Stellungnahme – Übergang Schule/Beruf",
        "Björn Köhler <bjoern.koehler@arbeitsagentur.de>",
        message_id="<SN-77@arbeitsagentur.de>", html=STELLUNGNAHME_HTML), monday(7, 40)),
    Delivery("anhang", compose(
        "Fallanfrage Ausbildung", ANNA, message_id="<fa-0903@jobcenter-ge.de>",
        text="Anbei die Einverständniserklärung.\n\nName: Lea Bäcker\n",
        attachment=("Einverständniserklärung.pdf", b"%PDF-1.4\n% Einverstaendnis\n")),
        monday(8, 5)),
    Delivery("abwesenheit", compose(
        "Automatische Antwort: Fallanfrage Ausbildung",
        "Ralf Timmermann <ralf.timmermann@jobcenter-ge.de>", message_id="<oof-1@jobcenter-ge.de>",
        text="Ich bin bis zum 13.03. nicht im Büro.",
        headers=(("Auto-Submitted", "auto-replied"),)), monday(8, 20)),
    Delivery("bounce", BOUNCE, monday(8, 30)),
    Delivery("extern", compose(
        "Fallanfrage", "Jugendwerkstatt Rostock <info@jugendwerkstatt-rostock.org>",
        message_id="<jw-12@jugendwerkstatt-rostock.org>",
        text="Wir möchten einen Jugendlichen an Sie vermitteln."), monday(8, 45)),
    Delivery("ohne_message_id", compose(
        "Mini-Fallkonferenz gewünscht", "Kerstin Meyer <kerstin.meyer@rostock.de>",
        message_id=None,
        text="Wir sind uns im Fall Schröder uneins und bitten um eine Mini-Fallkonferenz."),
        monday(9, 0)),
    Delivery("doppelt", HAUSBESUCH, monday(9, 10)),
    Delivery("antwort", compose(
        "AW: [2026-0001] Eingangsbestätigung Ihrer Anfrage", ANNA,
        message_id="<aw-0903@jobcenter-ge.de>",
        text="Danke! Der junge Mensch ist ab Donnerstag erreichbar."), monday(9, 30)),
]  # fmt: skip
FILED = {"hausbesuch", "stellungnahme_html", "anhang", "extern", "ohne_message_id", "antwort"}
SET_ASIDE = {"abwesenheit", "bounce", "doppelt"}


@dataclass(frozen=True)
class Expected:
    nr: str
    kind: str
    rechtskreis: str
    requester: str
    received: datetime  # local office time, as in the workbook


EXPECTED = [
    Expected("2026-0001", "Hausbesuch", "SGB II", "anna.schulz@jobcenter-ge.de",
             datetime(2026, 3, 9, 8, 15)),
    Expected("2026-0002", "Stellungnahme", "SGB III", "bjoern.koehler@arbeitsagentur.de",
             datetime(2026, 3, 9, 8, 40)),
    Expected("2026-0003", "Fallanfrage", "SGB II", "anna.schulz@jobcenter-ge.de",
             datetime(2026, 3, 9, 9, 5)),
    Expected("2026-0004", "Fallanfrage", "extern", "info@jugendwerkstatt-rostock.org",
             datetime(2026, 3, 9, 9, 45)),
    Expected("2026-0005", "Mini-Fallkonferenz", "SGB VIII", "kerstin.meyer@rostock.de",
             datetime(2026, 3, 9, 10, 0)),
]  # fmt: skip
ACKNOWLEDGED = {e.nr: e.requester for e in EXPECTED if e.rechtskreis != "extern"}
ONCE_EACH = Counter(set(ACKNOWLEDGED))


def deliver_day(site: BackendSite) -> None:
    for delivery in DAY:
        site.mailbox.deliver(delivery.raw, delivery.received, delivery.label)


def raws(labels: set[str]) -> list[bytes]:
    return sorted(d.raw for d in DAY if d.label in labels)


# --- what every test checks ----------------------------------------------------------------------


def assert_rows_exactly_once(site: BackendSite) -> None:
    rows = site.site.requests()
    assert [r["Nr."].value for r in rows] == [e.nr for e in EXPECTED]
    keys = [r["Dienst-Schlüssel"].value for r in rows]
    assert len(set(keys)) == len(keys) and all(keys)
    for row, expected in zip(rows, EXPECTED, strict=True):
        assert row["Anfrageart"].value == expected.kind, expected.nr
        assert row["Rechtskreis"].value == expected.rechtskreis, expected.nr
        assert row["E-Mail Anfragende"].value == expected.requester, expected.nr
        assert row["Eingang"].value == expected.received, expected.nr
        assert row["Frist Ansprechpartner"].value.date() == CONTACT_DUE, expected.nr
        assert row["Status"].value == "Neu"
    first, html, attached = rows[0], rows[1], rows[2]
    assert first["Hausbesuch fällig bis"].value.date() == HOME_VISIT_DUE
    assert [r["Hausbesuch fällig bis"].value for r in rows[1:]] == [None] * 4
    assert first["Name junger Mensch"].value == "Jonas Müller"
    assert first["Anschrift"].value == "Lange Straße 3, 18055 Rostock"
    assert html["Betreff"].value == "Bitte um Stellungnahme – Übergang Schule/Beruf"
    assert html["Name junger Mensch"].value == "Jürgen Weiß"
    assert attached["Anhänge"].value == 1


def last_feedback(site: BackendSite, nr: str = "2026-0001") -> date | None:
    value = next(
        r["Letzte Rückmeldung"].value for r in site.site.requests() if r["Nr."].value == nr
    )
    return value.date() if isinstance(value, datetime) else value


def assert_every_mail_in_exactly_one_folder(site: BackendSite, *, duplicate_filed: bool) -> None:
    """Requests and the reply in `Erfasst`, automated mail in `Nicht erfasst`, inbox empty.

    `duplicate_filed`: the second copy of the Hausbesuch mail must be in `Nicht erfasst`;
    otherwise it may be in either (see test_second_copy_after_an_interrupted_cycle_…)."""
    filed, aside = site.mailbox.folder("Erfasst"), site.mailbox.folder("Nicht erfasst")
    assert site.mailbox.folder("inbox") == []
    assert Counter(filed) + Counter(aside) == Counter(d.raw for d in DAY)
    if duplicate_filed:
        assert sorted(filed) == raws(FILED)
        assert sorted(aside) == raws(SET_ASIDE)
    else:
        assert Counter(raws(FILED)) <= Counter(filed)
        assert Counter(raws(SET_ASIDE - {"doppelt"})) <= Counter(aside)


def acknowledgements(site: BackendSite) -> Counter[str]:
    """Case number -> how many acknowledgements left through the backend."""
    return Counter(
        str(sent.message["Subject"])[1:10]
        for sent in site.mailbox.transmitted()
        if "Eingangsbestätigung" in str(sent.message["Subject"])
    )


def snapshot(site: BackendSite) -> tuple[bytes, list[bytes], list[bytes], int, int]:
    """Workbook bytes, both folders, mail sent, copies kept: what a second cycle must not touch."""
    folders = site.mailbox.folder("Erfasst"), site.mailbox.folder("Nicht erfasst")
    sent = len(site.mailbox.transmitted()), len(site.mailbox.kept_copies())
    return site.site.workbook.read_bytes(), *folders, *sent


def assert_second_cycle_changes_nothing(site: BackendSite) -> None:
    before = snapshot(site)
    assert site.run("poll", now=NOW) == 0
    assert snapshot(site) == before


# --- 1. and 2.: a day of mail, on every backend ---------------------------------------------------


@pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
def test_a_day_of_mail_is_taken_in_exactly_once(backend_site: BackendSite) -> None:
    site = backend_site
    deliver_day(site)
    assert site.run("poll", now=NOW) == 0
    assert_rows_exactly_once(site)
    assert last_feedback(site) == date(2026, 3, 9)  # the reply with [2026-0001] in its subject
    assert_every_mail_in_exactly_one_folder(site, duplicate_filed=True)
    assert_second_cycle_changes_nothing(site)


@pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
def test_acknowledgements_leave_through_the_backend_as_the_team_mailbox(
    backend_site: BackendSite,
) -> None:
    site = backend_site
    deliver_day(site)
    assert site.run("poll", now=NOW) == 0
    sent = site.mailbox.transmitted()
    assert acknowledgements(site) == ONCE_EACH  # and none to the Jugendwerkstatt (.org)
    for mail in sent:
        nr = str(mail.message["Subject"])[1:10]
        assert mail.recipients == (ACKNOWLEDGED[nr],)
        assert {r.rpartition("@")[2] for r in mail.recipients} <= INTERNAL_DOMAINS
        assert mail.message["Auto-Submitted"] == "auto-generated"
        assert mail.message["From"].addresses[0].addr_spec.lower() == TEAM.lower()
        assert mail.author.lower() == TEAM.lower()
        body = mail.message.get_body(("plain",))
        assert body is not None and "16.03.2026" in body.get_content()
    kept = sorted(
        str(email.message_from_bytes(c)["Message-ID"]) for c in site.mailbox.kept_copies()
    )
    assert kept == sorted(str(m.message["Message-ID"]) for m in sent)


# --- 3.: faults ----------------------------------------------------------------------------------

EWS_BUSY_SECONDS = BACKOFF_MILLISECONDS / 1000
THROTTLING = [
    ("ews", "busy", EWS_BUSY_SECONDS),
    ("ews", "http503", RETRY_AFTER_SECONDS),
    ("ews", "http429", RETRY_AFTER_SECONDS),
    ("graph", "http503", RETRY_AFTER_SECONDS),
    ("graph", "http429", RETRY_AFTER_SECONDS),
    ("imap", "busy", 0.5),  # NO [UNAVAILABLE] / SMTP 451 carry no hint: the configured backoff
]


@pytest.mark.parametrize(
    ("backend_site", "kind", "wait"),
    THROTTLING,
    indirect=["backend_site"],
    ids=[f"{b}-{k}" for b, k, _ in THROTTLING],
)
def test_busy_and_throttled_servers_are_waited_out_as_they_ask(
    backend_site: BackendSite, kind: str, wait: float
) -> None:
    site = backend_site
    site.expose_to_faults(retries=1)
    deliver_day(site)
    for place in ("list", "move", "send"):
        site.mailbox.inject(kind, at=place)
    assert site.run("poll", now=NOW) == 0
    assert site.sleeps == [wait] * 3
    assert_rows_exactly_once(site)
    assert_every_mail_in_exactly_one_folder(site, duplicate_filed=True)
    assert acknowledgements(site) == ONCE_EACH


CUTS = [(b, k) for b in NETWORK_BACKENDS for k in ("drop", "drop_after")] + [("ews", "busy")]


@pytest.mark.parametrize(
    ("backend_site", "kind"), CUTS, indirect=["backend_site"], ids=[f"{b}-{k}" for b, k in CUTS]
)
def test_cycles_cut_off_at_every_point_are_completed_by_the_next_clean_one(
    backend_site: BackendSite, kind: str
) -> None:
    """Without retries, poll k fails at its k-th request (k = 0, 1, 2, …) until one gets through.

    Each cut cycle gets one request further than the one before, so the cuts walk through the
    whole intake: listing, fetching, creating folders, filing each mail, sending. A clean cycle
    then completes the half-done work. (The feedback date of a reply and the folder of the
    second copy are the two things that do not survive; see the xfail tests below.)"""
    site = backend_site
    site.expose_to_faults(retries=0)
    deliver_day(site)
    hit: list[str] = []
    for skip in range(200):
        seen = len(site.mailbox.request_log())
        site.mailbox.inject(kind, skip=skip)
        code = site.run("poll", now=NOW)
        requests = site.mailbox.request_log()[seen:]
        if len(requests) <= skip:
            break  # this cycle needed fewer requests than the fault waited for: it ran clean
        assert code in (0, 2), code  # 2: one "Fehler: …" line after a mailbox error
        hit.append(requests[skip])
    site.mailbox.clear_faults()
    assert len(hit) >= 8
    assert site.run("poll", now=NOW) == 0
    assert_rows_exactly_once(site)
    assert_every_mail_in_exactly_one_folder(site, duplicate_filed=False)
    acks = acknowledgements(site)
    assert set(acks) == set(ACKNOWLEDGED)
    # The one known duplicate window: a send whose answer was lost is sent again by the next
    # cycle (EWS and Graph look in Sent Items only when retrying within one cycle).
    lost_send_answers = sum(kind == "drop_after" and site.mailbox.is_send(r) for r in hit)
    assert sum(acks.values()) <= len(ACKNOWLEDGED) + lost_send_answers
    assert_second_cycle_changes_nothing(site)


LOST_ANSWER = {"ews": "send", "graph": "send", "imap": "copy"}  # SMTP itself cannot be cut so
LOST_SENDS = [
    pytest.param("ews", 1, id="ews-retried"),
    pytest.param("graph", 1, id="graph-retried"),
    pytest.param("imap", 1, id="imap-retried"),
    pytest.param("ews", 0, id="ews-next-cycle"),
    pytest.param("graph", 0, id="graph-next-cycle"),
    pytest.param("imap", 0, id="imap-next-cycle"),
]


@pytest.mark.parametrize(("backend_site", "retries"), LOST_SENDS, indirect=["backend_site"])
def test_a_send_whose_answer_was_lost_is_not_sent_twice(
    backend_site: BackendSite, retries: int
) -> None:
    """The mail went out but the answer was lost. EWS and Graph look into Sent Items before they
    send again; IMAP's SMTP answer cannot be lost by the test server, so there the copy for the
    Sent folder (APPEND) loses its answer instead."""
    site = backend_site
    site.expose_to_faults(retries=retries)
    deliver_day(site)
    site.mailbox.inject("drop_after", at=LOST_ANSWER[site.backend], skip=1)
    assert site.run("poll", now=NOW) == 0  # without retries the rest stays queued
    assert site.run("poll", now=NOW) == 0
    assert len(site.sleeps) == retries
    assert acknowledgements(site) == ONCE_EACH
    kept = [str(email.message_from_bytes(c)["Message-ID"]) for c in site.mailbox.kept_copies()]
    assert len(kept) == len(set(kept)) == len(ACKNOWLEDGED)


# Maildir can only be interrupted by killing the process; the servers cut the connection.
INTERRUPTIONS = [("maildir", "killed after record")] + [
    (b, cut) for b in NETWORK_BACKENDS for cut in ("cut before move", "move answer lost")
]


@pytest.mark.parametrize(
    ("backend_site", "interruption"),
    INTERRUPTIONS,
    indirect=["backend_site"],
    ids=[f"{b}-{i.replace(' ', '-')}" for b, i in INTERRUPTIONS],
)
def test_second_copy_after_an_interrupted_cycle_is_set_aside_as_duplicate(
    backend_site: BackendSite, interruption: str
) -> None:
    site = backend_site
    first, copy = DAY[0], DAY[-2]
    assert first.raw == copy.raw
    site.mailbox.deliver(first.raw, first.received, "first")
    site.mailbox.deliver(copy.raw, copy.received, "copy")
    if interruption == "killed after record":
        killed = site.process("poll", now=NOW, env={FAILPOINT_ENV: "after_record"})
        assert killed.returncode == 137, killed.stderr
    else:
        site.expose_to_faults(retries=0)
        site.mailbox.inject(
            "drop" if interruption == "cut before move" else "drop_after", at="move"
        )
        assert site.run("poll", now=NOW) == 2
    assert site.run("poll", now=NOW) == 0
    assert len(site.site.requests()) == 1
    assert site.mailbox.folder("Erfasst") == [first.raw]
    assert site.mailbox.folder("Nicht erfasst") == [copy.raw]


REPLY_CUTS = [(b, k) for b in NETWORK_BACKENDS for k in ("drop", "drop_after")]


@pytest.mark.parametrize(
    ("backend_site", "kind"),
    REPLY_CUTS,
    indirect=["backend_site"],
    ids=[f"{b}-{k}" for b, k in REPLY_CUTS],
)
def test_feedback_from_a_reply_survives_a_cut_cycle(backend_site: BackendSite, kind: str) -> None:
    site = backend_site
    request, reply = DAY[0], DAY[-1]
    site.mailbox.deliver(request.raw, request.received, "request")
    assert site.run("poll", now=NOW) == 0
    site.mailbox.deliver(reply.raw, reply.received, "reply")
    site.expose_to_faults(retries=0)
    site.mailbox.inject(kind, at="move")
    assert site.run("poll", now=NOW) == 2
    assert site.run("poll", now=NOW) == 0
    assert site.mailbox.folder("Erfasst") == [request.raw, reply.raw]
    assert last_feedback(site) == date(2026, 3, 9)


LOGIN_CUTS = [
    pytest.param("ews", "drop", id="ews-drop"),
    pytest.param("graph", "drop", id="graph-drop"),
    pytest.param("graph", "drop_after", id="graph-drop_after"),
    pytest.param("imap", "drop", id="imap-drop"),
    pytest.param("imap", "drop_after", id="imap-drop_after"),
]


@pytest.mark.parametrize(("backend_site", "kind"), LOGIN_CUTS, indirect=["backend_site"])
def test_a_connection_lost_while_signing_in_is_retried_not_taken_for_a_wrong_password(
    backend_site: BackendSite, kind: str
) -> None:
    site = backend_site
    site.expose_to_faults(retries=1)
    deliver_day(site)
    site.mailbox.inject(kind, at="login")
    assert site.run("poll", now=NOW) == 0
    assert len(site.sleeps) == 1
    assert_rows_exactly_once(site)
    assert_every_mail_in_exactly_one_folder(site, duplicate_filed=True)


# --- 4. and 5.: wrong password, and `check` -----------------------------------------------------

WRONG = "Falsch-Passwort-0815!"
# A refused login makes Dovecot slow down later logins: those tests get a Dovecot of their own.
OWN_SERVERS = ["ews", "graph", pytest.param("imap:own", id="imap")]


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("backend_site", OWN_SERVERS, indirect=True)
def test_wrong_password_stops_poll_with_one_clear_line_and_shows_no_secret(
    backend_site: BackendSite,
) -> None:
    site = backend_site
    site.mailbox.deliver(HAUSBESUCH, DAY[0].received, "hb")
    workbook = site.site.workbook.read_bytes()
    result = site.process("poll", now=NOW, env={site.mailbox.secret_env: WRONG})
    assert result.returncode == 2
    assert result.stdout == ""
    line = result.stderr.splitlines()[-1]  # see test_wrong_password_is_one_line_on_stderr
    assert line.startswith("Fehler: ") and "abgelehnt" in line
    server = "Entra ID" if site.backend == "graph" else "127.0.0.1:"
    what = "client_secret_env" if site.backend == "graph" else site.mailbox.secret_env
    assert server in line and what in line, line
    assert site.mailbox.refused_logins() == 1  # refused once, not retried
    for secret in (WRONG, *site.mailbox.secrets):
        assert secret not in result.stdout + result.stderr
        for path in files_under(site.root):
            assert secret.encode() not in path.read_bytes(), path
    assert site.mailbox.inbox_count_without_login() == 1  # nothing happened
    assert site.site.workbook.read_bytes() == workbook and site.mailbox.transmitted() == []


@pytest.mark.parametrize("backend_site", OWN_SERVERS, indirect=True)
def test_wrong_password_is_one_line_on_stderr(backend_site: BackendSite) -> None:
    site = backend_site
    result = site.process("poll", now=NOW, env={site.mailbox.secret_env: WRONG})
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.mark.parametrize("backend_site", ALL_BACKENDS, indirect=True)
def test_check_says_in_plain_german_that_all_is_well(
    backend_site: BackendSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = backend_site
    site.mailbox.deliver(HAUSBESUCH, DAY[0].received, "hb")
    assert site.run("check", now=NOW) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("OK      ") for line in lines), lines
    text = "\n".join(lines)
    assert "1 Mail" in text or "1 Nachricht" in text, text  # the inbox was really read
    if site.backend != "maildir":
        assert "Anmeldung" in text and "Erfasst" in text and "Nicht erfasst" in text


@pytest.mark.parametrize("backend_site", OWN_SERVERS, indirect=True)
def test_check_names_a_wrong_password_and_fails(
    backend_site: BackendSite, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = backend_site
    monkeypatch.setenv(site.mailbox.secret_env, WRONG)
    assert site.run("check", now=NOW) == 1
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM ")]
    assert problems and "abgelehnt" in problems[0], out
    assert not any(secret in out for secret in (WRONG, *site.mailbox.secrets))
