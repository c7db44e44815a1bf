"""Queued mail stored small: deflated against a pattern of its kind.

An acknowledgement is 7 KB, and 95 % of it is the same in every acknowledgement of a cycle
(the layout, the office's text). The state database holds each queued mail until it is sent
and then clears it (secure_delete writes the freed pages over): for 1,000 acknowledgements,
7 MB written to be stored and 7 MB more to be cleared (issue 15). Deflated with a pattern as
preset dictionary, one is about 300 bytes.

A pattern is the mail's stencil with every slot empty (`RenderedMail.pattern`): template text,
the office's name and address, and what all mails of the stencil share (the kind of request,
the day of receipt and the deadline); never the case number, a name or an address of a mail,
nothing that points to a person. It is stored once, under the SHA-256 of its bytes, next to
the mails that need it (`outbox_patterns`), and dropped with the last of them. A stored mail
that starts with NUL is packed; a mail itself never does.
"""

from __future__ import annotations

import hashlib
import zlib

MARK = b"\x00"
ID_SIZE = 32  # SHA-256 of the pattern
_LEVEL = 1  # an acknowledgement: ~270 bytes (level 6: ~190 bytes, in nearly twice the time)


def pattern_id(pattern: bytes) -> bytes:
    return hashlib.sha256(pattern).digest()


def pack(message: bytes, pattern: bytes, ident: bytes) -> bytes:
    """MARK, the pattern's id, then `message` in zlib format (checked by Adler-32 when read)."""
    if not pattern:
        raise ValueError("ein Muster ist nie leer")
    deflate = zlib.compressobj(_LEVEL, zdict=pattern)
    return MARK + ident + deflate.compress(message) + deflate.flush()


def packed_with(stored: bytes) -> bytes | None:
    """The id of the pattern `stored` was packed with; None for a mail stored as it is."""
    return stored[1 : 1 + ID_SIZE] if stored[:1] == MARK else None


def unpack(stored: bytes, pattern: bytes) -> bytes:
    """The mail `pack` stored; ValueError when the bytes or the pattern are not the ones it
    was packed with."""
    inflate = zlib.decompressobj(zdict=pattern)
    try:
        message = inflate.decompress(stored[1 + ID_SIZE :]) + inflate.flush()
    except zlib.error as exc:
        raise ValueError(f"gepackte Mail nicht lesbar: {exc}") from exc
    if not inflate.eof or inflate.unused_data:
        raise ValueError("gepackte Mail unvollständig")
    return message
