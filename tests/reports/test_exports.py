"""Exports: column order, masking, formula neutralising, CSV with BOM, XLSX without formulas."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from lms.reports.exports import (
    CERTIFICATE_COLUMNS,
    CERTIFICATE_WIDTHS,
    CertificateExportRecord,
    certificate_row,
    certificate_rows,
    iter_csv,
    iter_xlsx,
    neutralise,
    write_xlsx,
)

RECORD = CertificateExportRecord(
    name="欧阳小华", username="HX000123", township="青石镇", village="桃源村", grid="桃源村第一网格",
    program_title="网格员上岗证", number="WG-SG-2026-000123", issued=dt.date(2026, 6, 3),
    expires=dt.date(2029, 6, 2), status="valid", points=86, star=2,
    id_card="110101199003071234", phone="13812345678",
)
DANGEROUS = ["=1+1", "+1", "-1", "@SUM(A1:A2)", "\tTAB", "\rCR", "=HYPERLINK(\"http://x\",\"点我\")"]


def read_csv(chunks) -> tuple[bytes, list[list[str]]]:
    data = b"".join(chunks)
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_certificate_columns_are_the_api_list_in_order():
    assert CERTIFICATE_COLUMNS == ("姓名", "工号", "乡镇(街道)", "村(社区)", "网格", "证书名称", "证书编号", "发证日期",
                                   "有效期至", "状态", "积分", "星级", "身份证号", "手机号")
    assert len(CERTIFICATE_WIDTHS) == len(CERTIFICATE_COLUMNS)


def test_certificate_row_masks_id_card_and_phone_without_pii():
    assert certificate_row(RECORD, pii=False) == [
        "欧阳小华", "HX000123", "青石镇", "桃源村", "桃源村第一网格", "网格员上岗证", "WG-SG-2026-000123",
        dt.date(2026, 6, 3), dt.date(2029, 6, 2), "有效", 86, 2, "110101********1234", "138****5678",
    ]


def test_certificate_row_shows_id_card_and_phone_with_pii():
    row = certificate_row(RECORD, pii=True)
    assert row[-2:] == ["110101199003071234", "13812345678"]


def test_certificate_row_translates_statuses_and_tolerates_missing_personal_data():
    record = dataclasses.replace(RECORD, status="revoked", id_card=None, phone=None, expires=None)
    row = certificate_row(record, pii=False)
    assert row[9] == "已撤销" and row[8] is None and row[-2:] == ["", ""]
    assert certificate_row(dataclasses.replace(record, status="expired"), pii=True)[9] == "已过期"
    assert certificate_row(dataclasses.replace(record, status="expired"), pii=True)[-2:] == ["", ""]


@pytest.mark.parametrize("value", DANGEROUS)
def test_neutralise_prefixes_formula_starts(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "", "1+1", "a=b", "'=already", " =1", 5, -1, None, dt.date(2026, 1, 1)])
def test_neutralise_leaves_harmless_values_alone(value):
    assert neutralise(value) == value


def test_csv_starts_with_bom_and_has_columns_in_order():
    data, rows = read_csv(iter_csv(CERTIFICATE_COLUMNS, certificate_rows([RECORD], pii=False)))
    assert data.startswith(b"\xef\xbb\xbf")
    assert not data[3:].startswith(b"\xef\xbb\xbf")
    assert rows[0] == list(CERTIFICATE_COLUMNS)
    assert rows[1] == ["欧阳小华", "HX000123", "青石镇", "桃源村", "桃源村第一网格", "网格员上岗证", "WG-SG-2026-000123",
                       "2026-06-03", "2029-06-02", "有效", "86", "2", "110101********1234", "138****5678"]
    assert b"\r\n" in data


def test_csv_neutralises_every_formula_start_and_keeps_other_cells():
    rows_in = [[value, 1, None] for value in DANGEROUS] + [["普通文本", -5, dt.datetime(2026, 6, 3, 8, 30)]]
    _, rows = read_csv(iter_csv(["内容", "数字", "时间"], rows_in))
    assert [r[0] for r in rows[1:-1]] == ["'" + v for v in DANGEROUS]
    assert rows[-1] == ["普通文本", "-5", "2026-06-03 08:30:00"]
    assert rows[1][2] == ""


def test_csv_writes_each_cell_type_as_before():
    import enum

    class Kind(enum.StrEnum):
        formula = "=x"

    row = [True, False, 1.5, 0.1 + 0.2, 10**20, dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 3, 4, 5, 678),
           None, "", Kind.formula, -7]
    _, rows = read_csv(iter_csv(["c"] * len(row), [row]))
    assert rows[1] == ["是", "否", "1.5", "0.30000000000000004", "1" + "0" * 20, "2026-01-02", "2026-01-02 03:04:05",
                       "", "", "'=x", "-7"]


def test_csv_header_is_neutralised_too():
    _, rows = read_csv(iter_csv(["=cmd"], []))
    assert rows == [["'=cmd"]]


def test_csv_streams_without_reading_all_rows_first():
    consumed = 0

    def rows():
        nonlocal consumed
        for i in range(50_000):
            consumed += 1
            yield [f"网格员{i}", i, "青石镇桃源村第一网格"]

    stream = iter_csv(["a", "b", "c"], rows(), chunk_size=4096)
    first = next(stream)
    assert first == "\ufeffa,b,c\r\n".encode()
    assert consumed == 0  # the header leaves before the query's first rows
    next(stream)
    assert 0 < consumed < 1000
    sizes = [len(chunk.decode("utf-8")) for chunk in stream]
    assert consumed == 50_000
    assert len(sizes) > 100
    assert max(sizes) < 4096 + 100  # one row past the threshold at most


def _xlsx_bytes(header, rows, **kwargs) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(header, rows, buffer, "证书", **kwargs)
    return buffer.getvalue()


def _ooxml_text(value: str) -> str:
    """Undo the spec's _xHHHH_ escape of control characters (Excel does; openpyxl leaves it)."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def test_xlsx_reads_back_with_the_same_values_types_and_no_formulas():
    rows_in = list(certificate_rows([RECORD], pii=False)) + [[v, 1.5, dt.date(2026, 1, 1)] for v in DANGEROUS]
    data = _xlsx_bytes(CERTIFICATE_COLUMNS, rows_in, widths=CERTIFICATE_WIDTHS)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["证书"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == list(CERTIFICATE_COLUMNS)
    assert values[1] == ["欧阳小华", "HX000123", "青石镇", "桃源村", "桃源村第一网格", "网格员上岗证",
                         "WG-SG-2026-000123", dt.datetime(2026, 6, 3), dt.datetime(2029, 6, 2), "有效", 86, 2,
                         "110101********1234", "138****5678"]
    assert sheet.cell(row=2, column=8).number_format == "yyyy-mm-dd"
    assert [[_ooxml_text(row[0]), *row[1:3]] for row in values[2:]] == [
        ["'" + v, 1.5, dt.datetime(2026, 1, 1)] for v in DANGEROUS]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N9"


def test_xlsx_writes_digit_strings_as_text_not_numbers():
    data = _xlsx_bytes(["工号", "身份证号"], [["000123", "110101199003071234"]])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[2]] == ["000123", "110101199003071234"]
    assert all(c.data_type == "s" for c in sheet[2])


