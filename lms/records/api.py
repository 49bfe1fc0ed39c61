"""JSON: GET /api/v1/users/<username>/record — one person's 学时档案."""
from __future__ import annotations

from flask import jsonify
from flask_login import login_required

from lms.api import bp, document, iso
from lms.records import queries, views
from lms.records.views import viewable_person

_NUM = {"type": "number"}
_INT = {"type": "integer"}
_STR = {"type": "string"}
_DATE = {"type": ["string", "null"], "format": "date"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
RECORD_SCHEMA = {"type": "object", "required": ["user", "as_of", "totals", "courses", "trainings", "quizzes", "drills",
                                                "mentoring", "certificates", "points"], "properties": {
    "user": {"type": "object", "properties": {"username": _STR, "name": _STR, "org": {"type": "object", "properties": {
        "code": _STR, "name": _STR, "path": _STR}}}},
    "as_of": {"type": "string", "format": "date"},
    "totals": {"type": "object", "properties": {
        "hours": _NUM, "training_hours": _NUM,
        "course_hours": {"type": "object", "properties": {"county": _NUM, "township": _NUM, "village": _NUM,
                                                          "total": _NUM}},
        "courses_completed": _INT, "quizzes_passed": _INT, "drills_accepted": _INT, "mentoring_activities": _INT,
        "mentoring_minutes": _INT, "certificates_valid": _INT, "points": _INT, "star": _INT}},
    "courses": {"type": "array", "items": {"type": "object", "properties": {
        "code": _STR, "title": _STR, "level": {"enum": ["county", "township", "village"]}, "started": _TIME,
        "completed": _TIME, "hours": _NUM, "progress": {"type": "object", "properties": {"done": _INT, "total": _INT}}}}},
    "trainings": {"type": "array", "items": {"type": "object", "properties": {
        "id": _INT, "date": _DATE, "title": _STR, "level": _STR, "hours": _NUM}}},
    "quizzes": {"type": "array", "items": {"type": "object", "properties": {
        "code": _STR, "title": _STR, "best_score": {"type": ["number", "null"]}, "attempts": _INT,
        "passed": {"type": "boolean"}, "max_attempts": {"type": ["integer", "null"]}, "extra_attempts": _INT,
        "last_attempt": _TIME}}},
    "drills": {"type": "array", "items": {"type": "object", "properties": {
        "code": _STR, "title": _STR, "accepted_on": _DATE, "best_score": _INT, "accepted_reports": _INT}}},
    "mentoring": {"type": "array", "items": {"type": "object", "properties": {
        "role": {"enum": ["mentor", "mentee"]}, "with": {"type": "array", "items": _STR}, "start": _DATE,
        "end": _DATE, "activities": _INT, "minutes": _INT}}},
    "certificates": {"type": "array", "items": {"type": "object", "properties": {
        "number": _STR, "program": {"type": "object", "properties": {"code": _STR, "title": _STR}},
        "issued": _DATE, "expires": _DATE, "status": {"enum": ["valid", "expired", "revoked"]}}}},
    "points": {"type": "object", "properties": {"total": _INT, "star": _INT}}}}


def record_json(record: queries.Record) -> dict:
    """The record as the API returns it: codes and ISO times, no display labels."""
    user = record.user
    return {
        "user": {"username": user["username"], "name": user["name"],
                 "org": {"code": user["org_code"], "name": user["org_name"], "path": user["org_path"]}},
        "as_of": iso(record.as_of), "totals": record.totals,
        "courses": [{"code": c["code"], "title": c["title"], "level": c["level"], "started": iso(c["started"]),
                     "completed": iso(c["completed"]), "hours": c["hours"],
                     "progress": {"done": c["lessons_done"], "total": c["lessons"]}} for c in record.courses],
        "trainings": [{"id": t["id"], "date": iso(t["date"]), "title": t["title"], "level": t["level"],
                       "hours": t["hours"]} for t in record.trainings],
        "quizzes": [{"code": q["code"], "title": q["title"], "best_score": q["best_score"], "attempts": q["attempts"],
                     "passed": q["passed"], "max_attempts": q["max_attempts"], "extra_attempts": q["extra_attempts"],
                     "last_attempt": iso(q["last_attempt"])} for q in record.quizzes],
        "drills": [{"code": d["code"], "title": d["title"], "accepted_on": iso(d["accepted_on"]),
                    "best_score": d["best_score"], "accepted_reports": d["accepted_reports"]} for d in record.drills],
        "mentoring": [{"role": m["role"], "with": m["with"], "start": iso(m["start"]), "end": iso(m["end"]),
                       "activities": m["activities"], "minutes": m["minutes"]} for m in record.mentoring],
        "certificates": [{"number": c["number"], "program": c["program"], "issued": iso(c["issued"]),
                          "expires": iso(c["expires"]), "status": c["status"]} for c in record.certificates],
        "points": {"total": record.points, "star": record.star},
    }


@bp.get("/users/<username>/record")
@document("/users/<username>/record", "GET", summary="学时档案：课程、线下培训、测验最高分、被采纳的模拟上报、老带新、证书与积分",
          who="the person; hr/trainer in scope", response_schema=RECORD_SCHEMA, errors=(403, 404))
@login_required
def get_record(username):
    user = viewable_person(username)
    return jsonify(record_json(queries.person_record(user)))


@bp.get("/users/<username>/record.pdf")
@document("/users/<username>/record.pdf", "GET", summary="学时档案 PDF（A4，中文）", who="the person; hr/trainer in scope",
          response_schema={"type": "string", "format": "binary"}, errors=(403, 404))
@login_required
def get_record_pdf(username):
    return views.pdf(username)


@bp.get("/users/<username>/record.xlsx")
@document("/users/<username>/record.xlsx", "GET", summary="学时档案 Excel（汇总与各部分分表）",
          who="the person; hr/trainer in scope", response_schema={"type": "string", "format": "binary"},
          errors=(403, 404))
@login_required
def get_record_xlsx(username):
    return views.xlsx(username)
