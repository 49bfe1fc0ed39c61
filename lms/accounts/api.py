"""JSON routes: session (login/logout), me, password, and the operators' account routes."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from lms.accounts import auth, profile, services
from lms.accounts.models import EDUCATION_LEVELS, SPEECH_RATES, Role
from lms.accounts.passwords import verify_typed_password
from lms.accounts.permissions import Permission, require
from lms.accounts.queries import get_user
from lms.api import bp, document, json_body
from lms.errors import LMSError, NotFound, ValidationError
from lms.extensions import db
from lms.org.queries import get_org
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


_PREFERENCES_SCHEMA = {"type": "object", "properties": {
    "large_text": {"type": ["boolean", "null"], "description": "大字；null 表示未选择（沿用本机设置）"},
    "speech_rate": {"type": ["number", "null"], "enum": [*SPEECH_RATES, None], "description": "朗读速度"}}}


@bp.get("/me/preferences")
@document("/me/preferences", "GET", summary="本人的阅读设置（大字、朗读速度），跟人走而不是跟设备走",
          response_schema=_PREFERENCES_SCHEMA)
@login_required
def get_preferences():
    return jsonify(profile.get_preferences(current_user))


@bp.put("/me/preferences")
@document("/me/preferences", "PUT", summary="保存本人的阅读设置（只改请求中给出的项）",
          request_schema=_PREFERENCES_SCHEMA, response_schema=_PREFERENCES_SCHEMA, errors=(400, 422))
@login_required
def put_preferences():
    data = json_body()
    changes = {}
    if "large_text" in data:
        if data["large_text"] is not None and not isinstance(data["large_text"], bool):
            raise ValidationError("大字（large_text）应为 true 或 false", code="invalid_large_text")
        changes["large_text"] = data["large_text"]
    if "speech_rate" in data:
        rate = data["speech_rate"]
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))
                                 or float(rate) not in SPEECH_RATES):
            raise ValidationError("朗读速度（speech_rate）只能是 0.8、1 或 1.2", code="invalid_speech_rate")
        changes["speech_rate"] = None if rate is None else float(rate)
    if not changes:
        raise LMSError("请给出要保存的设置：large_text 或 speech_rate", code="bad_request", status=400)
    services.set_preferences(current_user, **changes)
    db.session.commit()
    return jsonify(profile.get_preferences(current_user))


@bp.post("/password")
@document("/password", "POST", summary="修改密码", request_schema={"type": "object", "required": ["old", "new"],
          "properties": {"old": {"type": "string"}, "new": {"type": "string"}}}, errors=(400, 403, 422))
@login_required
def password():
    data = json_body()
    old, new = data.get("old"), data.get("new")
    if not isinstance(old, str) or not isinstance(new, str):
        raise LMSError("请提供原密码（old）和新密码（new）", code="bad_request", status=400)
    pending = current_user.must_change_password
    if verify_typed_password(current_user.password_hash, old, one_time_pending=pending) is None:
        raise ValidationError("原密码不正确", code="wrong_password")
    services.change_password(current_user, new, keep_session=current_user._session_key, client_addr=client_addr())
    db.session.commit()
    return jsonify(ok=True, must_change_password=False)


# --- operators' routes: accounts within the actor's scope (API.md, Additions: Operators' routes) ----------------

_GRANTS_SCHEMA = {"type": "array", "items": {"type": "object", "required": ["role", "org"], "properties": {
    "role": {"type": "string", "enum": [r.value for r in Role]}, "org": {"type": "string"}}}}
_PERSONAL_PROPERTIES = {"name": {"type": "string"}, "org": {"type": "string"}, "id_card": {"type": "string"},
                        "phone": {"type": "string"}, "birth": {"type": "string", "format": "date"},
                        "education": {"type": "string", "enum": list(EDUCATION_LEVELS)},
                        "hired": {"type": "string", "format": "date"}}
_ACCOUNT_SCHEMA = {"type": "object", "properties": {
    "username": {"type": "string"}, "name": {"type": "string"}, "org": {"type": "string"},
    "status": {"type": "string", "enum": ["active", "disabled"]}, "roles": _GRANTS_SCHEMA}}
#: JSON names of the personal fields -> the model's
_JSON_FIELDS = {"name": "name", "id_card": "id_card", "phone": "phone", "birth": "birth_date",
                "education": "education", "hired": "hired_on"}


def _account(user) -> dict:
    return {"username": user.username, "name": user.name, "org": user.org.code, "status": user.status.value,
            "roles": [{"role": g.role.value, "org": g.org.code} for g in user.grants]}


def _target(username: str):
    user = get_user(username)
    if user is None:
        raise NotFound("找不到该账号")
    return user


def _org_from(data: dict, required: bool):
    code = data.get("org")
    if code is None and not required:
        return None
    if not isinstance(code, str) or not code.strip():
        raise ValidationError("请提供组织编码（org）", code="invalid_field")
    org = get_org(code.strip())
    if org is None:
        raise ValidationError(f"组织编码“{code[:32]}”不存在", code="invalid_field")
    return org


def _fields_from(data: dict) -> dict:
    return {model: data[key] for key, model in _JSON_FIELDS.items() if key in data and key != "name"}


@bp.post("/users")
@document("/users", "POST", summary="新建账号（返回一次性密码，只显示这一次）", who="hr/admin in scope", status=201,
          request_schema={"type": "object", "required": ["name", "org"], "properties": {
              "username": {"type": "string"}, **_PERSONAL_PROPERTIES, "roles": _GRANTS_SCHEMA}},
          response_schema={"type": "object", "properties": {"username": {"type": "string"},
                                                            "one_time_password": {"type": "string"}}},
          errors=(400, 403, 422))
@require(Permission.MANAGE_USERS)
def create_user():
    data = json_body()
    org = _org_from(data, required=True)
    name = data.get("name")
    if not isinstance(name, str):
        raise ValidationError("请提供姓名（name）", code="invalid_field")
    username = data.get("username")
    if username is not None and not isinstance(username, str):
        raise ValidationError("工号（username）应为文字", code="invalid_field")
    grants = services.parse_grant_list(data["roles"]) if data.get("roles") else None
    user, temporary = services.create_account(current_user, name=name, org=org, grants=grants, username=username,
                                              fields=_fields_from(data))
    db.session.commit()
    return jsonify(username=user.username, one_time_password=temporary), 201


@bp.patch("/users/<username>")
@document("/users/<username>", "PATCH", summary="修改账号信息（姓名、单位、身份证号、手机号、出生日期、学历、入职日期）",
          who="hr/admin in scope", request_schema={"type": "object", "properties": _PERSONAL_PROPERTIES},
          response_schema={"type": "object", "properties": {"account": _ACCOUNT_SCHEMA,
                                                            "changed": {"type": "array", "items": {"type": "string"}}}},
          errors=(400, 403, 404, 422))
@require(Permission.MANAGE_USERS)
def update_user(username):
    data = json_body()
    user = _target(username)
    services.ensure_can_manage(current_user, user)
    changes = {model: data[key] for key, model in _JSON_FIELDS.items() if key in data}
    org = _org_from(data, required=False)
    if org is not None:
        changes["org"] = org
    changed = services.update_account(current_user, user, changes, client_addr=client_addr())
    db.session.commit()
    return jsonify(account=_account(user), changed=changed)


@bp.put("/users/<username>/roles")
@document("/users/<username>/roles", "PUT", summary="设置账号的角色及其管辖范围（整体替换）",
          who="admin; hr for worker/grid_leader/mentor/trainer, in scope",
          request_schema={"type": "object", "required": ["roles"], "properties": {"roles": _GRANTS_SCHEMA}},
          response_schema=_ACCOUNT_SCHEMA, errors=(400, 403, 404, 422))
@require(Permission.MANAGE_USERS)
def set_user_roles(username):
    data = json_body()
    user = _target(username)
    services.ensure_can_manage(current_user, user)
    grants = services.parse_grant_list(data.get("roles"))
    services.change_roles(current_user, user, grants, client_addr=client_addr())
    db.session.commit()
    return jsonify(_account(user))


def _set_status(username: str, active: bool):
    user = _target(username)
    services.set_account_status(current_user, user, active, client_addr=client_addr())
    db.session.commit()
    return jsonify(_account(user))


@bp.post("/users/<username>/disable")
@document("/users/<username>/disable", "POST", summary="停用账号（离岗；不删除，登录与令牌立即失效）",
          who="hr/admin in scope", response_schema=_ACCOUNT_SCHEMA, errors=(403, 404))
@require(Permission.MANAGE_USERS)
def disable_user(username):
    return _set_status(username, False)


@bp.post("/users/<username>/enable")
@document("/users/<username>/enable", "POST", summary="重新启用账号", who="hr/admin in scope",
          response_schema=_ACCOUNT_SCHEMA, errors=(403, 404))
@require(Permission.MANAGE_USERS)
def enable_user(username):
    return _set_status(username, True)


@bp.post("/users/import")
@document("/users/import", "POST", summary="导入人员名单（multipart 表单字段 file：CSV/XLSX），好的行写入，坏行逐行报告",
          who="hr/admin in scope",
          response_schema={"type": "object", "properties": {
              "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
              "disabled": {"type": "integer"},
              "errors": {"type": "array", "items": {"type": "object", "properties": {
                  "row": {"type": "integer"}, "message": {"type": "string"}}}},
              "passwords_url": {"type": ["string", "null"],
                                "description": "新账号的初始密码表（XLSX），只能下载一次"}}},
          errors=(400, 403, 413, 422))
@require(Permission.MANAGE_USERS)
def import_users():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise LMSError("请以 multipart 表单字段 file 上传名单文件（CSV 或 XLSX）", code="bad_request", status=400)
    stored, key = services.store_upload(current_user, "roster", upload.read(), upload.filename)
    report = services.confirm_roster_upload(current_user, stored, client_addr=client_addr())
    db.session.commit()
    passwords_url = url_for("accounts.password_sheet", key=key) if report.passwords else None
    return jsonify(**report.counts(), errors=[{"row": row, "message": message} for row, message in report.errors],
                   passwords_url=passwords_url)
