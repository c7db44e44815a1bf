"""The inbox listing reads paths as text with os calls (issue 15): the same mails, receipt
times, order and bytes as the listing through Path objects gave."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.mailbox.base import IncomingMessage
from jugendhaus_mail.mailbox.maildir import MaildirMailbox

_DELIVERY_TIME = re.compile(r"^(\d{9,11})(?:\.|_)")
_USABLE_SINCE = datetime(2000, 1, 1, tzinfo=UTC).timestamp()


def listed_before(root: Path, batch_size: int) -> Iterator[IncomingMessage]:
    """`MaildirMailbox.list_new` as it was before this change (commit 8b1a8b1)."""

    def received(path: Path) -> datetime:
        try:
            mtime: float | None = path.stat().st_mtime
        except OSError:
            mtime = None
        match = _DELIVERY_TIME.match(path.name)
        named = float(match[1]) if match and float(match[1]) >= _USABLE_SINCE else None
        if mtime is None:
            seconds = named if named is not None else 0.0
        elif named is not None and (mtime < _USABLE_SINCE or mtime > named + 86_400.0):
            seconds = named
        else:
            seconds = mtime
        try:
            return datetime.fromtimestamp(int(seconds), UTC)
        except (OverflowError, OSError, ValueError):
            return datetime.max.replace(tzinfo=UTC)

    entries: list[Path] = []
    for sub in ("new", "cur"):
        folder = root / sub
        if not folder.is_dir():
            continue
        with os.scandir(folder) as it:
            entries.extend(Path(e.path) for e in it if e.is_file() and not e.name.startswith("."))
    found = sorted(((received(p), p) for p in entries), key=lambda i: (i[0], i[1].name))
    for moment, path in found[:batch_size]:
        yield IncomingMessage(handle=path.name, received=moment, raw=path.read_bytes())


def test_the_inbox_is_listed_as_before(tmp_path: Path) -> None:
    root = tmp_path / "postfach"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "new" / "unterordner").mkdir()
    files = {  # name -> mtime (None: as created)
        "1772434800.M1P1.host": 1772434800.0,
        "1772434800.M2P1.host": 1772434800.0,  # same moment: by name
        "1772434801_x.host": 315532800.0,  # 1980 from a FAT stick: the name counts
        "1772434802.M3.host": 1772600000.0,  # mtime more than a day after the name
        "ohne-zeit": 1772434700.0,
        "0000000001.alt": 1772434900.0,  # a name before 2000 never counts
        ".versteckt": 1772434800.0,
        "99999999999.fern": None,
        "leer": 1772434750.0,
        "groß \u00e4.eml": 1772434760.0,
    }
    for index, (name, mtime) in enumerate(files.items()):
        sub = "cur" if index % 3 == 1 else "new"
        path = root / sub / (f"{name}:2,S" if sub == "cur" else name)
        path.write_bytes(b"" if name == "leer" else f"Subject: {name}\n\n{index}\n".encode())
        if mtime is not None:
            os.utime(path, (mtime, mtime))
    config = tmp_path / "jugendhaus-mail.toml"
    config.write_text(
        '[office]\nholiday_region = "DE-MV"\n[mailbox]\nbackend = "maildir"\n'
        f'path = "{root}"\n[workbook]\npath = "Anfrageliste.xlsx"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    for batch_size in (1000, 4):
        object.__setattr__(settings.mailbox, "batch_size", batch_size)
        with MaildirMailbox(settings) as mailbox:
            listed = list(mailbox.list_new())
        assert listed == list(listed_before(root, batch_size))
        assert len(listed) == min(batch_size, 9)
