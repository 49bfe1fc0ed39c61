"""Org tree in the browser and API (admin): import previewed first, rename, move a grid keeping its people's history."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from lms.accounts.models import OrgMembership
from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.org.models import OrgUnit
from lms.org.queries import get_org
from lms.org.services import update_org
from lms.errors import ValidationError
from tests.factories import ApiClient, make_user

HEADER = "编码,名称,类型,上级编码,户数,网格类型"


def org_csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def unit(code: str) -> OrgUnit:
    db.session.expire_all()
    return get_org(code)


@pytest.fixture
def admin(client, tree):
    make_user("adm", "admin", tree["county"], name="管理员")
    api = ApiClient(client)
    assert api.login("adm").status_code == 200
    return api


def test_moving_a_grid_keeps_its_people_and_their_history(app, tree):
    person = make_user("w001", "worker", tree["g1"])
    changed = update_org(tree["g1"], name="桃源村一组网格", parent=tree["v2"], households=300, grid_type=None)
    db.session.commit()
    assert set(changed) == {"parent", "name", "households", "grid_type"}
    grid = unit("HX010101")
    assert grid.path.startswith(unit("HX0201").path) and grid.depth == 3
    db.session.refresh(person)
    assert person.org_id == grid.id  # the person moved with the grid; the membership row is untouched
    assert db.session.scalar(sa.select(OrgMembership.org_id).where(OrgMembership.user_id == person.id)) == grid.id


@pytest.mark.parametrize("parent_key,message", [("g1", "自己"), ("g2", "不能位于"), (None, "顶级")])
def test_bad_moves_are_refused(app, tree, parent_key, message):
    with pytest.raises(ValidationError) as excinfo:
        update_org(tree["v1"], name="桃源村", parent=tree[parent_key] if parent_key else None, households=None,
                   grid_type=None)
    assert message in excinfo.value.message


def test_edit_page_renames_and_moves_with_an_audit_sentence(admin, tree):
    page = admin.get("/org/HX010101/edit").get_data(as_text=True)
    assert "和平社区" in page and "桃源村第一网格" in page
    response = admin.client.post("/org/HX010101/edit", data={"csrf_token": csrf(page), "name": "桃源村一组",
                                                              "parent": "HX0201", "households": "300",
                                                              "grid_type": "rural"})
    assert response.status_code == 302
    assert unit("HX010101").name == "桃源村一组" and unit("HX010101").parent.code == "HX0201"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "org.update"))
    assert "将“桃源村第一网格”改名为“桃源村一组”" in entry.details["summary"]
    assert entry.details["parent_from"] == "桃源村" and entry.details["parent_to"] == "和平社区"


@pytest.mark.parametrize("fields,message", [({"name": ""}, "请填写名称"), ({"households": "-3"}, "户数"),
                                            ({"households": "很多"}, "户数"), ({"parent": "HX0101X"}, "上级单位")])
def test_edit_page_bad_input(admin, tree, fields, message):
    page = admin.get("/org/HX010101/edit").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "name": "新名", "parent": "HX0101", "households": "", "grid_type": "", **fields}
    response = admin.client.post("/org/HX010101/edit", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert unit("HX010101").name == "桃源村第一网格"


def test_import_is_previewed_before_anything_is_written(admin, tree):
    page = admin.get("/org/import").get_data(as_text=True)
    data = org_csv("HX010102,桃源村第二网格,网格,HX0101,143,山区", "HX9,坏单位,星球,HX,,", "HX0101,桃源新村,村,HX01,,")
    response = admin.client.post("/org/import", data={"csrf_token": csrf(page), "file": (io.BytesIO(data), "orgs.csv")},
                                 content_type="multipart/form-data")
    assert response.status_code == 302
    preview = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 3 行" in preview and "星球" in preview and "新增 1 个单位，更新 1 个" in preview
    assert unit("HX010102") is None and unit("HX0101").name == "桃源村"
    confirm = re.search(r'action="([^"]+/confirm)"', preview).group(1)
    assert admin.client.post(confirm, data={"csrf_token": csrf(preview)}).status_code == 302
    assert unit("HX010102").households == 143 and unit("HX0101").name == "桃源新村"
    again = admin.client.post(confirm, data={"csrf_token": csrf(preview)})
    assert again.status_code == 422


def test_unreadable_org_file_is_refused(admin, tree):
    page = admin.get("/org/import").get_data(as_text=True)
    response = admin.client.post("/org/import", data={"csrf_token": csrf(page),
                                                      "file": (io.BytesIO(b"a,b\n1,2\n"), "orgs.csv")},
                                 content_type="multipart/form-data")
    assert response.status_code == 422 and "缺少列" in response.get_data(as_text=True)


def test_api_patch_and_import(admin, tree):
    response = admin.client.patch("/api/v1/orgs/HX010101", json={"parent": "HX0201", "name": "一组"},
                                  headers={"X-CSRFToken": admin.csrf})
    assert response.status_code == 200 and response.get_json()["name"] == "一组"
    assert unit("HX010101").parent.code == "HX0201"
    response = admin.client.patch("/api/v1/orgs/HX010101", json={"grid_type": "sea"}, headers={"X-CSRFToken": admin.csrf})
    assert response.status_code == 422
    body = admin.post("/api/v1/orgs/import", data={"file": (io.BytesIO(org_csv("HX0103,新村,村,HX01,,")), "o.csv")},
                      content_type="multipart/form-data").get_json()
    assert body["created"] == 1 and body["errors"] == []


def test_township_admin_cannot_edit_or_import_beyond_its_township(client, tree):
    make_user("adm-t2", "admin", tree["t2"])
    api = ApiClient(client)
    api.login("adm-t2")
    assert client.get("/org/HX010101/edit").status_code == 403
    response = api.client.patch("/api/v1/orgs/HX020101", json={"parent": "HX0101"}, headers={"X-CSRFToken": api.csrf})
    assert response.status_code == 403
    body = api.post("/api/v1/orgs/import", data={"file": (io.BytesIO(org_csv("HX010101,改名,网格,HX0101,,")), "o.csv")},
                    content_type="multipart/form-data").get_json()
    assert body["updated"] == 0 and "管辖范围" in body["errors"][0]["message"]
    assert unit("HX010101").name == "桃源村第一网格"


def test_hr_cannot_edit_the_tree(client, tree):
    make_user("hr", "hr", tree["county"])
    ApiClient(client).login("hr")
    assert client.get("/org/import").status_code == 403
    assert client.get("/org/HX010101/edit").status_code == 403
    assert "导入组织架构" not in client.get("/org").get_data(as_text=True)
