"""Login, lockout, sessions that end for real, first-login password change, CSRF, tokens."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.accounts import auth, services
from lms.accounts.models import Lockout, LoginFailure, UserSession
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.factories import PASSWORD, make_user


@pytest.fixture
def worker(tree):
    return make_user("w001", "worker", tree["g1"], name="张小明")


def test_login_returns_user_csrf_and_cookie(api, worker):
    response = api.login("w001")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == "w001"
    assert body["user"]["org"] == {"code": "HX010101", "name": "桃源村第一网格",
                                   "path": "红溪县 / 青石镇 / 桃源村 / 桃源村第一网格"}
    assert body["must_change_password"] is False and body["csrf_token"]
    assert "HttpOnly" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]
    assert api.get("/api/v1/me").get_json()["name"] == "张小明"


@pytest.mark.parametrize("username,password", [("w001", "wrong-password"), ("nobody", PASSWORD)])
def test_wrong_password_and_unknown_user_are_refused_alike(api, worker, username, password):
    response = api.login(username, password)
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": "invalid_credentials", "message": "工号或密码不正确"}}


def test_login_body_that_is_not_an_object_is_400(client, worker):
    response = client.post("/api/v1/session", data="[1,2]", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_five_failures_lock_the_username_for_this_client_even_with_the_right_password(api, worker, client):
    for _ in range(5):
        assert api.login("w001", "bad-password").status_code == 401
    locked = api.login("w001")
    assert locked.status_code == 429
    assert locked.get_json()["error"]["code"] == "locked"
    assert "分钟" in locked.get_json()["error"]["message"]
    # Counters live in the database, so every app server sees them.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lockout)) == 1
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"auth.login_failed", "auth.lockout"} <= actions


def test_lockout_is_per_username_and_per_client(api, worker, tree, client):
    make_user("w002", "worker", tree["g1"])
    for _ in range(5):
        api.login("w001", "bad-password")
    assert api.login("w002").status_code == 200
    other_client = client.application.test_client()
    response = other_client.post("/api/v1/session", json={"username": "w001", "password": PASSWORD},
                                 environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 200


def test_unknown_usernames_are_counted_and_locked_too(api, worker):
    for _ in range(5):
        assert api.login("ghost", "x").status_code == 401
    assert api.login("ghost", "x").status_code == 429


def test_lock_expires_after_fifteen_minutes(app, worker):
    now = dt.datetime(2026, 6, 3, 8, 0, tzinfo=dt.timezone.utc)
    for minute in range(5):
        with pytest.raises(auth.InvalidCredentials):
            auth.authenticate("w001", "bad", "1.2.3.4", now + dt.timedelta(minutes=minute))
    with pytest.raises(auth.Locked):
        auth.authenticate("w001", PASSWORD, "1.2.3.4", now + dt.timedelta(minutes=18))
    user = auth.authenticate("w001", PASSWORD, "1.2.3.4", now + dt.timedelta(minutes=19, seconds=1))
    assert user.username == "w001"


def test_success_clears_earlier_failures(app, worker):
    now = dt.datetime(2026, 6, 3, 8, 0, tzinfo=dt.timezone.utc)
    for _ in range(4):
        with pytest.raises(auth.InvalidCredentials):
            auth.authenticate("w001", "bad", "1.2.3.4", now)
    auth.authenticate("w001", PASSWORD, "1.2.3.4", now)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_logout_ends_the_session_server_side_so_a_replayed_cookie_gets_401(app, api, worker):
    api.login("w001")
    cookie = api.client.get_cookie("lms_session").value
    assert api.delete("/api/v1/session").status_code == 200
    replay = app.test_client()
    replay.set_cookie("lms_session", cookie)
    response = replay.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_login_renews_the_session_cookie(app, api, worker, tree):
    make_user("w002", "worker", tree["g1"])
    api.login("w001")
    first = api.client.get_cookie("lms_session").value
    api.login("w002")
    second = api.client.get_cookie("lms_session").value
    assert first != second
    replay = app.test_client()
    replay.set_cookie("lms_session", first)
    # The first session still exists server-side, but the new login did not reuse it.
    assert replay.get("/api/v1/me").get_json()["username"] == "w001"
    assert api.get("/api/v1/me").get_json()["username"] == "w002"


def test_disabling_an_account_ends_its_sessions(app, api, worker):
    api.login("w001")
    services.disable_user(worker)
    db.session.commit()
    assert api.get("/api/v1/me").status_code == 401
    # Answered like a wrong password: the answer must not tell that the password was right.
    assert api.login("w001").get_json()["error"]["code"] == "invalid_credentials"


def test_idle_session_ends_after_the_configured_minutes(app, api, worker):
    api.login("w001")
    stale = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16)
    db.session.execute(sa.update(UserSession).values(last_seen_at=stale))
    db.session.commit()
    assert api.get("/api/v1/me").status_code == 401
    assert db.session.scalar(sa.select(UserSession.ended_at)) is not None


def test_absolute_timeout_ends_even_an_active_session(app, api, worker):
    api.login("w001")
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=13)
    db.session.execute(sa.update(UserSession).values(created_at=old))
    db.session.commit()
    assert api.get("/api/v1/me").status_code == 401


def test_unsafe_cookie_requests_need_the_csrf_header(api, worker):
    api.login("w001")
    response = api.client.delete("/api/v1/session")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert api.delete("/api/v1/session").status_code == 200


def test_bearer_token_needs_no_csrf_and_is_not_held_by_password_change(app, client, tree):
    user = make_user("w009", "worker", tree["g1"], must_change_password=True)
    token = services.create_token(user)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/password", json={"old": PASSWORD, "new": "A-new-passphrase-7"},
                       headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer lms_not-a-token"}).status_code == 401


def test_first_login_must_change_password_before_anything_else(app, api, tree):
    make_user("w010", "worker", tree["g1"], must_change_password=True)
    body = api.login("w010").get_json()
    assert body["must_change_password"] is True
    assert api.get("/api/v1/me").status_code == 200
    assert api.get("/api/openapi.json").status_code == 200  # public documentation stays readable
    assert api.client.get("/").status_code == 302
    weak = api.post("/api/v1/password", json={"old": PASSWORD, "new": "12345678"})
    assert weak.status_code == 422 and weak.get_json()["error"]["code"] == "weak_password"
    wrong = api.post("/api/v1/password", json={"old": "nope", "new": "A-new-passphrase-7"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "wrong_password"
    assert api.post("/api/v1/password", json={"old": PASSWORD, "new": "A-new-passphrase-7"}).status_code == 200
    assert api.client.get("/").status_code == 200


def test_password_change_gate_answers_403_on_other_api_routes(api, tree):
    make_user("w011", "worker", tree["g1"], must_change_password=True)
    api.login("w011")
    response = api.get("/api/v1/orgs/HX")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "password_change_required"
    api.post("/api/v1/password", json={"old": PASSWORD, "new": "A-new-passphrase-7"})
    assert api.get("/api/v1/orgs/HX").get_json()["children"][0]["code"] == "HX01"


def test_trusted_proxy_address_is_used_only_when_configured(app, worker):
    from lms import create_app
    from lms.extensions import db as _db

    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.7")):
        proxied = create_app({**app.config, "TRUSTED_PROXIES": hops})
        proxied.instance_path = app.instance_path
        c = proxied.test_client()
        c.post("/api/v1/session", json={"username": "w001", "password": "bad"},
               headers={"X-Forwarded-For": "203.0.113.7"})
        with proxied.app_context():
            addr = _db.session.scalars(sa.select(LoginFailure.client_addr).order_by(LoginFailure.id.desc())).first()
            _db.session.remove()
            _db.engine.dispose()
        assert addr == expected


def test_production_hash_cost_is_owasp_minimum(app):
    from lms import config
    from lms.accounts.passwords import hash_password

    app.config.update(ARGON2_MEMORY_KIB=config.Defaults.ARGON2_MEMORY_KIB,
                      ARGON2_TIME_COST=config.Defaults.ARGON2_TIME_COST)
    assert hash_password("whatever-123").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_write_request_after_a_quiet_minute_does_not_wait_on_its_own_lock(app, api, worker):
    """Answering questions (PUT/POST only) for over a minute must not stall on the session touch."""
    import time

    api.login("w001")
    quiet = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    db.session.execute(sa.update(UserSession).values(last_seen_at=quiet))
    db.session.commit()
    started = time.monotonic()
    response = api.post("/api/v1/inbox/read", json={})
    assert response.status_code == 200
    assert time.monotonic() - started < 5  # the busy timeout is 10 s
    assert db.session.scalar(sa.select(UserSession.last_seen_at)) > quiet


def test_the_password_is_checked_while_others_can_still_write(app, api, worker, monkeypatch):
    """A login hashes for ~30 ms; meanwhile other requests must be able to write (SQLite has one write lock,
    which a login used to hold while hashing: logins before an exam went through one at a time)."""
    from lms.db import write_intent

    writes = []
    check = auth.verify_password

    def verify_while_another_connection_writes(stored, password):
        with write_intent(), db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once instead of waiting on our own lock
            try:
                conn.execute(sa.insert(LoginFailure).values(username="other", client_addr="10.0.0.9",
                                                            failed_at=dt.datetime.now(dt.timezone.utc)))
                writes.append("written")
            finally:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=10000")
        return check(stored, password)

    monkeypatch.setattr(auth, "verify_password", verify_while_another_connection_writes)
    assert api.login("w001").status_code == 200
    assert writes == ["written"]
    assert api.login("w001", "wrong-password").status_code == 401
    assert writes == ["written", "written"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)
                             .where(LoginFailure.username == "w001")) == 1


def test_the_session_user_comes_with_org_and_grants_and_saves_like_any_loaded_user(app, api, tree):
    """The request's user is built from one query's columns: org and grants must be there, with their units,
    without more queries, and a change to the user must still be saved."""
    from lms.accounts.models import User

    user = make_user("t001", ["trainer", ("mentor", tree["v1"])], tree["t1"], name="李培训")
    old_hash = user.password_hash
    assert api.login("t001").status_code == 200
    body = api.get("/api/v1/me").get_json()
    assert body["name"] == "李培训"
    assert sorted((g["role"], g["org"]) for g in body["roles"]) == \
        sorted([("trainer", tree["t1"].code), ("mentor", tree["v1"].code)])
    assert body["org"]["code"] == tree["t1"].code
    # A write through the loaded user object reaches the database.
    response = api.post("/api/v1/password", json={"old": PASSWORD, "new": "Another-Pass-2026"})
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.username == "t001")) != old_hash
