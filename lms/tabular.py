"""Read rosters and org lists from CSV or XLSX as numbered rows (header = row 1)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from lms.errors import ValidationError


class TabularError(ValidationError):
    code = "bad_file"


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
        raw_rows = list(csv.reader(io.StringIO(_decode(data))))
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


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook  # late: only XLSX imports pay for openpyxl
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TabularError(f"无法读取 XLSX 文件：{exc.__class__.__name__}，请确认文件未损坏") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
