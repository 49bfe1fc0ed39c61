"""JSON routes of the accounts console: create, edit, roles, disable/enable, roster import (API.md, Operators' routes)."""
from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.accounts.models import OrgMembership, Role, User, UserStatus
from lms.accounts.validation import id_card_check_digit
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.factories import ApiClient, make_user

HEADER = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色,状态"


def idc(birth="19800501", serial="123"):
    first17 = f"360121{birth}{serial}"
    return first17 + id_card_check_digit(first17)


def roster(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


@pytest.fixture
def hr(client, tree):
    make_user("hr-t1", "hr", tree["t1"], name="周敏")
    api = ApiClient(client)
    assert api.login("hr-t1").status_code == 200
    return api


@pytest.fixture
def worker(tree):
    return make_user("w001", "worker", tree["g1"], name="张小明")


# --- create ---------------------------------------------------------------------------------------------------


def test_create_returns_a_readable_one_time_password_that_must_be_changed(hr, tree):
    response = hr.post("/api/v1/users", json={"name": "王五", "org": "HX010101", "phone": "13812345678",
                                              "birth": "1980-05-01", "id_card": idc(), "education": "大专",
                                              "hired": "2024-03-01"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["username"] == "HX010101-001"
    password = body["one_time_password"]
    assert len(password) >= 8 and not set(password) & set("0O1Il")
    created = user("HX010101-001")
    assert created.must_change_password and created.phone == "13812345678" and created.education == "大专"
    assert [(g.role, g.org.code) for g in created.grants] == [(Role.worker, "HX010101")]
    login = ApiClient(hr.client.application.test_client()).login("HX010101-001", password)
    assert login.status_code == 200 and login.get_json()["must_change_password"] is True
    entry = audit("accounts.create")[-1]
    assert entry.details["summary"] == "周敏 新建了 桃源村第一网格 的账号 王五（HX010101-001）"
    assert "13812345678" not in str([e.details for e in db.session.scalars(sa.select(AuditEntry))])


def test_create_generates_the_next_free_username_and_takes_a_given_one(hr, tree):
    make_user("HX010101-001", "worker", tree["g1"])
    assert hr.post("/api/v1/users", json={"name": "甲", "org": "HX010101"}).get_json()["username"] == "HX010101-002"
    assert hr.post("/api/v1/users", json={"name": "乙", "org": "HX010101", "username": "W900"}
                   ).get_json()["username"] == "W900"


@pytest.mark.parametrize("body,status,message", [
    ({"org": "HX010101"}, 422, "姓名"),
    ({"name": "  ", "org": "HX010101"}, 422, "姓名不能为空"),
    ({"name": "甲"}, 422, "组织编码"),
    ({"name": "甲", "org": "NOPE"}, 422, "NOPE"),
    ({"name": "甲", "org": "HX010101", "id_card": "110105194912310021"}, 422, "校验位"),
    ({"name": "甲", "org": "HX010101", "phone": "1381234"}, 422, "手机号"),
    ({"name": "甲", "org": "HX010101", "birth": "1980-13-45"}, 422, "出生日期"),
    ({"name": "甲", "org": "HX010101", "birth": "1981-01-01", "id_card": idc()}, 422, "不一致"),
    ({"name": "甲", "org": "HX010101", "education": "博士后"}, 422, "学历"),
    ({"name": "甲", "org": "HX010101", "hired": "0001-01-01"}, 422, "入职日期"),
    ({"name": "甲", "org": "HX010101", "username": "a b"}, 422, "工号"),
    ({"name": "甲", "org": "HX010101", "username": "hr-t1"}, 422, "已存在"),
    ({"name": "甲", "org": "HX010101", "roles": "worker"}, 422, "roles"),
    ({"name": "甲", "org": "HX010101", "roles": [{"role": "boss", "org": "HX01"}]}, 422, "boss"),
    ({"name": "甲", "org": "HX010101", "roles": [{"role": "hr", "org": "HX01"}]}, 403, "人事"),
    ({"name": "甲", "org": "HX020101"}, 403, "管辖范围"),
    ({"name": "甲", "org": "HX010101", "roles": [{"role": "worker", "org": "HX02"}]}, 403, "城关街道"),
    ({"name": 5, "org": "HX010101"}, 422, "姓名"),
])
def test_create_bad_input_gets_a_chinese_message_and_writes_nothing(hr, tree, body, status, message):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = hr.post("/api/v1/users", json=body)
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_create_body_must_be_json(hr):
    response = hr.post("/api/v1/users", data="x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_workers_and_trainers_cannot_create_accounts(client, tree):
    make_user("tr", "trainer", tree["t1"])
    api = ApiClient(client)
    api.login("tr")
    assert api.post("/api/v1/users", json={"name": "甲", "org": "HX010101"}).status_code == 403


# --- edit -----------------------------------------------------------------------------------------------------


def test_edit_changes_fields_and_a_move_keeps_the_membership_history(hr, tree, worker):
    response = hr.client.patch("/api/v1/users/w001", json={"name": "张晓明", "org": "HX0101", "education": "本科",
                                                           "phone": "13900001111"},
                               headers={"X-CSRFToken": hr.csrf})
    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()["changed"]) == {"姓名", "单位", "学历", "手机号"}
    edited = user("w001")
    assert (edited.name, edited.org.code, edited.education, edited.phone) == ("张晓明", "HX0101", "本科", "13900001111")
    memberships = db.session.execute(sa.select(OrgMembership.org_id, OrgMembership.ended_at)
                                     .where(OrgMembership.user_id == edited.id).order_by(OrgMembership.id)).all()
    assert [m.org_id for m in memberships] == [tree["g1"].id, tree["v1"].id] and memberships[0].ended_at
    entry = audit("accounts.update")[-1]
    assert entry.details["org_from"] == "桃源村第一网格" and entry.details["org_to"] == "桃源村"
    assert "13900001111" not in str(entry.details) and "手机号" in entry.details["summary"]


@pytest.mark.parametrize("body,status,message", [
    ({"phone": "123"}, 422, "手机号"),
    ({"name": ""}, 422, "姓名"),
    ({"org": "HX020101"}, 403, "管辖范围"),
    ({"org": "NOPE"}, 422, "NOPE"),
    ({"birth": "明年"}, 422, "出生日期"),
    ({"education": "博士后"}, 422, "学历"),
])
def test_edit_bad_input_changes_nothing(hr, tree, worker, body, status, message):
    response = hr.client.patch("/api/v1/users/w001", json={"education": "本科", **body},
                               headers={"X-CSRFToken": hr.csrf})
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]
    assert user("w001").education is None and user("w001").org.code == "HX010101"


def test_edit_of_an_unknown_account_is_404(hr):
    response = hr.client.patch("/api/v1/users/nobody", json={"name": "x"}, headers={"X-CSRFToken": hr.csrf})
    assert response.status_code == 404


# --- roles ----------------------------------------------------------------------------------------------------


def test_hr_grants_and_revokes_team_roles_with_their_scope(hr, tree, worker):
    response = hr.put("/api/v1/users/w001/roles", json={"roles": [{"role": "worker", "org": "HX010101"},
                                                                    {"role": "grid_leader", "org": "HX010101"},
                                                                    {"role": "trainer", "org": "HX0101"}]})
    assert response.status_code == 200, response.get_json()
    assert {(r["role"], r["org"]) for r in response.get_json()["roles"]} == {
        ("worker", "HX010101"), ("grid_leader", "HX010101"), ("trainer", "HX0101")}
    entry = audit("roles.change")[-1]
    assert entry.details["added"] == ["网格长（桃源村第一网格）", "培训师（桃源村）"]
    assert entry.details["summary"].startswith("周敏 为 张小明（w001）授予")
    response = hr.put("/api/v1/users/w001/roles", json={"roles": [{"role": "worker", "org": "HX010101"}]})
    assert [r["role"] for r in response.get_json()["roles"]] == ["worker"]
    assert audit("roles.change")[-1].details["removed"] == ["网格长（桃源村第一网格）", "培训师（桃源村）"]


@pytest.mark.parametrize("roles,status,message", [
    ([{"role": "hr", "org": "HX01"}], 403, "人事"),
    ([{"role": "admin", "org": "HX01"}], 403, "管理员"),
    ([{"role": "pii", "org": "HX01"}], 403, "个人信息"),
    ([{"role": "worker", "org": "HX020101"}], 403, "和平社区第一网格"),
    ([], 422, "至少保留一个角色"),
    (None, 422, "roles"),
    ([{"role": "worker"}], 422, "roles"),
])
def test_hr_cannot_grant_beyond_the_permission_table(hr, tree, worker, roles, status, message):
    response = hr.put("/api/v1/users/w001/roles", json={"roles": roles})
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]
    assert [(g.role, g.org.code) for g in user("w001").grants] == [(Role.worker, "HX010101")]


def test_admin_grants_hr_in_scope(client, tree, worker):
    make_user("adm", "admin", tree["county"])
    api = ApiClient(client)
    api.login("adm")
    response = api.put("/api/v1/users/w001/roles", json={"roles": [{"role": "hr", "org": "HX01"}]})
    assert response.status_code == 200
    assert [(g.role, g.org.code) for g in user("w001").grants] == [(Role.hr, "HX01")]


# --- disable / enable -------------------------------------------------------------------------------------------


def test_disable_then_enable_keeps_the_account(hr, tree, worker):
    response = hr.post("/api/v1/users/w001/disable")
    assert response.status_code == 200 and response.get_json()["status"] == "disabled"
    assert ApiClient(hr.client.application.test_client()).login("w001").status_code == 401
    response = hr.post("/api/v1/users/w001/enable")
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert user("w001").status == UserStatus.active
    assert ApiClient(hr.client.application.test_client()).login("w001").status_code == 200
    assert audit("accounts.enable")[-1].details["summary"] == "周敏 重新启用了 张小明（w001）的账号"


# --- roster import --------------------------------------------------------------------------------------------


def test_import_reports_counts_errors_and_a_password_sheet_that_downloads_once(hr, tree, worker):
    data = roster("W100,李四,,,,,,HX010101,网格员,", "W101,王五,,,,,,NOPE,,", "w001,张小明,,,,本科,,HX010101,,")
    response = hr.post("/api/v1/users/import", data={"file": (io.BytesIO(data), "名单.csv")},
                       content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["created"], body["updated"], body["unchanged"], body["disabled"]) == (1, 1, 0, 0)
    assert body["errors"] == [{"row": 3, "message": "组织编码“NOPE”不存在"}]
    sheet = hr.get(body["passwords_url"])
    assert sheet.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "初始密码") and rows[1][:2] == ("W100", "李四")
    assert hr.get(body["passwords_url"]).status_code == 410