def test_xlsx_with_no_rows_has_only_the_header():
    data = _xlsx_bytes(CERTIFICATE_COLUMNS, [])
    values = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert values == [tuple(CERTIFICATE_COLUMNS)]


def test_iter_xlsx_streams_the_workbook_while_reading_the_rows():
    consumed = 0

    def rows():
        nonlocal consumed
        for i in range(50_000):
            consumed += 1
            yield [f"网格员{i}", i, dt.date(2026, 1, 1) + dt.timedelta(days=i % 365)]

    stream = iter_xlsx(["姓名", "序号", "日期"], rows(), "证书", chunk_size=16 * 1024)
    first = next(stream)
    assert first.startswith(b"PK\x03\x04")
    assert consumed == 0  # the download starts before the query's first rows
    second = next(stream)
    assert 0 < consumed < 50_000  # and goes on while the rows are read
    chunks = [first, second, *stream]
    assert consumed == 50_000 and len(chunks) > 3
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)["证书"]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 50_001
    assert values[-1] == ("网格员49999", 49999, dt.datetime(2026, 1, 1) + dt.timedelta(days=49999 % 365))


@pytest.mark.parametrize("writer", [iter_xlsx, iter_csv], ids=["xlsx", "csv"])
def test_the_writer_closes_the_rows_when_the_download_is_abandoned(writer):
    closed = False

    def rows():
        nonlocal closed
        try:
            for i in range(50_000):
                yield [f"网格员{i}"]
        finally:
            closed = True

    stream = writer(["a"], rows(), chunk_size=512)
    next(stream), next(stream)  # the rows are being read
    assert not closed
    stream.close()
    assert closed


