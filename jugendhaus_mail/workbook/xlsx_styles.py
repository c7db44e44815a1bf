"""Cell formats in xl/styles.xml, changed only by adding: a new cell format (`<xf>`) is a copy
of the one a cell already has, with a date number format or with `quotePrefix` set. Existing
formats keep their index, so every cell staff formatted looks as before.
"""

from __future__ import annotations

import html
import re

from jugendhaus_mail.workbook.xlsx_cells import xml_escape

# The format a date or date-time cell needs when its own format shows no date.
DATE_FORMATS = {"date": "DD.MM.YYYY", "datetime": "DD.MM.YYYY hh:mm"}
# Built-in number formats that show a date or time (ECMA-376 §18.8.30, with the East Asian ones).
_BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_FIRST_CUSTOM_ID = 164
_CELL_XFS = re.compile(rb"<(\w+:)?cellXfs\b[^>]*?(?:/>|>(.*?)</\1?cellXfs>)", re.S)
_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*?)(/>|>.*?</(?:\w+:)?xf>)", re.S)
_NUM_FMTS = re.compile(rb"<(\w+:)?numFmts\b[^>]*?(?:/>|>(.*?)</\1?numFmts>)", re.S)
_NUM_FMT = re.compile(rb"<(?:\w+:)?numFmt\b([^>]*?)/?>")
_STYLE_SHEET = re.compile(rb"<(\w+:)?styleSheet\b[^>]*>")
_ATTR = re.compile(rb"""\s([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_COUNT = re.compile(rb'\scount="\d*"')
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')  # text, escapes, colours, padding


def is_date_format(code: str) -> bool:
    """True when a number format code shows a date or time."""
    bare = _LITERALS.sub("", code).casefold()
    return "general" not in bare and any(token in bare for token in "dmyhs")


class Styles:
    """The cell formats of one styles part, able to add formats; `xml()` is the new part."""

    def __init__(self, xml: bytes) -> None:
        self._xml = xml
        match = _CELL_XFS.search(xml)
        self._xfs = match
        self._existing = [m.group(0) for m in _XF.finditer(match.group(2) or b"")] if match else []
        self._added: list[bytes] = []
        self._formats = self._number_formats()
        self._new_formats: dict[str, int] = {}
        self._clones: dict[tuple[str, str, str], str] = {}

    @property
    def changed(self) -> bool:
        return bool(self._added)

    def quoted(self, style: str | None) -> str | None:
        """A format like `style` with `quotePrefix="1"`: Excel keeps text typed as text when
        someone edits the cell (F2, Enter). None when there is no cellXfs to add to."""
        xf = self._xf(style)
        if xf is None:
            return None
        if _attrs(xf).get("quotePrefix") in ("1", "true"):
            return style or "0"
        return self._clone(style, "quote", "", xf, {"quotePrefix": "1"})

    def dated(self, style: str | None, column_type: str) -> str | None:
        """A format like `style` that shows a date (or date and time): `style` itself when it
        already does, else a copy with the column's format."""
        xf = self._xf(style)
        if xf is None:
            return style
        attrs = _attrs(xf)
        number = int(attrs.get("numFmtId", "0") or 0)
        if number in _BUILTIN_DATES or is_date_format(self._formats.get(number, "")):
            return style
        code = DATE_FORMATS[column_type]
        number = self._format_id(code)
        changes = {"numFmtId": str(number), "applyNumberFormat": "1"}
        return self._clone(style, "date", code, xf, changes)

    def xml(self) -> bytes:
        if not self._added or self._xfs is None:
            return self._xml
        xml, xfs = self._xml, self._xfs
        prefix = xfs.group(1) or b""
        body = b"".join([*self._existing, *self._added])
        head = xml[xfs.start() : xml.index(b">", xfs.start())].rstrip(b"/")
        count = b' count="%d"' % (len(self._existing) + len(self._added))
        head = _COUNT.sub(count, head, count=1) if _COUNT.search(head) else head + count
        block = head + b">" + body + b"</" + prefix + b"cellXfs>"
        xml = xml[: xfs.start()] + block + xml[xfs.end() :]
        return self._with_number_formats(xml)

    # --- internals --------------------------------------------------------------------------

    def _xf(self, style: str | None) -> bytes | None:
        index = int(style) if style and style.isdigit() else 0
        every = [*self._existing, *self._added]
        return every[index] if index < len(every) else (every[0] if every else None)

    def _clone(
        self, style: str | None, why: str, code: str, xf: bytes, changes: dict[str, str]
    ) -> str:
        key = (style or "0", why, code)
        if key not in self._clones:
            clone = _with_attributes(xf, changes)
            same = _signature(clone)
            every = [*self._existing, *self._added]
            found = next((i for i, old in enumerate(every) if _signature(old) == same), None)
            if found is None:  # a copy made by an earlier write is used again
                self._added.append(clone)
                found = len(every)
            self._clones[key] = str(found)
        return self._clones[key]

    def _number_formats(self) -> dict[int, str]:
        match = _NUM_FMTS.search(self._xml)
        formats: dict[int, str] = {}
        for fmt in _NUM_FMT.finditer(match.group(2) or b"" if match else b""):
            attrs = _attrs(fmt.group(0))
            if attrs.get("numFmtId", "").isdigit():
                formats[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
        return formats

    def _format_id(self, code: str) -> int:
        for number, existing in self._formats.items():
            if existing == code:
                return number
        if code not in self._new_formats:
            used = [*self._formats, *self._new_formats.values(), _FIRST_CUSTOM_ID - 1]
            self._new_formats[code] = max(used) + 1
        return self._new_formats[code]

    def _with_number_formats(self, xml: bytes) -> bytes:
        if not self._new_formats:
            return xml
        entries = b"".join(
            b'<numFmt numFmtId="%d" formatCode="%s"/>' % (number, xml_escape(code).encode())
            for code, number in self._new_formats.items()
        )
        count = len(self._formats) + len(self._new_formats)
        match = _NUM_FMTS.search(xml)
        if match is None:
            sheet = _STYLE_SHEET.search(xml)
            assert sheet is not None  # a cellXfs was found, so there is a styleSheet
            block = b'<numFmts count="%d">%s</numFmts>' % (count, entries)
            return xml[: sheet.end()] + block + xml[sheet.end() :]
        prefix = match.group(1) or b""
        if prefix:
            entries = entries.replace(b"<numFmt ", b"<" + prefix + b"numFmt ")
        head = xml[match.start() : xml.index(b">", match.start())].rstrip(b"/")
        head = _COUNT.sub(b' count="%d"' % count, head, count=1)
        block = head + b">" + (match.group(2) or b"") + entries + b"</" + prefix + b"numFmts>"
        return xml[: match.start()] + block + xml[match.end() :]


def _attrs(element: bytes) -> dict[str, str]:
    head = element[: element.index(b">")]
    return {
        m.group(1).decode(): html.unescape((m.group(2) or m.group(3) or b"").decode())
        for m in _ATTR.finditer(head)
    }


def _signature(xf: bytes) -> tuple[frozenset[tuple[str, str]], bytes]:
    """What makes two <xf> the same format, whatever the attribute order."""
    end = xf.index(b">")
    return frozenset(_attrs(xf).items()), xf[end + 1 :].strip()


def _with_attributes(xf: bytes, changes: dict[str, str]) -> bytes:
    """The <xf> element with these attributes set (replaced where present, else added)."""
    end = xf.index(b">")
    closing = b"/" if xf[end - 1 : end] == b"/" else b""
    head = xf[: end - len(closing)]
    for name, value in changes.items():
        pattern = re.compile(rb"\s" + re.escape(name.encode()) + rb'\s*=\s*("[^"]*"|\'[^\']*\')')
        attribute = b' %s="%s"' % (name.encode(), value.encode())
        head, found = pattern.subn(attribute, head, count=1)
        if not found:
            head += attribute
    return head + closing + xf[end:]
