"""JSON routes of fixed exam papers and bank management: search, the paper of a fixed quiz, bulk actions."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, scope_clause
from lms.api import bp, document, json_body
from lms.db import utcnow
from lms.errors import NotFound
from lms.extensions import db
from lms.org.models import OrgUnit
from lms.quizzes import papers, queries
from lms.quizzes.paper_views import bulk

_SEARCH_PARAMS = [{"name": name, "in": "query", "schema": schema} for name, schema in (
    ("q", {"type": "string", "maxLength": papers.MAX_TEXT}), ("tag", {"type": "string", "maxLength": papers.MAX_TAG}),
    ("type", {"type": "string", "enum": ["single", "multiple", "judge", "fill"]}),
    ("difficulty", {"type": "integer", "minimum": 1, "maximum": 5}), ("bank", {"type": "string"}),
    ("status", {"type": "string", "enum": list(papers.STATUSES)}),
    ("page", {"type": "integer", "minimum": 1, "maximum": papers.MAX_PAGE}))]
_QUESTION_ITEM = {"type": "object", "properties": {
    "qid": {"type": "string"}, "type": {"type": "string"}, "stem": {"type": "string"},
    "difficulty": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
    "bank": {"type": "object", "properties": {"code": {"type": "string"}, "title": {"type": "string"}}},
    "retired": {"type": "boolean"}}}
SEARCH_SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": _QUESTION_ITEM},
                                                  "next": {"type": ["integer", "null"]}}}
_PAPER_ENTRY = {"type": "object", "required": ["qid", "marks"], "properties": {
    "qid": {"type": "string"}, "marks": {"type": "integer", "minimum": 1, "maximum": 100}}}
PAPER_REQUEST = {"type": "object", "required": ["questions"], "properties": {
    "questions": {"type": "array", "minItems": 1, "items": _PAPER_ENTRY}}}
PAPER_SCHEMA = {"type": "object", "properties": {
    "quiz": {"type": "object"}, "questions": {"type": "array", "items": _PAPER_ENTRY},
    "total": {"type": "integer"}}}
BULK_REQUEST = {"type": "object", "required": ["action", "qids"], "properties": {
    "action": {"type": "string", "enum": ["tag", "untag", "move", "retire", "restore"]},
    "qids": {"type": "array", "items": {"type": "string"}, "maxItems": papers.MAX_SELECTION},
    "tag": {"type": "string"}, "bank": {"type": "string", "description": "move: the target bank's code"}}}


def _search_json(row, bank) -> dict:
    return {"qid": row.qid, "type": row.type, "stem": row.stem, "difficulty": row.difficulty,
            "tags": list(row.tags or []), "bank": {"code": bank.code, "title": bank.title},
            "retired": row.is_retired}


@bp.get("/questions")
@document("/questions", "GET", summary="搜索题目（题干/编号文字、标签、题型、难度、题库、状态），每页 20 道", who="trainer in scope",
          response_schema=SEARCH_SCHEMA, errors=(400, 403), params=_SEARCH_PARAMS)
@login_required
def search_questions():
    authorize(current_user, Permission.AUTHOR_CONTENT)
    search = papers.parse_search(request.args)
    rows, has_next = papers.search_questions(search, scope_clause(current_user, Permission.AUTHOR_CONTENT,
                                                                  OrgUnit.path))
    return jsonify({"items": [_search_json(row, bank) for row, bank in rows],
                    "next": search.page + 1 if has_next else None})


def _paper_json(quiz) -> dict:
    return {"quiz": {"code": quiz.code, "title": quiz.title, "pass_score": quiz.pass_score},
            "questions": [{"qid": e["qid"], "marks": int(e.get("marks") or 1)} for e in quiz.fixed_paper or []],
            "total": papers.paper_total(quiz)}


def _fixed_quiz(code: str):
    quiz = queries.get_quiz(code[:64])
    if quiz is None:
        raise NotFound(f"测验 {code[:64]} 不存在")
    authorize(current_user, Permission.AUTHOR_CONTENT, quiz)
    if not papers.is_fixed(quiz):
        raise NotFound(f"测验《{quiz.title}》是随机抽题的，没有固定试卷")
    return quiz


@bp.get("/quizzes/<code>/paper")
@document("/quizzes/<code>/paper", "GET", summary="固定试卷的题目、顺序与分值", who="trainer in scope",
          response_schema=PAPER_SCHEMA, errors=(403, 404))
@login_required
def get_paper(code):
    return jsonify(_paper_json(_fixed_quiz(code)))


@bp.put("/quizzes/<code>/paper")
@document("/quizzes/<code>/paper", "PUT", summary="设置固定试卷：题目按顺序，每题分值 1–100；空试卷、重复题、不存在或已停用的题、分值 ≤ 0 均为 400",
          who="trainer in scope", request_schema=PAPER_REQUEST, response_schema=PAPER_SCHEMA, errors=(400, 403, 404))
@login_required
def put_paper(code):
    quiz = _fixed_quiz(code)
    body = json_body()
    papers.save_paper(current_user, quiz, body.get("questions"), now=utcnow())
    reply = _paper_json(quiz)
    db.session.commit()
    return jsonify(reply)


@bp.post("/questions/bulk")
@document("/questions/bulk", "POST", summary="批量处理题目：加/去标签、移到另一个题库、停用、恢复（记入审计）",
          who="trainer in scope", request_schema=BULK_REQUEST,
          response_schema={"type": "object", "properties": {"changed": {"type": "integer"}}}, errors=(400, 403))
@login_required
def bulk_questions():
    authorize(current_user, Permission.AUTHOR_CONTENT)
    body = json_body()
    action = body.get("action")
    if action not in ("tag", "untag", "move", "retire", "restore"):
        raise papers.bad_input("action 只能是 tag、untag、move、retire 或 restore", "invalid_action")
    changed = bulk(action, papers.clean_qids(body.get("qids")), tag=body.get("tag"),
                   bank=body.get("bank") if isinstance(body.get("bank"), str) else None)
    db.session.commit()
    return jsonify({"changed": changed})