def test_import_without_a_file_or_with_an_unreadable_one(hr, tree):
    response = hr.post("/api/v1/users/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "file" in response.get_json()["error"]["message"]
    response = hr.post("/api/v1/users/import", data={"file": (io.BytesIO(b"x"), "r.pdf")},
                       content_type="multipart/form-data")
    assert response.status_code == 422 and "不支持" in response.get_json()["error"]["message"]


def test_import_out_of_scope_rows_are_errors(hr, tree):
    data = roster("W100,李四,,,,,,HX020101,,", "W101,王五,,,,,,HX010101,hr,")
    body = hr.post("/api/v1/users/import", data={"file": (io.BytesIO(data), "r.csv")},
                   content_type="multipart/form-data").get_json()
    assert body["created"] == 0 and body["passwords_url"] is None
    messages = dict((e["row"], e["message"]) for e in body["errors"])
    assert "不在您的管辖范围内" in messages[2] and "人事" in messages[3]


def test_openapi_documents_the_new_routes(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"post"} <= set(paths["/api/v1/users"]) and "patch" in paths["/api/v1/users/{username}"]
    for path in ("/api/v1/users/{username}/roles", "/api/v1/users/{username}/disable",
                 "/api/v1/users/{username}/enable", "/api/v1/users/import"):
        assert path in paths
