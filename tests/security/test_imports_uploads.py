"""Imports and uploads: bombs and escapes in files a trainer or HR hands to the app (issue 13, items 3, 12, 14).

| tries | expected |
| --- | --- |
| a 50 KB XLSX whose 10,000 rows each hold one empty cell in column XFD, read by the roster/org reader and by the question-bank reader (in a subprocess, traced) | the read peaks under 200 MB (was ~1.3 GB) |
| a roster (``users import``) / a bank (upload page) with more data rows than the limit | refused with a Chinese message naming the limit, nothing written |
| a CSV roster with a 200,000-character cell (past the csv module's field limit) | refused with a Chinese message naming the row, not a crash |
| an 8000×8000 PNG (64 M pixels, ~250 KB) as a course image | 422 ``image_too_large`` naming the size, nothing stored |
| a 6400×6400 PNG (between the limit and Pillow's own 2× threshold) | 422 ``image_too_large`` |
| ``content import`` of a course whose lesson file is a symlink to a file outside the content folder | refused with path:line naming the link, nothing imported |
| ``content import`` with a course folder that is a symlink to a folder outside | refused the same way |
| a symlink that stays inside the content folder | imported as before |
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from PIL import Image

from lms.accounts.models import User
from lms.courses.models import Course, CourseAsset
from lms.extensions import db
from lms.quizzes.formats.xlsx import HEADERS as BANK_HEADERS
from tests.courses.factories import make_course
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
ROSTER_HEADERS = ("工号", "姓名", "身份证号", "手机号", "出生日期", "学历", "入职日期", "组织编码", "角色")
MEMORY_LIMIT_MB = 200


def xlsx_bomb(rows: int, header) -> bytes:
    """A real workbook whose sheet has the header, then `rows` rows each holding one empty cell in column XFD."""
    workbook = openpyxl.Workbook()
    workbook.active.append(list(header))
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    cells = "".join(f'<c r="{openpyxl.utils.get_column_letter(i + 1)}1" t="inlineStr"><is><t>{h}</t></is></c>'
                    for i, h in enumerate(header))
    body = "".join(f'<row r="{n}"><c r="XFD{n}" s="0"/></row>' for n in range(2, rows + 2))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="A1:XFD{rows + 1}"/><sheetData><row r="1">{cells}</row>{body}</sheetData></worksheet>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            data = sheet.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item.filename, data)
    return out.getvalue()


def sheet(header, rows) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(list(header))
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- XLSX bomb: memory of the read alone, in a fresh interpreter -----------------------------------------------

_MEASURE = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    # A ceiling so that a regression fails with MemoryError instead of taking the machine's memory.
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
    from lms.contentfile import ContentErrors
    from lms.quizzes.formats.xlsx import parse_xlsx
    from lms.tabular import TabularError, read_rows
    data = open(sys.argv[2], "rb").read()
    tracemalloc.start()
    outcome = "ok"
    try:
        if sys.argv[1] == "roster":
            outcome = len(read_rows(data, "bomb.xlsx", ["工号"]))
        else:
            outcome = len(parse_xlsx(data, "bomb.xlsx", "bank1"))
    except (TabularError, ContentErrors) as exc:
        outcome = str(exc)
    except MemoryError:
        outcome = "MemoryError"
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"peak_mb": peak / 2**20, "outcome": outcome}))
""")


