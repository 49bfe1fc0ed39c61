"""Authorization of account actions (issue 13, items 1 and 9) and every new accounts/org route out of scope.

| tries | expected |
| --- | --- |
| hr without `pii` resets the password of a `pii` holder in scope (page) | 403, password unchanged |
| hr without `pii` disables a `pii` holder in scope (page and API) | 403, still active |
| hr without `pii` edits a `pii` holder (PATCH /api/v1/users/<u>, edit page) | 403, nothing changed |
| hr without `pii` changes the roles of a `pii` holder | 403, roles unchanged |
| hr without `pii` updates a `pii` holder through a roster upload | the row is refused, nothing changed |
| admin without `pii` resets the password of a `pii` holder | 403 |
| hr grants `pii`, hr or admin to someone (PUT roles) | 403, roles unchanged |
| hr grants itself admin / removes its own roles (PUT /users/<self>/roles) | 403 |
| hr disables or edits its own account through the HR routes | 403 |
| hr issues a certificate to itself (`POST /api/v1/certificates {"username": self}`) | 403, no certificate |
| hr one township over: create, edit, roles, disable, enable, import rows, pages | 403 (rows: refused), nothing written |
| hr opens another HR's roster preview or password sheet by its URL | 404 |
| township admin edits or moves a unit of another township (page and API) | 403 |
"""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role, User, UserStatus
from lms.certification.models import Certificate
from lms.extensions import db
from tests.certification.factories import make_program
from tests.factories import PASSWORD, ApiClient, make_user


def fresh(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


@pytest.fixture
def people(tree):
    return {
        "hr": make_user("hr-t1", "hr", tree["t1"], name="周敏"),
        "hr_t2": make_user("hr-t2", "hr", tree["t2"], name="吴芳"),
        "admin": make_user("adm", "admin", tree["county"], name="管理员"),
        # a worker who also holds `pii` over the grid: whoever takes the account over sees personal data
        "pii": make_user("pii-holder", ["worker", ("pii", tree["g1"])], tree["g1"], name="钱多"),
        "worker": make_user("w001", "worker", tree["g1"], name="张小明"),
    }


def login(client, username: str) -> ApiClient:
    api = ApiClient(client)
    assert api.login(username).status_code == 200
    return api


def page_token(client) -> str:
    import re
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


# --- item 1: acting on an account needs every permission it holds --------------------------------------------


def test_hr_without_pii_cannot_reset_a_pii_holders_password(client, people):
    login(client, "hr-t1")
    before = fresh("pii-holder").password_hash
    response = client.post("/users/pii-holder/reset-password", data={"csrf_token": page_token(client)})
    assert response.status_code == 403
    assert fresh("pii-holder").password_hash == before
    assert ApiClient(client.application.test_client()).login("pii-holder", PASSWORD).status_code == 200


@pytest.mark.parametrize("how", ["page", "api"])
def test_hr_without_pii_cannot_disable_a_pii_holder(client, people, how):
    api = login(client, "hr-t1")
    if how == "page":
        response = client.post("/users/pii-holder/disable", data={"csrf_token": page_token(client)})
    else:
        response = api.post("/api/v1/users/pii-holder/disable")
    assert response.status_code == 403
    assert fresh("pii-holder").status == UserStatus.active


def test_hr_without_pii_cannot_edit_a_pii_holder(client, people):
    api = login(client, "hr-t1")
    response = client.patch("/api/v1/users/pii-holder", json={"phone": "13900000000"}, headers={"X-CSRFToken": api.csrf})
    assert response.status_code == 403
    assert client.get("/users/pii-holder/edit").status_code == 403
    assert fresh("pii-holder").phone is None


def test_hr_without_pii_cannot_change_a_pii_holders_roles(client, people):
    api = login(client, "hr-t1")
    response = api.put("/api/v1/users/pii-holder/roles", json={"roles": [{"role": "worker", "org": "HX010101"}]})
    assert response.status_code == 403
    assert {g.role for g in fresh("pii-holder").grants} == {Role.worker, Role.pii}


def test_hr_without_pii_cannot_update_a_pii_holder_through_a_roster(client, people):
    api = login(client, "hr-t1")
    data = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色\npii-holder,钱多多,,,,,,HX010101,\n"
    body = api.post("/api/v1/users/import", data={"file": (io.BytesIO(data.encode()), "r.csv")},
                    content_type="multipart/form-data").get_json()
    assert body["updated"] == 0 and body["errors"][0]["row"] == 2
    assert fresh("pii-holder").name == "钱多"


def test_admin_without_pii_cannot_reset_a_pii_holders_password(client, people):
    login(client, "adm")
    response = client.post("/users/pii-holder/reset-password", data={"csrf_token": page_token(client)})
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["pii", "hr", "admin"])
def test_hr_cannot_grant_roles_beyond_its_own(client, people, role):
    api = login(client, "hr-t1")
    response = api.put("/api/v1/users/w001/roles", json={"roles": [{"role": "worker", "org": "HX010101"},
                                                                     {"role": role, "org": "HX010101"}]})
    assert response.status_code == 403
    assert [g.role for g in fresh("w001").grants] == [Role.worker]


