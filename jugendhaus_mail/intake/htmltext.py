"""Readable text from mail bytes: charsets of bodies and RFC 2047 headers, HTML to text,
and removal of control characters.

Mail declares its charset wrongly or not at all. The rules here are made for German office mail:
valid UTF-8 wins over a declared Latin charset (Outlook and webmailers get this wrong), Latin-1
is read as Windows-1252 (as browsers do), and undeclared 8-bit text goes through
charset-normalizer, with its Latin guesses mapped to Windows-1252 because that is what German
senders use.

Why one module: every way text comes out of a mail (body, header word, HTML part) goes through
the same charset rules and the same cleaning; split, a fix to one would miss the others.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import html
import re
from html.parser import HTMLParser

MAX_DECODE_BYTES = 1_000_000
MAX_HTML_CHARS = 500_000  # markup beyond this is not read (html.parser needs ~1 s per MB)
MAX_TEXT_CHARS = 200_000  # text output of one HTML part

# Codecs that are not text charsets or turn mail text into something else entirely.
_REFUSED_CODECS = {
    "base64", "bz2", "hex", "quopri", "rot-13", "uu", "zlib", "idna", "punycode", "undefined",
    "unicode-escape", "raw-unicode-escape", "mbcs", "oem", "utf-7",
}  # fmt: skip
# Declared charset -> the superset that decodes what senders really put in.
_SUPERSETS = {
    "ascii": "cp1252", "iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "euc_kr": "cp949", "shift_jis": "cp932", "iso8859-9": "cp1254",
}  # fmt: skip
_LATIN_GUESSES = {"cp1250", "cp1252", "latin_1", "iso8859_15", "iso8859_2", "cp1254", "mac_roman"}
# Unicode category Cc, lone surrogates, bidi overrides/isolates and the two non-characters
_UNWANTED_RANGES = ((0x00, 0x1F), (0x7F, 0x9F), (0xD800, 0xDFFF), (0x200E, 0x200F),
                    (0x202A, 0x202E), (0x2066, 0x2069), (0xFFFE, 0xFFFF))  # fmt: skip
_LINE_SEPARATORS = re.compile("[\u2028\u2029\x85]")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([QqBb])\?([^?]*)\?=")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def strip_controls(text: str, keep: str = "") -> str:
    """Drop control characters, lone surrogates, non-characters and bidi overrides.

    Characters in `keep` (e.g. "\\n\\t") stay. Line and paragraph separators become "\\n" when
    "\\n" is kept, else a space.
    """
    if type(text) is str and _nothing_to_strip(text, keep):
        return text  # what the two substitutions below give when neither finds anything
    text = _LINE_SEPARATORS.sub("\n" if "\n" in keep else " ", text)
    return _unwanted(keep).sub("", text)


def _nothing_to_strip(text: str, keep: str) -> bool:
    """True when `text` holds no character `strip_controls` drops or replaces: every one of
    them (controls, surrogates, bidi marks, non-characters, line separators) is a character
    `str.isprintable` refuses, so a text that is printable but for kept characters other than
    line separators has none (tests/test_speed_mailpath_text.py checks every one)."""
    if text.isprintable():
        return True
    for char in _kept_plain(keep):
        text = text.replace(char, "")
    return text.isprintable()


@functools.cache
def _kept_plain(keep: str) -> str:
    """The kept characters that `strip_controls` leaves as they are (a line separator is
    replaced even when kept)."""
    return "".join(c for c in dict.fromkeys(keep) if not _LINE_SEPARATORS.match(c))


@functools.cache
def _unwanted(keep: str) -> re.Pattern[str]:
    """The characters `strip_controls` drops, less those in `keep`, as one character class."""
    kept = {ord(c) for c in keep}
    ranges: list[str] = []
    for low, high in _UNWANTED_RANGES:
        code = low
        while code <= high:
            if code in kept:
                code += 1
                continue
            end = code
            while end + 1 <= high and end + 1 not in kept:
                end += 1
            ranges.append(f"\\u{code:04x}-\\u{end:04x}")
            code = end + 1
    return re.compile("[" + "".join(ranges) + "]")


def resolve_charset(name: str | None) -> str | None:
    """Python codec name for a declared charset, or None when it is unknown or unusable."""
    if not name:
        return None
    if type(name) is str and name in _RESOLVED:  # mail repeats a few labels: looked up once
        return _RESOLVED[name]
    codec = _resolve(name)
    if type(name) is str:
        if len(_RESOLVED) >= 1024:
            _RESOLVED.clear()
        _RESOLVED[name] = codec
    return codec


_RESOLVED: dict[str, str | None] = {}  # declared charset -> what `_resolve` made of it


def _resolve(name: str) -> str | None:
    label = name.strip().strip("\"'").lower().split("*", 1)[0]
    for candidate in (label, label.replace("_", "-"), re.sub(r"-[ie]$", "", label)):
        try:
            codec = codecs.lookup(candidate).name
        except (LookupError, ValueError, TypeError):
            continue
        if codec in _REFUSED_CODECS:
            return None
        return _SUPERSETS.get(codec, codec)
    return None


def _try_decode(data: bytes, codec: str, final: bool) -> str | None:
    if final and codec == "utf-8" and type(data) is bytes:
        try:  # the incremental decoder's result for the whole input, without making one
            return data.decode("utf-8")
        except Exception:
            return None
    try:
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        return str(decoder.decode(data, final=final))
    except Exception:  # any codec can fail on hostile bytes; the caller falls back
        return None


def _western(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # the five unassigned bytes become C1 controls


def decode_unknown(data: bytes, final: bool = True) -> str:
    """Decode bytes whose charset is missing, unknown or wrong."""
    if data.isascii():
        if b"\x1b$" in data or b"\x1b(" in data:
            return _try_decode(data, "iso2022_jp", final) or data.decode("ascii")
        return data.decode("ascii")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
                       (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return _try_decode(data, codec, final) or _western(data)
    text = _try_decode(data, "utf-8", final)
    if text is not None:
        return text
    if len(data) >= 64:  # shorter samples give charset-normalizer too little to go on
        guessed = _guess(data)
        if guessed is not None:
            return guessed
    return _western(data)


def _guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    try:
        best = from_bytes(data[:200_000], cp_exclusion=["utf_16", "utf_32", "utf_7"]).best()
    except Exception:  # the detector is a heuristic; never let it break intake
        return None
    if best is None or best.encoding in _LATIN_GUESSES:
        return None
    return _try_decode(data, best.encoding, True)


def decode_text(data: bytes, declared: str | None, is_html: bool = False) -> tuple[str, str | None]:
    """Decode a text part. Returns the text and a defect description (German) or None."""
    final = len(data) <= MAX_DECODE_BYTES
    data = data[:MAX_DECODE_BYTES]
    if not declared and is_html:
        match = _META_CHARSET.search(data[:4096])
        declared = match.group(1).decode("ascii", "replace") if match else None
    codec = resolve_charset(declared)
    if codec is None:
        label = re.sub(r"[^A-Za-z0-9._:-]", "?", declared[:40]) if declared else ""
        defect = f"Unbekannter Zeichensatz '{label}'" if declared else None
        return decode_unknown(data, final), defect
    if data.isascii() and not codec.startswith(("utf-16", "utf-32", "iso2022")):
        return data.decode("ascii"), None
    if codec == "cp1252" or codec.startswith("iso8859"):
        as_utf8 = _try_decode(data, "utf-8", final)
        if as_utf8 is not None:  # multi-byte UTF-8 almost never happens by chance in Latin text
            return as_utf8, "Zeichensatz falsch angegeben (Text ist UTF-8)"
        return (_western(data) if codec == "cp1252" else data.decode(codec, "replace")), None
    text = _try_decode(data, codec, final)
    if text is not None:
        return text, None
    return decode_unknown(data, final), "Zeichensatz falsch angegeben"


def raw_bytes(text: str) -> bytes:
    # The parser keeps 8-bit header bytes as surrogate escapes; this gets the bytes back.
    return text.encode("utf-8", "surrogateescape")


def decode_header_text(value: str) -> str:
    """RFC 2047 decoding that also copes with raw 8-bit, unknown charsets and broken words.

    Adjacent encoded words of one charset are joined before decoding, so a character split
    across two words survives; whitespace between encoded words is dropped (RFC 2047 6.2).
    """
    if value.isascii() and "=?" not in value and "\x1b" not in value:
        return value  # plain ASCII: what the decoding below gives back unchanged
    pieces: list[tuple[str | None, bytes]] = []  # (charset or None for literal text, bytes)
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        literal = value[pos : match.start()]
        previous_encoded = bool(pieces) and pieces[-1][0] is not None
        if literal and not (literal.isspace() and previous_encoded):
            pieces.append((None, raw_bytes(literal)))
        charset, data = match.group(1).lower(), _decode_word(match.group(2), match.group(3))
        if pieces and pieces[-1][0] == charset:
            pieces[-1] = (charset, pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        pos = match.end()
    if pos < len(value):
        pieces.append((None, raw_bytes(value[pos:])))
    return "".join(_decode_piece(charset, data) for charset, data in pieces)


def _decode_word(encoding: str, text: str) -> bytes:
    if encoding in "Bb":
        clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
        clean = clean[: len(clean) - 1] if len(clean) % 4 == 1 else clean
        try:
            return base64.b64decode(clean + "=" * (-len(clean) % 4))
        except (binascii.Error, ValueError):
            return raw_bytes(text)
    data = raw_bytes(text).replace(b"_", b" ")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes.fromhex(m.group(1).decode()), data)


def _decode_piece(charset: str | None, data: bytes) -> str:
    codec = resolve_charset(charset) if charset else None
    if codec is not None:
        try:
            return data.decode(codec)
        except Exception:  # wrong or hostile charset label: guess instead
            pass
    return decode_unknown(data)


def tidy_text(text: str) -> str:
    """Normalise line ends, drop control characters, trailing blanks and runs of empty lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_controls(text, keep="\n\t")
    text = "\n".join([line.rstrip() for line in text.split("\n")])
    if "\n\n\n" in text:  # else the pattern finds nothing (a search from every position)
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip("\n")


