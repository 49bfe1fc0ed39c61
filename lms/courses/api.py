"""JSON routes: catalog, course, lesson, completion, assignments (API.md)."""
from __future__ import annotations

import datetime as dt

from flask import jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, require
from lms.api import bp, document, json_body
from lms.courses import models, queries, services
from lms.courses.models import CourseLevel
from lms.courses.render import trusted
from lms.db import utcnow, write_intent
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.org.queries import get_org
from lms.web import client_addr

#: re-opening the lesson one left off at within this time writes nothing
RECENT = dt.timedelta(minutes=10)

_PROGRESS = {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}}
_COURSE_ITEM = {"type": "object", "properties": {
    "code": {"type": "string"}, "title": {"type": "string"}, "level": {"type": "string"},
    "hours": {"type": "number"}, "progress": _PROGRESS, "due": {"type": ["string", "null"], "format": "date"}}}


def _level_arg() -> CourseLevel | None:
    level = request.args.get("level") or None
    if level is None:
        return None
    try:
        return CourseLevel(level)
    except ValueError:
        raise ValidationError("level 必须是 county、township 或 village", code="invalid_level") from None


COURSE_NOT_FOUND = "找不到该课程，或您不在该课程的学习范围内"
LESSON_NOT_FOUND = "找不到该课时"


def visible_course_or_404(code: str):
    """The course if the current user may learn it; 404 otherwise (no hint that it exists)."""
    course = queries.get_visible_course(current_user, code)
    if course is None:
        raise NotFound(COURSE_NOT_FOUND)
    return course


def lesson_or_404(course, slug: str):
    lesson = queries.get_lesson(course, slug)
    if lesson is None or lesson.is_retired:
        raise NotFound(LESSON_NOT_FOUND)
    return lesson


def reading(user, code: str, slug: str):
    """(course row, outline, lesson index, lesson state) for a learner opening a lesson; 404 like the above."""
    course = queries.visible_course_row(user, code)
    if course is None:
        raise NotFound(COURSE_NOT_FOUND)
    outline = queries.outlines([course])[course.id]
    index = outline.index.get(slug)
    if index is None:  # unknown or retired
        raise NotFound(LESSON_NOT_FOUND)
    return course, outline, index, queries.lesson_state(user, course.id)


@bp.get("/courses")
@document("/courses", "GET", summary="我可以学习的课程（含进度与截止日期）", who="any",
          params=[{"name": "level", "in": "query", "schema": {"type": "string", "enum": [lv.value for lv in CourseLevel]}},
                  {"name": "q", "in": "query", "schema": {"type": "string"}}],
          response_schema={"type": "object", "properties": {"courses": {"type": "array", "items": _COURSE_ITEM}}},
          errors=(422,))
@login_required
def list_courses():
    cards = queries.visible_cards(current_user._get_current_object(), _level_arg(), request.args.get("q", "")[:50])
    return jsonify(courses=[{"code": c["course"].code, "title": c["course"].title, "level": str(c["course"].level),
                             "hours": c["course"].hours, "progress": {"done": c["done"], "total": c["total"]},
                             "due": c["due"].isoformat() if c["due"] else None} for c in cards])


@bp.get("/courses/<code>")
@document("/courses/<code>", "GET", summary="课程详情：摘要、课时与完成情况", who="any",
          response_schema={"type": "object", "properties": {
              "code": {"type": "string"}, "title": {"type": "string"}, "level": {"type": "string"},
              "summary_html": {"type": "string"},
              "lessons": {"type": "array", "items": {"type": "object", "properties": {
                  "slug": {"type": "string"}, "title": {"type": "string"}, "minutes": {"type": "integer"},
                  "done": {"type": "boolean"}}}},
              "quiz": {"type": ["string", "null"]}, "complete": {"type": "boolean"}}},
          errors=(404,))
@login_required
def get_course(code):
    course = visible_course_or_404(code)
    done = queries.done_lesson_ids(current_user, course)
    enrollment = queries.get_enrollment(current_user, course)
    return jsonify(code=course.code, title=course.title, level=str(course.level), summary_html=course.summary_html,
                   lessons=[{"slug": lesson.slug, "title": lesson.title, "minutes": lesson.minutes,
                             "done": lesson.id in done} for lesson in queries.active_lessons(course)],
                   quiz=course.quiz_code, complete=bool(enrollment and enrollment.completed_at))


