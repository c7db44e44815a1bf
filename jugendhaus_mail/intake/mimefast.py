"""The one parse of an incoming mail, fast for the shape nearly all requests have.

`parse_bytes(raw)` returns what `email.message_from_bytes(raw, policy=compat32)` returns. Mail
of the common shape — clean header lines, then either a single text part or one level of
multipart whose parts are single parts with clean headers — is split here directly into the
very same `Message` tree (same headers, payloads, preamble, epilogue, no defects). Anything
else (a defect the stdlib would note, nested multiparts, message/* parts, odd line ends in the
headers, a digest) goes to the standard library. Why: the stdlib's feed parser reads line by
line in Python and compiles a regular expression for every new multipart boundary, which made
it most of the cost of taking in a mail; tests/test_speed_intake_parse.py compares the two
trees on generated hostile mail and on the corpus.
"""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import unquote
from itertools import pairwise

# A block of header lines exactly as the stdlib's parser reads them without any defect: every
# line "Name: value" (name of printable ASCII without ":") or a continuation starting with a
# blank; lines end in CRLF or LF (a bare CR would start a new line there: left to the stdlib).
_HEADER_BLOCK = re.compile(r"(?:[!-9;-~]+:[^\r\n]*(?:\r\n|\n)(?:[ \t][^\r\n]*(?:\r\n|\n))*)*")
_HEADER = re.compile(r"([!-9;-~]+):[ \t]*([^\r\n]*(?:(?:\r\n|\n)[ \t][^\r\n]*)*)(?:\r\n|\n)")
_DELIMITER_TAIL = re.compile(r"(--)?[ \t]*(?:\r\n|\r|\n|\Z)")
_SIMPLE_CTE = ("7bit", "8bit", "binary")
# A Content-Type of a type and one boundary parameter, nothing the stdlib reads otherwise:
# no quote, backslash, "=" or ";" but where shown (ASCII only: \s is what str.strip() strips)
_SIMPLE_BOUNDARY = re.compile(
    r'[^;"\\=]*;\s*boundary\s*=\s*(?:"([^;"\\]*)"|([^;"\\\s]+))\s*', re.IGNORECASE
)


def parse_bytes(raw: bytes) -> Message:
    """The mail as the stdlib's compat32 parser reads it."""
    msg = fast_tree(raw)
    return msg if msg is not None else message_from_bytes(raw, policy=compat32)


def fast_tree(raw: bytes) -> Message | None:
    """The stdlib's tree of `raw`, built here when the mail has the common shape, else None."""
    return _fast(raw.decode("ascii", "surrogateescape"))  # as the stdlib's BytesParser does


def _fast(text: str) -> Message | None:
    root, body = _part(text, 0, len(text))
    if root is None:
        return None
    value = root.get("content-type")  # read once for the type and the boundary
    ctype = root.get_default_type() if value is None else _content_type(value)
    maintype = ctype.split("/")[0]  # as get_content_maintype() gives it
    if ctype == "multipart/digest" or maintype == "message":
        return None  # digest parts default to message/rfc822; message/* nests a parse
    if maintype != "multipart":
        root.set_payload(text[body:])
        return root
    boundary = _boundary(root, value)
    cte = str(root.get("content-transfer-encoding", "8bit")).lower()
    if boundary is None or cte not in _SIMPLE_CTE:
        return None  # the stdlib notes a defect here
    return _multipart(root, text, body, "--" + boundary)


def _content_type(value: object) -> str:
    """`get_content_type()` of a message whose Content-Type is `value` (as `get` gives it)."""
    ctype = str(value).partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def _boundary(root: Message, value: object) -> str | None:
    """`root.get_boundary()` (`value`: its Content-Type as `get` gives it), read straight
    from the common `type; boundary="…"` (the stdlib's parameter parse costs more than the
    rest of the split)."""
    if isinstance(value, str) and value.isascii():
        simple = _SIMPLE_BOUNDARY.fullmatch(value)
        if simple is not None:
            quoted, bare = simple.groups()
            # what the stdlib's unquoting (decode_params, get_param, collapse_rfc2231_value)
            # makes of it: quoted once more than the value, a bare value twice
            if quoted is not None:
                return unquote(quoted).rstrip()
            return unquote(unquote(bare)).rstrip()
    return root.get_boundary()


def _part(text: str, start: int, end: int) -> tuple[Message | None, int]:
    """The headers of the part in text[start:end] and where its body starts; None unless the
    headers are clean and end in an empty line."""
    block = _HEADER_BLOCK.match(text, start, end)
    if block is None:
        return None, 0
    stop = block.end()
    if text.startswith("\r\n", stop, end):
        body = stop + 2
    elif text.startswith("\n", stop, end):
        body = stop + 1
    else:
        return None, 0  # no empty line after the headers: a defect, or a bare CR
    msg = Message(policy=compat32)
    # what set_raw() stores for each (compat32 keeps name and value as they are), in one go
    msg._headers = _HEADER.findall(text, start, stop)  # type: ignore[attr-defined]
    return msg, body


def _delimiters(text: str, start: int, separator: str) -> list[tuple[int, int, bool]]:
    """(start, end incl. line end, is the close delimiter) of each delimiter line."""
    found = []
    position = text.find(separator, start)
    while position >= 0:
        if position == start or text[position - 1] in "\r\n":
            tail = _DELIMITER_TAIL.match(text, position + len(separator))
            if tail is not None:
                found.append((position, tail.end(), tail.group(1) is not None))
                if tail.group(1) is not None:
                    break  # the rest is the epilogue
                position = tail.end()
                position = text.find(separator, position)
                continue
        position = text.find(separator, position + 1)
    return found


def _multipart(root: Message, text: str, body: int, separator: str) -> Message | None:
    found = _delimiters(text, body, separator)
    if len(found) < 2 or found[0][2] or not found[-1][2]:
        return None  # no start, no parts or no close delimiter: defects
    if found[0][0] > body:  # the line end before the first delimiter belongs to it
        root.preamble = _without_line_end(text[body : found[0][0]])
    for (_, part_start, _), (part_end, _, _) in pairwise(found):
        if part_start == part_end:
            return None  # two delimiters in a row: the stdlib skips the second
        part, part_body = _part(text, part_start, part_end)
        if part is None or part.get_content_maintype() in ("multipart", "message"):
            return None
        part.set_payload(_without_line_end(text[part_body:part_end]))
        root.attach(part)
    root.epilogue = text[found[-1][1] :]
    return root


def _without_line_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\r", "\n")):
        return text[:-1]
    return text
