"""The /api/v1 blueprint, its JSON helpers and the OpenAPI 3.1 document built from the routes."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask, jsonify, request

from lms.db import SHANGHAI
from lms.errors import LMSError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: (flask rule, method) -> OpenAPI operation; filled by @document at import time
_OPERATIONS: dict[tuple[str, str], dict] = {}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}


def document(rule: str, method: str, *, summary: str, who: str = "", request_schema: dict | None = None,
             response_schema: dict | None = None, status: int = 200, errors: tuple[int, ...] = (),
             public: bool = False, params: list[dict] | None = None):
    """Record an operation for /api/openapi.json; the decorated view is unchanged."""

    def decorator(view):
        operation = {
            "summary": summary,
            "operationId": view.__name__,
            "responses": {str(status): {"description": "OK", "content": {
                "application/json": {"schema": response_schema or {"type": "object"}}}}},
        }
        if who:
            operation["description"] = f"Who: {who}"
        if public:
            operation["security"] = []
        if request_schema:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request_schema}}}
        if params:
            operation["parameters"] = params
        for code in sorted(set(errors) | ({401} if not public else set())):
            operation["responses"][str(code)] = {"description": "Error", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        _OPERATIONS[(rule, method.upper())] = operation
        return view

    return decorator


def _openapi_path(rule: str) -> str:
    # Flask's <int:id> / <code> become OpenAPI's {id} / {code}.
    import re
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def openapi_document() -> dict:
    """The OpenAPI 3.1 description of every documented /api/v1 route."""
    paths: dict[str, dict] = {}
    for (rule, method), operation in sorted(_OPERATIONS.items()):
        path = _openapi_path(bp.url_prefix + rule)
        entry = paths.setdefault(path, {})
        op = dict(operation)
        names = [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]
        if names:
            op["parameters"] = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                                for n in names] + list(operation.get("parameters", []))
        entry[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "网格学堂 API", "version": "1.0.0",
                 "description": "网格员培训与认证系统的 JSON 接口。时间为 ISO 8601（含时区）；错误体为 {error:{code,message}}。"},
        "servers": [{"url": "/"}],
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "lms_session",
                           "description": "POST /api/v1/session 得到的会话；不安全的请求需带 X-CSRFToken"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "flask tokens create 生成的令牌"},
            },
        },
        "security": [{"cookie": []}, {"bearer": []}],
        "paths": paths,
    }


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO 8601 with the +08:00 offset for datetimes; dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).isoformat(timespec="seconds")
    return value.isoformat()


def json_body() -> dict:
    """The request's JSON object, or a 400 with a Chinese message."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise LMSError("请求体必须是 JSON 对象（Content-Type: application/json）", code="bad_request", status=400)
    return data


def page_args() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(500, max(1, int(request.args.get("per_page", 50))))
    except ValueError:
        raise LMSError("page 和 per_page 必须是正整数", code="bad_request", status=400) from None
    return page, per_page


def init_app(app: Flask) -> None:
    # Each feature's init_app imported its api module, which attached routes to bp;
    # so bp is registered after the features (Flask refuses routes added later).
    app.register_blueprint(bp)

    @app.get("/api/openapi.json")
    def openapi_json():
        return jsonify(openapi_document())
