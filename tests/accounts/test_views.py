"""HTML login and password forms, including bad input."""
from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, make_user


def _csrf(html: str) -> str:
    return re.search(r'name="csrf[-_]token"[^>]*?(?:value|content)="([^"]+)"', html).group(1)


@pytest.fixture
def worker(tree):
    return make_user("w001", "worker", tree["g1"], name="张小明")


def test_login_form_success_goes_home_and_shows_the_name(client, worker):
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": "w001", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "您好，张小明" in home and "桃源村第一网格" in home


@pytest.mark.parametrize("username,password,status,message", [
    ("", "", 422, "请输入工号"),
    ("w001", "", 422, "请输入密码"),
    ("w001", "wrong", 401, "工号或密码不正确"),
    ("x" * 65, "a", 422, "工号太长"),
])
def test_login_form_bad_input(client, worker, username, password, status, message):
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_login_redirect_only_to_same_site_paths(client, worker):
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x",
                           data={"csrf_token": token, "username": "w001", "password": PASSWORD})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("old,new,confirm,message", [
    ("nope", "Fresh-Pass-2026", "Fresh-Pass-2026", "原密码不正确"),
    (PASSWORD, "Fresh-Pass-2026", "Other-Pass-2026", "两次输入的新密码不一致"),
    (PASSWORD, "short", "short", "新密码需 8–128 位"),
    (PASSWORD, "12345678", "12345678", "太常见"),
    (PASSWORD, "", "", "请输入新密码"),
])
def test_password_form_bad_input_keeps_the_old_password(client, tree, old, new, confirm, message):
    make_user("w002", "worker", tree["g1"], must_change_password=True)
    token = _csrf(client.get("/login").get_data(as_text=True))
    first = client.post("/login", data={"csrf_token": token, "username": "w002", "password": PASSWORD})
    assert first.headers["Location"].endswith("/password")
    page = client.get("/password").get_data(as_text=True)
    assert "第一次登录" in page
    response = client.post("/password", data={"csrf_token": _csrf(page), "old": old, "new": new, "confirm": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still must change it


def test_logout_form_ends_the_session(client, worker):
    token = _csrf(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "username": "w001", "password": PASSWORD})
    home = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _csrf(home)})
    assert client.get("/").status_code == 302


def test_pages_send_security_headers_and_no_inline_script(client, worker):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    html = response.get_data(as_text=True)
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "http://" not in html and "https://" not in html  # no asset from outside the app
