"""Text logs stay one line per event: a name staff typed (here in a LibreOffice lock file) or a
value a mail carried cannot break a line or forge a log entry."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from jugendhaus_mail.service.logsetup import install
from tests.site import STAFF, make_site, request_mail, set_staff, utc

LINE_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")
FORGED = "2026-03-10 08:00:00,000 ERROR jugendhaus_mail: gefälscht"


def test_a_hostile_name_in_a_lock_file_stays_on_one_log_line(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[logging]\nfile = "log/dienst.log"\n')
    set_staff(site, STAFF)
    lock = site.root / ".~lock.Anfrageliste.xlsx#"
    lock.write_text(f"Maria\n{FORGED}\r\u2028x,maria,pc1,10.03.2026 07:55,file:///x;")
    site.deliver(request_mail("Fallanfrage", "Name: A\n", message_id="<a@x.de>"),
                 utc(2026, 3, 9, 8), "a")  # fmt: skip
    try:
        assert site.run("poll", "--verbose", now="2026-03-10T08:00") == 0
    finally:
        install(logging.WARNING, console_level=logging.WARNING, file=None, json_lines=False,
                console=False)  # fmt: skip
    lines = (site.root / "log" / "dienst.log").read_text(encoding="utf-8").splitlines()
    assert any("Maria\\n2026-03-10" in line for line in lines), lines
    assert all(LINE_START.match(line) for line in lines), lines


def test_a_traceback_is_one_line_too() -> None:
    from jugendhaus_mail.service.logsetup import OfficeTime

    formatter = OfficeTime("%(levelname)s %(message)s", zone=utc(2026, 1, 1).tzinfo)  # type: ignore[arg-type]
    try:
        raise ValueError("Betreff:\nzweite Zeile")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "kaputt", None, True)
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert "\n" not in text and "Betreff:\\nzweite Zeile" in text
