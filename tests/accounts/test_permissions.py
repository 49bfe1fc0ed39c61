"""Role × route × org scope: every refusal in one parametrised table, plus the rules behind it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.accounts.permissions import (SYSTEM, Permission, can, can_manage_account, scope_clause)
from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.org.models import OrgUnit
from tests.factories import ApiClient, make_user

# Actors: role and where it is held. Targets live in grid g1 (township t1) or g2 (township t2).
ACTORS = {
    "worker": ("worker", "g1"),
    "grid_leader": ("grid_leader", "g1"),
    "mentor": ("mentor", "t1"),
    "trainer_t1": ("trainer", "t1"),
    "hr_t1": ("hr", "t1"),
    "hr_t2": ("hr", "t2"),
    "admin": ("admin", "county"),
}

# route, method, who may (actor keys) when the target is a worker in g1
ROUTES = [
    ("/users", "GET", {"grid_leader", "trainer_t1", "hr_t1", "hr_t2", "admin"}),
    ("/users/target/reset-password", "POST", {"grid_leader", "hr_t1", "admin"}),
    ("/users/target/disable", "POST", {"hr_t1", "admin"}),
    ("/audit", "GET", {"hr_t1", "hr_t2", "admin"}),
    ("/org", "GET", {"trainer_t1", "hr_t1", "hr_t2", "admin"}),
]


@pytest.fixture
def people(tree):
    made = {key: make_user(f"a-{key}", [role], tree[where]) for key, (role, where) in ACTORS.items()}
    made["target"] = make_user("target", "worker", tree["g1"], name="王小二", id_card="11010519491231002X",
                               phone="13812345678")
    return made


def _request(client, actor: str, method: str, url: str):
    api = ApiClient(client)
    assert api.login(f"a-{actor}").status_code == 200
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": api.csrf})


@pytest.mark.parametrize("url,method,allowed", ROUTES, ids=[f"{m} {u}" for u, m, _ in ROUTES])
@pytest.mark.parametrize("actor", list(ACTORS))
def test_role_route_scope_matrix(client, people, actor, url, method, allowed):
    response = _request(client, actor, method, url)
    if actor in allowed:
        assert response.status_code in (200, 302), response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 403
        assert "没有权限" in response.get_data(as_text=True)


def test_hr_of_another_township_cannot_act_on_the_target(client, people):
    # hr_t2 may open the list and reset passwords in general, but not for a worker in t1.
    assert _request(client, "hr_t2", "POST", "/users/target/reset-password").status_code == 403
    listing = _request(client, "hr_t2", "GET", "/users").get_data(as_text=True)
    assert "王小二" not in listing


def test_anonymous_is_sent_to_login(client, people):
    response = client.get("/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_grid_leader_cannot_reset_an_hr_account_in_the_grid(app, tree, people):
    hr_in_grid = make_user("hr-in-grid", ["worker", ("hr", tree["g1"])], tree["g1"])
    assert not can_manage_account(people["grid_leader"], hr_in_grid, Permission.RESET_PASSWORD)
    assert can_manage_account(people["hr_t1"], hr_in_grid, Permission.RESET_PASSWORD)


def test_township_hr_cannot_touch_an_admin_placed_in_the_township(app, tree, people):
    admin_here = make_user("adm-t1", [("admin", tree["t1"])], tree["t1"])
    assert not can_manage_account(people["hr_t1"], admin_here, Permission.RESET_PASSWORD)
    assert can_manage_account(people["admin"], admin_here, Permission.RESET_PASSWORD)


def test_nobody_manages_their_own_account_through_these_routes(app, people):
    assert not can_manage_account(people["admin"], people["admin"], Permission.MANAGE_USERS)


def test_admin_does_not_see_personal_data_without_pii(app, tree, people):
    assert not can(people["admin"], Permission.VIEW_PII, people["target"])
    pii = make_user("pii-t1", ["hr", ("pii", tree["t1"])], tree["t1"])
    assert can(pii, Permission.VIEW_PII, people["target"])
    assert not can(pii, Permission.VIEW_PII, tree["g2"])


def test_scope_clause_selects_exactly_the_subtree(app, tree, people):
    query = sa.select(User.username).join(OrgUnit, OrgUnit.id == User.org_id)
    in_scope = set(db.session.scalars(query.where(scope_clause(people["hr_t1"], Permission.VIEW_USERS,
                                                               OrgUnit.path))))
    assert "target" in in_scope and "a-hr_t2" not in in_scope
    assert set(db.session.scalars(query.where(scope_clause(people["worker"], Permission.VIEW_USERS,
                                                           OrgUnit.path)))) == set()
    assert can(SYSTEM, Permission.MANAGE_ORG)


def test_users_page_masks_personal_data_and_audits_unmasked_views(client, tree, people):
    masked = _request(client, "hr_t1", "GET", "/users").get_data(as_text=True)
    assert "110105********002X" in masked and "138****5678" in masked
    assert "11010519491231002X" not in masked
    make_user("pii-t1", ["hr", ("pii", tree["t1"])], tree["t1"])
    api = ApiClient(client)
    api.login("pii-t1")
    unmasked = client.get("/users").get_data(as_text=True)
    assert "11010519491231002X" in unmasked and "13812345678" in unmasked
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "pii.view"))
    assert entry.actor_name == "pii-t1" and "target" in entry.details["usernames"]


def test_reset_by_grid_leader_shows_a_one_time_password_that_must_be_changed(client, people):
    response = _request(client, "grid_leader", "POST", "/users/target/reset-password")
    assert response.status_code == 200
    assert "一次性密码" in response.get_data(as_text=True)
    target = db.session.scalar(sa.select(User).where(User.username == "target"))
    assert target.must_change_password


def test_forms_without_csrf_token_are_refused(client, people):
    api = ApiClient(client)
    api.login("a-hr_t1")
    response = client.post("/users/target/disable", data={})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User.status).where(User.username == "target")).value == "active"
