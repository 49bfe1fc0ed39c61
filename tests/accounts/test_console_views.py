"""Pages of the accounts console: create, edit, roles, enable, roster upload → preview → confirm → sheet once."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from lms.accounts.models import ImportUpload, Role, User, UserStatus
from lms.extensions import db
from tests.factories import ApiClient, make_user

HEADER = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色,状态"


def roster(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def count_users() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.fixture
def hr(client, tree):
    make_user("hr-t1", "hr", tree["t1"], name="周敏")
    ApiClient(client).login("hr-t1")
    return client


@pytest.fixture
def worker(tree):
    return make_user("w001", "worker", tree["g1"], name="张小明", education="高中")


def test_users_page_offers_the_console_actions(hr, worker):
    html = hr.get("/users").get_data(as_text=True)
    for label in ("新建账号", "导入名单", "编辑", "角色", "停用"):
        assert label in html
    assert "/users/w001/edit" in html and "/users/w001/roles" in html


def test_create_page_lists_only_units_in_scope_and_shows_the_password_once(hr, tree):
    page = hr.get("/users/new").get_data(as_text=True)
    assert "桃源村第一网格" in page and "和平社区" not in page
    assert ">网格员<" in page and ">培训师<" in page and "人事/综治中心" not in page
    response = hr.post("/users/new", data={"csrf_token": csrf(page), "name": "王五", "org": "HX010101",
                                           "role": "grid_leader", "phone": "13812345678", "education": "大专",
                                           "birth": "", "hired": "2024-03-01", "username": "", "id_card": ""})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    password = re.search(r'data-field="one-time-password">([^<]+)<', html).group(1)
    assert "HX010101-001" in html and "一次性密码" in html
    created = user("HX010101-001")
    assert created.must_change_password and created.phone == "13812345678"
    assert [(g.role, g.org.code) for g in created.grants] == [(Role.grid_leader, "HX010101")]
    assert ApiClient(hr.application.test_client()).login("HX010101-001", password).status_code == 200


@pytest.mark.parametrize("fields,message", [
    ({"name": ""}, "请填写姓名"),
    ({"phone": "12345"}, "手机号应为 11 位"),
    ({"id_card": "110105194912310021"}, "校验位"),
    ({"birth": "2026-13-01"}, "出生日期"),
    ({"education": "博士后"}, "学历"),
    ({"username": "张 三"}, "工号只能包含"),
    ({"username": "hr-t1"}, "已存在"),
    ({"org": ""}, "请选择所在单位"),
    ({"role": "boss"}, "请选择角色"),
])
def test_create_form_bad_input_says_what_is_wrong_and_writes_nothing(hr, tree, fields, message):
    page = hr.get("/users/new").get_data(as_text=True)
    before = count_users()
    data = {"csrf_token": csrf(page), "name": "王五", "org": "HX010101", "role": "worker", **fields}
    response = hr.post("/users/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_users() == before


def test_create_form_for_a_unit_out_of_scope_is_refused(hr, tree):
    page = hr.get("/users/new").get_data(as_text=True)
    response = hr.post("/users/new", data={"csrf_token": csrf(page), "name": "王五", "org": "HX020101",
                                           "role": "worker"})
    assert response.status_code == 403 and "管辖范围" in response.get_data(as_text=True)


def test_edit_page_saves_and_blank_id_card_keeps_the_stored_one(hr, tree):
    make_user("w002", "worker", tree["g1"], name="李四", id_card="11010519491231002X", phone="13812345678")
    page = hr.get("/users/w002/edit").get_data(as_text=True)
    assert "110105********002X" in page and "11010519491231002X" not in page
    response = hr.post("/users/w002/edit", data={"csrf_token": csrf(page), "name": "李思", "org": "HX0101",
                                                 "id_card": "", "phone": "", "birth": "", "education": "本科",
                                                 "hired": ""})
    assert response.status_code == 302
    edited = user("w002")
    assert (edited.name, edited.org.code, edited.education) == ("李思", "HX0101", "本科")
    assert edited.id_card == "11010519491231002X" and edited.phone == "13812345678"


def test_edit_page_bad_phone_is_422_and_nothing_changes(hr, worker):
    page = hr.get("/users/w001/edit").get_data(as_text=True)
    response = hr.post("/users/w001/edit", data={"csrf_token": csrf(page), "name": "张三", "org": "HX010101",
                                                 "phone": "555", "education": ""})
    assert response.status_code == 422 and "手机号" in response.get_data(as_text=True)
    assert user("w001").name == "张小明"


def test_roles_page_grants_with_the_scope_picker_and_revokes(hr, tree, worker):
    page = hr.get("/users/w001/roles").get_data(as_text=True)
    assert "网格员（桃源村第一网格）" in page and "和平社区" not in page
    response = hr.post("/users/w001/roles", data={"csrf_token": csrf(page), "keep": ["worker@HX010101"],
                                                  "add_role": "mentor", "add_org": "HX01"})
    assert response.status_code == 302
    assert {(g.role, g.org.code) for g in user("w001").grants} == {(Role.worker, "HX010101"), (Role.mentor, "HX01")}
    page = hr.get("/users/w001/roles").get_data(as_text=True)
    response = hr.post("/users/w001/roles", data={"csrf_token": csrf(page), "keep": ["mentor@HX01"], "add_role": ""})
    assert response.status_code == 302
    assert [(g.role, g.org.code) for g in user("w001").grants] == [(Role.mentor, "HX01")]


def test_roles_page_refuses_a_role_hr_may_not_grant_and_an_empty_set(hr, worker):
    page = hr.get("/users/w001/roles").get_data(as_text=True)
    response = hr.post("/users/w001/roles", data={"csrf_token": csrf(page), "keep": ["worker@HX010101"],
                                                  "add_role": "admin", "add_org": "HX01"})
    assert response.status_code == 403 and "系统管理员" in response.get_data(as_text=True)
    response = hr.post("/users/w001/roles", data={"csrf_token": csrf(page), "add_role": ""})
    assert response.status_code == 422 and "至少保留一个角色" in response.get_data(as_text=True)
    assert [g.role for g in user("w001").grants] == [Role.worker]


def test_disable_then_enable_from_the_list(hr, worker):
    page = hr.get("/users").get_data(as_text=True)
    assert hr.post("/users/w001/disable", data={"csrf_token": csrf(page)}).status_code == 302
    page = hr.get("/users").get_data(as_text=True)
    assert "已停用" in page and "/users/w001/enable" in page
    assert hr.post("/users/w001/enable", data={"csrf_token": csrf(page)}).status_code == 302
    assert user("w001").status == UserStatus.active


# --- roster upload ----------------------------------------------------------------------------------------------


def _upload(client, data: bytes, name: str = "名单.csv"):
    page = client.get("/users/import").get_data(as_text=True)
    return client.post("/users/import", data={"csrf_token": csrf(page), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_roster_with_a_bad_row_writes_nothing_until_confirmed_then_the_sheet_downloads_once(hr, tree, worker):
    data = roster("W100,李四,,,,,,HX010101,网格员,", "W101,王五,,1381234,,,,HX010101,,",
                  "w001,张小明,,,,本科,,HX010101,,", "W102,赵六,,,,,,HX010101,,离岗")
    response = _upload(hr, data)
    assert response.status_code == 302
    before = count_users()
    preview = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 3 行" in preview and "手机号应为 11 位" in preview
    assert "W100" in preview and "新建" in preview and "学历" in preview and "确认导入 3 条正确的行" in preview
    assert count_users() == before and user("w001").education == "高中"  # nothing written yet
    confirm_url = re.search(r'action="([^"]+/confirm)"', preview).group(1)
    done = hr.post(confirm_url, data={"csrf_token": csrf(preview)})
    assert done.status_code == 302
    result = hr.get(done.headers["Location"]).get_data(as_text=True)
    assert "新建 2 人" in result and "下载初始密码表" in result and "第 3 行" in result
    assert user("W100") is not None and user("W101") is None and user("w001").education == "本科"
    assert user("W102").status == UserStatus.disabled
    sheet_url = re.search(r'href="([^"]+passwords\.xlsx)"', result).group(1)
    sheet = hr.get(sheet_url)
    assert sheet.status_code == 200 and "attachment" in sheet.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["W100", "W102"]
    second = hr.get(sheet_url)
    assert second.status_code == 410 and "只能下载一次" in second.get_data(as_text=True)
    assert db.session.scalar(sa.select(ImportUpload.password_sheet)) is None
    assert "已下载" in hr.get(done.headers["Location"]).get_data(as_text=True)
    # Confirming again does not import twice.
    again = hr.post(confirm_url, data={"csrf_token": csrf(preview)})
    assert again.status_code == 422 and "已经导入过" in again.get_data(as_text=True)


@pytest.mark.parametrize("data,name,message", [
    (b"", "r.csv", "空"),
    ("工号,姓名\nW1,张\n".encode(), "r.csv", "缺少列"),
    (b"PK\x03\x04garbage", "r.xlsx", "无法读取"),
    (b"x", "r.pdf", "不支持"),
])
def test_unreadable_upload_is_refused_on_the_upload_page(hr, tree, data, name, message):
    response = _upload(hr, data, name)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportUpload)) == 0


def test_upload_page_without_a_file(hr, tree):
    page = hr.get("/users/import").get_data(as_text=True)
    response = hr.post("/users/import", data={"csrf_token": csrf(page)}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要上传的名单文件" in response.get_data(as_text=True)


def test_another_hr_cannot_open_my_preview_or_sheet(hr, client, tree, app):
    response = _upload(hr, roster("W100,李四,,,,,,HX010101,,"))
    preview_url = response.headers["Location"]
    other = app.test_client()
    make_user("hr-t1b", "hr", tree["t1"])
    ApiClient(other).login("hr-t1b")
    assert other.get(preview_url).status_code == 404
    assert other.get(preview_url + "/passwords.xlsx").status_code == 404
