"""Named crash points for the exactly-once tests.

`failpoint("after_workbook_save")` kills the process on the spot (like kill -9, no cleanup)
when the environment variable JUGENDHAUS_MAIL_FAILPOINT names that point. In production the
variable is unset and a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import errno
import os

ENV = "JUGENDHAUS_MAIL_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os._exit(137)


def disk_full(name: str) -> None:
    """With JUGENDHAUS_MAIL_FAILPOINT=`<name>:ENOSPC`, fail here like a full disk."""
    if os.environ.get(ENV) == f"{name}:ENOSPC":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