MIXED_ROWS = [
    ["欧阳小华", 86, 1.5, dt.date(2026, 6, 3), dt.datetime(2026, 6, 3, 8, 30, 15), None, True, False, ""],
    [" 前后空格 ", -5, 0.1 + 0.2, None, dt.datetime(2026, 1, 1), "a&b<c>\"d\"", "_x0041_ 不是转义", "行一\n行二",
     "制表\t符"],
    ["=1+1", "+1", "-1", "@SUM(A1)", "\tTAB", "\rCR", "控制\x01字符", "全角空格\u3000", 10**12, "多出的列"],
]


def _xlsxwriter_reference(header, rows, widths, path: Path) -> bytes:
    """The same sheet through XlsxWriter's public API, as these exports wrote it before (the reference)."""
    import xlsxwriter

    # A file, not in_memory: that option turns constant_memory (inline strings, as ours) off.
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("证书")
    bold = book.add_format({"bold": True, "bg_color": "#f2f2f2", "border": 1})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    for col, title in enumerate(header):
        sheet.write_string(0, col, title, bold)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(r, col, "是" if value else "否")
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(r, col, value, datetime_format)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, col, value, date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, neutralise(value))
    sheet.autofilter(0, 0, len(rows), len(header) - 1)
    book.close()
    return path.read_bytes()


def _described(data: bytes) -> dict:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    cells = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                value = cell.value
                if isinstance(value, dt.datetime):
                    value = value.replace(microsecond=round(value.microsecond, -3) % 1_000_000)
                cells[cell.coordinate] = (value, cell.data_type, cell.number_format, cell.font.b,
                                          cell.fill.fgColor.rgb if cell.fill.fill_type else None,
                                          cell.border.left.style)
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items() if dim.customWidth}
    return {"title": sheet.title, "cells": cells, "widths": widths, "freeze": sheet.freeze_panes,
            "filter": sheet.auto_filter.ref}


def test_xlsx_reads_back_like_xlsxwriters_workbook_of_the_same_rows(tmp_path):
    header = ["姓名", "积分", "比例", "日期", "时间", "备注", "是否", "否", "空"]
    widths = [10, 8, 0.5, 12, 20, 16, 6, 6, 1]
    ours = _described(_xlsx_bytes(header, MIXED_ROWS, widths=widths))
    reference = _described(_xlsxwriter_reference(header, MIXED_ROWS, widths, tmp_path / "reference.xlsx"))
    assert ours == reference
    assert ours["cells"]["B2"][:3] == (86, "n", "General")
    assert ours["cells"]["A1"][3:] == (True, "FFF2F2F2", "thin")
    assert ours["cells"]["J4"][0] == "多出的列"  # a row longer than the header keeps its cells


