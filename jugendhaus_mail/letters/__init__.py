"""Pre-filled letters to young people as Word documents (docxtpl), with an optional PDF.

`data` turns one request row into the values a letter shows (or a clear error naming the column
to fill), `render` fills the .docx template, `pdf` converts with LibreOffice; the job that
queues letters to staff from the reminder run is `jugendhaus_mail/jobs/letters.py`. docxtpl
is imported only when rendering.
"""

from __future__ import annotations

KINDS = ("hausbesuch", "nicht-angetroffen", "einladung")
TITLES = {
    "hausbesuch": "Ankündigung Hausbesuch",
    "nicht-angetroffen": "Nicht angetroffen",
    "einladung": "Einladung zum Beratungsgespräch",
}
