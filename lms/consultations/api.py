"""JSON routes of the consultation drills: the question, answers (idempotent by client_id), trainer review."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize
from lms.api import bp, document, iso, json_body, page_args
from lms.consultations import queries, services
from lms.consultations.models import Consultation, ConsultationAnswer
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.web import client_addr

_CHECK = {"type": "object", "properties": {"rule": {"type": "string", "enum": ["key_points", "no_wrong_claims",
                                                                               "referral", "no_overpromise",
                                                                               "plain_language"]},
                                           "passed": {"type": "boolean"}, "message": {"type": "string"}}}
_RESULT = {"type": "object", "required": ["id", "verdict", "score", "checks"], "properties": {
    "id": {"type": "integer"}, "verdict": {"type": "string", "enum": ["accepted", "returned"]},
    "score": {"type": "integer"}, "attempt": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"}, "checks": {"type": "array", "items": _CHECK},
    "model_answer": {"type": ["string", "null"],
                     "description": "示范回答：本人的回答通过后或第二次被退回后才给出，否则为 null"}}}
_BODY = {"type": "object", "required": ["answer"], "properties": {
    "answer": {"type": "string", "description": "网格员口头回答的文字；超过 10000 字的部分不保存"},
    "client_id": {"type": "string", "description": "重试时不变的 UUID：同一 client_id 再次提交返回第一次的结果"}}}


def _consultation_or_404(code: str, *, for_answer: bool = False) -> Consultation:
    item = queries.get_consultation(code)
    if item is None or not queries.is_visible(current_user, item):
        raise NotFound("找不到这个政策答询", code="consultation_not_found")
    if for_answer and not queries.can_answer(current_user, item):
        if item.is_retired:
            raise Forbidden("这个政策答询已停用，不能再回答", code="consultation_not_open")
        raise Forbidden("您的角色或所在单位不能参加这个政策答询", code="forbidden")
    return item


def result_payload(row: ConsultationAnswer, *, model_answer: str | None = None) -> dict:
    """The reply to a submitted answer: each check's outcome and message (the key only once earned)."""
    return {"id": row.id, "verdict": row.verdict.value, "score": row.score, "attempt": row.attempt,
            "created_at": iso(row.created_at),
            "checks": [{"rule": c["rule"], "passed": c["passed"], "message": c["message"]} for c in row.checks],
            "model_answer": model_answer}


def _model_for(user, item: Consultation) -> str | None:
    return item.definition.get("model_answer") if queries.may_see_model(user, item) else None


@bp.get("/consultations")
@document("/consultations", "GET", summary="我可以参加的政策答询及最近一次结果", response_schema={"type": "object", "properties": {
    "consultations": {"type": "array", "items": {"type": "object", "properties": {
        "code": {"type": "string"}, "title": {"type": "string"}, "asker": {"type": "string"},
        "last": {"type": ["object", "null"]}, "accepted": {"type": "boolean"}}}},
    "next": {"type": ["integer", "null"]}}}, errors=(400,))
@login_required
def list_consultations():
    page, per_page = page_args()
    latest = queries.latest_by_consultation(current_user)
    accepted = {a.consultation_id for a in queries.list_my_answers(current_user) if a.verdict.value == "accepted"}
    visible = queries.list_visible(current_user)
    items = []
    for item in visible[(page - 1) * per_page:page * per_page]:
        last = latest.get(item.id)
        items.append({"code": item.code, "title": item.title, "asker": item.definition.get("asker", ""),
                      "accepted": item.id in accepted,
                      "last": {"id": last.id, "verdict": last.verdict.value, "score": last.score,
                               "created_at": iso(last.created_at)} if last else None})
    return jsonify(consultations=items, next=page + 1 if len(visible) > page * per_page else None)


@bp.get("/consultations/<code>")
@document("/consultations/<code>", "GET", summary="政策答询的题目：谁在问、问什么（不含要点和示范回答）",
          response_schema={"type": "object", "properties": {
              "code": {"type": "string"}, "title": {"type": "string"}, "asker": {"type": "string"},
              "question_html": {"type": "string"}}}, errors=(404,))
@login_required
def get_consultation(code):
    item = _consultation_or_404(code)
    return jsonify(code=item.code, title=item.title, asker=item.definition.get("asker", ""),
                   question_html=item.question_html)


@bp.post("/consultations/<code>/answers")
@document("/consultations/<code>/answers", "POST", summary="提交对居民问题的回答，立即返回检查结果",
          who="learner", request_schema=_BODY, response_schema=_RESULT, status=201, errors=(400, 403, 404))
@login_required
def submit_answer(code):
    data = json_body()
    answer = data.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise ValidationError("回答（answer）必须是一段文字", code="invalid_answer", status=400)
    item = _consultation_or_404(code, for_answer=True)
    row, created = services.submit_answer(current_user, item, answer or "", client_id=data.get("client_id"))
    db.session.commit()
    return jsonify(result_payload(row, model_answer=_model_for(current_user, item))), 201 if created else 200


_REVIEW = {"type": "object", "properties": {
    "verdict": {"type": "string", "enum": ["accepted", "returned"]}, "score": {"type": "integer"},
    "comment": {"type": "string"}, "reviewer": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}}


def review_payload(review) -> dict:
    """A trainer's review as the worker reads it."""
    return {"verdict": review.verdict.value, "score": review.score, "comment": review.comment,
            "reviewer": review.reviewer.name if review.reviewer else "", "created_at": iso(review.created_at)}


def _answer_or_404(answer_id) -> ConsultationAnswer:
    row = queries.get_answer(answer_id)
    if row is None:
        raise NotFound("找不到这份回答", code="answer_not_found")
    return row


@bp.get("/consultation-answers/<int:answer_id>")
@document("/consultation-answers/<int:answer_id>", "GET", summary="一份政策答询回答：原文、检查结果、当前结论及复核",
          who="the worker who wrote it; a trainer in scope of the worker's unit at the time",
          response_schema={**_RESULT, "properties": {**_RESULT["properties"], "answer": {"type": "string"},
                                                      "reviews": {"type": "array", "items": _REVIEW}}},
          errors=(403, 404))
@login_required
def get_answer(answer_id):
    row = _answer_or_404(answer_id)
    if row.user_id != current_user.id:
        authorize(current_user, Permission.REVIEW_DRILLS, row.org)
        model = row.consultation.definition.get("model_answer")
    else:
        model = _model_for(current_user, row.consultation)
    return jsonify(result_payload(row, model_answer=model) | {
        "consultation": {"code": row.consultation.code, "title": row.consultation.title},
        "answer": row.answer, "reviews": [review_payload(r) for r in row.reviews]})


@bp.post("/consultation-answers/<int:answer_id>/review")
@document("/consultation-answers/<int:answer_id>/review", "POST",
          summary="培训师复核政策答询回答：改判结论和分数并写评语（记入审计）",
          who="trainer in scope of the worker's unit at the time",
          request_schema={"type": "object", "required": ["verdict", "score"], "properties": {
              "verdict": {"type": "string", "enum": ["accepted", "returned"]},
              "score": {"type": "integer", "minimum": 0, "maximum": 100}, "comment": {"type": "string"}}},
          response_schema=_RESULT, errors=(400, 403, 404, 422))
@login_required
def review_answer(answer_id):
    data = json_body()
    row = _answer_or_404(answer_id)
    authorize(current_user, Permission.REVIEW_DRILLS, row.org)
    review = services.review_answer(current_user, row, data.get("verdict"), data.get("score"), data.get("comment"),
                                    client_addr=client_addr())
    db.session.commit()
    return jsonify(result_payload(row) | {"review": review_payload(review)})
