"""Hostile mail in the service's folders: whatever bytes lie there, deciding whether a mail is
about a young person neither crashes nor misses a name in a broken or oddly encoded mail."""

from __future__ import annotations

import base64
import random

import pytest

from jugendhaus_mail.privacy.person import Person, Traces

NAME = "Zyprian Quellenberg"
PERSON = Person(["2026-0001"], [], ["zyprian quellenberg", "quellenberg, zyprian"], ["111a111111"])

HOSTILE = [
    b"",
    b"\x00\xff" * 500,
    b"Subject: =?utf-8?b?!!!?=\r\n\r\nZyprian Quellenberg",
    b"Subject: =?x-unknown?q?abc?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n"
    b"Zyprian Quellenberg",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    b"Quellenberg, Zyprian",  # cut off, no closing boundary
    b"Content-Type: text/html\r\n\r\n<p>Zyprian&nbsp;<b>Quellenberg</b></p>",
    b"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAA==",  # a broken zip
    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"Kundennr. 111A111111"),
    b"Subject: " + b"A" * 100_000 + b"\r\n\r\nx",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_mail_is_judged_without_crashing(raw: bytes) -> None:
    found = PERSON.concerns(raw)
    assert found == (b"Zyprian" in raw or b"Quellenberg" in raw or b"base64\r\n\r\nS3" in raw)


def test_random_bytes_never_crash_and_the_name_is_found_wherever_it_is_put() -> None:
    rng = random.Random(14)
    for _ in range(300):
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(400)))
        PERSON.concerns(noise)
        PERSON.concerns(b"Subject: x\r\n\r\n" + noise)
        text = noise.decode("latin-1") + f" {NAME}. " + noise.decode("latin-1")
        assert PERSON.concerns(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode())


def test_salted_traces_find_a_name_across_punctuation_and_line_breaks() -> None:
    traces = PERSON.traced()
    assert "zyprian" not in traces.dumps() and "111a111111" not in traces.dumps()
    later = Person(["2026-0001"], [], [], [], traces=Traces.loads(traces.dumps()))
    assert later.concerns(b"Subject: Re: Abwesend\r\n\r\nBetrifft Zyprian\r\n Quellenberg, danke")
    assert later.concerns(b"Subject: x\r\n\r\nKd-Nr.: 111A111111;")
    assert not later.concerns(b"Subject: x\r\n\r\nBerta Sonnenschein")
