"""Fill a letter's .docx template with docxtpl (jinja2 inside Word).

The office's own template wins: `<[templates] override_dir>/letters/<kind>.docx` is used when it
exists, otherwise the bundled `templates/letters/<kind>.docx`. Rendering is strict: a placeholder
the letter has no value for is an error (jinja2 StrictUndefined), and the finished document is
searched for `{{`, `{%`, `{#`, `}}` and `%}` left over from a broken tag, so a letter never
leaves with a gap or a placeholder in it. Values are XML-escaped (autoescape).
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

from jugendhaus_mail.letters import KINDS
from jugendhaus_mail.letters.data import Letter, LetterError
from jugendhaus_mail.resources import resource_dir

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LEFTOVER_MARKS = ("{{", "{%", "{#", "}}", "%}")
README_HINT = "die erlaubten Platzhalter stehen in templates/letters/README.md"
_TAG = re.compile(r"<[^>]+>")
_PRINTED_PART = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml")


class LetterTemplateError(LetterError):
    """A letter template is missing, broken, or uses a placeholder the letter does not have."""


def template_path(kind: str, override_dir: Path | None) -> Path:
    """The office's template for `kind` if it has one, else the bundled one."""
    if kind not in KINDS:
        raise LetterTemplateError(f"Unbekannte Briefart „{kind}“; erlaubt: {', '.join(KINDS)}.")
    filename = f"{kind}.docx"
    if override_dir is not None:
        own = override_dir / "letters" / filename
        if own.is_file():
            return own
    bundled = resource_dir("templates") / "letters" / filename
    if not bundled.is_file():
        raise LetterTemplateError(
            f"Brief-Vorlage {bundled} fehlt; bitte die Installation prüfen oder eine eigene "
            f"Vorlage unter [templates] override_dir/letters/{filename} ablegen."
        )
    return bundled


def render_letter(letter: Letter, override_dir: Path | None) -> bytes:
    """The filled-in letter as .docx bytes."""
    path = template_path(letter.kind, override_dir)
    data = _render(path, letter.context)
    leftovers = leftover_marks(data)
    if leftovers:
        raise LetterTemplateError(
            f"Brief-Vorlage {path}: nach dem Ausfüllen steht noch „{leftovers[0]}“ im Brief – "
            "ein Platzhalter ist unvollständig oder über Formatwechsel zerteilt; bitte in Word "
            f"den Platzhalter neu tippen ({README_HINT})."
        )
    return data


def _render(path: Path, context: dict[str, object]) -> bytes:
    import jinja2
    from docx.opc.exceptions import PackageNotFoundError
    from docxtpl import DocxTemplate

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    try:
        template = DocxTemplate(path)
        template.render(dict(context), env, autoescape=True)
        buffer = BytesIO()
        template.save(buffer)
    except jinja2.UndefinedError as exc:
        raise LetterTemplateError(
            f"Brief-Vorlage {path} nutzt einen Platzhalter, den dieser Brief nicht hat "
            f"({_undefined_name(exc)}); {README_HINT}."
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise LetterTemplateError(
            f"Brief-Vorlage {path}: Platzhalter fehlerhaft ({exc.message}); bitte in Word "
            f"korrigieren ({README_HINT})."
        ) from None
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError) as exc:
        raise LetterTemplateError(
            f"Brief-Vorlage {path} ist keine Word-Datei im .docx-Format ({type(exc).__name__}); "
            "bitte in Word als „Word-Dokument (*.docx)“ speichern."
        ) from None
    return buffer.getvalue()


def _undefined_name(exc: Any) -> str:
    """jinja2 says "'foo' is undefined"; keep just the name when it does."""
    message = str(getattr(exc, "message", "") or exc)
    match = re.match(r"'([^']+)' is undefined", message)
    return f"„{match[1]}“" if match else message


def document_text(data: bytes) -> str:
    """The printed text (body with tables and text boxes, headers, footers, notes), no tags."""
    parts = []
    with zipfile.ZipFile(BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            if _PRINTED_PART.fullmatch(name):
                parts.append(_TAG.sub("", archive.read(name).decode("utf-8", "replace")))
    return "\n".join(parts)


def leftover_marks(data: bytes) -> list[str]:
    text = document_text(data)
    return [mark for mark in LEFTOVER_MARKS if mark in text]
