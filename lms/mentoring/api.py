"""JSON routes of mentoring: pairings, their early end, activities and their confirmation (API.md)."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, require
from lms.accounts.queries import get_user
from lms.api import bp, document, iso, json_body, page_args
from lms.errors import Forbidden, LMSError, NotFound, ValidationError
from lms.extensions import db
from lms.mentoring import queries, services
from lms.mentoring.models import ActivityKind, ActivityStatus
from lms.org.queries import get_org
from lms.web import client_addr

_PERSON = {"type": "object", "properties": {"username": {"type": "string"}, "name": {"type": "string"}}}
_PAIRING_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "mentor": _PERSON, "mentees": {"type": "array", "items": _PERSON},
    "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"},
    "goals": {"type": "string"}, "org": {"type": "object"},
    "status": {"type": "string", "enum": ["upcoming", "active", "finished", "ended"]},
    "ended_at": {"type": ["string", "null"]}, "end_reason": {"type": "string"}}}
_PAIRING_REQUEST = {"type": "object", "required": ["mentor", "mentees", "start", "end"], "properties": {
    "mentor": {"type": "string", "description": "导师工号"},
    "mentees": {"type": "array", "items": {"type": "string"}, "description": "学员工号"},
    "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"},
    "goals": {"type": "string"}}}
_ACTIVITY_REQUEST = {"type": "object", "required": ["kind", "date", "minutes", "notes"], "properties": {
    "kind": {"type": "string", "enum": [k.value for k in ActivityKind]},
    "date": {"type": "string", "format": "date"}, "minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
    "place": {"type": "string"}, "notes": {"type": "string"},
    "mentee": {"type": "string", "description": "学员工号；结对只有一名学员时可省略"},
    "drill_report_id": {"type": ["integer", "null"]}, "client_id": {"type": "string", "maxLength": 64}}}
_ACTIVITY_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "confirmed": {"type": "boolean"}, "status": {"type": "string"}}}
_ACTIVITY_LIST = {"type": "object", "properties": {
    "activities": {"type": "array", "items": {"type": "object"}}, "next": {"type": ["integer", "null"]}}}
_PAIRING_LIST = {"type": "object", "properties": {
    "pairings": {"type": "array", "items": _PAIRING_SCHEMA}, "next": {"type": ["integer", "null"]}}}
_PAIRING_DETAIL = {"type": "object", "properties": {
    **_PAIRING_SCHEMA["properties"], "activities": {"type": "array", "items": {"type": "object"}}}}
_REASON_REQUEST = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}


def _person(user) -> dict:
    return {"username": user.username, "name": user.name}


def pairing_json(pairing) -> dict:
    return {"id": pairing.id, "mentor": _person(pairing.mentor),
            "mentees": [_person(pm.mentee) for pm in pairing.mentees],
            "start": iso(pairing.start_on), "end": iso(pairing.end_on), "goals": pairing.goals,
            "org": {"code": pairing.org.code, "name": pairing.org.name},
            "status": queries.pairing_state(pairing, services.local_today()),
            "ended_at": iso(pairing.ended_at), "end_reason": pairing.end_reason}


def activity_json(activity) -> dict:
    return {"id": activity.id, "pairing": activity.pairing_id, "confirmed": activity.status == "confirmed",
            "status": activity.status.value, "kind": activity.kind.value, "date": iso(activity.date),
            "minutes": activity.minutes, "place": activity.place, "notes": activity.notes,
            "drill_report_id": activity.drill_report_id, "mentee": _person(activity.mentee),
            "mentor": _person(activity.pairing.mentor), "confirmed_at": iso(activity.confirmed_at),
            "dispute_reason": activity.dispute_reason}


def _user_named(username, field: str):
    if not isinstance(username, str) or not username.strip():
        raise ValidationError(f"{field}必须是工号", code="invalid")
    user = get_user(username.strip())
    if user is None:
        raise ValidationError(f"工号 {username} 不存在", code="unknown_user")
    return user


def _pairing_or_404(pairing_id: int):
    pairing = queries.get_pairing(pairing_id)
    if pairing is None:
        raise NotFound("结对不存在")
    return pairing


def _activity_or_404(activity_id: int):
    activity = queries.get_activity(activity_id)
    if activity is None:
        raise NotFound("活动记录不存在")
    return activity


@bp.post("/pairings")
@document("/pairings", "POST", summary="建立老带新结对", who="hr/admin（导师与学员均在管辖范围内）",
          request_schema=_PAIRING_REQUEST, response_schema=_PAIRING_SCHEMA, status=201, errors=(400, 403, 422))
@login_required
@require(Permission.MANAGE_PAIRINGS)
def create_pairing():
    data = json_body()
    mentor = _user_named(data.get("mentor"), "导师（mentor）")
    names = data.get("mentees")
    if not isinstance(names, list) or not names:
        raise ValidationError("mentees 必须是至少含一个工号的列表", code="invalid")
    mentees = [_user_named(name, "学员（mentees）") for name in names]
    pairing = services.create_pairing(
        current_user, mentor, mentees, data.get("start"), data.get("end"), data.get("goals", ""),
        min_years=int(current_app.config["MENTOR_MIN_YEARS"]), capacity=int(current_app.config["MENTOR_CAPACITY"]),
        client_addr=client_addr())
    db.session.commit()
    return jsonify(pairing_json(pairing)), 201


@bp.post("/pairings/<int:pairing_id>/end")
@document("/pairings/<int:pairing_id>/end", "POST", summary="提前结束结对（保留记录）", who="hr/admin（管辖范围内）",
          request_schema=_REASON_REQUEST, response_schema=_PAIRING_SCHEMA, errors=(400, 403, 404, 409, 422))
@login_required
@require(Permission.MANAGE_PAIRINGS)
def end_pairing(pairing_id):
    pairing = _pairing_or_404(pairing_id)
    data = json_body()
    services.end_pairing(current_user, pairing, data.get("reason"), client_addr=client_addr())
    db.session.commit()
    return jsonify(pairing_json(pairing))


@bp.post("/pairings/<int:pairing_id>/activities")
@document("/pairings/<int:pairing_id>/activities", "POST", summary="导师记录带教活动（待学员确认）",
          who="该结对的导师本人", request_schema=_ACTIVITY_REQUEST, response_schema=_ACTIVITY_SCHEMA, status=201,
          errors=(400, 403, 404, 422))
@login_required
def log_activity(pairing_id):
    pairing = _pairing_or_404(pairing_id)
    activity, created = services.log_activity(current_user, pairing, json_body())
    db.session.commit()
    return jsonify(activity_json(activity)), 201 if created else 200


@bp.post("/activities/<int:activity_id>/confirm")
@document("/activities/<int:activity_id>/confirm", "POST", summary="学员确认带教活动（确认后才计入）",
          who="该活动的学员本人", response_schema=_ACTIVITY_SCHEMA, errors=(403, 404, 409))
@login_required
def confirm_activity(activity_id):
    activity = _activity_or_404(activity_id)
    services.confirm_activity(current_user, activity)
    db.session.commit()
    return jsonify(activity_json(activity))


@bp.post("/activities/<int:activity_id>/dispute")
@document("/activities/<int:activity_id>/dispute", "POST", summary="学员对带教活动提出异议（不计入）",
          who="该活动的学员本人", request_schema=_REASON_REQUEST, response_schema=_ACTIVITY_SCHEMA,
          errors=(400, 403, 404, 409, 422))
@login_required
def dispute_activity(activity_id):
    activity = _activity_or_404(activity_id)
    data = json_body()
    services.dispute_activity(current_user, activity, data.get("reason"))
    db.session.commit()
    return jsonify(activity_json(activity))


@bp.get("/pairings")
@document("/pairings", "GET", summary="结对列表（管辖范围内，最新在前）", who="hr/admin",
          response_schema=_PAIRING_LIST, errors=(400, 403, 404),
          params=[{"name": "org", "in": "query", "required": False, "schema": {"type": "string"},
                   "description": "只看该组织编码及其下级"},
                  {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}},
                  {"name": "per_page", "in": "query", "required": False, "schema": {"type": "integer"}}])
@login_required
@require(Permission.MANAGE_PAIRINGS)
def list_pairings():
    page, per_page = page_args()
    org = None
    code = (request.args.get("org") or "").strip()
    if code:
        org = get_org(code[:32])
        if org is None:
            raise NotFound(f"组织编码 {code[:32]} 不存在")
        authorize(current_user, Permission.MANAGE_PAIRINGS, org)
    items, has_next = queries.page_pairings(current_user, org=org, page=page, per_page=per_page)
    return jsonify({"pairings": [pairing_json(p) for p in items], "next": page + 1 if has_next else None})


@bp.get("/pairings/<int:pairing_id>")
@document("/pairings/<int:pairing_id>", "GET", summary="结对详情与活动记录", who="hr/admin（管辖范围内）、该导师、该结对学员",
          response_schema=_PAIRING_DETAIL, errors=(403, 404))
@login_required
def show_pairing(pairing_id):
    pairing = _pairing_or_404(pairing_id)
    if not queries.can_view_pairing(current_user, pairing):
        raise Forbidden("只有管辖范围内的人事/管理员、该导师和学员可以查看此结对")
    return jsonify({**pairing_json(pairing),
                    "activities": [activity_json(a) for a in queries.activities_of_pairing(pairing)]})


@bp.get("/activities")
@document("/activities", "GET", summary="我作为学员的带教活动（可按状态筛选，最新在前）", who="任何登录用户（只看自己的）",
          response_schema=_ACTIVITY_LIST, errors=(400,),
          params=[{"name": "status", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": [s.value for s in ActivityStatus]}},
                  {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}},
                  {"name": "per_page", "in": "query", "required": False, "schema": {"type": "integer"}}])
@login_required
def my_activities():
    page, per_page = page_args()
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in ActivityStatus}:
        raise LMSError("status 只能是 logged、confirmed 或 disputed", code="bad_request", status=400)
    items, has_next = queries.page_activities_for_mentee(
        current_user, status=ActivityStatus(status) if status else None, page=page, per_page=per_page)
    return jsonify({"activities": [activity_json(a) for a in items], "next": page + 1 if has_next else None})
