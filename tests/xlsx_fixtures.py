"""Workbooks for the writer's tests: built by `init`'s code, filled the way staff would, saved
the way Excel would (shared strings), and enriched with parts openpyxl cannot keep.

The injected parts are written by hand: minimal, but valid OOXML, wired up through the
relationships and [Content_Types].xml exactly as Excel wires them.
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from jugendhaus_mail.workbook.build import build_workbook
from jugendhaus_mail.workbook.model import CellValue, NewRow
from jugendhaus_mail.workbook.schema import Schema
from tests.conftest import find_tool, require_tool

SHEET = "xl/worksheets/sheet1.xml"  # Anfragen in a workbook made by build_workbook
TABLE = "xl/tables/table1.xml"
WORKBOOK = "xl/workbook.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
MS_RELS = "http://schemas.microsoft.com/office/"
CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml."

StaffValue = str | int | date | datetime | None


def new_workbook(tmp_path: Path, schema: Schema) -> bytes:
    """A workbook as `jugendhaus-mail init` makes it."""
    path = tmp_path / "Anfrageliste.xlsx"
    build_workbook(path, schema)
    return path.read_bytes()


def request(n: int, *, year: int = 2026, **values: CellValue) -> NewRow:
    """Request number `n` as the service appends it (Nr. `year`-000n)."""
    row: dict[str, CellValue] = {"nr": f"{year}-{n:04d}", "subject": f"Anfrage {n}"}
    row.update(values)
    return NewRow(f"<msg-{n}@jobcenter.example>", row)


def reopen(data: bytes) -> Worksheet:
    """Sheet `Anfragen` of the workbook, read back with openpyxl."""
    return openpyxl.load_workbook(io.BytesIO(data))["Anfragen"]


def staff_rows(data: bytes, rows: Sequence[Mapping[str, StaffValue]]) -> bytes:
    """Rows typed by staff into the table (by header text), the table grown as Excel does."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["Anfragen"]
    table = next(iter(sheet.tables.values()))
    first, last = table.ref.split(":")
    columns = {cell.value: cell.column for cell in sheet[1] if cell.value}
    row_number = 2
    while any(sheet.cell(row_number, c).value is not None for c in columns.values()):
        row_number += 1
    for values in rows:
        for header, value in values.items():
            sheet.cell(row_number, columns[header], value)
        row_number += 1
    end_col = re.sub(r"\d", "", last)
    end_row = max(int(re.sub(r"\D", "", last)), row_number - 1)
    table.ref = f"{first}:{end_col}{end_row}"
    table.autoFilter.ref = table.ref
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_shared_strings(data: bytes) -> bytes:
    """Move every inline string into xl/sharedStrings.xml, as Excel does when it saves."""
    strings: dict[str, int] = {}

    def share(match: re.Match[str]) -> str:
        text = match.group(2)
        index = strings.setdefault(text, len(strings))
        return f'{match.group(1)}t="s"><v>{index}</v></c>'

    inline = re.compile(r'(<c [^>]*?)t="inlineStr"><is><t(?: [^>]*)?>(.*?)</t></is></c>', re.S)
    changed = {
        name: inline.sub(share, content.decode()).encode()
        for name, content in members(data).items()
        if name.startswith("xl/worksheets/sheet")
    }
    items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in strings)
    changed["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN_NS}" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()
    data = rewrite(data, changed)
    data = add_relationship(data, WORKBOOK, "sharedStrings", "sharedStrings.xml")
    return add_content_type(data, "/xl/sharedStrings.xml", CT_MAIN + "sharedStrings+xml")


# --- zip helpers ----------------------------------------------------------------------------


def members(data: bytes) -> dict[str, bytes]:
    """Uncompressed content of every member, in zip order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def raw_entries(data: bytes) -> dict[str, bytes]:
    """Each member exactly as stored (local header, compressed data, data descriptor), in zip
    order. Only the position in the file may differ between two zips with equal entries."""
    result = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            start = info.header_offset
            name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
            end = start + 30 + name_len + extra_len + info.compress_size
            if info.flag_bits & 0x08:
                has_signature = data[end : end + 4] == b"PK\x07\x08"
                end += 16 if has_signature else 12
            result[info.filename] = data[start:end]
    return result


def rewrite(data: bytes, changed: dict[str, bytes]) -> bytes:
    """Set up a test workbook: replace or add members (new ones go last)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = changed.get(info.filename, source.read(info))
            target.writestr(info, content, compress_type=info.compress_type)
        for name, content in changed.items():
            if name not in source.namelist():
                target.writestr(name, content)
    return out.getvalue()


def rels_of(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def add_relationship(data: bytes, source: str, rel_type: str, target: str) -> bytes:
    """Add a relationship from `source`; `rel_type` is a full URI or an officeDocument suffix."""
    return add_relationship_id(data, source, rel_type, target)[0]


def add_relationship_id(data: bytes, source: str, rel_type: str, target: str) -> tuple[bytes, str]:
    rel_type = rel_type if "://" in rel_type else OFFICE_RELS + rel_type
    name = rels_of(source)
    content = members(data).get(
        name, f'<Relationships xmlns="{PKG_REL_NS}"></Relationships>'.encode()
    )
    text = content.decode()
    rid = f"rIdT{text.count('<Relationship ') + 1}"
    entry = f'<Relationship Id="{rid}" Type="{rel_type}" Target="{target}"/>'
    return rewrite(
        data, {name: text.replace("</Relationships>", entry + "</Relationships>").encode()}
    ), rid


def add_content_type(data: bytes, part: str, content_type: str, default: bool = False) -> bytes:
    text = members(data)["[Content_Types].xml"].decode()
    if default:
        entry = f'<Default Extension="{part}" ContentType="{content_type}"/>'
    else:
        entry = f'<Override PartName="{part}" ContentType="{content_type}"/>'
    return rewrite(
        data, {"[Content_Types].xml": text.replace("</Types>", entry + "</Types>").encode()}
    )


def edit_part(data: bytes, part: str, old: str, new: str) -> bytes:
    text = members(data)[part].decode()
    assert old in text, f"{old!r} not in {part}"
    return rewrite(data, {part: text.replace(old, new, 1).encode()})


# --- LibreOffice ----------------------------------------------------------------------------


def soffice() -> str | None:
    return find_tool("soffice")


def run_libreoffice(path: Path, target: str, out_dir: Path) -> Path:
    """Let LibreOffice open `path` and convert it (`target` as for --convert-to)."""
    binary = require_tool("soffice")
    profile = (path.parent / "lo-profile").resolve().as_uri()  # never the user's own profile
    command = [binary, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target]
    subprocess.run(
        [*command, "--outdir", str(out_dir), str(path)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    produced = sorted(out_dir.glob(path.stem + "*"))
    assert produced, f"LibreOffice did not convert {path.name}"
    return produced[0]


def libreoffice_resave(path: Path) -> bytes:
    """The workbook after LibreOffice opened and saved it as .xlsx."""
    return run_libreoffice(
        path, "xlsx:Calc MS Excel 2007 XML", path.parent / "resaved"
    ).read_bytes()


def libreoffice_csv(path: Path, sheet: int = 1) -> list[list[str]]:
    """Let LibreOffice open the file and export one sheet as CSV (text cells quoted)."""
    import csv

    # UTF-8, quote all text cells, formulas as results, only `sheet`
    options = f"44,34,76,1,,0,true,false,false,false,false,{sheet}"
    target = f"csv:Text - txt - csv (StarCalc):{options}"
    produced = run_libreoffice(path, target, path.parent / f"csv-{path.stem}")
    with produced.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def libreoffice_raw_csv(path: Path) -> str:
    """The CSV export as text, to tell quoted (text) cells from unquoted (numbers)."""
    libreoffice_csv(path)
    return next((path.parent / f"csv-{path.stem}").glob("*.csv")).read_text(encoding="utf-8")


# --- the content openpyxl loses ---------------------------------------------------------------


@dataclass(frozen=True)
class Injected:
    data: bytes
    parts: tuple[str, ...]  # the members added by hand
    sheet_fragments: tuple[str, ...]  # XML that must stay in the sheet as it is


def png_1x1() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x1f\x4e\x78")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
DRAWINGML = "http://schemas.openxmlformats.org/drawingml/2006/main"
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
THREADED_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
PERSON_ID = "{5B1D0C64-2A9E-4C47-9E2D-1D5A2B1C9E01}"


def _anchor(col: int, row: int) -> str:
    return (
        f"<xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row}</xdr:row>"
        f"<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>{col + 3}</xdr:col>"
        f"<xdr:colOff>0</xdr:colOff><xdr:row>{row + 4}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
    )


DRAWING = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<xdr:wsDr xmlns:xdr="{XDR}" '
    f'xmlns:a="{DRAWINGML}" xmlns:r="{REL_NS}" xmlns:c="{CHART_NS}">'
    f'<xdr:twoCellAnchor>{_anchor(44, 1)}<xdr:sp macro="" textlink=""><xdr:nvSpPr>'
    '<xdr:cNvPr id="2" name="Hinweis"/><xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr><a:xfrm>'
    '<a:off x="0" y="0"/><a:ext cx="1828800" cy="762000"/></a:xfrm><a:prstGeom prst="rect">'
    "<a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r>"
    "<a:t>Bitte Ansprechpartner eintragen</a:t></a:r></a:p></xdr:txBody></xdr:sp>"
    "<xdr:clientData/></xdr:twoCellAnchor>"
    f'<xdr:twoCellAnchor editAs="oneCell">{_anchor(44, 6)}<xdr:pic><xdr:nvPicPr>'
    '<xdr:cNvPr id="3" name="Logo"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill>'
    '<a:blip r:embed="rIdT1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/>'
    f'</xdr:twoCellAnchor><xdr:twoCellAnchor>{_anchor(44, 12)}<xdr:graphicFrame macro="">'
    '<xdr:nvGraphicFramePr><xdr:cNvPr id="4" name="Diagramm Anhänge"/><xdr:cNvGraphicFramePr/>'
    '</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
    f'<a:graphic><a:graphicData uri="{CHART_NS}"><c:chart r:id="rIdT2"/></a:graphicData>'
    "</a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
)
CHART = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<c:chartSpace xmlns:c="{CHART_NS}"'
    f' xmlns:a="{DRAWINGML}" xmlns:r="{REL_NS}"><c:chart><c:plotArea><c:layout/><c:barChart>'
    '<c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/><c:ser>'
    '<c:idx val="0"/><c:order val="0"/><c:val><c:numRef><c:f>Anfragen!$M$2:$M$3</c:f>'
    '</c:numRef></c:val></c:ser><c:axId val="1"/><c:axId val="2"/></c:barChart><c:catAx>'
    '<c:axId val="1"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
    '<c:axPos val="b"/><c:crossAx val="2"/></c:catAx><c:valAx><c:axId val="2"/><c:scaling>'
    '<c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="l"/>'
    '<c:crossAx val="1"/></c:valAx></c:plotArea></c:chart></c:chartSpace>'
)
THREADED = (
    f'{XML_DECL}<ThreadedComments xmlns="{THREADED_NS}" xmlns:x="{MAIN_NS}">'
    '<threadedComment ref="E2" dT="2025-03-04T10:00:00.00" '
    f'personId="{PERSON_ID}" id="{{7A3E1C2B-0D4F-4B1A-9C3D-2E5F6A7B8C9D}}">'
    "<text>Bitte bis Freitag zurückrufen</text></threadedComment></ThreadedComments>"
)
PERSONS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<personList xmlns="{THREADED_NS}" '
    f'xmlns:x="{MAIN_NS}"><person displayName="Frau Muster" id="{PERSON_ID}" '
    'userId="muster@example.org" providerId="None"/></personList>'
)
LEGACY_COMMENTS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN_NS}">'
    f"<authors><author>tc={{7A3E1C2B-0D4F-4B1A-9C3D-2E5F6A7B8C9D}}</author></authors>"
    '<commentList><comment ref="E2" authorId="0" shapeId="0"><text><t>[Threaded comment] '
    "Bitte bis Freitag zurückrufen</t></text></comment></commentList></comments>"
)
VML = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
    ' xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
    '<o:idmap v:ext="edit" data="1"/></o:shapelayout><v:shapetype id="_x0000_t202" '
    'coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke '
    'joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
    '<v:shape id="_x0000_s1025" type="#_x0000_t202" style="position:absolute;margin-left:59pt;'
    'margin-top:1pt;width:108pt;height:59pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
    'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:textbox style="mso-direction-alt:auto">'
    '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
    "<x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill><x:Row>1</x:Row>"
    "<x:Column>4</x:Column></x:ClientData></v:shape></xml>"
)
SHEET_EXTLST = (
    f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}">'
    f'<x14:dataValidations count="1" xmlns:xm="{XM}"><x14:dataValidation type="list" '
    'allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1>'
    "<xm:f>Listen!$B$2:$B$6</xm:f></x14:formula1><xm:sqref>AR2:AR1048576</xm:sqref>"
    "</x14:dataValidation></x14:dataValidations></ext>"
    f'<ext uri="{{05C60535-1F16-4fd2-B633-F4F36F0B64E0}}" xmlns:x14="{X14}">'
    f'<x14:sparklineGroups xmlns:xm="{XM}"><x14:sparklineGroup displayEmptyCellsAs="gap">'
    '<x14:colorSeries rgb="FF376092"/><x14:colorNegative rgb="FFD00000"/><x14:colorAxis '
    'rgb="FF000000"/><x14:colorMarkers rgb="FFD00000"/><x14:colorFirst rgb="FFD00000"/>'
    '<x14:colorLast rgb="FFD00000"/><x14:colorHigh rgb="FFD00000"/><x14:colorLow rgb="FFD00000"/>'
    "<x14:sparklines><x14:sparkline><xm:f>Anfragen!M2:M3</xm:f><xm:sqref>AS2</xm:sqref>"
    "</x14:sparkline></x14:sparklines></x14:sparklineGroup></x14:sparklineGroups></ext></extLst>"
)
CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><jsb xmlns="urn:jsb:vorlage"><version>3</version></jsb>'
)
CUSTOM_XML_PROPS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<ds:datastoreItem '
    'ds:itemID="{1C2D3E4F-5A6B-4C7D-8E9F-0A1B2C3D4E5F}" '
    'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
    '<ds:schemaRefs><ds:schemaRef ds:uri="urn:jsb:vorlage"/></ds:schemaRefs></ds:datastoreItem>'
)
CONNECTIONS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<connections xmlns="{MAIN_NS}">'
    '<connection id="1" name="Termine" type="1" refreshedVersion="6" saveData="1">'
    '<dbPr connection="DSN=Termine;" command="SELECT datum FROM termine"/></connection>'
    "</connections>"
)
PIVOT_CACHE = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<pivotCacheDefinition '
    f'xmlns="{MAIN_NS}" xmlns:r="{REL_NS}" r:id="rIdT1" refreshOnLoad="1" recordCount="0">'
    '<cacheSource type="worksheet"><worksheetSource name="Anfragen"/></cacheSource>'
    '<cacheFields count="1"><cacheField name="Anfrageart" numFmtId="0"><sharedItems/>'
    "</cacheField></cacheFields></pivotCacheDefinition>"
)
PIVOT_RECORDS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<pivotCacheRecords xmlns="{MAIN_NS}" count="0"/>'
)
# Not a working macro project: an OLE compound-file header followed by filler. It only has to
# survive byte for byte; LibreOffice skips a VBA storage it cannot read.
VBA_PROJECT = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(range(256)) * 8


