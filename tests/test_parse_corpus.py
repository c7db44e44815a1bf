"""Every message of the shared real-world corpus parses without error into clean text."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from jugendhaus_mail.intake.parse import ParsedMail, parse_message
from tests.conftest import require_corpus


def corpus_root() -> Path:
    """The corpus's mail folder; skips (fails under CI=true) when the corpus is not there."""
    return require_corpus() / "mail-gem-emails"


def corpus_files() -> list[Path]:
    files = sorted(p for p in corpus_root().rglob("*") if p.is_file())
    assert len(files) >= 100, f"Mail-Korpus unvollständig: {len(files)} Dateien"
    return files


def control_chars(text: str, allowed: str = "") -> list[str]:
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cs") and c not in allowed]


def test_corpus_is_parsed_cleanly() -> None:
    files = corpus_files()
    problems: list[str] = []
    for path in files:
        parsed = parse_message(path.read_bytes())
        name = str(path.relative_to(corpus_root()))
        if not isinstance(parsed, ParsedMail) or not parsed.key:
            problems.append(f"{name}: no result")
            continue
        for label, text, allowed in (
            ("subject", parsed.subject, ""),
            ("sender_name", parsed.sender_name, ""),
            ("body", parsed.body_text, "\n\t"),
        ):
            if control_chars(text, allowed):
                problems.append(f"{name}: control characters in {label}")
        if "\n" in parsed.subject or len(parsed.subject) > 500:
            problems.append(f"{name}: subject not a single capped line")
    assert problems == []
    assert len(files) >= 100


def test_corpus_outcomes_that_matter() -> None:
    """Spot checks on corpus mail whose outcome a user would notice."""
    root = corpus_root()

    def parse(name: str) -> ParsedMail:
        return parse_message((root / name).read_bytes())

    for bounce in sorted((root / "multipart_report_emails").glob("*.eml")):
        reason = parse_message(bounce.read_bytes()).automated_reason
        assert reason is not None and reason.startswith("Unzustellbarkeitsbericht"), bounce.name
    assert parse("attachment_emails/attachment_pdf.eml").attachment_count == 1
    forwarded = parse("attachment_emails/attachment_message_rfc822.eml")
    assert forwarded.attachment_count == 1
    assert "Weitergeleitete Nachricht" in forwarded.body_text
    shift_jis = parse("multi_charset/japanese_shift_jis.eml")
    assert shift_jis.body_text.startswith("あいうえお")
    assert parse("multi_charset/japanese_iso_2022.eml").body_text == "すみません。"
    assert parse("plain_emails/raw_email_multiple_from.eml").sender_address == "tim@powerupdev.com"
