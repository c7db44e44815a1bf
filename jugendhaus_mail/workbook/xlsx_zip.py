"""The .xlsx package as the zip it is: read members, and rebuild it with a few parts replaced
while every other member is copied as the very same bytes (header, compressed data, descriptor).

Only plain zips are copied raw; anything unusual (zip64, leading bytes, odd compression of a
replaced part) takes the slower path through `zipfile`, which still keeps each member's content,
name, order and compression type.

Why one module: reading a member and copying it back raw depend on the same parsed central
directory; split, the byte-for-byte guarantee would be spread over two files.
"""

from __future__ import annotations

import io
import itertools
import posixpath
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from jugendhaus_mail.errors import WorkbookError, WorkbookUnsafe
from jugendhaus_mail.workbook.model import header_key
from jugendhaus_mail.workbook.schema import Sheet
from jugendhaus_mail.workbook.xlsx_deflate import (
    Piece,
    Precompressed,
    StretchCompressor,
    crc32_combine,
)
from jugendhaus_mail.workbook.xlsx_sheet import Area

_EOCD = struct.Struct("<IHHHHIIH")  # end of central directory
_CDIR = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory record
_LOCAL = struct.Struct("<IHHHHHIIIHH")  # local file header
_EOCD_SIG, _CDIR_SIG, _LOCAL_SIG, _DESC_SIG = 0x06054B50, 0x02014B50, 0x04034B50, 0x08074B50
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")  # encrypted packages and .xls files
_UTF8_NAME = 0x0800
_DATA_DESCRIPTOR = 0x0008
_STORED, _DEFLATED = 0, 8
_CORRUPT = (
    "Die Arbeitsmappe ist keine gültige Excel-Datei (ZIP-Struktur beschädigt). "
    "Bitte die letzte Sicherung prüfen oder die Datei in Excel öffnen und neu speichern."
)

Chunks = Iterable[Piece]  # a Precompressed piece is copied as it is where the part is deflated
CHUNK = 1 << 20  # a large part is read and written in pieces of this size


class _NotPlain(Exception):
    """The zip uses a feature the raw copier does not handle; use the zipfile path."""


@dataclass(frozen=True)
class _Member:
    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    local_offset: int
    data_offset: int
    entry_end: int
    central: bytes  # the original central directory record, name/extra/comment included


