"""users import: CSV and XLSX, row-numbered errors, good rows kept, idempotent by 工号."""
from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.accounts.models import OrgMembership, Role, User, UserStatus
from lms.accounts.services import import_roster
from lms.accounts.validation import id_card_check_digit
from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.tabular import TabularError

HEADER = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色,状态"


def idc(birth="19800501", serial="123"):
    first17 = f"360121{birth}{serial}"
    return first17 + id_card_check_digit(first17)


def roster(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def test_good_rows_create_accounts_that_must_change_password(app, tree):
    data = roster(f"W001,张小明,{idc()},13812345678,1980-05-01,大专,2020-03-01,HX010101,worker,在岗",
                  "W002,李四,,,,,,HX0101,grid_leader、mentor@HX01,")
    report = import_roster(data, "roster.csv")
    db.session.commit()
    assert (report.created, report.errors) == (2, [])
    user = db.session.scalar(sa.select(User).where(User.username == "W001"))
    assert user.must_change_password and user.password_hash.startswith("$argon2id$")
    assert user.org.code == "HX010101" and user.education == "大专"
    lead = db.session.scalar(sa.select(User).where(User.username == "W002"))
    assert {(g.role, g.org.code) for g in lead.grants} == {(Role.grid_leader, "HX0101"), (Role.mentor, "HX01")}
    assert sorted(p[0] for p in report.passwords) == ["W001", "W002"]


def test_each_bad_row_is_reported_with_its_line_and_good_rows_are_kept(app, tree):
    data = roster(
        f"W001,张小明,{idc()},13812345678,1980-05-01,大专,2020-03-01,HX010101,worker,",     # 2 good
        "W002,李四,110105194912310021,,,,,HX0101,worker,",                                 # 3 check digit
        "W003,王五,,1381234,,,,HX0101,worker,",                                            # 4 phone
        "W004,赵六,,,,博士后,,HX0101,worker,",                                              # 5 education
        "W005,钱七,,,,,,NOPE,worker,",                                                     # 6 org
        "W006,孙八,,,,,,HX0101,boss,",                                                     # 7 role
        ",周九,,,,,,HX0101,worker,",                                                       # 8 no 工号
        f"W001,张小明二,{idc()},,,,,HX0101,worker,",                                        # 9 duplicate
        "W007,吴十,,,1980-13-45,,,HX0101,worker,",                                          # 10 date
        f"W008,郑十一,{idc()},,1981-01-01,,,HX0101,worker,",                                # 11 birth ≠ id
        "W009,冯十二,,,,,,HX0101,worker,请假",                                              # 12 status
        "W010,陈十三,,,,,,HX0101,worker@NOPE,",                                             # 13 role org
    )
    report = import_roster(data, "roster.csv")
    db.session.commit()
    assert report.created == 1
    errors = dict(report.errors)
    assert sorted(errors) == list(range(3, 14))
    assert "校验位" in errors[3]
    assert "手机号" in errors[4]
    assert "学历" in errors[5]
    assert "NOPE" in errors[6]
    assert "boss" in errors[7]
    assert "工号为空" in errors[8]
    assert "第 2 行重复" in errors[9]
    assert "出生日期" in errors[10]
    assert "不一致" in errors[11]
    assert "状态" in errors[12]
    assert "NOPE" in errors[13]
    assert report.error_lines[0].startswith("row 3: ")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_second_import_is_unchanged_and_keeps_passwords(app, tree):
    data = roster(f"W001,张小明,{idc()},13812345678,1980-05-01,大专,2020-03-01,HX010101,worker,")
    import_roster(data, "r.csv")
    db.session.commit()
    before = db.session.scalar(sa.select(User.password_hash))
    report = import_roster(data, "r.csv")
    db.session.commit()
    assert (report.created, report.updated, report.unchanged, report.passwords) == (0, 0, 1, [])
    assert db.session.scalar(sa.select(User.password_hash)) == before


def test_transfer_and_leaving_are_recorded_not_deleted(app, tree):
    import_roster(roster("W001,张小明,,,,,,HX010101,worker,"), "r.csv")
    db.session.commit()
    report = import_roster(roster("W001,张小明,,,,,,HX020101,worker,离岗"), "r.csv")
    db.session.commit()
    assert report.disabled == 1
    user = db.session.scalar(sa.select(User))
    assert user.status == UserStatus.disabled and user.org.code == "HX020101"
    memberships = db.session.execute(sa.select(OrgMembership.org_id, OrgMembership.ended_at)
                                     .order_by(OrgMembership.id)).all()
    assert [m.org_id for m in memberships] == [tree["g1"].id, tree["g2"].id]
    assert memberships[0].ended_at is not None and memberships[1].ended_at is None
    assert {e.action for e in db.session.scalars(sa.select(AuditEntry))} >= {"accounts.import", "accounts.disable",
                                                                            "roles.change"}


def test_xlsx_rows_are_numbered_as_in_the_sheet(app, tree):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["W001", "张小明", idc(), 13812345678, "1980-05-01", "大专", "2020-03-01", "HX010101", "worker"])
    sheet.append([None] * 10)  # blank row: skipped, but still counted
    sheet.append(["W002", "", "", "", "", "", "", "HX010101", "worker"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_roster(buffer.getvalue(), "roster.xlsx")
    assert report.created == 1
    assert report.errors == [(4, "姓名为空")]


def test_gbk_csv_from_excel_is_read(app, tree):
    data = roster("W001,张小明,,,,,,HX010101,网格员,").decode().encode("gb18030")
    report = import_roster(data, "roster.csv")
    assert report.created == 1


@pytest.mark.parametrize("data,name,message", [
    (b"", "r.csv", "空"),
    ("工号,姓名\nW1,张\n".encode(), "r.csv", "缺少列"),
    (b"PK\x03\x04garbage", "r.xlsx", "无法读取"),
    (b"x", "r.pdf", "不支持"),
])
def test_unreadable_files_get_a_clear_message(app, tree, data, name, message):
    with pytest.raises(TabularError) as excinfo:
        import_roster(data, name)
    assert message in excinfo.value.message


def test_cli_writes_password_sheet_and_exits_1_on_bad_rows(app, tree, runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(roster("W001,张小明,,,,,,HX010101,worker,", "W002,李四,,,,,,NOPE,worker,"))
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "row 3: 组织编码“NOPE”不存在" in result.stderr
    sheet = tmp_path / "roster.csv.passwords.xlsx"
    rows = list(openpyxl.load_workbook(sheet).active.iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "初始密码") and rows[1][:2] == ("W001", "张小明")
    assert oct(sheet.stat().st_mode & 0o777) == "0o600"
    # The good row was kept although the command exited 1.
    assert db.session.scalar(sa.select(User.username)) == "W001"
