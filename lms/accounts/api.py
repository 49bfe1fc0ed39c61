"""JSON routes: session (login/logout), me, password."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from lms.accounts import auth, profile, services
from lms.accounts.passwords import verify_password
from lms.api import bp, document, json_body
from lms.errors import LMSError, ValidationError
from lms.extensions import db
from lms.web import client_addr

_USER_SCHEMA = {"type": "object", "properties": {
    "username": {"type": "string"}, "name": {"type": "string"},
    "org": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                             "path": {"type": "string"}}},
    "roles": {"type": "array", "items": {"type": "object", "properties": {
        "role": {"type": "string"}, "org": {"type": "string"}}}},
    "points": {"type": "integer"}, "star": {"type": "integer"}}}


@bp.post("/session")
@document("/session", "POST", summary="登录（工号 + 密码），返回会话 Cookie 与 CSRF 令牌", public=True,
          request_schema={"type": "object", "required": ["username", "password"], "properties": {
              "username": {"type": "string"}, "password": {"type": "string"}}},
          response_schema={"type": "object", "properties": {"user": _USER_SCHEMA, "csrf_token": {"type": "string"},
                                                            "must_change_password": {"type": "boolean"}}},
          errors=(400, 401, 429))
def login():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip():
        raise LMSError("请提供工号（username）和密码（password）", code="bad_request", status=400)
    try:
        user = auth.authenticate(username, password, client_addr())
    except (auth.InvalidCredentials, auth.Locked):
        db.session.commit()  # keep the failure count and audit entry
        raise
    auth.start_session(user, client_addr())
    db.session.commit()
    return jsonify(user=profile.me_payload(user), csrf_token=generate_csrf(),
                   must_change_password=user.must_change_password)


@bp.delete("/session")
@document("/session", "DELETE", summary="退出登录（服务器端结束会话）", response_schema={"type": "object"})
@login_required
def logout():
    auth.end_current_session()
    db.session.commit()
    return jsonify(ok=True)


@bp.get("/me")
@document("/me", "GET", summary="当前用户", response_schema=_USER_SCHEMA)
@login_required
def me():
    return jsonify(profile.me_payload(current_user))


@bp.post("/password")
@document("/password", "POST", summary="修改密码", request_schema={"type": "object", "required": ["old", "new"],
          "properties": {"old": {"type": "string"}, "new": {"type": "string"}}}, errors=(400, 403, 422))
@login_required
def password():
    data = json_body()
    old, new = data.get("old"), data.get("new")
    if not isinstance(old, str) or not isinstance(new, str):
        raise LMSError("请提供原密码（old）和新密码（new）", code="bad_request", status=400)
    if not verify_password(current_user.password_hash, old):
        raise ValidationError("原密码不正确", code="wrong_password")
    services.change_password(current_user, new, keep_session=current_user._session_key, client_addr=client_addr())
    db.session.commit()
    return jsonify(ok=True, must_change_password=False)
