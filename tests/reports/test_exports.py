"""Exports: column order, masking, formula neutralising, CSV with BOM, XLSX without formulas."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
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
    assert first.startswith(b"\xef\xbb\xbf")
    assert consumed < 1000
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


def test_xlsx_reads_back_with_the_same_values_types_and_no_formulas(tmp_path):
    rows_in = list(certificate_rows([RECORD], pii=False)) + [[v, 1.5, dt.date(2026, 1, 1)] for v in DANGEROUS]
    data = _xlsx_bytes(CERTIFICATE_COLUMNS, rows_in, widths=CERTIFICATE_WIDTHS, tmpdir=str(tmp_path))
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


def test_iter_xlsx_yields_the_workbook_and_removes_its_temporary_file(tmp_path):
    stream = iter_xlsx(CERTIFICATE_COLUMNS, certificate_rows([RECORD] * 3, pii=True), "证书",
                       tmpdir=str(tmp_path), chunk_size=1024)
    assert os.listdir(tmp_path) == []  # nothing happens before the first chunk is asked for
    chunks = list(stream)
    assert len(chunks) > 1
    assert os.listdir(tmp_path) == []
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)))["证书"]
    assert sheet.max_row == 4
    assert sheet.cell(row=2, column=13).value == "110101199003071234"


def test_iter_xlsx_removes_its_file_when_the_download_is_abandoned(tmp_path):
    stream = iter_xlsx(["a"], ([i] for i in range(5000)), tmpdir=str(tmp_path), chunk_size=512)
    next(stream)
    assert any(name.startswith("lms-export-") for name in os.listdir(tmp_path))
    stream.close()
    assert os.listdir(tmp_path) == []


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
