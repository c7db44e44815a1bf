"""Every message of the shared real-world corpus parses without error into clean text."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from jugendhaus_mail.intake.parse import ParsedMail, parse_message


def corpus_root() -> Path:
    override = os.environ.get("JUGENDHAUS_CORPUS")
    base = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "corpus"
    return base / "mail-gem-emails"


def corpus_files() -> list[Path]:
    root = corpus_root()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def control_chars(text: str, allowed: str = "") -> list[str]:
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cs") and c not in allowed]


def test_corpus_is_parsed_cleanly() -> None:
    files = corpus_files()
    if not files:
        pytest.skip(f"Mail-Korpus nicht gefunden unter {corpus_root()}")
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
    if not root.is_dir():
        pytest.skip(f"Mail-Korpus nicht gefunden unter {root}")

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
