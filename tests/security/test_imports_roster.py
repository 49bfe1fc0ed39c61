"""Roster re-import must not wipe data (issue 13, item 4; API.md "Roster re-import").

| tries | expected |
| --- | --- |
| re-import a known 工号 with blank 身份证号, 手机号, 出生日期, 学历, 入职日期 cells | stored values kept, counted unchanged |
| re-import a grid leader with `pii` and a blank 角色 cell | roles kept (not reset to worker) |
| re-import a leaver (disabled) with a blank 状态 cell | stays disabled |
| the same blank-cell row through the HR upload API | nothing wiped, nothing counted as updated |
| a filled 角色 cell on re-import | roles replaced by exactly what it says |
| a roster with one bad row uploaded on the page | nothing written before HR confirms; then only the good rows |
"""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role, User, UserStatus
from lms.accounts.services import import_roster
from lms.extensions import db
from tests.factories import ApiClient, make_user

HEADER = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色,状态"
ID_CARD = "11010519491231002X"


def roster(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def fresh(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


@pytest.fixture
def leader(tree):
    return make_user("L001", ["worker", "grid_leader", ("pii", tree["g1"])], tree["g1"], name="孙丽",
                     id_card=ID_CARD, phone="13812345678", birth_date=dt.date(1949, 12, 31), education="大专",
                     hired_on=dt.date(2018, 2, 1))


def _unchanged(user: User) -> None:
    assert (user.id_card, user.phone, user.birth_date, user.education, user.hired_on) == (
        ID_CARD, "13812345678", dt.date(1949, 12, 31), "大专", dt.date(2018, 2, 1))
    assert {(g.role, g.org.code) for g in user.grants} == {(Role.worker, "HX010101"), (Role.grid_leader, "HX010101"),
                                                           (Role.pii, "HX010101")}


def test_blank_cells_keep_the_stored_personal_fields_and_roles(app, tree, leader):
    report = import_roster(roster("L001,孙丽,,,,,,HX010101,,"), "r.csv")
    db.session.commit()
    assert (report.updated, report.unchanged, report.errors) == (0, 1, [])
    _unchanged(fresh("L001"))


def test_blank_status_keeps_a_leaver_disabled(app, tree, leader):
    import_roster(roster("L001,孙丽,,,,,,HX010101,,离岗"), "r.csv")
    db.session.commit()
    report = import_roster(roster("L001,孙丽,,,,,,HX010101,,"), "r.csv")
    db.session.commit()
    assert fresh("L001").status == UserStatus.disabled and report.unchanged == 1


def test_blank_cells_through_the_upload_api_wipe_nothing(client, tree, leader):
    make_user("adm", ["admin", ("pii", tree["county"])], tree["county"])
    api = ApiClient(client)
    api.login("adm")
    body = api.post("/api/v1/users/import", data={"file": (io.BytesIO(roster("L001,孙丽,,,,,,HX010101,,")), "r.csv")},
                    content_type="multipart/form-data").get_json()
    assert (body["updated"], body["unchanged"], body["errors"]) == (0, 1, [])
    _unchanged(fresh("L001"))


def test_a_filled_roles_cell_replaces_the_roles(app, tree, leader):
    import_roster(roster("L001,孙丽,,,,,,HX010101,网格员,"), "r.csv")
    db.session.commit()
    user = fresh("L001")
    assert [(g.role, g.org.code) for g in user.grants] == [(Role.worker, "HX010101")]
    assert user.id_card == ID_CARD


def test_a_roster_with_a_bad_row_writes_nothing_until_confirmed(client, tree, leader):
    make_user("hr", "hr", tree["t1"])
    ApiClient(client).login("hr")
    page = client.get("/users/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = roster("W100,新人,,,,,,HX010101,,", "W101,坏行,,12,,,,HX010101,,")
    response = client.post("/users/import", data={"csrf_token": token, "file": (io.BytesIO(data), "r.csv")},
                           content_type="multipart/form-data")
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 3 行" in preview and fresh("W100") is None
    confirm = re.search(r'action="([^"]+/confirm)"', preview).group(1)
    client.post(confirm, data={"csrf_token": token})
    assert fresh("W100") is not None and fresh("W101") is None
