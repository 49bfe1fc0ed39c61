"""Spreadsheet exports for HR: streaming CSV and XLSX, formula-safe, masked by default.

Pure: rows in, bytes out. The view gathers rows with a streaming query, picks
``pii`` from the permission module and audits the export; nothing here knows
about the database or the request.

Every string cell that a spreadsheet could read as a formula (``=``, ``+``,
``-``, ``@``, their full-width forms ``＝＋－＠``, tab, CR first) is prefixed with ``'`` (API.md), and XLSX strings
are always written as strings, never as formulas.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO


from lms.accounts.masking import mask_id_card, mask_phone

CERTIFICATE_COLUMNS = (
    "姓名", "工号", "乡镇(街道)", "村(社区)", "网格", "证书名称", "证书编号", "发证日期", "有效期至", "状态",
    "积分", "星级", "身份证号", "手机号",
)
# Column widths in Excel character units, matching CERTIFICATE_COLUMNS.
CERTIFICATE_WIDTHS = (10, 12, 14, 14, 14, 16, 22, 12, 12, 8, 8, 6, 22, 15)
STATUS_LABELS = {"valid": "有效", "expired": "已过期", "revoked": "已撤销"}

#: full-width ＝＋－＠ too: a Chinese IME types them, and spreadsheets (WPS, Excel with auto-correct) may read
#: them as the ASCII operators
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_CHUNK = 64 * 1024
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def neutralise(value):
    """Prefix ``'`` to a string that a spreadsheet would run as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class CertificateExportRecord:
    """One certificate with its holder, as the query hands it to the export."""

    name: str
    username: str  # 工号
    township: str  # 乡镇(街道) name at export time
    village: str  # 村(社区)
    grid: str  # 网格
    program_title: str
    number: str
    issued: dt.date
    expires: dt.date | None
    status: str  # valid | expired | revoked (shown in Chinese); any other text is shown as is
    points: int
    star: int  # the holder's star level now, 0 when none
    id_card: str | None = None
    phone: str | None = None


def certificate_cells(name, username, township, village, grid, program_title, number, issued, expires, status,
                      points, star, id_card, phone, pii: bool, _labels=STATUS_LABELS) -> list:
    """certificate_row from plain values in CertificateExportRecord's field order (the export's per-row path)."""
    return [name, username, township, village, grid, program_title, number, issued, expires,
            _labels.get(status, status), points, star,
            (id_card or "") if pii else mask_id_card(id_card), (phone or "") if pii else mask_phone(phone)]


def certificate_row(record: CertificateExportRecord, pii: bool) -> list:
    """The export row of one certificate in CERTIFICATE_COLUMNS order; ID card and phone masked unless ``pii``."""
    return certificate_cells(
        record.name, record.username, record.township, record.village, record.grid, record.program_title,
        record.number, record.issued, record.expires, record.status, record.points, record.star, record.id_card,
        record.phone, pii)


def certificate_rows(records: Iterable[CertificateExportRecord], pii: bool) -> Iterator[list]:
    """certificate_row over a stream of records, lazily."""
    for record in records:
        yield certificate_row(record, pii)


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    return _csv_text(str(value))


#: cell types the csv module already writes as _csv_text would (None as "", numbers and dates by str())
_CSV_AS_IS = frozenset({int, float, dt.date, type(None)})