class ZipPackage:
    """Read-only view of the workbook's zip, able to emit a copy with some parts replaced."""

    def __init__(self, data: bytes) -> None:
        if data.startswith(_OLE_SIGNATURE):
            raise WorkbookError(
                "Die Arbeitsmappe ist mit einem Kennwort verschlüsselt oder im alten .xls-Format "
                "gespeichert; so kann der Dienst sie nicht bearbeiten. Bitte in Excel den "
                "Kennwortschutz zum Öffnen entfernen bzw. als .xlsx speichern."
            )
        self._data = data
        self._view = memoryview(data)
        try:
            self._members: list[_Member] | None
            self._members, self._eocd = _parse_plain(data)
        except (_NotPlain, struct.error, UnicodeDecodeError):
            self._members, self._eocd = None, b""
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise WorkbookError(_CORRUPT) from exc
        self._names = {info.filename.lower(): info.filename for info in self._zip.infolist()}
        # members whose stream was read to the end with a good checksum: the bytes cannot
        # change, so a later pass (the writer makes several) need not compute it again
        self._checked: set[str] = set()

    def find(self, name: str) -> str | None:
        """The member's real name (part names are case-insensitive in OPC), or None."""
        return self._names.get(name.lstrip("/").lower())

    def read(self, name: str) -> bytes:
        real = self.find(name)
        if real is None:
            raise WorkbookError(f"Teil {name!r} fehlt in der Arbeitsmappe. {_CORRUPT}")
        if self._members is not None:
            member = next(m for m in self._members if m.name == real)
            return _inflate(self._view, member)
        try:
            return self._zip.read(real)
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            raise WorkbookError(_CORRUPT) from exc

    def stream(self, name: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The member's content in pieces of about `chunk_size` bytes, inflated as it is read,
        so a large part is never held whole; its checksum is verified at the end."""
        real = self.find(name)
        if real is None:
            raise WorkbookError(f"Teil {name!r} fehlt in der Arbeitsmappe. {_CORRUPT}")
        member = next((m for m in self._members or () if m.name == real), None)
        try:
            if member is None:
                with self._zip.open(real) as source:
                    while piece := source.read(chunk_size):
                        yield piece
                return
            yield from _inflate_stream(self._view, member, chunk_size, real not in self._checked)
            self._checked.add(real)
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            raise WorkbookError(_CORRUPT) from exc

    def size(self, name: str) -> int:
        """The member's size uncompressed, as the zip directory says (0 if it is missing)."""
        real = self.find(name)
        return self._zip.getinfo(real).file_size if real is not None else 0

    @property
    def names(self) -> tuple[str, ...]:
        """Every member's name, in zip order."""
        return tuple(info.filename for info in self._zip.infolist())

    def rebuild(
        self, replacements: Mapping[str, Chunks], added: Mapping[str, bytes] | None = None
    ) -> bytes:
        """Return a new zip: replaced members get the given content, all others stay as they
        are; `added` members (new names) go after them."""
        real = {self.find(name) or name: chunks for name, chunks in replacements.items()}
        if self._members is not None and all(
            m.method in (_STORED, _DEFLATED) for m in self._members if m.name in real
        ):
            rebuilt = _rebuild_plain(self._view, self._members, self._eocd, real)
        else:
            rebuilt = self._rebuild_zipfile(real)
        return _with_members(rebuilt, added) if added else rebuilt

    def _rebuild_zipfile(self, real: dict[str, Chunks]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            target.comment = self._zip.comment
            for info in self._zip.infolist():
                content = _joined(real[info.filename]) if info.filename in real else None
                if content is None:
                    content = self._zip.read(info.filename)
                target.writestr(_fresh_info(info), content, compress_type=info.compress_type)
        return out.getvalue()


def _joined(chunks: Chunks) -> bytes:
    return b"".join(c.content() if isinstance(c, Precompressed) else c for c in chunks)


def _with_members(data: bytes, added: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in added.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _fresh_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A copy of `info` for writing: same name, time, attributes and extras, minus the zip64
    field (zipfile adds its own when needed; a stale one would carry the old sizes)."""
    fresh = zipfile.ZipInfo(info.filename, info.date_time)
    fresh.compress_type, fresh.comment = info.compress_type, info.comment
    fresh.create_system, fresh.external_attr = info.create_system, info.external_attr
    extra, position = b"", 0
    while position + 4 <= len(info.extra):
        kind, size = struct.unpack_from("<HH", info.extra, position)
        if kind != 0x0001:
            extra += info.extra[position : position + 4 + size]
        position += 4 + size
    fresh.extra = extra
    return fresh


def _parse_plain(data: bytes) -> tuple[list[_Member], bytes]:
    eocd_at = data.rfind(struct.pack("<I", _EOCD_SIG), max(0, len(data) - 65_557))
    if eocd_at < 0 or data.rfind(_ZIP64_LOCATOR_SIG, max(0, eocd_at - 20), eocd_at) >= 0:
        raise _NotPlain
    _sig, disk, cd_disk, _n_disk, count, cd_size, cd_offset, _clen = _EOCD.unpack_from(
        data, eocd_at
    )
    if disk or cd_disk or cd_offset + cd_size != eocd_at or count == 0xFFFF:
        raise _NotPlain
    members, pos = [], cd_offset
    for _ in range(count):
        members.append(_parse_central(data, pos))
        pos += len(members[-1].central)
    if pos != eocd_at:
        raise _NotPlain
    ordered = sorted(members, key=lambda m: m.local_offset)
    if ordered and ordered[0].local_offset != 0:
        raise _NotPlain  # leading bytes (e.g. a self-extractor stub)
    for before, after in itertools.pairwise(ordered):
        if before.entry_end > after.local_offset:
            raise _NotPlain
    if ordered and ordered[-1].entry_end > cd_offset:
        raise _NotPlain
    return members, data[eocd_at:]


def _parse_central(data: bytes, pos: int) -> _Member:
    fields = _CDIR.unpack_from(data, pos)
    sig, _made, _need, flags, method, _t, _d, crc, csize, usize, nlen, elen, clen = fields[:13]
    local_offset = fields[16]
    if sig != _CDIR_SIG or 0xFFFFFFFF in (csize, usize, local_offset) or flags & 0x0001:
        raise _NotPlain
    end = pos + _CDIR.size + nlen + elen + clen
    raw_name = data[pos + _CDIR.size : pos + _CDIR.size + nlen]
    name = raw_name.decode("utf-8" if flags & _UTF8_NAME else "cp437")
    lsig, *_rest, lnlen, lelen = _LOCAL.unpack_from(data, local_offset)
    name_at = local_offset + _LOCAL.size
    data_offset = name_at + lnlen + lelen
    if lsig != _LOCAL_SIG or data[name_at : name_at + lnlen] != raw_name:
        raise _NotPlain
    entry_end = data_offset + csize
    if flags & _DATA_DESCRIPTOR:
        has_sig = struct.unpack_from("<I", data, entry_end)[0] == _DESC_SIG
        entry_end += 16 if has_sig else 12
    return _Member(
        name, method, flags, crc, csize, usize, local_offset, data_offset, entry_end, data[pos:end]
    )


def _inflate(view: memoryview, member: _Member) -> bytes:
    raw = view[member.data_offset : member.data_offset + member.compressed_size]
    try:
        stored = member.method == _STORED
        content = bytes(raw) if stored else zlib.decompress(raw, -15, max(member.size, 1))
    except zlib.error as exc:
        raise WorkbookError(_CORRUPT) from exc
    if zlib.crc32(content) != member.crc or len(content) != member.size:
        raise WorkbookError(_CORRUPT)
    return content


def _inflate_stream(
    view: memoryview, member: _Member, chunk_size: int, check: bool = True
) -> Iterator[bytes]:
    raw = view[member.data_offset : member.data_offset + member.compressed_size]
    crc, size = 0, 0
    if member.method == _STORED:
        pieces: Iterator[bytes] = (
            bytes(raw[at : at + chunk_size]) for at in range(0, len(raw), chunk_size)
        )
    else:
        pieces = _inflated(raw, chunk_size)
    for piece in pieces:
        if check:
            crc = zlib.crc32(piece, crc)
        size += len(piece)
        yield piece
    if (check and crc != member.crc) or size != member.size:
        raise WorkbookError(_CORRUPT)


def _inflated(raw: memoryview, chunk_size: int) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-15)
    step = max(chunk_size // 4, 1)  # compressed input: XML inflates about 4 to 8 times
    for at in range(0, len(raw), step):
        piece = inflater.decompress(raw[at : at + step], chunk_size)
        if piece:
            yield piece
        while inflater.unconsumed_tail:
            piece = inflater.decompress(inflater.unconsumed_tail, chunk_size)
            if piece:
                yield piece
    if rest := inflater.flush():
        yield rest


def _rebuild_plain(
    view: memoryview, members: list[_Member], eocd_tail: bytes, real: dict[str, Chunks]
) -> bytes:
    """Written into one buffer as it goes (a replaced part straight from its compressor), so
    the new package is in memory once, not once in pieces and again joined."""
    out = io.BytesIO()
    central: list[bytes] = []
    new_offsets: dict[str, int] = {}
    new_central: dict[str, bytes] = {}
    for member in sorted(members, key=lambda m: m.local_offset):
        new_offsets[member.name] = out.tell()
        if member.name in real:
            new_central[member.name] = _encode_member(member, real[member.name], out)
        else:
            out.write(view[member.local_offset : member.entry_end])
    offset = out.tell()
    for member in members:
        record = new_central.get(member.name, member.central)
        central.append(record[:42] + struct.pack("<I", new_offsets[member.name]) + record[46:])
    cd_bytes = b"".join(central)
    eocd = bytearray(eocd_tail)
    struct.pack_into("<II", eocd, 12, len(cd_bytes), offset)
    out.write(cd_bytes)
    out.write(eocd)
    return out.getvalue()


def _encode_member(member: _Member, chunks: Chunks, out: io.BytesIO) -> bytes:
    """Write the member with new content (local header, compressed body) to `out`; return its
    new central directory record."""
    header_at = out.tell()
    nlen = struct.unpack_from("<H", member.central, 28)[0]
    name = member.central[46 : 46 + nlen]  # the local header gets the name only, no extra field
    out.write(bytes(_LOCAL.size) + name)  # the header is filled in once the sizes are known
    crc, size, compressed = 0, 0, 0
    if member.method == _DEFLATED:
        crc, size, compressed = _deflate(chunks, out)
    else:
        for chunk in chunks:
            plain = chunk.content() if isinstance(chunk, Precompressed) else chunk
            crc, size = zlib.crc32(plain, crc), size + len(plain)
            compressed += out.write(plain)
    flags = member.flags & _UTF8_NAME  # no data descriptor: sizes are in the header
    record = bytearray(member.central)
    struct.pack_into("<H", record, 8, flags)
    struct.pack_into("<III", record, 16, crc, compressed, size)
    mtime, mdate = struct.unpack_from("<HH", record, 12)
    local = _LOCAL.pack(
        _LOCAL_SIG, 20, flags, member.method, mtime, mdate, crc, compressed, size, nlen, 0
    )
    end = out.tell()
    out.seek(header_at)
    out.write(local)
    out.seek(end)
    return bytes(record)


def _deflate(chunks: Chunks, out: io.BytesIO) -> tuple[int, int, int]:
    """Compress `chunks` into `out`; return (crc, size, compressed size). A large part is
    compressed on a second thread, a megabyte behind (see xlsx_deflate); a Precompressed piece
    is copied as it is, between stretches from fresh compressors."""
    crc, size, compressed = 0, 0, 0
    stretch = StretchCompressor(CHUNK)
    try:
        for chunk in chunks:
            if not isinstance(chunk, Precompressed):
                stretch.add(chunk)
                compressed += sum(map(out.write, stretch.take()))
                continue
            compressed += sum(map(out.write, stretch.finish()))
            crc, size = crc32_combine(crc, stretch.crc, stretch.size), size + stretch.size
            compressed += sum(map(out.write, chunk.drain()))
            crc, size = crc32_combine(crc, chunk.crc, chunk.size), size + chunk.size
            stretch = StretchCompressor(CHUNK)
        compressed += sum(map(out.write, stretch.finish(zlib.Z_FINISH)))
    finally:
        stretch.close()
    return crc32_combine(crc, stretch.crc, stretch.size), size + stretch.size, compressed


# --- OPC relationships -----------------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    rid: str
    type: str
    target: str  # a member name for internal targets, the raw target for external ones
    external: bool


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
PACKAGE_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def relationships_xml(entries: str) -> bytes:
    """A new relationships part holding `entries` (<Relationship> elements)."""
    return (
        f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_RELS_NS}">{entries}</Relationships>'
    ).encode()


def insert_before_end(xml: bytes, tag: bytes, new: bytes) -> bytes:
    """`new` put last into the part's root element `tag` (in the prefix the part uses)."""
    match = re.search(rb"</(\w+:)?" + tag + rb"\s*>", xml)
    if match is None:
        raise WorkbookError(f"Teil ohne </{tag.decode()}>: die Arbeitsmappe ist beschädigt.")
    prefix = match.group(1) or b""
    if prefix:  # the part uses a prefix for its namespace: keep to it
        new = re.sub(rb"<(?=\w)", b"<" + prefix, new)
    return xml[: match.start()] + new + xml[match.start() :]


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def read_relationships(package: ZipPackage, part: str) -> list[Relationship]:
    """The relationships of `part` ("" for the package itself); [] when it has none."""
    name = "_rels/.rels" if not part else rels_name(part)
    if package.find(name) is None:
        return []
    root = parse_xml(package.read(name), name)
    result = []
    for node in root:
        if not node.tag.endswith("Relationship"):
            continue
        target, external = node.get("Target", ""), node.get("TargetMode") == "External"
        if not external:
            target = resolve_target(part, target)
        result.append(Relationship(node.get("Id", ""), node.get("Type", ""), target, external))
    return result


def resolve_target(source: str, target: str) -> str:
    target = unquote(target)
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def parse_xml(content: bytes, name: str) -> ET.Element:
    try:
        return ET.fromstring(content)
    except ET.ParseError as exc:
        raise WorkbookError(f"Teil {name!r} ist kein gültiges XML. {_CORRUPT}") from exc


# --- the parts the writer needs -------------------------------------------------------------

_TABLE_REF = re.compile(
    rb'(<(?:\w+:)?(table|autoFilter|sortState|sortCondition)\b[^>]*?\sref=")([^"]*)"'
)


@dataclass(frozen=True)
class TableInfo:
    name: str
    area: Area
    header_rows: int
    totals_rows: int
    column_names: tuple[str, ...]
    xml: bytes
    formulas: tuple[tuple[int, str], ...] = ()  # (column, calculated column formula)

    @classmethod
    def parse(cls, xml: bytes, part: str) -> TableInfo:
        root = parse_xml(xml, part)
        area = Area.parse(root.get("ref", ""))
        if area is None:
            raise WorkbookError(f"Die Tabelle in {part!r} hat keinen gültigen Bereich. {_CORRUPT}")
        columns = [node for node in root.iter() if node.tag.endswith("}tableColumn")]
        formulas = []
        for offset, node in enumerate(columns):
            formula = next((f for f in node if f.tag.endswith("}calculatedColumnFormula")), None)
            if formula is not None and formula.text and formula.get("array") not in ("1", "true"):
                formulas.append((area.first_col + offset, formula.text))
        return cls(
            name=root.get("displayName") or root.get("name") or part,
            area=area,
            header_rows=int(root.get("headerRowCount", "1")),
            totals_rows=int(root.get("totalsRowCount", "0")),
            column_names=tuple(node.get("name", "") for node in columns),
            xml=xml,
            formulas=tuple(formulas),
        )

    def extended_xml(self, new_last: int) -> bytes:
        """The table part with its range (and filter and sort ranges) reaching `new_last`."""
        old_last = self.area.last_row

        def grow(match: re.Match[bytes]) -> bytes:
            area = Area.parse(match.group(3).decode())
            if area is None or area.last_row != old_last:
                return match.group(0)
            new = Area(area.first_col, area.first_row, area.last_col, new_last)
            return match.group(1) + str(new).encode() + b'"'

        return _TABLE_REF.sub(grow, self.xml)


@dataclass(frozen=True)
class WorkbookParts:
    sheet: str
    table_part: str
    table: TableInfo
    shared: str | None
    date1904: bool
    styles: str | None = None
    workbook: str = "xl/workbook.xml"
    other_tables: tuple[TableInfo, ...] = ()  # further tables on the same sheet
    pivots: tuple[tuple[str, Area], ...] = ()  # (name, location) of pivot tables on the sheet


def locate_parts(package: ZipPackage, sheet: Sheet) -> WorkbookParts:
    """Find the sheet, its table, the shared strings and the date system through the rels."""
    office = [r for r in read_relationships(package, "") if r.type.endswith("/officeDocument")]
    if not office:
        raise WorkbookError(f"Die Arbeitsmappe hat keinen Hauptteil. {_CORRUPT}")
    workbook_part = office[0].target
    root = parse_xml(package.read(workbook_part), workbook_part)
    rels = {r.rid: r for r in read_relationships(package, workbook_part)}
    sheet_rid = _sheet_rid(root, sheet.name)
    if sheet_rid is None or sheet_rid not in rels:
        raise WorkbookUnsafe(
            f"In der Arbeitsmappe fehlt das Blatt {sheet.name!r}. Bitte das Blatt "
            "wiederherstellen (z. B. aus einer Sicherung) oder wieder so benennen."
        )
    sheet_part = rels[sheet_rid].target
    shared = next((r.target for r in rels.values() if r.type.endswith("/sharedStrings")), None)
    properties = next((n for n in root if n.tag.endswith("}workbookPr")), None)
    date1904 = properties is not None and properties.get("date1904") in ("1", "true")
    table_part, table, others = _find_table(package, sheet_part, sheet)
    if package.find(shared or "") is None:
        shared = None
    styles = next((r.target for r in rels.values() if r.type.endswith("/styles")), None)
    if package.find(styles or "") is None:
        styles = None
    return WorkbookParts(
        sheet_part,
        table_part,
        table,
        shared,
        date1904,
        styles=styles,
        workbook=workbook_part,
        other_tables=others,
        pivots=_pivots(package, sheet_part),
    )


def _pivots(package: ZipPackage, sheet_part: str) -> tuple[tuple[str, Area], ...]:
    found = []
    for rel in read_relationships(package, sheet_part):
        if rel.external or not rel.type.endswith("/pivotTable") or not package.find(rel.target):
            continue
        root = parse_xml(package.read(rel.target), rel.target)
        location = next((n for n in root if n.tag.endswith("}location")), None)
        area = Area.parse(location.get("ref", "")) if location is not None else None
        if area is not None:
            found.append((root.get("name", rel.target), area))
    return tuple(found)


def _sheet_rid(root: ET.Element, name: str) -> str | None:
    sheets = [node for node in root.iter() if node.tag.endswith("}sheet")]
    for wanted in (name, name.casefold()):
        for node in sheets:
            label = node.get("name", "")
            if label == wanted or label.casefold() == wanted:
                return next(
                    (v for k, v in node.attrib.items() if k.endswith("relationships}id")), None
                )
    return None


def _find_table(
    package: ZipPackage, sheet_part: str, sheet: Sheet
) -> tuple[str, TableInfo, tuple[TableInfo, ...]]:
    headers = {header_key(c.header) for c in sheet.columns}
    best: tuple[int, int, str, TableInfo] | None = None
    every: list[TableInfo] = []
    for rel in read_relationships(package, sheet_part):
        if rel.external or not rel.type.endswith("/table") or package.find(rel.target) is None:
            continue
        table = TableInfo.parse(package.read(rel.target), rel.target)
        every.append(table)
        names = {header_key(n) for n in table.column_names}
        score = (len(headers & names), int(table.name == sheet.table))
        if score[0] and (best is None or score > best[:2]):
            best = (*score, rel.target, table)
    if best is None:
        raise WorkbookUnsafe(
            f"Auf dem Blatt {sheet.name!r} gibt es keine Excel-Tabelle mit den Spalten der "
            "Anfrageliste. Bitte den Bereich wieder als Tabelle formatieren (Start > Als "
            f"Tabelle formatieren, Name {sheet.table!r})."
        )
    table = best[3]
    if table.header_rows < 1:
        raise WorkbookUnsafe(
            f"Die Tabelle {table.name!r} hat keine Kopfzeile mehr. Bitte in Excel unter "
            "Tabellenentwurf die Kopfzeile wieder einschalten."
        )
    return best[2], table, tuple(other for other in every if other is not table)
