"""Cell values in and out of SpreadsheetML: text made safe for a cell, Excel serial dates,
the <c> elements the writer emits, and the text of cells and shared strings it reads."""

from __future__ import annotations

import html
import math
import re
from datetime import date, datetime

from jugendhaus_mail.workbook.model import CellValue

EXCEL_MAX_CHARS = 32_767  # Excel's limit per cell, counted in UTF-16 code units
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_EXACT_INT = 10**15  # Excel keeps 15 significant digits; longer numbers are written as text
SHORT_TEXT = EXCEL_MAX_CHARS // 2  # text no longer than this fits a cell, whatever it holds

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_T = re.compile(rb"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_SI_START = re.compile(rb"<si[\s>/]")
_PLAIN_T = (b"<t>", b"<t ")
_V = re.compile(rb"<v\b[^>]*?(?:/>|>(.*?)</v>)", re.S)
_DAY0 = date(1899, 12, 31).toordinal()  # serial 0 (1900 system)
_PHANTOM = date(1900, 3, 1).toordinal()  # from here on Excel counts its 29 Feb 1900
_DAY0_1904 = date(1904, 1, 1).toordinal()  # serial 0 (1904 system)


# --- text ------------------------------------------------------------------------------------


def xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def clean_text(text: str) -> str:
    """What may go into a cell: no XML-illegal characters, at most Excel's cell limit."""
    if not text.isprintable():  # printable text holds none of _ILLEGAL (Cc, Cs, Cn): no search
        text = _ILLEGAL.sub("", text)
    if len(text) > SHORT_TEXT and len(text.encode("utf-16-le")) > 2 * EXCEL_MAX_CHARS:
        units = 0
        for index, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > EXCEL_MAX_CHARS:
                return text[:index]
    return text


def decode_text(raw: bytes) -> str:
    """XML character data to text, including Excel's _xHHHH_ escapes."""
    text = raw.decode("utf-8")
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def rich_text(inner: bytes) -> str:
    """The text of an <is> or <si>: all runs, without phonetic hints."""
    if inner.endswith(b"</t>") and inner[:3] in _PLAIN_T and inner.count(b"<") == 2:
        return decode_text(inner[inner.index(b">") + 1 : -4])  # one plain run, the usual case
    if b"<rPh" in inner:
        inner = _PHONETIC.sub(b"", inner)
    return "".join(decode_text(m.group(1) or b"") for m in _T.finditer(inner))


def cell_value(inner: bytes) -> bytes | None:
    """The raw content of a cell's <v> element, None without one."""
    if inner.startswith(b"<v>") and inner.endswith(b"</v>") and inner.count(b"<") == 2:
        return inner[3:-4]  # the usual case, without a search
    value = _V.search(inner)
    return value.group(1) or b"" if value else None


def value_text(kind: str, inner: bytes | None, shared: dict[int, str]) -> str | None:
    if not inner:
        return None
    if kind == "inlineStr":
        return rich_text(inner)
    raw = cell_value(inner)
    if not raw:
        return None
    if kind == "s":
        return shared.get(int(raw))
    text = decode_text(raw)
    if kind == "n":
        try:
            number = float(text)
        except ValueError:
            return text
        return str(int(number)) if number.is_integer() else text
    return text


def shared_index(kind: str, inner: bytes | None) -> int | None:
    """The sharedStrings.xml entry a cell of type `kind` points to, if any."""
    raw = cell_value(inner) if kind == "s" and inner else None
    return int(raw) if raw else None


def shared_strings(content: bytes | None, wanted: set[int]) -> dict[int, str]:
    """Only the entries of sharedStrings.xml that are asked for."""
    result: dict[int, str] = {}
    if not content or not wanted:
        return result
    last = max(wanted)
    for index, match in enumerate(_SI_START.finditer(content)):
        if index in wanted:
            tag_end = content.index(b">", match.start())
            if content[tag_end - 1] == 0x2F:  # "/": <si/>
                result[index] = ""
            else:
                result[index] = rich_text(content[tag_end + 1 : content.index(b"</si>", tag_end)])
        if index >= last:
            break
    return result


# --- writing cells --------------------------------------------------------------------------


def excel_serial(value: date, date1904: bool) -> float | None:
    """The Excel serial number of a date or datetime (wall-clock time); None if unrepresentable."""
    ordinal = value.toordinal()  # of the (wall-clock) day, for a datetime too
    if date1904:
        days = ordinal - _DAY0_1904
    else:
        days = ordinal - _DAY0
        days += 1 if ordinal >= _PHANTOM else 0  # Excel's phantom 29 Feb 1900
    if days < (0 if date1904 else 1):
        return None
    if not isinstance(value, datetime):
        return float(days)
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return days + seconds / 86_400


def cell_xml(ref: str, style: str | None, value: CellValue, date1904: bool) -> bytes:
    """One <c> element. Text is always an inline string: never a formula, never an error."""
    return styled_cell_xml(ref, style_attribute(style), value, date1904)


def style_attribute(style: str | None) -> str:
    return f' s="{xml_escape(style)}"' if style is not None else ""


def styled_cell_xml(ref: str, style_attr: str, value: CellValue, date1904: bool) -> bytes:
    """`cell_xml` with the style attribute already rendered (the same for a whole column)."""
    if isinstance(value, bool):
        return f'<c r="{ref}"{style_attr} t="b"><v>{int(value)}</v></c>'.encode()
    number = _as_number(value, date1904)
    if number is not None:
        return f'<c r="{ref}"{style_attr}><v>{number}</v></c>'.encode()
    text = _as_text(value)
    if not text:
        return f'<c r="{ref}"{style_attr}/>'.encode()
    body = f'<is><t xml:space="preserve">{text_body(text)}</t></is>'
    return f'<c r="{ref}"{style_attr} t="inlineStr">{body}</c>'.encode()


def text_body(text: str) -> str:
    """Text already cleaned (`clean_text`) as it stands between <t> and </t>."""
    if "_x" in text:
        text = _OOXML_ESCAPE.sub(r"_x005F_x\1_", text)  # keep a literal "_x0041_" literal
    if "&" in text or "<" in text or ">" in text or '"' in text or "\r" in text:
        text = xml_escape(text)  # most text needs none: five searches instead of five copies
    return text


def holds(kind: str, inner: bytes | None, value: CellValue, date1904: bool) -> bool:
    """True when a cell (type and inner XML) already shows `value`: writing it would change
    nothing. Shared strings are not looked up; such cells count as different."""
    number = _as_number(value, date1904) if not isinstance(value, bool) else None
    if number is not None:
        raw = cell_value(inner) if inner and kind == "n" else None
        try:
            return raw is not None and float(raw) == float(number)
        except ValueError:
            return False
    text = _as_text(value)
    if not text:
        # a shared-string cell is not looked up, so it may hold text: never assume it empty
        return not inner or (kind != "s" and value_text(kind, inner, {}) in (None, ""))
    return kind == "inlineStr" and inner is not None and rich_text(inner) == text


def looks_like_formula(value: CellValue) -> bool:
    """True for text Excel would take as a formula when someone edits the cell."""
    return isinstance(value, str) and clean_text(value).startswith(FORMULA_STARTS)


def _as_number(value: CellValue, date1904: bool) -> str | None:
    if isinstance(value, int) and abs(value) < MAX_EXACT_INT:
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, date):
        serial = excel_serial(value, date1904)
        if serial is not None:
            return str(int(serial)) if serial.is_integer() else repr(serial)
    return None


def _as_text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return clean_text(str(value))
