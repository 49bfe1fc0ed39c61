"""JSON routes of the drills: the form's lists, report submission (idempotent by client_id), trainer review."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize
from lms.api import bp, document, iso, json_body, page_args
from lms.drills import queries, services
from lms.drills.compare import model_unlocked
from lms.drills.content import FORM_FIELDS
from lms.drills.models import Drill, DrillReport
from lms.errors import Forbidden, NotFound
from lms.extensions import db
from lms.web import client_addr

_CHECK = {"type": "object", "properties": {"rule": {"type": "string"}, "passed": {"type": "boolean"},
                                           "message": {"type": "string"}, "field": {"type": ["string", "null"]}}}
_RESULT = {"type": "object", "required": ["id", "verdict", "score", "checks"], "properties": {
    "id": {"type": "integer"}, "verdict": {"type": "string", "enum": ["accepted", "returned"]},
    "score": {"type": "integer"}, "attempt": {"type": "integer"}, "drill_version": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"},
    "checks": {"type": "array", "items": _CHECK},
    "model_unlocked": {"type": "boolean", "description": "已有报告通过或已被退回两次：演练页面显示示范报告对照"}}}
_FIELD = {"type": "string", "description": "原样文字"}
_REPORT_BODY = {"type": "object", "properties": {
    "event_type": _FIELD, "occurred_at": _FIELD, "location": _FIELD, "parties": _FIELD, "description": _FIELD,
    "demand": _FIELD, "measures": _FIELD, "department": _FIELD, "urgency": _FIELD,
    "client_id": {"type": "string", "description": "重试时不变的 UUID：同一 client_id 再次提交返回第一次的结果"}}}
_DRILL = {"type": "object", "properties": {
    "code": {"type": "string"}, "title": {"type": "string"}, "scenario_html": {"type": "string"},
    "form": {"type": "object", "properties": {k: {"type": "array", "items": {"type": "string"}}
                                              for k in ("event_types", "departments", "urgencies")}}}}


def _drill_or_404(code: str, *, for_report: bool = False) -> Drill:
    drill = queries.get_drill(code)
    if drill is None or not queries.is_visible(current_user, drill):
        raise NotFound("找不到这个演练", code="drill_not_found")
    if for_report and not queries.can_report(current_user, drill):
        if not drill.is_published or drill.is_retired:
            raise Forbidden("这个演练尚未发布或已停用，不能提交报告", code="drill_not_open")
        raise Forbidden("您的角色或所在单位不能参加这个演练", code="forbidden")
    return drill


def result_payload(report: DrillReport) -> dict:
    """The reply to a submitted report (no answer key: only each check's outcome and message)."""
    return {"id": report.id, "verdict": report.verdict.value, "score": report.score, "attempt": report.attempt,
            "drill_version": report.drill_version, "created_at": iso(report.created_at),
            "checks": [{"rule": c["rule"], "passed": c["passed"], "message": c["message"], "field": c.get("field")}
                       for c in report.checks]}


def review_payload(review) -> dict:
    """A trainer's review as the worker reads it."""
    return {"verdict": review.verdict.value, "score": review.score, "comment": review.comment,
            "reviewer": review.reviewer.name if review.reviewer else "", "created_at": iso(review.created_at)}


def form_lists() -> dict:
    taxonomy = queries.get_taxonomy_or_empty()
    return {"event_types": list(taxonomy.event_types), "departments": list(taxonomy.departments),
            "urgencies": list(taxonomy.urgencies)}


@bp.get("/drills")
@document("/drills", "GET", summary="我可以参加的上报演练及最近一次结果", response_schema={"type": "object", "properties": {
    "drills": {"type": "array", "items": {"type": "object", "properties": {
        "code": {"type": "string"}, "title": {"type": "string"},
        "last": {"type": ["object", "null"]}, "accepted": {"type": "boolean"}}}},
    "next": {"type": ["integer", "null"]}}}, errors=(400,))
@login_required
def list_drills():
    page, per_page = page_args()
    latest = queries.latest_by_drill(current_user)
    accepted = {r.drill_id for r in queries.list_my_reports(current_user) if r.verdict.value == "accepted"}
    visible = queries.list_visible(current_user)
    items = []
    for drill in visible[(page - 1) * per_page:page * per_page]:
        last = latest.get(drill.id)
        items.append({"code": drill.code, "title": drill.title, "accepted": drill.id in accepted,
                      "last": {"id": last.id, "verdict": last.verdict.value, "score": last.score,
                               "created_at": iso(last.created_at)} if last else None})
    return jsonify(drills=items, next=page + 1 if len(visible) > page * per_page else None)


@bp.get("/drills/<code>")
@document("/drills/<code>", "GET", summary="演练的情景材料和上报表单的选项（不含答案）", response_schema=_DRILL,
          errors=(404,))
@login_required
def get_drill(code):
    drill = _drill_or_404(code)
    return jsonify(code=drill.code, title=drill.title, scenario_html=drill.scenario_html, form=form_lists())


@bp.post("/drills/<code>/reports")
@document("/drills/<code>/reports", "POST", summary="提交一份模拟事件上报，立即返回检查结果",
          who="learner", request_schema=_REPORT_BODY, response_schema=_RESULT, status=201,
          errors=(400, 403, 404, 422))
@login_required
def submit_report(code):
    data = json_body()
    drill = _drill_or_404(code, for_report=True)
    report, created = services.submit_report(current_user, drill, data, client_id=data.get("client_id"))
    db.session.commit()
    unlocked = model_unlocked(queries.my_verdicts(current_user, drill))
    return jsonify(result_payload(report) | {"model_unlocked": unlocked}), 201 if created else 200


_REVIEW = {"type": "object", "properties": {
    "verdict": {"type": "string", "enum": ["accepted", "returned"]}, "score": {"type": "integer"},
    "comment": {"type": "string"}, "reviewer": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}}
_REPORT = {**_RESULT, "properties": {
    **_RESULT["properties"], "drill": {"type": "object", "properties": {"code": {"type": "string"},
                                                                         "title": {"type": "string"}}},
    "fields": {"type": "object", "description": "提交的九栏原文"},
    "reviewed": {"type": "boolean", "description": "培训老师复核过：verdict 和 score 是复核后的结论"},
    "reviews": {"type": "array", "items": _REVIEW, "description": "培训老师的复核，先后顺序；最后一条是当前结论"}}}


@bp.get("/drill-reports/<int:report_id>")
@document("/drill-reports/<int:report_id>", "GET", summary="一份演练报告：检查结果、当前结论和分数（含培训老师改判）及评语",
          who="the worker who wrote it; a trainer in scope of the reporter's unit at the time", response_schema=_REPORT,
          errors=(403, 404))
@login_required
def get_report(report_id):
    report = queries.get_report(report_id)
    if report is None:
        raise NotFound("找不到这份演练报告", code="report_not_found")
    if report.user_id != current_user.id:
        authorize(current_user, Permission.REVIEW_DRILLS, report.org)
    return jsonify(result_payload(report) | {
        "drill": {"code": report.drill.code, "title": report.drill.title},
        "fields": {k: report.fields.get(k, "") for k in FORM_FIELDS},
        "reviewed": bool(report.reviews), "reviews": [review_payload(r) for r in report.reviews]})


@bp.post("/drill-reports/<int:report_id>/review")
@document("/drill-reports/<int:report_id>/review", "POST", summary="培训师复核：改判结论和分数并写评语（记入审计）",
          who="trainer in scope of the reporter's unit at the time",
          request_schema={"type": "object", "required": ["verdict", "score"], "properties": {
              "verdict": {"type": "string", "enum": ["accepted", "returned"]},
              "score": {"type": "integer", "minimum": 0, "maximum": 100}, "comment": {"type": "string"}}},
          response_schema=_RESULT, errors=(400, 403, 404, 422))
@login_required
def review_report(report_id):
    data = json_body()
    report = queries.get_report(report_id)
    if report is None:
        raise NotFound("找不到这份演练报告", code="report_not_found")
    authorize(current_user, Permission.REVIEW_DRILLS, report.org)
    review = services.review_report(current_user, report, data.get("verdict"), data.get("score"),
                                    data.get("comment"), client_addr=client_addr())
    db.session.commit()
    return jsonify(result_payload(report) | {"review": review_payload(review)})