# --- item 9: nobody acts on their own account through HR routes ------------------------------------------------


@pytest.mark.parametrize("method,url,body", [
    ("PUT", "/api/v1/users/hr-t1/roles", {"roles": [{"role": "admin", "org": "HX"}]}),
    ("PUT", "/api/v1/users/hr-t1/roles", {"roles": [{"role": "worker", "org": "HX01"}]}),
    ("POST", "/api/v1/users/hr-t1/disable", None),
    ("PATCH", "/api/v1/users/hr-t1", {"name": "周敏敏"}),
])
def test_hr_cannot_act_on_its_own_account(client, people, method, url, body):
    api = login(client, "hr-t1")
    response = client.open(url, method=method, json=body, headers={"X-CSRFToken": api.csrf})
    assert response.status_code == 403
    me = fresh("hr-t1")
    assert me.name == "周敏" and me.status == UserStatus.active and [g.role for g in me.grants] == [Role.hr]


def test_hr_cannot_issue_a_certificate_to_itself(client, people):
    make_program("STAR-1", "一星级网格员", star=1)
    api = login(client, "hr-t1")
    response = api.post("/api/v1/certificates", json={"username": "hr-t1", "program": "STAR-1", "reason": "自己给自己"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0


# --- every new route, one township over --------------------------------------------------------------------------


@pytest.mark.parametrize("method,url,body", [
    ("POST", "/api/v1/users", {"name": "外镇人", "org": "HX010101"}),
    ("PATCH", "/api/v1/users/w001", {"name": "改名"}),
    ("PUT", "/api/v1/users/w001/roles", {"roles": [{"role": "mentor", "org": "HX010101"}]}),
    ("POST", "/api/v1/users/w001/disable", None),
    ("POST", "/api/v1/users/w001/enable", None),
])
def test_hr_of_another_township_is_refused_on_every_api_route(client, people, method, url, body):
    db.session.execute(sa.update(User).where(User.username == "w001").values(status=UserStatus.disabled))
    db.session.commit()
    api = login(client, "hr-t2")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = client.open(url, method=method, json=body, headers={"X-CSRFToken": api.csrf})
    assert response.status_code == 403
    target = fresh("w001")
    assert target.name == "张小明" and target.status == UserStatus.disabled and [g.role for g in target.grants] == [
        Role.worker]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


@pytest.mark.parametrize("url", ["/users/w001/edit", "/users/w001/roles"])
def test_hr_of_another_township_is_refused_on_the_pages(client, people, url):
    login(client, "hr-t2")
    assert client.get(url).status_code == 403
    assert client.post(url, data={"csrf_token": page_token(client), "name": "改名", "org": "HX020101",
                                  "add_role": "mentor", "add_org": "HX02"}).status_code == 403
    assert fresh("w001").name == "张小明"


def test_hr_of_another_township_cannot_create_there_from_the_page(client, people):
    login(client, "hr-t2")
    response = client.post("/users/new", data={"csrf_token": page_token(client), "name": "外镇人", "org": "HX010101",
                                               "role": "worker"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(User).where(User.name == "外镇人")) is None


def test_roster_rows_of_another_township_are_refused(client, people):
    api = login(client, "hr-t2")
    data = ("工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色,状态\n"
            "w001,改名,,,,,,HX020101,,\nW900,外镇人,,,,,,HX010101,,\nw001x,新人,,,,,,HX020101,worker@HX01,\n")
    body = api.post("/api/v1/users/import", data={"file": (io.BytesIO(data.encode()), "r.csv")},
                    content_type="multipart/form-data").get_json()
    assert (body["created"], body["updated"]) == (0, 0) and [e["row"] for e in body["errors"]] == [2, 3, 4]
    assert fresh("w001").org.code == "HX010101" and fresh("W900") is None


def test_another_hrs_preview_and_password_sheet_are_not_found(client, people, app):
    api = login(client, "hr-t1")
    data = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色\nW100,李四,,,,,,HX010101,\n"
    body = api.post("/api/v1/users/import", data={"file": (io.BytesIO(data.encode()), "r.csv")},
                    content_type="multipart/form-data").get_json()
    other = app.test_client()
    login(other, "hr-t2")
    assert other.get(body["passwords_url"]).status_code == 404
    assert other.get(body["passwords_url"].rsplit("/", 1)[0]).status_code == 404
    assert client.get(body["passwords_url"]).status_code == 200  # still there for its owner


def test_township_admin_cannot_edit_or_move_another_townships_units(client, tree):
    make_user("adm-t2", "admin", tree["t2"])
    api = login(client, "adm-t2")
    assert client.get("/org/HX010101/edit").status_code == 403
    response = client.patch("/api/v1/orgs/HX020101", json={"parent": "HX0101"}, headers={"X-CSRFToken": api.csrf})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.literal(1))) and tree["g2"].parent_id == tree["v2"].id
