"""Read rosters and org lists from CSV or XLSX as numbered rows (header = row 1)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from lms.errors import ValidationError


class TabularError(ValidationError):
    code = "bad_file"


#: the most data rows one upload may hold (a province's roster is some 30,000 people); past it, split the file
MAX_ROWS = 50_000
#: the most columns read from a sheet: every template has fewer than 20, and a stray cell in column XFD
#: must not pad each row to 16,384 cells
MAX_COLUMNS = 64
#: empty rows tolerated after the last allowed one before the file is refused unread (bounds the parse time)
EXTRA_EMPTY_ROWS = 10_000


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GB18030/GBK; UTF-8 (with or without BOM) elsewhere.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TabularError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV，或 XLSX")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes, filename: str, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows as (row number, {header: text}); raises TabularError when the header lacks a column."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        raw_rows = _xlsx_rows(data)
    elif suffix in (".csv", ".txt"):
        raw_rows = _csv_rows(_decode(data))
    else:
        raise TabularError(f"不支持的文件类型“{suffix or filename}”：请使用 .csv 或 .xlsx")
    if not raw_rows:
        raise TabularError("文件是空的：第 1 行应为表头")
    header = [_cell_text(h).lstrip("\ufeff") for h in raw_rows[0]]
    missing = [name for name in required if name not in header]
    if missing:
        raise TabularError(f"第 1 行表头缺少列：{'、'.join(missing)}（应为：{','.join(required)}）")
    rows = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        cells = [_cell_text(c) for c in raw]
        if not any(cells):
            continue
        rows.append((number, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}))
    return rows


def too_many_rows(max_rows: int) -> str:
    """The refusal of a sheet past max_rows data rows."""
    return f"文件超过 {max_rows} 行数据（不含表头）：请拆分成几个文件分批导入"


def bounded_sheet_rows(sheet, *, max_rows: int | None = None, max_columns: int | None = None):
    """A read-only sheet's rows as tuples of values, header first, bounded BEFORE anything is padded.

    Only the first max_columns columns are read and each row is cut after the header's last filled cell;
    at most max_rows data rows (more raise TabularError). A declared used range (``<dimension>``) is
    ignored, so a cell in column XFD or row 1,048,576 costs nothing.
    """
    max_rows = MAX_ROWS if max_rows is None else max_rows
    max_columns = MAX_COLUMNS if max_columns is None else max_columns
    width = None
    # Empty rows past the limit (formatted, or a stray cell) are parsed but not kept, so that data there is
    # refused rather than dropped; past EXTRA_EMPTY_ROWS more of them the file is refused unread.
    last = max_rows + 1 + EXTRA_EMPTY_ROWS
    for number, row in enumerate(sheet.iter_rows(min_row=1, max_row=last + 1, max_col=max_columns,
                                                 values_only=True), start=1):
        if width is None:
            filled = [i for i, value in enumerate(row) if value not in (None, "")]
            width = filled[-1] + 1 if filled else 0
        elif number > max_rows + 1:
            if number > last:
                raise TabularError(f"文件的行数（含带格式的空行）超过 {last} 行：请删除多余的空行，或拆分成几个文件分批导入")
            if any(value not in (None, "") for value in row):
                raise TabularError(too_many_rows(max_rows))
            continue
        yield row[:width] if width else row


def _csv_rows(text: str) -> list[list[str]]:
    """CSV rows, bounded like a sheet: MAX_COLUMNS cells a row, MAX_ROWS data rows (empty ones past it ignored)."""
    rows, number = [], 0
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if number > MAX_ROWS + 1:
                if any(cell.strip() for cell in row):
                    raise TabularError(too_many_rows(MAX_ROWS))
                continue
            rows.append(row[:MAX_COLUMNS])
    except csv.Error as exc:
        raise TabularError(f"CSV 文件第 {number + 1} 行无法读取（{exc}）：请用 Excel 另存为 CSV 或 XLSX") from None
    return rows


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook  # late: only XLSX imports pay for openpyxl
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TabularError(f"无法读取 XLSX 文件：{exc.__class__.__name__}，请确认文件未损坏") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in bounded_sheet_rows(sheet)]
    finally:
        workbook.close()