@bp.get("/courses/<code>/lessons/<slug>")
@document("/courses/<code>/lessons/<slug>", "GET", summary="课时正文（已净化的 HTML）", who="any",
          response_schema={"type": "object", "properties": {"slug": {"type": "string"}, "title": {"type": "string"},
                                                            "html": {"type": "string"}}},
          errors=(404,))
@login_required
def get_lesson(code, slug):
    user = current_user._get_current_object()
    course, outline, index, state = reading(user, code, slug)
    lesson = outline.lessons[index]
    payload = {"slug": lesson.slug, "title": lesson.title, "html": str(trusted(queries.lesson_html(outline, lesson)))}
    remember_opened(course, lesson, state)
    return jsonify(payload)


def remember_opened(course, lesson, state: queries.LessonState | None = None) -> None:
    """Record "where I left off" in its own short write transaction (the read one is over)."""
    course_id, lesson_id = course.id, lesson.id
    if state is None:
        state = queries.lesson_state(current_user, course_id)
    if state.last_lesson_id == lesson_id and state.last_opened_at and utcnow() - state.last_opened_at < RECENT:
        return  # re-reading the same lesson: nothing new to remember, and GETs stay read-only
    # End the read transaction first: on SQLite a deferred reader that starts writing can fail busy.
    db.session.commit()
    with write_intent():
        services.open_lesson(current_user, db.session.get(models.Course, course_id),
                             db.session.get(models.Lesson, lesson_id))
        db.session.commit()


@bp.post("/courses/<code>/lessons/<slug>/complete")
@document("/courses/<code>/lessons/<slug>/complete", "POST", summary="标记课时已学完（可重复调用）", who="learner",
          response_schema={"type": "object", "properties": {"done": {"type": "boolean"},
                                                            "course_complete": {"type": "boolean"}}},
          errors=(403, 404))
@login_required
@require(Permission.LEARN)
def complete_lesson(code, slug):
    course = visible_course_or_404(code)
    lesson = lesson_or_404(course, slug)
    complete = services.complete_lesson(current_user, course, lesson, now=utcnow())
    db.session.commit()
    return jsonify(done=True, course_complete=complete)


def parse_due(value) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


@bp.post("/assignments")
@document("/assignments", "POST", summary="指派课程或测验给组织（可限定角色），带截止日期", who="trainer/admin in scope",
          request_schema={"type": "object", "required": ["org", "due"], "properties": {
              "course": {"type": "string"}, "quiz": {"type": "string"}, "org": {"type": "string"},
              "role": {"type": "string"}, "due": {"type": "string", "format": "date"}}},
          response_schema={"type": "object", "properties": {
              "id": {"type": "integer"}, "course": {"type": ["string", "null"]}, "quiz": {"type": ["string", "null"]},
              "org": {"type": "string"}, "role": {"type": ["string", "null"]}, "due": {"type": "string"}}},
          status=201, errors=(400, 403, 422))
@login_required
@require(Permission.ASSIGN)
def create_assignment():
    data = json_body()
    course_code, quiz_code, org_code, role = (data.get(k) for k in ("course", "quiz", "org", "role"))
    for name, value in (("course", course_code), ("quiz", quiz_code), ("org", org_code), ("role", role)):
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"{name} 必须是字符串", code="invalid")
    org = get_org(org_code) if org_code else None
    if org is None:
        raise ValidationError(f"找不到组织“{org_code or ''}”", code="unknown_org")
    due = parse_due(data.get("due"))
    if due is None:
        raise ValidationError("due 必须是日期（YYYY-MM-DD）", code="invalid_due")
    assignment = services.create_assignment(current_user, course_code=course_code or None, quiz_code=quiz_code or None,
                                            org=org, role=role or None, due=due, now=utcnow(),
                                            client_addr=client_addr())
    db.session.commit()
    return jsonify(id=assignment.id, course=assignment.course.code if assignment.course else None,
                   quiz=assignment.quiz_code, org=assignment.org.code,
                   role=str(assignment.role) if assignment.role else None, due=assignment.due_on.isoformat()), 201


def today() -> dt.date:
    """Today's local date (due dates are Asia/Shanghai calendar days)."""
    return queries.local_today()
