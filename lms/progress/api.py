"""GET /api/v1/progress and POST /api/v1/reminders: the same filters, rows and reminders as the page."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, require
from lms.api import bp, document, iso, json_body
from lms.extensions import db
from lms.progress import services
from lms.progress.views import compute, parse_filters
from lms.web import client_addr

P = Permission

_PARAMS = [{"name": n, "in": "query", "required": r, "schema": {"type": "string"}, "description": d} for n, r, d in (
    ("kind", True, "course | quiz | program | assignment"),
    ("code", True, "课程、测验、认证项目的编码；指派为其编号"),
    ("org", False, "组织编码（含下级），默认本人管辖范围"),
    ("status", False, "not_started | in_progress | done | overdue"),
    ("page", False, "页码，默认 1"), ("per_page", False, "每页条数，默认 50，至多 500"))]

_ROW = {"type": "object", "properties": {
    "username": {"type": "string"}, "name": {"type": "string"},
    "org": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "status": {"type": "string", "enum": ["not_started", "in_progress", "done", "overdue"]},
    "progress": {"type": "object", "description": "课程：已学完的课时数/课时总数；测验：已交卷次数/允许次数（null 为不限）；"
                 "认证项目：已达到的要求/要求总数",
                 "properties": {"done": {"type": "integer"}, "total": {"type": ["integer", "null"]}}},
    "best_score": {"type": ["number", "null"]}, "due": {"type": ["string", "null"], "format": "date"},
    "last_activity": {"type": ["string", "null"], "format": "date-time"}}}
_SUMMARY = {"type": "object", "properties": {k: {"type": "integer"}
                                             for k in ("not_started", "in_progress", "done", "overdue")}}
_PROGRESS_SCHEMA = {"type": "object", "properties": {
    "rows": {"type": "array", "items": _ROW}, "summary": _SUMMARY, "next": {"type": ["integer", "null"]}}}
_REMINDER_REQUEST = {"type": "object", "required": ["kind", "code"], "properties": {
    "kind": {"type": "string"}, "code": {"type": "string"}, "org": {"type": "string"},
    "status": {"type": "string", "description": "只提醒该状态的人；缺省为全部未完成的人"}}}


def _row(row) -> dict:
    return {"username": row.username, "name": row.name, "org": {"code": row.org_code, "name": row.org_name},
            "status": row.status, "progress": {"done": row.done, "total": row.total},
            "best_score": row.best_score, "due": iso(row.due), "last_activity": iso(row.last_activity)}


@bp.get("/progress")
@document("/progress", "GET", summary="学习进度：某课程、测验、认证项目或指派涉及的每个人的状态、进度、最高分、截止日期、最近学习",
          who="人事、培训师、网格长（管辖范围内；网格长为本网格）", response_schema=_PROGRESS_SCHEMA,
          errors=(400, 403, 404), params=_PARAMS)
@login_required
@require(P.VIEW_PROGRESS)
def progress_api():
    filters = parse_filters(request.args)
    _, shown, summary = compute(filters)
    start = (filters.page - 1) * filters.per_page
    page_rows = shown[start:start + filters.per_page]
    return jsonify({"rows": [_row(r) for r in page_rows], "summary": summary,
                    "next": filters.page + 1 if start + filters.per_page < len(shown) else None})


@bp.post("/reminders")
@document("/reminders", "POST", summary="提醒未完成的人：向名单中每个未完成的人发送站内消息（同一对象每人每天一次）",
          who="人事、培训师、网格长（管辖范围内）", request_schema=_REMINDER_REQUEST,
          response_schema={"type": "object", "properties": {"sent": {"type": "integer"}}}, errors=(400, 403, 404))
@login_required
@require(P.VIEW_PROGRESS)
def reminders_api():
    body = json_body()
    args = {k: str(v) for k, v in body.items() if k in ("kind", "code", "org", "status") and v is not None}
    filters = parse_filters(args)
    _, shown, _ = compute(filters)
    sent = services.send_reminders(current_user, filters.target, shown, org=filters.org, status=filters.status,
                                   client_addr=client_addr())
    db.session.commit()
    return jsonify({"sent": sent})
