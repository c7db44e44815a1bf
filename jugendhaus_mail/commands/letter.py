"""`letter NR ART --out PATH`: write one pre-filled letter (.docx, plus a PDF with LibreOffice)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jugendhaus_mail.app import App
    from jugendhaus_mail.letters.data import Letter

HELP = "vorausgefüllten Brief (Word) zu einer Anfrage erstellen"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("nr", metavar="NR", help="Nr. der Anfrage, z. B. 2026-0042")
    parser.add_argument(
        "kind", metavar="ART", choices=("hausbesuch", "nicht-angetroffen", "einladung"),
        help="hausbesuch | nicht-angetroffen | einladung",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="Zieldatei (.docx)")


def run(args: argparse.Namespace) -> int:
    from jugendhaus_mail.commands.session import app_from_args
    from jugendhaus_mail.letters.pdf import PdfError, convert_to_pdf, find_soffice
    from jugendhaus_mail.letters.render import render_letter

    app = app_from_args(args)
    letter = make_letter(app, args.nr, args.kind)
    target = output_path(args.out, letter)
    mode = file_mode(app.settings.letters.file_mode)
    _write(target, render_letter(letter, app.settings.templates_dir), mode)
    with app.state() as state:  # so retention and erasure find the file again
        from jugendhaus_mail.privacy.records import record_letter

        record_letter(state, target, letter.nr, app.now)
    print(f"Brief „{letter.title}“ zu Nr. {letter.nr} geschrieben: {target}")
    if letter.warning:
        print(letter.warning, file=sys.stderr)
    pdf = target.with_suffix(".pdf")
    stale = _remove_stale(pdf)
    soffice = find_soffice()
    if soffice is None:
        print(
            "Kein PDF erstellt: dafür wird LibreOffice (soffice) benötigt. "
            "Die .docx-Datei lässt sich in Word oder LibreOffice öffnen und drucken."
        )
        if stale:
            print(f"Die ältere PDF-Datei {pdf} wurde entfernt, sie passte nicht mehr zum Brief.")
        return 0
    try:
        convert_to_pdf(target, soffice)
        os.chmod(pdf, mode)
    except PdfError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    print(f"PDF geschrieben: {pdf}")
    return 0


def make_letter(app: App, nr: str, kind: str) -> Letter:
    from jugendhaus_mail.letters.data import build_letter, find_request

    snapshot = app.store().read()
    row = find_request(snapshot.requests, nr)
    return build_letter(kind, row, snapshot.staff, app.settings, app.calendar, app.now)


def output_path(out: Path, letter: Letter) -> Path:
    """`--out` as given; a folder gets the letter's default file name inside it."""
    from jugendhaus_mail.letters.data import LetterError

    if out.is_dir():
        return out / letter.filename
    if out.suffix.lower() != ".docx":
        raise LetterError(f"--out {out}: erwartet eine .docx-Datei oder einen vorhandenen Ordner.")
    if not out.parent.is_dir():
        raise LetterError(f"--out {out}: Ordner {out.parent} gibt es nicht; bitte zuerst anlegen.")
    return out


def file_mode(configured: int | None) -> int:
    """`[letters] file_mode`, else what a new file in the folder normally gets (0666 minus the
    umask): colleagues on the share must be able to open the letter to print it."""
    if configured is not None:
        return configured
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _write(target: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file, so an open or half-written old letter is never left broken."""
    from jugendhaus_mail.fsync import write_durably
    from jugendhaus_mail.letters.data import LetterError

    try:
        write_durably(target, data, mode)
    except OSError as exc:
        raise LetterError(
            f"{target} kann nicht geschrieben werden ({exc.strerror}); ist die Datei noch in "
            "Word geöffnet? Bitte schließen oder mit --out einen anderen Namen wählen."
        ) from None


def _remove_stale(pdf: Path) -> bool:
    """The PDF beside a letter is this letter's or none at all: remove an older one first."""
    from jugendhaus_mail.letters.data import LetterError

    if not pdf.exists():
        return False
    try:
        pdf.unlink()
    except OSError as exc:
        raise LetterError(
            f"Die ältere PDF-Datei {pdf} lässt sich nicht ersetzen ({exc.strerror}); ist sie noch "
            "geöffnet? Bitte schließen und den Befehl wiederholen."
        ) from None
    return True