def unflow(text: str, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676)."""
    out: list[str] = []
    carry = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- " and not line.startswith(">"):
            carry += line[:-1] if delsp else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main",
    "nav", "ol", "p", "pre", "section", "table", "ul",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "title", "template", "xml", "object", "svg"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip: dict[str, int] = {}
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.pre = 0
        self.quote = 0
        self.cells = 0
        self.line_paragraph = False  # inside an Outlook <p class=MsoNormal>
        self.size = 0

    def _ends(self, n: int) -> None:
        """Make the output end with at least `n` line breaks (none at the very start)."""
        tail = "".join(self.out[-3:])
        have = len(tail) - len(tail.rstrip("\n"))
        if self.out and have < n:
            self.out.append("\n" * (n - have))

    def _at_line_start(self) -> bool:
        return not self.out or self.out[-1].endswith("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skip.clear()  # an unclosed <title> must not swallow the whole body
        if tag in _SKIP_TAGS:
            self.skip[tag] = self.skip.get(tag, 0) + 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self._list_item()
        elif tag in ("td", "th"):
            if self.cells and not self._at_line_start():
                self.out.append("\t")
            self.cells += 1
        elif tag == "tr":
            self.cells = 0
            self._ends(1)
        elif tag in _BLOCK_TAGS:
            self._block_start(tag, dict(attrs).get("class") or "")

    def _block_start(self, tag: str, css_class: str) -> None:
        # Outlook writes every line as <p class=MsoNormal>: treat those as lines, not paragraphs
        if tag == "p":
            self.line_paragraph = "msonormal" in css_class.lower()
        as_line = tag in ("div", "dd", "dt") or (tag in ("ul", "ol") and bool(self.lists))
        self._ends(1 if as_line or (tag == "p" and self.line_paragraph) else 2)
        if tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 0])
        elif tag == "pre":
            self.pre += 1
        elif tag == "blockquote":
            self.quote += 1

    def _list_item(self) -> None:
        self._ends(1)
        if not self.lists:
            self.lists.append([False, 0])
        current = self.lists[-1]
        current[1] += 1
        marker = f"{current[1]}. " if current[0] else "- "
        self._text("  " * min(len(self.lists) - 1, 8) + marker, raw=True)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            if self.skip.get(tag):
                self.skip[tag] -= 1
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._ends(2 if not self.lists else 1)
        elif tag == "pre" and self.pre:
            self.pre -= 1
            self._ends(2)
        elif tag == "blockquote" and self.quote:
            self._ends(1)
            self.quote -= 1
            self._ends(1)
        elif tag == "p":
            self._ends(1 if self.line_paragraph else 2)
            self.line_paragraph = False
        elif tag in _BLOCK_TAGS or tag == "li":
            self._ends(1 if tag in ("div", "li", "dd", "dt", "table") else 2)

    def handle_data(self, data: str) -> None:
        if any(self.skip.values()):
            return
        self._text(data, raw=bool(self.pre))

    def _text(self, data: str, raw: bool) -> None:
        if not raw:
            data = _SPACES.sub(" ", data.replace("\xa0", " "))
            if self._at_line_start() or self.out[-1].endswith((" ", "\t")):
                data = data.lstrip(" ")
        if not data or self.size > MAX_TEXT_CHARS:
            return
        if self.quote:
            prefix = "> " * min(self.quote, 8)
            if self._at_line_start():
                data = prefix + data
            data = data.replace("\n", "\n" + prefix)
        self.out.append(data)
        self.size += len(data)


def html_to_text(markup: str) -> str:
    """Readable plain text from HTML: paragraphs, line breaks, lists and table rows kept;
    scripts and styles dropped; entities decoded; blockquotes become "> " quoted lines."""
    markup = markup[:MAX_HTML_CHARS]
    for attempt in (markup, markup.replace("<![", "&lt;![")):
        parser = _TextExtractor()
        try:
            parser.feed(attempt)
            parser.close()
        except Exception:  # html.parser asserts on some malformed declarations
            continue
        return tidy_text("".join(parser.out))
    stripped = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", markup)
    return tidy_text(html.unescape(stripped))
