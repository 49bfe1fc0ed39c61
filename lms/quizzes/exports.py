"""Quiz results as CSV (UTF-8 with BOM, opens in Excel) or XLSX; cells that look like formulas are neutralised."""
from __future__ import annotations

import csv
import io

import xlsxwriter

HEADER = ["姓名", "工号", "作答时所在单位", "第几次", "状态", "得分", "是否及格", "开始时间", "交卷/收卷时间"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    """A cell value that Excel will not run as a formula (text starting =, +, -, @, tab or CR gets a ')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows) -> bytes:
    """Header and rows as CSV bytes with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([safe(v) if v is not None else "" for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows) -> bytes:
    """Header and rows as an XLSX workbook (written in constant memory)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True,
                                            "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("成绩")
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, HEADER, bold)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, [safe(v) if v is not None else "" for v in row])
    sheet.set_column(0, len(HEADER) - 1, 16)
    workbook.close()
    return buffer.getvalue()
