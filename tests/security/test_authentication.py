"""Authentication: lockout under a parallel burst, password changes, Bearer tokens, disabled accounts (issue 13,
items 5–8 and 14).

| tries | expected |
| --- | --- |
| 24 parallel wrong passwords against a real threaded server | at most 5 checked (401), the rest 429, a lock written |
| wrong passwords and the right one in one parallel burst | no login succeeds after the lock was written |
| the right password while 5 attempts are counted but no lock is written yet | 429, the password is not checked |
| a password change on one device | every other session of the account ends, its Bearer tokens stop working |
| a reset by HR | every session ends and every Bearer token stops working |
| the old password, or the one-time password, as the new one | 422 ``password_reused`` |
| ``tokens list`` / ``tokens revoke ID`` | lists an account's tokens; a revoked token gets 401 |
| the right password of a disabled account | exactly the wrong-password answer (JSON and page), still audited |
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from lms.accounts import auth, services
from lms.accounts.models import ApiToken, Lockout, LoginFailure, UserSession
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.factories import PASSWORD, ApiClient, make_user

NEW_PASSWORD = "Fresh-Passphrase-2026"


@pytest.fixture
def worker(tree):
    return make_user("w001", "worker", tree["g1"], name="张小明")


@pytest.fixture
def hr(tree):
    return make_user("hr01", ["hr", "pii"], tree["county"], name="人事甲")


def _burst(served, passwords: list[str], username: str = "w001") -> list[int]:
    """Every login sent at the same moment from its own thread and connection; the statuses in order."""
    barrier = threading.Barrier(len(passwords))

    def one(password):
        barrier.wait()
        return served.request("POST", "/api/v1/session", {"username": username, "password": password})[0]

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(one, passwords))


def _csrf(html: str) -> str:
    return re.search(r'name="csrf[-_]token"[^>]*?(?:value|content)="([^"]+)"', html).group(1)


def _page_login(client, username: str, password: str):
    token = _csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def _actions(*names) -> list[tuple[int, str]]:
    db.session.rollback()
    return list(db.session.execute(sa.select(AuditEntry.id, AuditEntry.action)
                                   .where(AuditEntry.action.in_(names)).order_by(AuditEntry.id)))


# --- 5. lockout ------------------------------------------------------------------------------------------------

def test_a_parallel_burst_of_wrong_passwords_checks_at_most_five(served_app, worker):
    statuses = _burst(served_app, [f"wrong-{i}" for i in range(24)])
    assert statuses.count(401) <= 5, statuses
    assert set(statuses) <= {401, 429}, statuses
    assert len(_actions("auth.login_failed")) <= 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lockout)) == 1
    # Locked: the right password is refused now too.
    assert served_app.request("POST", "/api/v1/session", {"username": "w001", "password": PASSWORD})[0] == 429


def test_in_a_burst_no_login_succeeds_after_the_lock_was_written(served_app, worker):
    statuses = _burst(served_app, [f"wrong-{i}" for i in range(20)] + [PASSWORD] * 4)
    assert set(statuses) <= {200, 401, 429}, statuses
    entries = _actions("auth.login", "auth.lockout")
    locks = [entry_id for entry_id, action in entries if action == "auth.lockout"]
    logins = [entry_id for entry_id, action in entries if action == "auth.login"]
    assert locks, statuses
    assert not [entry_id for entry_id in logins if entry_id > locks[0]], entries


def test_attempts_in_flight_count_before_their_passwords_are_checked(app, worker, monkeypatch):
    """Five attempts counted (in flight or failed) and no lock yet: the sixth is refused unchecked."""
    now = dt.datetime.now(dt.timezone.utc)
    for _ in range(5):
        db.session.add(LoginFailure(username="w001", client_addr="10.0.0.5", failed_at=now))
    db.session.commit()
    checked = []
    monkeypatch.setattr(auth, "verify_password", lambda stored, password: checked.append(password) or True)
    with pytest.raises(auth.Locked):
        auth.authenticate("w001", PASSWORD, "10.0.0.5", now)
    assert checked == []


# --- 6, 7. password changes ------------------------------------------------------------------------------------

def test_changing_the_password_ends_every_other_session_and_revokes_tokens(app, worker):
    tablet, phone = ApiClient(app.test_client()), ApiClient(app.test_client())
    tablet.login("w001")
    phone.login("w001")
    token = services.create_token(worker)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
    assert phone.post("/api/v1/password", json={"old": PASSWORD, "new": NEW_PASSWORD}).status_code == 200
    assert tablet.get("/api/v1/me").status_code == 401  # the lost tablet is logged out
    assert phone.get("/api/v1/me").status_code == 200  # the device that changed it stays in
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.ended_at.is_(None))) == 1


def test_changing_the_password_on_the_page_ends_the_other_sessions(app, worker):
    tablet = ApiClient(app.test_client())
    tablet.login("w001")
    page = app.test_client()
    _page_login(page, "w001", PASSWORD)
    form = page.get("/password").get_data(as_text=True)
    response = page.post("/password", data={"csrf_token": _csrf(form), "old": PASSWORD, "new": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert tablet.get("/api/v1/me").status_code == 401
    assert page.get("/").status_code == 200


def test_a_reset_ends_every_session_and_revokes_every_token(app, api, worker, hr):
    victim = ApiClient(app.test_client())
    victim.login("w001")
    token = services.create_token(worker)
    db.session.commit()
    api.login("hr01")
    page = api.post("/users/w001/reset-password", data={"csrf_token": api.csrf})
    assert page.status_code == 200
    assert victim.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    db.session.rollback()
    assert db.session.scalar(sa.select(ApiToken.revoked_at)) is not None


def test_the_old_password_is_refused_as_the_new_one(api, worker):
    api.login("w001")
    response = api.post("/api/v1/password", json={"old": PASSWORD, "new": PASSWORD})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "password_reused"
    assert "原密码" in response.get_json()["error"]["message"]


def test_the_one_time_password_is_refused_as_the_new_one(app, api, worker, hr):
    temporary = services.reset_password(worker, actor=hr)
    db.session.commit()
    body = api.login("w001", temporary).get_json()
    assert body["must_change_password"] is True
    response = api.post("/api/v1/password", json={"old": temporary, "new": temporary})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "password_reused"
    assert api.post("/api/v1/password", json={"old": temporary, "new": NEW_PASSWORD}).status_code == 200


# --- 8. tokens ---------------------------------------------------------------------------------------------------

def test_tokens_are_listed_and_revoked_one_by_one(app, runner, worker):
    first, second = services.create_token(worker), services.create_token(worker)
    db.session.commit()
    ids = list(db.session.scalars(sa.select(ApiToken.id).order_by(ApiToken.id)))
    listed = runner.invoke(args=["tokens", "list", "--username", "w001"])
    assert listed.exit_code == 0, listed.output
    assert all(str(token_id) in listed.output for token_id in ids) and "有效" in listed.output
    assert first not in listed.output  # only hashes are stored: nothing to show
    revoked = runner.invoke(args=["tokens", "revoke", str(ids[0])])
    assert revoked.exit_code == 0, revoked.output
    client = app.test_client()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    assert "已撤销" in runner.invoke(args=["tokens", "list", "--username", "w001"]).output
    assert "tokens.revoke" in [action for _, action in _actions("tokens.revoke")][:1]


def test_revoking_an_unknown_token_says_so(runner, worker):
    result = runner.invoke(args=["tokens", "revoke", "999"])
    assert result.exit_code != 0
    assert "999" in result.output and "不存在" in result.output


# --- 14. disabled accounts ---------------------------------------------------------------------------------------

def test_a_disabled_account_with_the_right_password_is_answered_like_a_wrong_password(api, worker):
    services.disable_user(worker)
    db.session.commit()
    right = api.login("w001", PASSWORD)
    wrong = api.login("w001", "not-the-password")
    assert right.status_code == wrong.status_code == 401
    assert right.get_json() == wrong.get_json() == {"error": {"code": "invalid_credentials",
                                                               "message": "工号或密码不正确"}}
    refused = db.session.scalars(sa.select(AuditEntry.details).where(AuditEntry.action == "auth.login_refused"))
    assert [details["reason"] for details in refused] == ["disabled"]


def test_the_login_page_of_a_disabled_account_says_nothing_more(client, worker):
    services.disable_user(worker)
    db.session.commit()
    pages = [_page_login(client, "w001", password) for password in (PASSWORD, "not-the-password")]
    assert pages[0].status_code == pages[1].status_code == 401
    texts = [page.get_data(as_text=True) for page in pages]
    assert "工号或密码不正确" in texts[0] and "停用" not in texts[0]