def iter_csv(header: Sequence[str], rows: Iterable[Sequence], *, chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """CSV bytes (UTF-8 with BOM, CRLF) in chunks of about ``chunk_size`` characters, consuming ``rows`` lazily."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The BOM makes Excel on Chinese Windows read UTF-8 instead of GBK.
    buffer.write("\ufeff")
    writer.writerow([_csv_text(h) for h in header])
    writerow, tell, text = writer.writerow, buffer.tell, _csv_text
    str_, as_is, starts = str, _CSV_AS_IS, _FORMULA_STARTS
    try:
        # The header leaves at once, before the query's first rows: the download starts without waiting.
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            # 1.4 million cells for 100k certificates: the common types inline, the rest through _csv_text.
            writerow([(("'" + v if v.startswith(starts) else v) if type(v) is str_
                       else v if type(v) in as_is else text(v)) for v in row])
            if tell() >= chunk_size:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        tail = buffer.getvalue()
        if tail:
            yield tail.encode("utf-8")
    finally:
        _close(rows)


# --- XLSX --------------------------------------------------------------------------------------------------------
# The workbook is written directly as SpreadsheetML into a ZIP that streams front to back (entry sizes in data
# descriptors), so the first bytes leave at once and nothing goes to disk. XlsxWriter needed ~9 s of CPU for
# 100,000 certificates through its per-cell API; this writes the same sheet (inline strings, the same styles,
# widths, frozen header and autofilter; openpyxl, LibreOffice and XlsxWriter's output agree in the tests) in
# a fraction of that. Parts: content types, package and workbook relationships, styles, the sheet, and the
# workbook last because its filter range names the last row.

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = (
    _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_ROOT_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>')
# Cell styles (s="n"): 0 default, 1 header (bold, light grey fill, thin border), 2 date, 3 date and time.
_STYLE_HEADER, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3
_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFF2F2F2"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills><borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>'
    '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0"/></styleSheet>')
_EXCEL_MAX_ROWS = 1_048_576
_EXCEL_MAX_COLS = 16_384
#: a cell string that can go into the XML as it is: no XML specials, no control characters (written _xHHHH_),
#: no leading or trailing whitespace (xml:space); text with "_x" is checked by _inline_string (an _xHHHH_
#: look-alike gets its "_" written _x005F_)
_XML_PLAIN = re.compile(r"[^&<>\x00-\x1f\s](?:[^&<>\x00-\x08\x0b-\x1f]*[^&<>\x00-\x1f\s])?")
_OOXML_ESCAPED = re.compile(r"_x[0-9A-Fa-f]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ROW_BATCH = 200
#: zlib level of the XLSX parts: for 100k certificates 3 takes ~0.6 s less CPU than zlib's default 6 for a
#: ~10% larger file (1: another ~0.15 s less, ~25% larger)
_XLSX_COMPRESSLEVEL = 3


def _column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _inline_string(ref: str, text: str, style: str = "") -> str:
    """An inline-string cell for any (already neutralised) text: escaped the way Excel and XlsxWriter do."""
    text = _OOXML_ESCAPED.sub(lambda m: "_x005F" + m.group(0), text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number(value) -> str:
    # Floats as XlsxWriter wrote them (Excel keeps 15-16 significant digits anyway); integers exactly.
    return f"{value:.16G}" if type(value) is float else str(value)


def _other_cell(ref: str, value) -> str:
    """The cell of a value the writer's inner loop does not handle inline."""
    if isinstance(value, dt.datetime):
        naive = value.replace(tzinfo=None)
        serial = (naive - _EXCEL_EPOCH_DATETIME).total_seconds() / 86400
        return f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{serial:.16G}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_STYLE_DATE}"><v>{value.toordinal() - _EXCEL_EPOCH.toordinal()}</v></c>'
    if isinstance(value, bool):
        return _inline_string(ref, "是" if value else "否")
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f'<c r="{ref}"><v>{_number(float(value) if isinstance(value, float) else int(value))}</v></c>'
    if isinstance(value, str) and not value:
        return ""
    return _inline_string(ref, neutralise(str(value)))


_EXCEL_EPOCH_DATETIME = dt.datetime(1899, 12, 30)


