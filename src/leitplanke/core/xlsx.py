"""A streaming XLSX writer: rows in, bytes out, as the rows arrive.

Libraries such as xlsxwriter assemble the ZIP container only when the workbook is closed,
so a large export sends its first byte after every row has been written (26 s at 100,000
cases). An XLSX file is a ZIP of a few XML parts; only the worksheet grows with the rows.
This module writes the small parts first and then the worksheet as one ZIP entry whose
compressed bytes are handed out after every batch of rows. `zipfile` supports writing to a
stream that cannot seek (it then uses data descriptors), which is what makes this possible.

Strings are written inline (no shared-strings table, which would need every string before
the sheet), numbers as numbers. Text is written as OOXML expects (ST_Xstring, as XlsxWriter
does it): control characters that XML 1.0 cannot carry become `_xHHHH_` escapes, which
spreadsheet programs decode back, a literal `_xHHHH_` gets its underscore escaped, and what
no escape can carry (lone surrogates, U+FFFE, U+FFFF) becomes U+FFFD. Formula
neutralisation is the caller's business (see cases/export.py).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

# C0 controls other than tab, LF and CR: XML 1.0 cannot carry them, OOXML escapes them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Not representable at all: lone surrogates, U+FFFE and U+FFFF.
_UNREPRESENTABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
# OOXML decodes _xHHHH_ in strings; a literal one is written with its underscore escaped.
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
MAX_ROWS = 1_048_576  # Excel's sheet limit, header included
ROWS_PER_CHUNK = 500

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    "<sheets>{sheets}</sheets></workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{sheets}"
    '<Relationship Id="rIdStyles" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Two cell formats: 0 plain, 1 bold (the header row).
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


def xml_text(value: str) -> str:
    """Text as XML character data that every spreadsheet program reads back unchanged."""
    value = _OOXML_ESCAPE.sub(r"_x005F_\1", _UNREPRESENTABLE.sub("\ufffd", value))
    return escape(_CONTROL.sub(lambda match: f"_x{ord(match.group()):04X}_", value))


def _cell(value: Any, style: str) -> str:
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f"<c{style}><v>{value!r}</v></c>"
    text = xml_text("" if value is None else str(value))
    return f'<c t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'


def row_xml(values: Sequence[Any], *, bold: bool = False) -> str:
    style = ' s="1"' if bold else ""
    return "<row>" + "".join(_cell(value, style) for value in values) + "</row>"


def _sheet_name(name: str) -> str:
    # Sheet names: at most 31 characters, none of : \ / ? * [ ]
    return re.sub(r"[:\\/?*\[\]\"]", " ", name)[:31] or "Sheet"


class _Sink:
    """A write-only, non-seekable file whose bytes are collected until taken."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def stream_workbook(
    *,
    sheet: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    notes: tuple[str, Sequence[str]] | None = None,
) -> Iterator[bytes]:
    """Yields an XLSX file in pieces: one sheet with a bold header row and then `rows`
    (at most Excel's limit), and, when `notes` = (sheet name, lines) is given, a second sheet
    with those lines (e.g. what an export left out)."""
    names = [_sheet_name(sheet)] + ([_sheet_name(notes[0])] if notes else [])
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    numbers = range(1, len(names) + 1)
    fixed = {
        "[Content_Types].xml": _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in numbers)),
        "_rels/.rels": _ROOT_RELS,
        "xl/workbook.xml": _WORKBOOK.format(
            sheets="".join(
                f'<sheet name="{xml_text(name)}" sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(names, start=1)
            )
        ),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.format(
            sheets="".join(
                f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                f'Target="worksheets/sheet{n}.xml"/>'
                for n in numbers
            )
        ),
        "xl/styles.xml": _STYLES,
    }
    for name, content in fixed.items():
        archive.writestr(name, content)
    if notes:
        lines = "".join(row_xml([line]) for line in notes[1])
        archive.writestr("xl/worksheets/sheet2.xml", _SHEET_START + lines + _SHEET_END)
    yield sink.take()
    with archive.open("xl/worksheets/sheet1.xml", mode="w", force_zip64=True) as entry:
        entry.write((_SHEET_START + row_xml(header, bold=True)).encode())
        batch: list[str] = []
        for count, values in enumerate(rows, start=2):
            if count > MAX_ROWS:
                break
            batch.append(row_xml(values))
            if len(batch) >= ROWS_PER_CHUNK:
                entry.write("".join(batch).encode())
                batch = []
                if data := sink.take():
                    yield data
        entry.write(("".join(batch) + _SHEET_END).encode())
    archive.close()
    yield sink.take()
