"""Convert a letter to PDF with LibreOffice (`soffice --headless --convert-to pdf`).

Each conversion uses its own throw-away LibreOffice profile (`-env:UserInstallation`), so it
neither collides with a LibreOffice the user has open nor depends on a writable home folder.
The PDF is written to a temporary folder beside the .docx and then moved into place, so a
failed run never leaves a half-written or stale PDF looking like a fresh one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from jugendhaus_mail.letters.data import LetterError

TIMEOUT_SECONDS = 120.0
_WINDOWS_DEFAULT = Path(r"C:\Program Files\LibreOffice\program\soffice.exe")


class PdfError(LetterError):
    """LibreOffice did not produce a PDF."""


def find_soffice() -> str | None:
    """`soffice` (or `libreoffice`) on PATH; on Windows also the default install folder."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None and os.name == "nt" and _WINDOWS_DEFAULT.is_file():
        found = str(_WINDOWS_DEFAULT)
    return found


def convert_to_pdf(docx: Path, soffice: str, *, timeout: float = TIMEOUT_SECONDS) -> Path:
    """Write `docx` as PDF beside it (same name, .pdf) and return the PDF's path."""
    target = docx.with_suffix(".pdf")
    with (
        tempfile.TemporaryDirectory(prefix="jugendhaus-lo-profile-") as profile,
        tempfile.TemporaryDirectory(prefix=".pdf-", dir=docx.parent) as outdir,
    ):
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            outdir,
            str(docx.resolve()),
        ]
        returncode, output = _run(command, timeout)
        produced = Path(outdir) / target.name
        if returncode != 0 or not produced.is_file() or produced.stat().st_size == 0:
            detail = output.strip().splitlines()[-1:] or [f"Rückgabewert {returncode}"]
            raise PdfError(
                f"LibreOffice hat kein PDF erstellt ({detail[0]}); die .docx-Datei liegt unter "
                f"{docx}. Bitte LibreOffice prüfen oder die Datei in Word als PDF speichern."
            )
        os.replace(produced, target)
    return target


def _run(command: list[str], timeout: float) -> tuple[int, str]:
    """Run LibreOffice in its own process group, so a hang can be ended completely."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=os.name != "nt",
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        process.communicate()
        raise PdfError(
            f"LibreOffice hat nach {timeout:.0f} Sekunden kein PDF geliefert und wurde beendet; "
            "die .docx-Datei ist trotzdem geschrieben."
        ) from None
    return process.returncode, output or ""


def _kill(process: subprocess.Popen[str]) -> None:
    if os.name == "nt":
        process.kill()
        return
    with contextlib.suppress(ProcessLookupError):  # the whole group has already ended
        os.killpg(process.pid, signal.SIGKILL)
