"""parse_message on hand-written mail: charsets, headers, MIME structure, automated mail, keys."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from jugendhaus_mail.intake.parse import FORWARD_MARKER, MAX_BODY, MAX_SUBJECT, parse_message

STANDARD_HEADERS: dict[str, str | bytes | None] = {
    "From": "Anna Becker <Anna.Becker@jobcenter-ge.de>",
    "To": "FM-Jugendhaus@rostock.de",
    "Subject": "Fallanfrage",
    "Date": "Mon, 03 Mar 2025 09:15:00 +0100",
    "Message-ID": "<20250303.abc123@jobcenter-ge.de>",
    "MIME-Version": "1.0",
}


def mail(
    body: bytes | str = "Hallo Team,\r\nbitte um Rückmeldung.\r\n",
    headers: dict[str, str | bytes | None] | None = None,
) -> bytes:
    """A CRLF message: the standard headers, overridden (None drops one), then the body."""
    merged = {**STANDARD_HEADERS, **(headers or {})}
    lines = [
        name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("utf-8"))
        for name, value in merged.items()
        if value is not None
    ]
    data = body.encode("utf-8") if isinstance(body, str) else body
    return b"\r\n".join(lines) + b"\r\n\r\n" + data


def multipart(boundary: str, *parts: bytes) -> bytes:
    sep = b"--" + boundary.encode()
    return b"".join(sep + b"\r\n" + p + b"\r\n" for p in parts) + sep + b"--\r\n"


def text_part(text: str, ctype: str = "text/plain; charset=utf-8", extra: str = "") -> bytes:
    return f"Content-Type: {ctype}\r\n{extra}\r\n{text}".encode()


def pdf_part(disposition: str) -> bytes:
    return (
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        + disposition.encode()
        + b"\r\n\r\nJVBERi0xLjQKJcfsj6IK\r\n"
    )


def has_control_chars(text: str, allowed: str = "") -> bool:
    return any((ord(c) < 32 or 0x7F <= ord(c) < 0xA0) and c not in allowed for c in text)


# --- charsets of the body -------------------------------------------------------------------

GERMAN = "Grüße aus Rostock – bitte Rückmeldung an Frau Weiß, Kosten 20 €."


@pytest.mark.parametrize(
    ("declared", "encoding", "text"),
    [("iso-8859-1", "cp1252", GERMAN), ("windows-1252", "cp1252", GERMAN),
     ("utf-8", "utf-8", GERMAN), ('"UTF-8"', "utf-8", GERMAN),
     ("ISO-8859-15", "iso-8859-15", "Grüße, Kosten 20 €")],
)  # fmt: skip
def test_declared_charsets_give_correct_umlauts(declared: str, encoding: str, text: str) -> None:
    raw = mail(
        text.encode(encoding) + b"\r\n",
        {"Content-Type": f"text/plain; charset={declared}", "Content-Transfer-Encoding": "8bit"},
    )
    parsed = parse_message(raw)
    assert parsed.body_text == text
    assert parsed.defects == ()


def test_latin1_label_with_utf8_bytes_is_read_as_utf8() -> None:
    raw = mail(GERMAN.encode("utf-8"), {"Content-Type": "text/plain; charset=iso-8859-1"})
    parsed = parse_message(raw)
    assert parsed.body_text == GERMAN
    assert "Zeichensatz falsch angegeben (Text ist UTF-8)" in parsed.defects


def test_utf8_label_with_windows_1252_bytes_is_repaired() -> None:
    raw = mail(GERMAN.encode("cp1252"), {"Content-Type": "text/plain; charset=utf-8"})
    parsed = parse_message(raw)
    assert parsed.body_text == GERMAN
    assert "Zeichensatz falsch angegeben" in parsed.defects


def test_unknown_charset_name_falls_back_to_detection() -> None:
    raw = mail(GERMAN.encode("cp1252"), {"Content-Type": "text/plain; charset=x-mac-klingon"})
    parsed = parse_message(raw)
    assert parsed.body_text == GERMAN
    assert "Unbekannter Zeichensatz 'x-mac-klingon'" in parsed.defects


@pytest.mark.parametrize("text", ["Müller", GERMAN, GERMAN * 5])
def test_undeclared_8bit_body_is_read_as_windows_1252(text: str) -> None:
    parsed = parse_message(mail(text.encode("cp1252"), {"Content-Type": "text/plain"}))
    assert parsed.body_text == text


def test_quoted_printable_and_sloppy_base64_bodies() -> None:
    qp = mail(
        b"Gr=C3=BC=C3=9Fe, lange Zeile mit weichem =\r\nUmbruch\r\n",
        {
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Transfer-Encoding": "quoted-printable",
        },
    )
    assert parse_message(qp).body_text == "Grüße, lange Zeile mit weichem Umbruch"
    for cte in ("BASE64", "base64;"):
        b64 = mail(  # "Grüße" in base64 without padding, with a stray character
            b"R3LD*vMOfZQ\r\n",
            {"Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": cte},
        )
        assert parse_message(b64).body_text == "Grüße"


def test_format_flowed_soft_breaks_are_joined() -> None:
    raw = mail(
        "Anschrift: Lange Straße \r\n1, 18055 Rostock\r\n-- \r\nSignatur",
        {"Content-Type": "text/plain; charset=utf-8; format=flowed"},
    )
    assert parse_message(raw).body_text == "Anschrift: Lange Straße 1, 18055 Rostock\n--\nSignatur"


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?iso-8859-1?Q?Hausbesuch_f=FCr_Familie_M=FCller?=", "Hausbesuch für Familie Müller"),
        ("=?UTF-8?B?U3RlbGx1bmduYWhtZSDDvGJlciBKw7xyZ2Vu?=", "Stellungnahme über Jürgen"),
        # one character split across two encoded words; the space between them disappears
        ("=?utf-8?Q?M=C3?= =?utf-8?Q?=BCller?=", "Müller"),
        ("AW: =?utf-8?q?Stellungnahme?= zu Fall 7", "AW: Stellungnahme zu Fall 7"),
        ("=?utf-8?q?Fall?=\r\n =?utf-8?q?anfrage?=", "Fallanfrage"),
        ("Fallanfrage\r\n\tBecker", "Fallanfrage Becker"),
        # broken encoded words: no crash, text stays readable
        ("=?utf-8?q?Fallanfrage ohne Ende", "=?utf-8?q?Fallanfrage ohne Ende"),
        ("=?utf-8?B?U3RlbGx1bmduYWhtZQ?=", "Stellungnahme"),  # missing padding
        ("=?x-unknown?Q?M=FCller?=", "Müller"),
        ("=?utf-8*de?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # RFC 2231 language suffix
        ("=?utf-8?Q?=ZZ_kaputt?=", "=ZZ kaputt"),
        ("=?utf-8?q?Hallo Welt?=", "Hallo Welt"),  # illegal space inside the word
        ("=?base64?Q?abc?=", "abc"),  # a codec that is not a charset
    ],
)
def test_subject_decoding(header: str, expected: str) -> None:
    assert parse_message(mail(headers={"Subject": header})).subject == expected


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_raw_8bit_headers(encoding: str) -> None:
    raw = mail(
        headers={
            "Subject": "Anfrage für Jürgen Weiß".encode(encoding),
            "From": "Jörg Müller <joerg.mueller@arbeitsagentur.de>".encode(encoding),
        }
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Anfrage für Jürgen Weiß"
    assert parsed.sender_name == "Jörg Müller"
    assert parsed.sender_address == "joerg.mueller@arbeitsagentur.de"


def test_subject_is_cleaned_and_capped() -> None:
    noisy = "Fall\x00anfrage \x1b[31m  rot\x07  \u202egnureg  " + "x" * 1000
    subject = parse_message(mail(headers={"Subject": noisy})).subject
    assert subject.startswith("Fallanfrage [31m rot gnureg xxx")
    assert len(subject) == MAX_SUBJECT
    assert not has_control_chars(subject)


@pytest.mark.parametrize(
    ("from_header", "name", "address"),
    [
        ('"Becker, Anna (Jobcenter)" <Anna.Becker@Jobcenter-GE.de>', "Becker, Anna (Jobcenter)",
         "anna.becker@jobcenter-ge.de"),
        ("=?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <jm@arbeitsagentur.de>", "Jörg Müller",
         "jm@arbeitsagentur.de"),
        ('"=?utf-8?Q?J=C3=B6rg?=" <jm@arbeitsagentur.de>', "Jörg", "jm@arbeitsagentur.de"),
        ("jm@arbeitsagentur.de (Jörg Müller)", "Jörg Müller", "jm@arbeitsagentur.de"),
        ("Max Muster max@example.org", "Max Muster", "max@example.org"),
        ("<mailto:max@example.org>", "", "max@example.org"),
        ("info@müller-bau.de", "", "info@xn--mller-bau-q9a.de"),
        ("a@example.org, b@example.org", "", "a@example.org"),
    ],
)  # fmt: skip
def test_sender(from_header: str, name: str, address: str) -> None:
    parsed = parse_message(mail(headers={"From": from_header}))
    assert (parsed.sender_name, parsed.sender_address) == (name, address)


def test_sender_header_is_the_fallback_when_from_is_unusable() -> None:
    parsed = parse_message(mail(headers={"From": "Anna Becker", "Sender": "team@jobcenter-ge.de"}))
    assert (parsed.sender_name, parsed.sender_address) == ("Anna Becker", "team@jobcenter-ge.de")
    assert parsed.automated_reason is None


@pytest.mark.parametrize("from_header", [None, "", "Anna Becker", "kaputt@", "@x.de", "a@b"])
def test_missing_or_unusable_sender_is_set_aside(from_header: str | None) -> None:
    parsed = parse_message(mail(headers={"From": from_header}))
    assert parsed.sender_address is None
    assert parsed.automated_reason == "Kein gültiger Absender"


def test_missing_headers() -> None:
    raw = mail(headers={"Subject": None, "Date": None, "Message-ID": None})
    parsed = parse_message(raw)
    assert parsed.subject == ""
    assert parsed.date_header is None
    assert parsed.message_id is None
    assert parsed.key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert {"Kopfzeile Subject fehlt", "Kopfzeile Date fehlt"} <= set(parsed.defects)
    assert parsed.automated_reason is None


def test_duplicated_headers_use_the_first_and_are_reported() -> None:
    raw = mail().replace(
        b"Subject: Fallanfrage\r\n",
        b"Subject: Fallanfrage\r\nSubject: Kinderschutz\r\nFrom: other@example.org\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Fallanfrage"
    assert parsed.sender_address == "anna.becker@jobcenter-ge.de"
    assert "Kopfzeile Subject 2-mal vorhanden" in parsed.defects
    assert "Kopfzeile From 2-mal vorhanden" in parsed.defects


@pytest.mark.parametrize(
    ("date_header", "expected"),
    [
        ("Mon, 03 Mar 2025 09:15:00 +0100", datetime(2025, 3, 3, 8, 15, tzinfo=UTC)),
        ("3 Mar 2025 09:15 CET", datetime(2025, 3, 3, 9, 15, tzinfo=UTC)),  # unknown zone name
        ("Mon, 03 Mar 2025 09:15:00 -0000", datetime(2025, 3, 3, 9, 15, tzinfo=UTC)),
        ("Montag, der dritte März", None),
        ("Wed, 15 Dec 2010    59:10 -0500", None),
        ("Mon, 31 Feb 2025 09:15:00 +0100", None),
    ],
)
def test_date_header(date_header: str, expected: datetime | None) -> None:
    parsed = parse_message(mail(headers={"Date": date_header}))
    assert parsed.date_header == expected
    if parsed.date_header is not None:
        assert parsed.date_header.tzinfo is not None


def test_date_keeps_the_senders_offset() -> None:
    parsed = parse_message(mail())
    assert parsed.date_header is not None
    assert parsed.date_header.utcoffset() == timezone(timedelta(hours=1)).utcoffset(None)


def test_references_are_collected_and_normalised() -> None:
    raw = mail(
        headers={
            "In-Reply-To": "<Reply.1@rostock.de>",
            "References": "<root@jobcenter-ge.de>\r\n <Reply.1@rostock.de> <kaputt> <x@y.de>",
        }
    )
    assert parse_message(raw).references == ("Reply.1@rostock.de", "root@jobcenter-ge.de", "x@y.de")


# --- idempotency key ------------------------------------------------------------------------


def test_key_from_message_id_is_normalised_and_keeps_case() -> None:
    parsed = parse_message(mail(headers={"Message-ID": "  < 20250303.ABC@Jobcenter-GE.de >  "}))
    assert parsed.message_id == "20250303.ABC@Jobcenter-GE.de"
    assert parsed.key == "mid:20250303.ABC@Jobcenter-GE.de"


def test_same_raw_gives_same_key_and_other_mail_another_key() -> None:
    raw = mail(headers={"Message-ID": None})
    assert parse_message(raw).key == parse_message(bytes(raw)).key
    assert parse_message(raw + b"x").key != parse_message(raw).key
    assert parse_message(mail()).key == parse_message(mail(body="anderer Text")).key


@pytest.mark.parametrize("message_id", ["", "<>", "<ohne-at-zeichen>", "<@x>", "<x@>", "<ä@x.de>"])
def test_unusable_message_id_gives_hash_key(message_id: str) -> None:
    raw = mail(headers={"Message-ID": message_id})
    parsed = parse_message(raw)
    assert parsed.message_id is None
    assert parsed.key == "sha256:" + hashlib.sha256(raw).hexdigest()


# --- MIME structure -------------------------------------------------------------------------


def test_nested_alternative_with_related_images_and_attachments() -> None:
    html = text_part("<p>Hallo <b>HTML</b><img src='cid:logo'></p>", "text/html; charset=utf-8")
    logo = (
        b"Content-Type: image/png; name=image001.png\r\nContent-ID: <logo>\r\n"
        b"Content-Disposition: inline; filename=image001.png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
    )
    related = b'Content-Type: multipart/related; boundary="rel"\r\n\r\n' + multipart(
        "rel", html, logo
    )
    alternative = b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n' + multipart(
        "alt", text_part("Hallo Klartext"), related
    )
    signature = b"Content-Type: application/pgp-signature; name=signature.asc\r\n\r\nsig\r\n"
    body = multipart(
        "mix",
        alternative,
        pdf_part("Content-Disposition: attachment; filename=Antrag.pdf"),
        pdf_part("Content-Disposition: attachment; filename*=utf-8''Bescheid%20M%C3%BCller.pdf"),
        signature,
    )
    raw = mail(body, {"Content-Type": 'multipart/mixed; boundary="mix"'})
    parsed = parse_message(raw)
    assert parsed.body_text == "Hallo Klartext"
    assert parsed.attachment_count == 2
    assert parsed.defects == ()


def test_html_alternative_is_used_when_plain_part_is_empty() -> None:
    body = multipart(
        "alt", text_part("  \r\n"), text_part("<p>Nur HTML</p>", "text/html; charset=utf-8")
    )
    raw = mail(body, {"Content-Type": 'multipart/alternative; boundary="alt"'})
    assert parse_message(raw).body_text == "Nur HTML"


@pytest.mark.parametrize(
    ("disposition", "counted"),
    [
        ("Content-Disposition: attachment", 1),
        ('Content-Disposition: ATTACHMENT; filename="a b.pdf"', 1),
        ("Content-Disposition: inline; filename=Foto.jpg", 1),  # a pasted photo is content
        ("Content-Disposition: attachment; filename*0*=utf-8''Ant; filename*1*=rag.pdf", 1),
        ("Content-Disposition: attachment; filename*=x-kaputt''%FF%FE.pdf", 1),
        ("", 1),  # a non-text part without name is still an attachment
    ],
)
def test_attachment_counting(disposition: str, counted: int) -> None:
    body = multipart("mix", text_part("Siehe Anhang"), pdf_part(disposition))
    parsed = parse_message(mail(body, {"Content-Type": "multipart/mixed; boundary=mix"}))
    assert parsed.attachment_count == counted
    assert parsed.body_text == "Siehe Anhang"


def test_text_file_attachment_is_not_body_text() -> None:
    body = multipart(
        "mix",
        text_part("Siehe Anhang"),
        text_part("Name: Falsch", extra="Content-Disposition: attachment; filename=notiz.txt\r\n"),
    )
    parsed = parse_message(mail(body, {"Content-Type": "multipart/mixed; boundary=mix"}))
    assert (parsed.body_text, parsed.attachment_count) == ("Siehe Anhang", 1)


def test_broken_boundary_is_salvaged() -> None:
    body = multipart("wirklich", text_part("Text trotz falscher Grenze"), pdf_part(""))
    parsed = parse_message(mail(body, {"Content-Type": 'multipart/mixed; boundary="erklaert"'}))
    assert parsed.body_text == "Text trotz falscher Grenze"
    assert parsed.attachment_count == 1
    assert "Multipart-Grenze (boundary) nicht gefunden" in parsed.defects


def test_missing_close_boundary_and_missing_boundary_parameter() -> None:
    unclosed = b"--b\r\nContent-Type: text/plain\r\n\r\nOhne Ende\r\n"
    parsed = parse_message(mail(unclosed, {"Content-Type": "multipart/mixed; boundary=b"}))
    assert parsed.body_text == "Ohne Ende"
    assert "Abschließende Multipart-Grenze fehlt" in parsed.defects
    no_param = parse_message(mail("Nur Text", {"Content-Type": "multipart/mixed"}))
    assert no_param.body_text == "Nur Text"
    assert "Multipart ohne boundary-Angabe" in no_param.defects


def test_forwarded_message_is_one_attachment_and_its_text_is_kept() -> None:
    inner = (
        "From: =?utf-8?Q?J=C3=BCrgen?= <j@example.org>\r\nSubject: Ursprüngliche Anfrage\r\n"
        "Date: Fri, 28 Feb 2025 10:00:00 +0100\r\nContent-Type: multipart/mixed; boundary=in\r\n"
        "\r\n--in\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nName: Max Muster\r\n"
        "--in\r\nContent-Type: application/pdf; name=x.pdf\r\n\r\nPDF\r\n--in--\r\n"
    ).encode()
    forwarded = (
        b"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=fw.eml\r\n\r\n"
    )
    body = multipart("mix", text_part("Bitte übernehmen."), forwarded + inner)
    parsed = parse_message(mail(body, {"Content-Type": "multipart/mixed; boundary=mix"}))
    assert parsed.attachment_count == 1
    assert parsed.body_text == (
        f"Bitte übernehmen.\n\n{FORWARD_MARKER}\nVon: Jürgen <j@example.org>\n"
        "Datum: Fri, 28 Feb 2025 10:00:00 +0100\nBetreff: Ursprüngliche Anfrage\n\n"
        "Name: Max Muster"
    )


def test_html_only_mail_becomes_readable_text() -> None:
    html = (
        "<html><head><title>Titel</title><style>p {color: red}</style>"
        "<script>alert('x')</script></head><body>"
        "<p class=MsoNormal>Sehr geehrte Damen und Herren,</p>"
        "<p>bitte um R&uuml;ckmeldung&nbsp;zu:<br>Name: Max &amp; Moritz<br/>"
        "Geburtsdatum: 01.02.2005</p>"
        "<ul><li>erster   Punkt</li><li>zweiter<ul><li>innen</li></ul></li></ul>"
        "<ol><li>eins</li><li>zwei</li></ol>"
        "<table><tr><td>Kundennummer:</td><td>123D456</td></tr></table>"
        "<blockquote>Zitat &lt;alt&gt;</blockquote>"
        "<div>Gr&#252;&#xDF;e</div><![if !supportLists]>Ende<![endif]>"
        "</body></html>"
    )
    raw = mail(html.encode(), {"Content-Type": "text/html; charset=utf-8"})
    assert parse_message(raw).body_text == (
        "Sehr geehrte Damen und Herren,\n\n"
        "bitte um Rückmeldung zu:\nName: Max & Moritz\nGeburtsdatum: 01.02.2005\n\n"
        "- erster Punkt\n- zweiter\n  - innen\n\n"
        "1. eins\n2. zwei\n\n"
        "Kundennummer:\t123D456\n\n"
        "> Zitat <alt>\n"
        "Grüße\nEnde"
    )


def test_html_charset_from_meta_tag_and_broken_markup() -> None:
    html = '<meta charset="windows-1252"><p>Gr\xfc\xdfe<![kaputt[ x'.encode("latin-1")
    parsed = parse_message(mail(html, {"Content-Type": "text/html"}))
    assert parsed.body_text.startswith("Grüße")
    unclosed_title = mail("<title>T<body><p>Inhalt", {"Content-Type": "text/html"})
    assert parse_message(unclosed_title).body_text == "Inhalt"


def test_body_is_capped() -> None:
    parsed = parse_message(mail("Zeile\r\n" * 30_000))
    assert len(parsed.body_text) == MAX_BODY
    assert f"Text auf {MAX_BODY} Zeichen gekürzt" in parsed.defects


def test_body_control_characters_are_removed() -> None:
    raw = b"a\x00b\x1bc\td\r\ne\x7ff\xc2\x85g\xe2\x80\xa8h\xe2\x80\xaei\r\n"
    parsed = parse_message(mail(raw, {"Content-Type": "text/plain; charset=utf-8"}))
    assert parsed.body_text == "abc\td\nef\ng\nhi"


def test_deeply_nested_multipart_does_not_crash() -> None:
    body = b"Inhalt\r\n"
    for level in range(60):
        body = (
            f"--b{level}\r\nContent-Type: multipart/mixed; boundary=b{level - 1}\r\n\r\n".encode()
            + body
            + f"\r\n--b{level}--\r\n".encode()
        )
    parsed = parse_message(mail(body, {"Content-Type": "multipart/mixed; boundary=b59"}))
    assert "MIME-Struktur zu tief verschachtelt" in parsed.defects
    assert parsed.sender_address == "anna.becker@jobcenter-ge.de"


@pytest.mark.parametrize("raw", [b"", b"\x00" * 100, b"\r\n\r\n", b"From: \xff\xfe\r\n\r\n\xff"])
def test_degenerate_input(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert parsed.key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert parsed.automated_reason == "Kein gültiger Absender"


# --- automated mail -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Automatische Antwort (Auto-Submitted: auto-replied)"),
        ({"Auto-Submitted": "Auto-Generated; owner=x"},
         "Automatische Nachricht (Auto-Submitted: auto-generated)"),
        ({"X-Autoreply": "yes"}, "Automatische Antwort (X-Autoreply)"),
        ({"X-Autorespond": "Out of office"}, "Automatische Antwort (X-Autorespond)"),
        ({"Precedence": "bulk"}, "Massenmail (Precedence: bulk)"),
        ({"Precedence": "junk"}, "Massenmail (Precedence: junk)"),
        ({"Precedence": "list"}, "Mailingliste (Precedence: list)"),
        ({"List-Id": "<news.example.org>"}, "Mailingliste oder Newsletter (List-Id)"),
        ({"List-Unsubscribe": "<mailto:u@example.org>"},
         "Mailingliste oder Newsletter (List-Unsubscribe)"),
        ({"Return-Path": "<>"}, "Automatische Nachricht (leerer Return-Path)"),
        ({"From": "MAILER-DAEMON@mx.rostock.de"},
         "Unzustellbarkeitsbericht (Absender MAILER-DAEMON/postmaster)"),
        ({"From": "Mail Delivery System <postmaster@jobcenter-ge.de>"},
         "Unzustellbarkeitsbericht (Absender MAILER-DAEMON/postmaster)"),
        ({"Subject": "Automatische Antwort: Fallanfrage"}, "Abwesenheitsnotiz (laut Betreff)"),
        ({"Subject": "Abwesenheitsnotiz: Hausbesuch"}, "Abwesenheitsnotiz (laut Betreff)"),
        ({"Subject": "Out of Office: Fallanfrage"}, "Abwesenheitsnotiz (laut Betreff)"),
        ({"Subject": "AutoReply: Fallanfrage"}, "Abwesenheitsnotiz (laut Betreff)"),
        ({"Subject": "Automatic reply: Fallanfrage"}, "Abwesenheitsnotiz (laut Betreff)"),
        ({"Subject": "Unzustellbar: Fallanfrage"}, "Unzustellbarkeitsbericht (laut Betreff)"),
        ({"Subject": "Undeliverable: Fallanfrage"}, "Unzustellbarkeitsbericht (laut Betreff)"),
        ({"Subject": "Delivery Status Notification (Failure)"},
         "Unzustellbarkeitsbericht (laut Betreff)"),
        ({"Subject": "Mail delivery failed: returning message"},
         "Unzustellbarkeitsbericht (laut Betreff)"),
        ({"Subject": "Lesebestätigung: Fallanfrage"}, "Lesebestätigung (laut Betreff)"),
        ({"Subject": "=?utf-8?Q?Lesebest=C3=A4tigung?="}, "Lesebestätigung (laut Betreff)"),
        ({"Subject": "Read: Fallanfrage"}, "Lesebestätigung (laut Betreff)"),
        ({"Subject": "Gelesen: Fallanfrage"}, "Lesebestätigung (laut Betreff)"),
        ({"From": None}, "Kein gültiger Absender"),
    ],
)  # fmt: skip
def test_automated_mail_is_set_aside(headers: dict[str, str | None], reason: str) -> None:
    assert parse_message(mail(headers=dict(headers))).automated_reason == reason


@pytest.mark.parametrize(
    ("report_type", "reason"),
    [
        ("delivery-status", "Unzustellbarkeitsbericht (Bounce)"),
        ('"disposition-notification"', "Lesebestätigung"),
        ("feedback-report", "Automatischer Bericht (multipart/report)"),
    ],
)
def test_multipart_report_is_set_aside(report_type: str, reason: str) -> None:
    status = (
        b"Content-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx\r\n\r\nAction: failed\r\n"
    )
    body = multipart("r", text_part("Die Nachricht konnte nicht zugestellt werden."), status)
    ctype = f"multipart/report; report-type={report_type}; boundary=r"
    parsed = parse_message(mail(body, {"Content-Type": ctype, "From": "x@rostock.de"}))
    assert parsed.automated_reason == reason
    assert parsed.body_text == "Die Nachricht konnte nicht zugestellt werden."
    assert parsed.attachment_count == 0


def test_normal_outlook_mail_is_not_automated() -> None:
    raw = mail(
        headers={
            "Subject": "AW: Fallanfrage – Rückmeldung zur Abwesenheit von Frau Lange",
            "X-Auto-Response-Suppress": "All",
            "Auto-Submitted": "no (manuell geschrieben)",
            "X-MS-Has-Attach": "",
            "X-MS-TNEF-Correlator": "",
            "Thread-Topic": "Fallanfrage",
            "Return-Path": "<anna.becker@jobcenter-ge.de>",
            "Precedence": "first-class",
            "X-Autoreply": "no",
        }
    )
    assert parse_message(raw).automated_reason is None


@pytest.mark.parametrize(
    "subject",
    ["Rückfrage: Out of Office?", "Lesen: Anleitung", "Ready: Fall 12", "AW: Fallanfrage"],
)
def test_subjects_that_only_look_automated_are_kept(subject: str) -> None:
    assert parse_message(mail(headers={"Subject": subject})).automated_reason is None
