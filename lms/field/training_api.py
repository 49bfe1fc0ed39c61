"""JSON routes of training needs: POST /field/remediation and GET /field/outcomes (API.md "Field outcomes")."""
from __future__ import annotations

import datetime as dt

from flask import current_app, jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, require, scope_orgs, scoped_org
from lms.api import bp, document, json_body
from lms.errors import LMSError, ValidationError
from lms.extensions import db
from lms.field import outcomes, remediation
from lms.web import client_addr

_REMEDIATION_REQUEST = {"type": "object", "required": ["org", "from", "to"], "properties": {
    "org": {"type": "string", "description": "组织编码（含下级）"},
    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
    "min_events": {"type": "integer", "minimum": 1, "default": remediation.MIN_EVENTS,
                   "description": "期间内至少上报这么多件事件的人才会被考虑"},
    "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": remediation.THRESHOLD,
                  "description": "某问题占本人事件的比例达到它才算“常见问题”（0.1 = 10%）"},
    "due": {"type": "string", "format": "date", "description": "截止日期，默认 30 天后"},
    "people": {"type": "array", "items": {"type": "string"}, "description": "只发给这些工号（默认：建议中的所有人）"}}}
_ASSIGNED = {"type": "object", "properties": {"assigned": {"type": "array", "items": {"type": "object", "properties": {
    "username": {"type": "string"}, "name": {"type": "string"}, "started": {"type": "string", "format": "date"},
    "due": {"type": "string", "format": "date"}, "events": {"type": "integer"},
    "problems": {"type": "array", "items": {"type": "object"}},
    "items": {"type": "array", "items": {"type": "object"}}}}}}}
_OUTCOMES = {"type": "object", "properties": {
    "org": {"type": "object"}, "window_days": {"type": "integer"},
    "analyses": {"type": "array", "items": {"type": "object", "properties": {
        "key": {"type": "string", "enum": [a.key for a in outcomes.ANALYSES]}, "title": {"type": "string"},
        "treated": {"type": "integer"}, "controls": {"type": "integer"}, "difference": {"type": ["number", "null"]},
        "ci95": {"type": ["array", "null"], "items": {"type": "number"}},
        "claim": {"type": "string", "enum": list(outcomes.CLAIMS)}, "summary": {"type": "string"}}}}}}


def _bad(message: str, code: str = "bad_request"):
    return LMSError(message, code=code, status=400)


def _json_date(data: dict, key: str, label: str, required: bool = True) -> dt.date | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _bad(f"{label}（{key}）须是 YYYY-MM-DD 格式的日期", "invalid_date")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _bad(f"{label}（{key}）“{value[:20]}”不是有效日期（YYYY-MM-DD）", "invalid_date") from None


@bp.post("/field/remediation")
@document("/field/remediation", "POST", summary="按现场上报的常见问题给每人指派补训（演练、课程），有截止日期和收件箱通知",
          who="trainer/hr/admin（单位在管辖范围内）", request_schema=_REMEDIATION_REQUEST, response_schema=_ASSIGNED,
          errors=(400, 403, 422))
@login_required
@require(Permission.REMEDIATE)
def post_remediation():
    data = json_body()
    if not isinstance(data.get("org"), str) or not data["org"].strip():
        raise _bad("请填写组织编码（org）", "unknown_org")
    org = scoped_org(current_user, Permission.REMEDIATE, data["org"])
    start = _json_date(data, "from", "开始日期")
    end = _json_date(data, "to", "结束日期")
    due = _json_date(data, "due", "截止日期", required=False)
    min_events = data.get("min_events", remediation.MIN_EVENTS)
    threshold = data.get("threshold", remediation.THRESHOLD)
    try:
        remediation.check_params(min_events, threshold)
        remediation.check_period(start, end)
    except ValidationError as exc:
        raise _bad(exc.message, exc.code) from None
    keep = None
    people = data.get("people")
    if people is not None:
        if not isinstance(people, list) or not all(isinstance(p, str) for p in people):
            raise _bad("people 须是工号列表", "invalid_people")
        rows = remediation.proposal_for(org, start, end, min_events=min_events, threshold=threshold)
        wanted = {p.strip() for p in people}
        keep = {row["user"].id: {(i["kind"], i["code"]) for i in row["items"]} for row in rows
                if row["user"].username in wanted}
    sent = remediation.send(current_user, org, start, end, min_events=min_events, threshold=threshold, due=due,
                            keep=keep, client_addr=client_addr())
    body = {"assigned": remediation.assigned_json(sent)}
    db.session.commit()
    return jsonify(body)


@bp.get("/field/outcomes")
@document("/field/outcomes", "GET", summary="补训、老带新结对、网格App操作课程前后等长窗口的退回率（超时率），与对照组的双重差分和 95% 区间",
          who="trainer/hr/admin（统计权限，单位在管辖范围内）", response_schema=_OUTCOMES, errors=(400, 403, 422),
          params=[{"name": "org", "in": "query", "schema": {"type": "string"}},
                  {"name": "window", "in": "query", "schema": {"type": "integer", "minimum": 14, "maximum": 365}}])
@login_required
@require(Permission.VIEW_STATS)
def get_outcomes():
    org = scoped_org(current_user, Permission.VIEW_STATS, request.args.get("org"))
    if org is None:
        roots = sorted(scope_orgs(current_user, Permission.VIEW_STATS), key=lambda o: o.path)
        if not roots:
            raise _bad("请填写组织编码（org）", "unknown_org")
        org = roots[0]
    window = request.args.get("window", "").strip()
    if window and not (window.isdigit() and 14 <= int(window) <= 365):
        raise _bad("window 须是 14 到 365 之间的整数（天）", "invalid_window")
    window_days = int(window) if window else outcomes.WINDOW_DAYS
    found = outcomes.analyses(org, window_days=window_days,
                              app_course=current_app.config.get("FIELD_APP_COURSE", outcomes.APP_COURSE))
    return jsonify({"org": {"code": org.code, "name": org.name}, "window_days": window_days,
                    "analyses": [outcomes.result_json(a, r) for a, r in found]})
