"""JSON routes of quizzes: attempts (start, read, autosave, submit), the 错题本 and item statistics."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, can
from lms.accounts.queries import get_user
from lms.api import bp, document, iso, json_body, page_args
from lms.db import SHANGHAI, utcnow, write_intent
from lms.errors import Forbidden, NotFound, Unauthorized, ValidationError
from lms.extensions import db
from lms.quizzes import queries, services
from lms.quizzes.models import AttemptStatus
from lms.web import client_addr

_OPTION = {"type": "object", "properties": {"key": {"type": "string"}, "text": {"type": "string"},
                                            "html": {"type": "string"}}}
_QUESTION = {"type": "object", "required": ["qid", "type", "stem", "options"], "properties": {
    "qid": {"type": "string"}, "type": {"type": "string", "enum": ["single", "multiple", "judge", "fill"]},
    "stem": {"type": "string"}, "stem_html": {"type": "string"}, "blanks": {"type": "integer"},
    "options": {"type": "array", "items": _OPTION}}}
ATTEMPT_SCHEMA = {"type": "object", "required": ["id", "now", "deadline", "status", "questions", "answers"],
                  "properties": {
                      "id": {"type": "integer"}, "now": {"type": "string", "format": "date-time"},
                      "deadline": {"type": "string", "format": "date-time"},
                      "status": {"type": "string", "enum": ["open", "submitted", "closed"]},
                      "quiz": {"type": "object"}, "number": {"type": "integer"},
                      "questions": {"type": "array", "items": _QUESTION},
                      "answers": {"type": "object", "additionalProperties": {
                          "type": "object", "properties": {"answer": {}, "seq": {"type": "integer"}}}}}}
_RESULT = {"type": "object", "properties": {
    "qid": {"type": "string"}, "correct": {"type": "boolean"}, "your_answer": {}, "correct_answer": {},
    "explanation": {"type": "string"}, "source": {"type": "string"},
    "points": {"type": "integer", "description": "该题分值（固定试卷按出卷设定，随机抽题每题 1 分）"},
    "earned": {"type": "integer", "description": "该题得分"}}}
SUBMIT_SCHEMA = {"type": "object", "required": ["score", "passed", "results"], "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "score": {"type": "number"},
    "passed": {"type": "boolean"}, "results": {"type": "array", "items": _RESULT}}}
SAVE_REQUEST = {"type": "object", "required": ["answer", "seq"], "properties": {
    "answer": {"description": "单选 \"B\"；多选 [\"A\",\"C\"]；判断 true/false；填空 每空一个字符串的列表"},
    "seq": {"type": "integer", "minimum": 0}}}
SAVE_SCHEMA = {"type": "object", "properties": {"qid": {"type": "string"}, "seq": {"type": "integer"},
                                                "stale": {"type": "boolean"}}}
MISTAKES_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "qid": {"type": "string"}, "stem": {"type": "string"}, "box": {"type": "integer"},
        "next_review_on": {"type": "string", "format": "date"}}}},
    "next": {"type": ["integer", "null"]}}}
PRACTICE_SCHEMA = {"type": "object", "properties": {
    "qid": {"type": "string"}, "correct": {"type": "boolean"}, "correct_answer": {}, "explanation": {"type": "string"},
    "source": {"type": "string"}, "box": {"type": "integer"}, "next_review_on": {"type": "string"},
    "mastered": {"type": "boolean"}}}
STATS_SCHEMA = {"type": "object", "properties": {
    "quiz": {"type": "object"}, "attempts": {"type": "integer"},
    "questions": {"type": "array", "items": {"type": "object", "properties": {
        "qid": {"type": "string"}, "facility": {"type": "number"}, "discrimination": {"type": ["number", "null"]},
        "option_counts": {"type": "object"}, "flags": {"type": "array", "items": {"type": "string"}}}}}}}


def attempt_json(attempt, now, answers: dict | None = None) -> dict:
    """What the learner's client sees of an attempt: never the key or the explanation before grading.

    ``answers``: the saved answers when the caller knows them (a new attempt has none).
    """
    questions = []
    for data, item in services.paper_items(attempt):
        public = item.public()
        public["stem_html"] = data.get("stem_html", "")
        for option, html in zip(public["options"], data.get("options_html") or []):
            option["html"] = html
        questions.append(public)
    return {"id": attempt.id, "quiz": {"code": attempt.quiz.code, "title": attempt.quiz.title},
            "number": attempt.number, "now": iso(now), "deadline": iso(attempt.deadline),
            "status": attempt.status.value, "questions": questions,
            "answers": services.saved_answers(attempt) if answers is None else answers}


def result_json(attempt) -> dict:
    """The graded attempt: score, passed and per question the key, the explanation and the source."""
    return {"id": attempt.id, "status": attempt.status.value, "score": attempt.score, "passed": attempt.passed,
            "results": services.results(attempt)}


def own_attempt(attempt_id: int, *, lock: bool | str = False):
    """The current user's attempt (with its quiz); someone else's is as absent as a missing one (404)."""
    attempt = queries.get_attempt(attempt_id, lock=lock, with_quiz=True)
    if attempt is None or attempt.user_id != current_user.id:
        raise NotFound("找不到这次作答")
    return attempt


def settle_overdue(attempt, now):
    """Close an open attempt whose deadline and grace passed, in its own write transaction; the fresh attempt."""
    if attempt.status != AttemptStatus.open or not services.is_overdue(attempt, now):
        return attempt
    attempt_id = attempt.id
    # A GET began a read transaction; the close needs a writer's (SQLite: BEGIN IMMEDIATE).
    db.session.rollback()
    with write_intent():
        # No shared lock first: two settling requests would each wait for the other's (deadlock).
        attempt = queries.get_attempt(attempt_id)
        services.close_attempt(attempt, now=now)
        db.session.commit()
    return queries.get_attempt(attempt_id)


def sittable_quiz(code: str):
    """A quiz the current user may sit (404 unknown, 403 outside their unit's quizzes)."""
    quiz = queries.get_quiz(code)
    if quiz is None:
        raise NotFound(f"测验 {code} 不存在")
    authorize(current_user, Permission.LEARN)
    if not queries.may_sit(current_user, quiz):
        raise Forbidden("该测验不属于您所在的单位", code="forbidden")
    return quiz


@bp.post("/quizzes/<code>/attempts")
@document("/quizzes/<code>/attempts", "POST", summary="开始作答（已有未交卷的作答则返回它）", who="learner",
          response_schema=ATTEMPT_SCHEMA, status=201, errors=(403, 404, 409))
@login_required
def start_attempt(code):
    quiz = sittable_quiz(code)
    now = utcnow()
    attempt, created = services.start_attempt(current_user, quiz, now=now)
    # The reply is built before the commit: afterwards every attribute would be read again (on SQLite in a
    # second write transaction).
    reply = attempt_json(attempt, now, answers={} if created else None)
    db.session.commit()
    return jsonify(reply), 201 if created else 200


@bp.get("/attempts/<int:attempt_id>")
@document("/attempts/<int:attempt_id>", "GET", summary="一次作答：试题、已保存的答案、服务器时间与截止时间",
          who="owner", response_schema=ATTEMPT_SCHEMA, errors=(404,))
@login_required
def get_attempt(attempt_id):
    now = utcnow()
    attempt = settle_overdue(own_attempt(attempt_id), now)
    return jsonify(attempt_json(attempt, now))


@bp.put("/attempts/<int:attempt_id>/answers/<qid>")
@document("/attempts/<int:attempt_id>/answers/<qid>", "PUT", summary="自动保存一题的答案（按 seq 忽略过期的保存）",
          who="owner", request_schema=SAVE_REQUEST, response_schema=SAVE_SCHEMA, errors=(400, 404, 409, 422))
@login_required
def save_answer(attempt_id, qid):
    body = json_body()
    if "answer" not in body or "seq" not in body:
        raise ValidationError("请求体需要 answer 和 seq", code="invalid")
    # Only the attempt's small columns (not the paper): status, deadline, owner, answer slots.
    attempt = queries.attempt_head(attempt_id, lock=True)
    if attempt is None or attempt.user_id != current_user.id:
        raise NotFound("找不到这次作答")
    reply = services.save_answer(attempt, qid, body["answer"], body["seq"], now=utcnow())
    db.session.commit()
    return jsonify(reply)


@bp.post("/attempts/<int:attempt_id>/submit")
@document("/attempts/<int:attempt_id>/submit", "POST", summary="交卷并评分（重复交卷返回同一结果）", who="owner",
          response_schema=SUBMIT_SCHEMA, errors=(404,))
@login_required
def submit_attempt(attempt_id):
    # The row held for the whole submit (PostgreSQL; SQLite's BEGIN IMMEDIATE holds the database): in-flight
    # saves finish first, a concurrent submit waits and then sees it closed; grading is one UPDATE.
    attempt = own_attempt(attempt_id, lock="update")
    services.submit_attempt(attempt, now=utcnow(), locked=True)
    reply = result_json(attempt)  # before the commit, which would expire the graded attempt
    db.session.commit()
    return jsonify(reply)


@bp.get("/mistakes")
@document("/mistakes", "GET", summary="错题本：未掌握的错题及下次复习日期", who="learner",
          response_schema=MISTAKES_SCHEMA, errors=(400,))
@login_required
def list_mistakes():
    page, per_page = page_args()
    today = utcnow().astimezone(SHANGHAI).date()
    rows, has_next = queries.due_mistakes(current_user, today, page, per_page)
    return jsonify({"items": [{"qid": m.qid, "stem": stem, "box": m.box, "next_review_on": iso(m.next_review_on),
                               "due": m.next_review_on <= today} for m, stem, _ in rows],
                    "next": page + 1 if has_next else None})


@bp.post("/mistakes/<qid>/practice")
@document("/mistakes/<qid>/practice", "POST", summary="练习一道错题：答对升一格（第 5 格答对即掌握），答错回第 1 格",
          who="learner", request_schema={"type": "object", "required": ["answer"], "properties": {"answer": {}}},
          response_schema=PRACTICE_SCHEMA, errors=(400, 404, 422))
@login_required
def practise_mistake(qid):
    body = json_body()
    if "answer" not in body:
        raise ValidationError("请求体需要 answer", code="invalid")
    mistake = queries.get_mistake(current_user, qid)
    if mistake is None or mistake.mastered_at is not None:
        raise NotFound("错题本中没有这道题")
    reply = services.practise(mistake, body["answer"], now=utcnow())
    db.session.commit()
    return jsonify(reply)


@bp.get("/quizzes/<code>/stats")
@document("/quizzes/<code>/stats", "GET", summary="试题分析：难度（通过率）、区分度、选项分布", who="trainer in scope",
          response_schema=STATS_SCHEMA, errors=(403, 404))
@login_required
def quiz_item_stats(code):
    quiz = queries.get_quiz(code)
    if quiz is None:
        raise NotFound(f"测验 {code} 不存在")
    authorize(current_user, Permission.AUTHOR_CONTENT, quiz)
    attempts, questions = queries.item_statistics(quiz)
    return jsonify({"quiz": {"code": quiz.code, "title": quiz.title}, "attempts": attempts, "questions": questions})


# --- 补考 -------------------------------------------------------------------------------------------------

#: who may grant 补考 over a learner: a trainer (assigns training) or HR (manages the people), in scope
GRANT_PERMISSIONS = (Permission.ASSIGN, Permission.MANAGE_USERS)

GRANT_REQUEST = {"type": "object", "required": ["username", "extra_attempts", "reason"], "properties": {
    "username": {"type": "string", "description": "工号"},
    "extra_attempts": {"type": "integer", "minimum": 1, "maximum": services.MAX_EXTRA_ATTEMPTS},
    "reason": {"type": "string", "maxLength": 500}}}
GRANT_SCHEMA = {"type": "object", "properties": {
    "quiz": {"type": "object", "properties": {"code": {"type": "string"}, "title": {"type": "string"}}},
    "username": {"type": "string"}, "name": {"type": "string"}, "extra_attempts": {"type": "integer"},
    "reason": {"type": "string"}, "granted_at": {"type": "string", "format": "date-time"},
    "max_attempts": {"type": "integer"}, "extra_total": {"type": "integer"}, "used": {"type": "integer"},
    "remaining": {"type": "integer"}}}


def may_grant(actor, user=None) -> bool:
    """actor may grant 补考 to user (None: to anyone, for menus and route guards)."""
    return any(can(actor, perm, user) for perm in GRANT_PERMISSIONS)


def authorize_grant(actor, user=None) -> None:
    """403 unless may_grant (401 when not logged in)."""
    if not getattr(actor, "is_authenticated", False):
        raise Unauthorized("请先登录")
    if not may_grant(actor, user):
        raise Forbidden("没有权限：只有管辖范围内的培训管理员或人事可以安排补考", code="forbidden")


def grant_json(quiz, user, grant) -> dict:
    """A grant with the learner's attempt figures after it."""
    extra = queries.granted_extra_attempts(quiz.id, user.id)
    used = services.attempts_used(quiz, user)
    allowed = (quiz.max_attempts or 0) + extra
    return {"quiz": {"code": quiz.code, "title": quiz.title}, "username": user.username, "name": user.name,
            "extra_attempts": grant.extra_attempts, "reason": grant.reason, "granted_at": iso(grant.granted_at),
            "max_attempts": quiz.max_attempts, "extra_total": extra, "used": used, "remaining": max(0, allowed - used)}


@bp.post("/quizzes/<code>/grants")
@document("/quizzes/<code>/grants", "POST", summary="补考：给一名学员增加本测验的作答次数（须写明理由），记入审计",
          who="trainer/hr in scope", request_schema=GRANT_REQUEST, response_schema=GRANT_SCHEMA, status=201,
          errors=(400, 403, 404, 422))
@login_required
def grant_attempts(code):
    authorize_grant(current_user)
    quiz = queries.get_quiz(code[:64])
    if quiz is None:
        raise NotFound(f"测验 {code[:64]} 不存在")
    body = json_body()
    username = body.get("username")
    if not isinstance(username, str) or not username.strip():
        raise ValidationError("请填写学员工号 username", code="username_required")
    user = get_user(username.strip()[:64])
    if user is None:
        raise ValidationError(f"工号 {username.strip()[:64]} 不存在", code="unknown_user")
    authorize_grant(current_user, user)
    grant = services.grant_attempts(current_user, quiz, user, body.get("extra_attempts"), body.get("reason"),
                                    now=utcnow(), client_addr=client_addr())
    db.session.flush()
    reply = grant_json(quiz, user, grant)
    db.session.commit()
    return jsonify(reply), 201