@pytest.mark.parametrize("reader, header", [("roster", ROSTER_HEADERS), ("bank", BANK_HEADERS)])
def test_a_50_kb_xlsx_bomb_is_read_in_under_200_mb(tmp_path, reader, header):
    bomb = xlsx_bomb(10_000, header)
    assert len(bomb) < 60_000
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb)
    done = subprocess.run([sys.executable, "-c", _MEASURE, reader, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] != "MemoryError"
    assert result["peak_mb"] < MEMORY_LIMIT_MB, result


def test_too_many_rows_are_refused_with_the_limit_named(api, client, runner, tree, tmp_path, monkeypatch):
    import lms.tabular
    monkeypatch.setattr(lms.tabular, "MAX_ROWS", 3)
    rows = [(f"W{n:03d}", "张三", "", "", "", "", "", "HX010101", "worker") for n in range(4)]
    path = tmp_path / "roster.xlsx"
    path.write_bytes(sheet(ROSTER_HEADERS, rows))
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "超过 3 行数据" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0

    make_user("tc", "trainer", tree["county"])
    api.login("tc")
    questions = [("", "判断", f"第{n}题", "", "", "", "", "", "", "对", "", "", "", "") for n in range(4)]
    response = client.post("/quizzes/banks", data={
        "csrf_token": api.csrf, "bank": "big-bank", "format": "xlsx",
        "file": (io.BytesIO(sheet(BANK_HEADERS, questions)), "big.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "超过 3 行数据" in response.get_data(as_text=True)


def test_a_csv_cell_past_the_field_limit_is_refused_with_its_row(runner, tree, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(",".join(ROSTER_HEADERS) + "\nW001,张三,,,,,,HX010101,worker\n"
                    + 'W002,"' + "长" * 200_000 + '",,,,,,HX010101,worker\n', encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "CSV 文件第 3 行无法读取" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# --- images past the pixel limit ---------------------------------------------------------------------------------

def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("side", [8000, 6400])
def test_an_image_past_40_million_pixels_is_refused_before_decoding(api, client, tree, side):
    make_user("tc", "trainer", tree["county"])
    make_course("county-c", level="county", org="HX", lessons=1)
    api.login("tc")
    response = client.post("/author/courses/county-c/assets", data={
        "csrf_token": api.csrf, "file": (io.BytesIO(_png(side, side)), "bomb.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "图片像素太多" in page and f"{side}×{side}" in page and "4000 万像素" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseAsset)) == 0


# --- symbolic links out of the content folder -------------------------------------------------------------------

GOOD_COURSES = ROOT / "tests" / "data" / "courses" / "good"


def _content(tmp_path) -> tuple[Path, Path, Path]:
    courses, questions, outside = tmp_path / "courses", tmp_path / "question_bank", tmp_path / "outside"
    shutil.copytree(GOOD_COURSES / "qs-practice", courses / "qs-practice")
    questions.mkdir()
    outside.mkdir()
    return courses, questions, outside


def _import(runner, courses, questions):
    return runner.invoke(args=["content", "import", "--courses", str(courses), "--questions", str(questions)])


def test_a_lesson_symlinked_out_of_the_content_folder_is_refused(runner, tree, tmp_path):
    courses, questions, outside = _content(tmp_path)
    secret = outside / "secret.md"
    secret.write_text("---\ntitle: 机密\nminutes: 5\n---\n服务器上的机密文件\n", encoding="utf-8")
    lesson = courses / "qs-practice" / "02-secret.md"
    lesson.symlink_to(secret)
    result = _import(runner, courses, questions)
    assert result.exit_code == 1
    assert "courses/qs-practice/02-secret.md:1: 符号链接指向内容文件夹之外" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_a_course_folder_symlinked_out_is_refused(runner, tree, tmp_path):
    courses, questions, outside = _content(tmp_path)
    shutil.copytree(GOOD_COURSES / "ty-drill", outside / "ty-drill")
    (courses / "ty-drill").symlink_to(outside / "ty-drill", target_is_directory=True)
    result = _import(runner, courses, questions)
    assert result.exit_code == 1
    assert "courses/ty-drill:1: 符号链接指向内容文件夹之外" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
    # A link that stays inside the folder is fine.
    (courses / "ty-drill").unlink()
    shutil.copytree(GOOD_COURSES / "ty-drill", courses / "_shared-drill")
    (courses / "ty-drill").symlink_to(courses / "_shared-drill", target_is_directory=True)
    result = _import(runner, courses, questions)
    assert "符号链接" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) >= 1