def test_xlsx_parts_are_well_formed_xml_and_the_sheet_streams_in_a_zip():
    import zipfile
    from xml.etree import ElementTree

    data = _xlsx_bytes(["a", "b"], [["x&y", 1]] * 3)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names[0] == "[Content_Types].xml" and "xl/worksheets/sheet1.xml" in names
        for name in names:
            ElementTree.fromstring(archive.read(name))
        workbook = archive.read("xl/workbook.xml").decode()
    assert "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">'证书'!$A$1:$B$4" in workbook


def test_xlsx_writes_odd_values_without_failing():
    data = _xlsx_bytes(["a"], [[float("nan")], [float("inf")], [-float("inf")], [dt.datetime(2026, 6, 3, 8, 30,
                                                                                             tzinfo=dt.timezone.utc)]])
    values = [row[0] for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2,
                                                                                           values_only=True)]
    assert values == ["nan", "inf", "'-inf", dt.datetime(2026, 6, 3, 8, 30)]


def test_xlsx_sheet_name_with_quote_and_ampersand_names_its_filter_range():
    data = _xlsx_bytes(["a"], [["x"]])
    buffer = io.BytesIO()
    write_xlsx(["a"], [["x"]], buffer, "张三's & 李四")
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["张三's & 李四"]
    assert book.active.auto_filter.ref == "A1:A2"
    assert openpyxl.load_workbook(io.BytesIO(data)).active.auto_filter.ref == "A1:A2"


def test_sheet_names_excel_refuses_are_cleaned():
    buffer = io.BytesIO()
    write_xlsx(["a"], [], buffer, "证书[2026]/导出:全部*名单?超过三十一个字符的名字还要更长一些")
    name = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).sheetnames[0]
    assert name == "证书_2026__导出_全部_名单_超过三十一个字符的名字还要"
    assert len(name) == 31


def _office() -> str | None:
    for candidate in ("/usr/bin/libreoffice", "/usr/bin/soffice"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("soffice") or shutil.which("libreoffice")


def test_libreoffice_reads_the_xlsx_as_our_csv(tmp_path):
    office = _office()
    if office is None:
        pytest.skip("LibreOffice (libreoffice/soffice) is not installed on this machine")
    records = [RECORD, CertificateExportRecord(
        name="=1+1", username="@SUM(A1)", township="-1", village="+1", grid="\t网格", program_title="一星级网格员",
        number="STAR-1-2026-000001", issued=dt.date(2026, 1, 5), expires=dt.date(2027, 1, 4), status="expired",
        points=0, star=0, id_card="\r123", phone=None)]
    xlsx = tmp_path / "certificates.xlsx"
    xlsx.write_bytes(b"".join(iter_xlsx(CERTIFICATE_COLUMNS, certificate_rows(records, pii=False), "证书")))
    # Filter options: comma, double quote, UTF-8 (76).
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(xlsx)],
                   check=True, capture_output=True, timeout=120)
    converted = list(csv.reader(io.StringIO((tmp_path / "certificates.csv").read_text("utf-8-sig"), newline="")))
    _, ours = read_csv(iter_csv(CERTIFICATE_COLUMNS, certificate_rows(records, pii=False)))
    assert converted == ours


def test_libreoffice_reads_our_xlsx_like_xlsxwriters(tmp_path):
    office = _office()
    if office is None:
        pytest.skip("LibreOffice (libreoffice/soffice) is not installed on this machine")
    header = ["姓名", "积分", "比例", "日期", "时间", "备注", "是否", "否", "空", "多"]
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "book.xlsx").write_bytes(_xlsx_bytes(header, MIXED_ROWS, widths=[10] * 10))
    (tmp_path / "ref").mkdir()
    _xlsxwriter_reference(header, MIXED_ROWS, [10] * 10, tmp_path / "ref" / "book.xlsx")
    converted = []
    for folder in ("ours", "ref"):
        subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                        "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / folder),
                        str(tmp_path / folder / "book.xlsx")], check=True, capture_output=True, timeout=120)
        converted.append((tmp_path / folder / "book.csv").read_text("utf-8-sig"))
    assert converted[0] == converted[1]
    assert "'=1+1" in converted[0] and "2026-06-03" in converted[0]
