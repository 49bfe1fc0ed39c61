"""The initial-password sheet is formula-safe and handed out once (issue 13, item 10; API.md "Roster re-import").

| tries | expected |
| --- | --- |
| `users import` with a 姓名 `=HYPERLINK("http://evil.example","点我")` | `<input>.passwords.xlsx` (not a CSV), the cell a string starting with `'`, no formula in the sheet |
| 姓名 starting with `+`, `-`, `@` and a 工号 starting with `-` | each cell neutralised with `'`, no formula |
| the same names through the HR upload, sheet downloaded from `passwords_url` | neutralised, no formula |
| downloading the sheet a second time | 410, the stored sheet is gone |
| a second `users import` beside an earlier sheet | the earlier passwords are kept in the sheet, still neutralised |
"""
from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.accounts.models import ImportUpload
from lms.extensions import db
from tests.factories import ApiClient, make_user

HEADER = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色"
NASTY = '=HYPERLINK("http://evil.example","点我")'


def roster(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def cells(data: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"live formula in {cell.coordinate}: {cell.value}"
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.parametrize("username,name", [("W001", NASTY), ("W002", "+1+2"), ("W003", "@SUM(1,2)"),
                                           ("-2-3", "-1")])
def test_cli_sheet_is_xlsx_and_neutralises_formulas(runner, tree, tmp_path, username, name):
    path = tmp_path / "roster.csv"
    path.write_bytes(roster(f"{username},{_csv_cell(name)},,,,,,HX010101,"))
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output + result.stderr
    sheet = tmp_path / "roster.csv.passwords.xlsx"
    assert sheet.exists() and not (tmp_path / "roster.csv.passwords.csv").exists()
    assert oct(sheet.stat().st_mode & 0o777) == "0o600"
    rows = cells(sheet.read_bytes())
    written_username, written_name = rows[1][:2]
    for original, written in ((username, written_username), (name, written_name)):
        if original[0] in "=+-@":
            assert written == "'" + original
        else:
            assert written == original


def test_a_second_cli_import_keeps_the_earlier_passwords(runner, tree, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(roster(f"W001,{_csv_cell(NASTY)},,,,,,HX010101,"))
    runner.invoke(args=["users", "import", str(path)])
    path.write_bytes(roster("W002,李四,,,,,,HX010101,"))
    runner.invoke(args=["users", "import", str(path)])
    rows = cells((tmp_path / "roster.csv.passwords.xlsx").read_bytes())
    assert [r[:2] for r in rows[1:]] == [("W001", "'" + NASTY), ("W002", "李四")]


def test_uploaded_roster_sheet_is_neutralised_and_downloads_once(client, tree):
    make_user("hr", "hr", tree["t1"])
    api = ApiClient(client)
    api.login("hr")
    data = roster(f"W001,{_csv_cell(NASTY)},,,,,,HX010101,", "W002,@cmd,,,,,,HX010101,")
    body = api.post("/api/v1/users/import", data={"file": (io.BytesIO(data), "r.csv")},
                    content_type="multipart/form-data").get_json()
    first = client.get(body["passwords_url"])
    assert first.status_code == 200
    rows = cells(first.data)
    assert [r[1] for r in rows[1:]] == ["'" + NASTY, "'@cmd"]
    second = client.get(body["passwords_url"])
    assert second.status_code == 410 and "只能下载一次" in second.get_data(as_text=True)
    assert db.session.scalar(sa.select(ImportUpload.password_sheet)) is None