def _column_width(width: float) -> str:
    """Excel's stored column width for a width in characters (Calibri 11: 7-pixel digits, 5 pixels padding)."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return f"{(pixels * 256 // 7) / 256:.16g}"


def _sheet_head(header: Sequence[str], widths: Sequence[float] | None) -> str:
    parts = [_XML_HEAD, f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheetViews>'
             '<sheetView tabSelected="1" workbookViewId="0">']
    if header:
        parts.append('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                     '<selection pane="bottomLeft"/>')
    parts.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
    if widths:
        parts.append("<cols>")
        stored = [_column_width(w) for w in widths[:_EXCEL_MAX_COLS]]
        first = 0
        for col in range(1, len(stored) + 1):  # neighbours of one width share a <col>, as Excel writes them
            if col == len(stored) or stored[col] != stored[first]:
                parts.append(f'<col min="{first + 1}" max="{col}" width="{stored[first]}" customWidth="1"/>')
                first = col
        parts.append("</cols>")
    parts.append("<sheetData>")
    if header:
        style = f' s="{_STYLE_HEADER}"'
        cells = [_inline_string(f"{_column_letter(col)}1", str(neutralise(str(title))), style)
                 for col, title in enumerate(header[:_EXCEL_MAX_COLS])]
        parts.append(f'<row r="1">{"".join(cells)}</row>')
    return "".join(parts)


def _workbook(sheet_title: str, filter_ref: str | None) -> str:
    names = ""
    if filter_ref:
        quoted = "'" + sheet_title.replace("'", "''") + "'"
        names = (f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                 f"{_xml_escape(quoted)}!{filter_ref}</definedName></definedNames>")
    return (_XML_HEAD + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><bookViews><workbookView/></bookViews>'
            f'<sheets><sheet name="{_xml_escape(sheet_title)}" sheetId="1" r:id="rId1"/></sheets>{names}'
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')


class _ChunkSink:
    """A write-only, unseekable file for zipfile whose bytes are taken out in chunks."""

    def __init__(self):
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def _sheet_rows(rows: Iterable[Sequence], width: int, counter: list[int]) -> Iterator[str]:
    """The <row> elements of the data rows, a batch of rows per string; counts the rows in counter[0]."""
    letters = [_column_letter(col) for col in range(max(width, 1))]
    epoch_ordinal = _EXCEL_EPOCH.toordinal()
    str_, int_, float_, date_ = str, int, float, dt.date
    starts, plain, other = _FORMULA_STARTS, _XML_PLAIN.fullmatch, _other_cell
    date_style = f' s="{_STYLE_DATE}"'
    batch: list[str] = []
    append = batch.append
    number = 1
    for row in rows:
        if number >= _EXCEL_MAX_ROWS:
            break  # Excel shows no more rows (XlsxWriter dropped them the same way)
        number += 1
        if len(row) > len(letters):
            letters += [_column_letter(col) for col in range(len(letters), min(len(row), _EXCEL_MAX_COLS))]
        append(f'<row r="{number}">')
        # 1.4 million cells for 100k certificates: the common types inline, the rest through _other_cell.
        for letter, value in zip(letters, row):
            kind = type(value)
            if kind is str_:
                if value:
                    if value.startswith(starts):
                        value = "'" + value
                    if plain(value) and "_x" not in value:
                        append(f'<c r="{letter}{number}" t="inlineStr"><is><t>{value}</t></is></c>')
                    else:
                        append(_inline_string(f"{letter}{number}", value))
            elif kind is int_:
                append(f'<c r="{letter}{number}"><v>{value}</v></c>')
            elif kind is date_:
                # Excel stores a date as days since 1899-12-30.
                append(f'<c r="{letter}{number}"{date_style}><v>{value.toordinal() - epoch_ordinal}</v></c>')
            elif value is None:
                continue
            elif kind is float_ and math.isfinite(value):
                append(f'<c r="{letter}{number}"><v>{value:.16G}</v></c>')
            else:
                append(other(f"{letter}{number}", value))
        append("</row>")
        if number % _ROW_BATCH == 0:
            yield "".join(batch)
            batch.clear()
    counter[0] = number - 1
    if batch:
        yield "".join(batch)


def _xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence], sheet_name: str, widths: Sequence[float] | None,
                 chunk_size: int, counter: list[int]) -> Iterator[bytes]:
    title = _sheet_title(sheet_name)
    sink = _ChunkSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_XLSX_COMPRESSLEVEL) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_sheet_head(header, widths).encode("utf-8"))
            yield sink.take()  # the download starts before the query's first rows
            for text in _sheet_rows(rows, len(header), counter):
                sheet.write(text.encode("utf-8"))
                if sink.size >= chunk_size:
                    yield sink.take()
            tail = "</sheetData>"
            filter_ref = None
            if header:
                last_col = _column_letter(min(len(header), _EXCEL_MAX_COLS) - 1)
                filter_ref = f"$A$1:${last_col}${max(counter[0], 1) + 1}"
                tail += f'<autoFilter ref="{filter_ref.replace("$", "")}"/>'
            tail += ('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                     "</worksheet>")
            sheet.write(tail.encode("utf-8"))
        book.writestr("xl/workbook.xml", _workbook(title, filter_ref))
    yield sink.take()


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence],
    fileobj: BinaryIO | str | os.PathLike,
    sheet_name: str = "导出",
    *,
    widths: Sequence[float] | None = None,
) -> int:
    """Write one sheet (header row + rows) to ``fileobj`` in constant memory; return the data row count.

    Strings are neutralised and written as inline strings (never formulas),
    numbers as numbers, dates as dates formatted yyyy-mm-dd (date and time:
    yyyy-mm-dd hh:mm:ss), booleans as 是/否, None as an empty cell.
    """
    counter = [0]
    chunks = _xlsx_chunks(header, rows, sheet_name, widths, _CHUNK, counter)
    if isinstance(fileobj, (str, os.PathLike)):
        with open(fileobj, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
    else:
        for chunk in chunks:
            fileobj.write(chunk)
    return counter[0]


def iter_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence],
    sheet_name: str = "导出",
    *,
    widths: Sequence[float] | None = None,
    chunk_size: int = _CHUNK,
) -> Iterator[bytes]:
    """XLSX bytes in chunks of about ``chunk_size`` bytes as ``rows`` are read; nothing is written to disk."""
    try:
        yield from _xlsx_chunks(header, rows, sheet_name, widths, chunk_size, [0])
    finally:
        _close(rows)


def _close(rows) -> None:
    """Close a row generator left unfinished (a download abandoned), so its database cursor goes at once."""
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def _sheet_title(name: str) -> str:
    # Excel refuses these characters and names over 31 characters.
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "导出"
    return cleaned[:31]