def _without_notes(data: bytes) -> bytes:
    """A sheet holds one comments part: drop the header notes `init` writes, so the staff
    comment injected below is the sheet's only one (as when staff replace the notes)."""
    sheet = members(data)[SHEET].decode()
    sheet = re.sub(r"<legacyDrawing\b[^>]*/>", "", sheet)
    changed = {SHEET: sheet.encode()}
    rels_name = rels_of(SHEET)
    if rels_name in members(data):
        rels = members(data)[rels_name].decode()
        pattern = r'<Relationship\b[^>]*Type="[^"]*/(?:comments|vmlDrawing)"[^>]*/>'
        changed[rels_name] = re.sub(pattern, "", rels).encode()
    return rewrite(data, changed)


def inject_everything(data: bytes) -> Injected:
    """Add a shape, an image, a chart, a threaded comment (with persons and the legacy
    comment), Excel-2010 validation and a sparkline, customXml, a data connection, a VBA
    project (the package becomes an .xlsm) and a pivot cache."""
    parts: dict[str, bytes] = {
        "xl/drawings/drawing1.xml": DRAWING.encode(),
        "xl/media/image1.png": png_1x1(),
        "xl/charts/chart1.xml": CHART.encode(),
        "xl/threadedComments/threadedComment1.xml": THREADED.encode(),
        "xl/persons/person.xml": PERSONS.encode(),
        "xl/comments1.xml": LEGACY_COMMENTS.encode(),
        "xl/drawings/vmlDrawing1.vml": VML.encode(),
        "customXml/item1.xml": CUSTOM_XML.encode(),
        "customXml/itemProps1.xml": CUSTOM_XML_PROPS.encode(),
        "xl/connections.xml": CONNECTIONS.encode(),
        "xl/pivotCache/pivotCacheDefinition1.xml": PIVOT_CACHE.encode(),
        "xl/pivotCache/pivotCacheRecords1.xml": PIVOT_RECORDS.encode(),
        "xl/vbaProject.bin": VBA_PROJECT,
    }
    data = _without_notes(data)
    data = rewrite(data, parts)
    data = add_relationship(data, "xl/drawings/drawing1.xml", "image", "../media/image1.png")
    data = add_relationship(data, "xl/drawings/drawing1.xml", "chart", "../charts/chart1.xml")
    data = add_relationship(data, "customXml/item1.xml", "customXmlProps", "itemProps1.xml")
    data = add_relationship(
        data,
        "xl/pivotCache/pivotCacheDefinition1.xml",
        "pivotCacheRecords",
        "pivotCacheRecords1.xml",
    )
    sheet_rels = [
        ("drawing", "../drawings/drawing1.xml"),
        ("vmlDrawing", "../drawings/vmlDrawing1.vml"),
        ("comments", "../comments1.xml"),
        (
            MS_RELS + "2017/10/relationships/threadedComment",
            "../threadedComments/threadedComment1.xml",
        ),
    ]
    ids = {}
    for rel_type, target in sheet_rels:
        data, ids[rel_type] = add_relationship_id(data, SHEET, rel_type, target)
    data = add_relationship(
        data, WORKBOOK, MS_RELS + "2017/10/relationships/person", "persons/person.xml"
    )
    data = add_relationship(data, WORKBOOK, "customXml", "../customXml/item1.xml")
    data = add_relationship(data, WORKBOOK, "connections", "connections.xml")
    data = add_relationship(
        data, WORKBOOK, MS_RELS + "2006/relationships/vbaProject", "vbaProject.bin"
    )
    data, pivot_id = add_relationship_id(
        data, WORKBOOK, "pivotCacheDefinition", "pivotCache/pivotCacheDefinition1.xml"
    )
    data = edit_part(
        data,
        WORKBOOK,
        "</workbook>",
        f'<pivotCaches><pivotCache xmlns:r="{REL_NS}" cacheId="1" r:id="{pivot_id}"/>'
        "</pivotCaches></workbook>",
    )
    drawing = f'<drawing xmlns:r="{REL_NS}" r:id="{ids["drawing"]}"/>'
    legacy = f'<legacyDrawing xmlns:r="{REL_NS}" r:id="{ids["vmlDrawing"]}"/>'
    data = edit_part(data, SHEET, "<tableParts", drawing + legacy + "<tableParts")
    data = edit_part(data, SHEET, "</worksheet>", SHEET_EXTLST + "</worksheet>")
    types = [
        ("/xl/drawings/drawing1.xml", "application/vnd.openxmlformats-officedocument.drawing+xml"),
        (
            "/xl/charts/chart1.xml",
            "application/vnd.openxmlformats-officedocument.drawingml.chart+xml",
        ),
        (
            "/xl/threadedComments/threadedComment1.xml",
            "application/vnd.ms-excel.threadedcomments+xml",
        ),
        ("/xl/persons/person.xml", "application/vnd.ms-excel.person+xml"),
        ("/xl/comments1.xml", CT_MAIN + "comments+xml"),
        (
            "/customXml/itemProps1.xml",
            "application/vnd.openxmlformats-officedocument.customXmlProperties+xml",
        ),
        ("/xl/connections.xml", CT_MAIN + "connections+xml"),
        ("/xl/pivotCache/pivotCacheDefinition1.xml", CT_MAIN + "pivotCacheDefinition+xml"),
        ("/xl/pivotCache/pivotCacheRecords1.xml", CT_MAIN + "pivotCacheRecords+xml"),
    ]
    for part, content_type in types:
        data = add_content_type(data, part, content_type)
    data = add_content_type(data, "png", "image/png", default=True)
    data = add_content_type(
        data, "vml", "application/vnd.openxmlformats-officedocument.vmlDrawing", default=True
    )
    data = add_content_type(data, "bin", "application/vnd.ms-office.vbaProject", default=True)
    data = edit_part(
        data,
        "[Content_Types].xml",
        CT_MAIN + "sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    return Injected(data, tuple(parts), (drawing, legacy, SHEET_EXTLST))
