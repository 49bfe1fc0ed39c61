"""CSRF: a signed-in browser's cookie alone never changes anything (issue 13, item 14, and the probe's sweep).

| tries | expected |
| --- | --- |
| cookie session + ``Authorization: Bearer junk``, no CSRF token, changing the password | 401, password unchanged |
| cookie of one account + a valid Bearer token of another | the token's account acts, and the cookie's session survives |
| every unsafe route of ``app.url_map`` (HTML forms and JSON), cookie session, no CSRF token | 400 ``csrf_failed`` |
| the same with ``Authorization: Bearer junk`` added | 401 (an invalid token), or 400 ``csrf_failed`` |
"""
from __future__ import annotations

import tempfile
import uuid

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.accounts import services
from lms.accounts.auth import CSRF_EXEMPT
from lms.accounts.models import User
from lms.extensions import db
from lms.web import UNSAFE_METHODS
from tests.conftest import _config
from tests.factories import PASSWORD, ApiClient, make_user

JUNK = {"Authorization": "Bearer junk"}


def _placeholder(converter) -> object:
    kind = type(converter).__name__
    if kind == "IntegerConverter":
        return 1
    if kind == "FloatConverter":
        return 1.0
    if kind == "UUIDConverter":
        return uuid.UUID(int=1)
    return "x"


def _unsafe_routes() -> list[tuple[str, str, str]]:
    """(method, url, endpoint) of every unsafe route, path variables filled with placeholders."""
    app = create_app(_config("sqlite://", __import__("pathlib").Path(tempfile.mkdtemp()) / "instance"))
    adapter = app.url_map.bind("lms.test")
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in CSRF_EXEMPT:
            continue
        values = {name: _placeholder(converter) for name, converter in rule._converters.items()}
        for method in sorted(rule.methods & UNSAFE_METHODS):
            routes.append((method, adapter.build(rule.endpoint, values, method=method), rule.endpoint))
    return sorted(set(routes))


ROUTES = _unsafe_routes()


@pytest.fixture
def admin(tree):
    return make_user("root1", ["admin", "hr", "pii", "trainer", "mentor", "grid_leader"], tree["county"],
                     name="管理员")


def _send(client, method: str, url: str, headers=None):
    if url.startswith("/api/"):
        return client.open(url, method=method, json={}, headers=headers)
    return client.open(url, method=method, data={}, headers=headers)


def test_there_are_unsafe_routes_to_sweep():
    assert len(ROUTES) > 20
    assert ("POST", "/api/v1/password", "api.password") in ROUTES
    assert ("POST", "/password", "accounts.change_password") in ROUTES


@pytest.mark.parametrize("method,url,endpoint", ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES])
def test_a_cookie_request_without_the_token_is_refused(api, client, admin, method, url, endpoint):
    assert api.login("root1").status_code == 200
    response = _send(client, method, url)
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    if url.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "csrf_failed"
    else:
        assert "安全令牌" in response.get_data(as_text=True)
    assert api.get("/api/v1/me").status_code == 200  # still signed in: nothing was done


@pytest.mark.parametrize("method,url,endpoint", ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES])
def test_a_junk_bearer_beside_the_cookie_does_not_skip_the_token(api, client, admin, method, url, endpoint):
    assert api.login("root1").status_code == 200
    response = _send(client, method, url, headers=JUNK)
    assert response.status_code in (400, 401, 302), response.status_code
    if response.status_code == 302:  # an HTML route's 401 is the way to the login page
        assert "/login" in response.headers["Location"]
    elif url.startswith("/api/"):
        assert response.get_json()["error"]["code"] in ("csrf_failed", "unauthorized")
    assert api.get("/api/v1/me").status_code == 200


def test_junk_bearer_with_a_cookie_cannot_change_the_password(app, api, client, tree):
    make_user("w001", "worker", tree["g1"])
    api.login("w001")
    response = client.post("/api/v1/password", json={"old": PASSWORD, "new": "Stolen-Passphrase-9"}, headers=JUNK)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert ApiClient(app.test_client()).login("w001", PASSWORD).status_code == 200


def test_a_valid_bearer_speaks_for_its_own_account_not_the_cookies(app, api, client, tree):
    make_user("w001", "worker", tree["g1"])
    other = make_user("w002", "worker", tree["g1"])
    token = services.create_token(other)
    db.session.commit()
    api.login("w001")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).get_json()["username"] == "w002"
    assert client.delete("/api/v1/session", headers=bearer).status_code == 200  # no CSRF: the token is the proof
    assert api.get("/api/v1/me").get_json()["username"] == "w001"  # the cookie's session was not the one ended
    assert db.session.scalar(sa.select(User.username).where(User.id == other.id)) == "w002"
