"""Domain exceptions and the one place they become JSON or HTML responses."""
from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

_DEFAULT_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
    404: ("not_found", "找不到请求的内容"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "操作与当前状态冲突"),
    413: ("too_large", "上传的内容太大"),
    422: ("invalid", "提交的内容有误"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "系统内部错误，请稍后再试或联系管理员"),
}


class LMSError(Exception):
    """A refusal the user should read: status, machine code and a Chinese message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, code: str | None = None, status: int | None = None,
                 details: dict | None = None):
        self.code = code or self.code
        self.status = status or self.status
        self.message = message or _DEFAULT_MESSAGES.get(self.status, ("", "请求有误"))[1]
        self.details = details
        super().__init__(self.message)


class ValidationError(LMSError):
    status = 422
    code = "invalid"


class NotFound(LMSError):
    status = 404
    code = "not_found"


class Forbidden(LMSError):
    status = 403
    code = "forbidden"


class Unauthorized(LMSError):
    status = 401
    code = "unauthorized"


class Conflict(LMSError):
    status = 409
    code = "conflict"


class TooManyRequests(LMSError):
    status = 429
    code = "too_many_requests"


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json and not request.accept_mimetypes.accept_html


def error_response(status: int, code: str, message: str, details: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if details:
            body["error"]["details"] = details
        return jsonify(body), status
    if status == 401:
        return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None))
    return render_template("errors/error.html", status=status, code=code, message=message), status


#: the most of a refused upload read away before answering; past this the connection is simply closed
_DRAIN_LIMIT = 64 * 1024 * 1024


def _drain_request_body() -> None:
    """Read away the body of a request refused as too large before answering it.

    gunicorn's sync workers close the connection right after the response; with the body still unread the
    kernel resets it, and nginx (which buffered the whole upload) then answers 502 instead of our 413.
    """
    stream = request.environ.get("wsgi.input")
    remaining = min(request.content_length or 0, _DRAIN_LIMIT)
    try:
        while stream is not None and remaining > 0:
            chunk = stream.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)
    except OSError:
        pass  # the client went away: nothing left to answer


def init_app(app: Flask) -> None:
    @app.errorhandler(LMSError)
    def _domain_error(exc: LMSError):
        from lms.extensions import db  # late: errors is imported before extensions are bound
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 413:
            _drain_request_body()
        code, message = _DEFAULT_MESSAGES.get(exc.code or 500, ("error", exc.description or "请求有误"))
        if exc.code == 400 and getattr(exc, "description", "") and "CSRF" in str(exc.description):
            code, message = "csrf_failed", "页面已过期或缺少安全令牌（CSRF），请刷新页面后重试"
        return error_response(exc.code or 500, code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from lms.extensions import db  # late: see above
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        code, message = _DEFAULT_MESSAGES[500]
        return error_response(500, code, message)
