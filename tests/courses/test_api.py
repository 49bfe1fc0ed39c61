"""JSON API: catalog, course, lesson, completion, assignments — wiring, status codes, error bodies, scope."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.courses.models import Assignment, CourseEnrollment, LessonProgress
from lms.courses.queries import get_course
from lms.extensions import db
from lms.signals import lesson_completed
from tests.courses.factories import make_course
from tests.factories import make_user


@pytest.fixture
def world(tree):
    users = {
        "w1": make_user("w1", "worker", tree["g1"]),       # 青石镇 HX01 → 桃源村 → grid
        "w2": make_user("w2", "worker", tree["g2"]),       # 城关街道 HX02 → 和平社区 → grid
        "tc": make_user("tc", "trainer", tree["county"]),
        "tq": make_user("tq", "trainer", tree["t1"]),
        "hr": make_user("hr1", "hr", tree["county"]),
    }
    courses = {
        "county": make_course("county-c", level="county", org="HX", lessons=2),
        "t1": make_course("t1-c", level="township", org="HX01", lessons=1),
        "v2": make_course("v2-c", level="village", org="HX0201", lessons=1),
        "draft": make_course("draft-c", level="county", org="HX", published=False),
    }
    return {"users": users, "courses": courses, "tree": tree}


def codes(response) -> set[str]:
    return {c["code"] for c in response.get_json()["courses"]}


def test_catalog_lists_only_courses_in_my_orgs_ancestry(api, world):
    api.login("w1")
    assert codes(api.get("/api/v1/courses")) == {"county-c", "t1-c"}
    api.login("w2")
    assert codes(api.get("/api/v1/courses")) == {"county-c", "v2-c"}


def test_catalog_filters_by_level_and_reports_progress(api, world):
    api.login("w1")
    body = api.get("/api/v1/courses?level=township").get_json()
    assert body == {"courses": [{"code": "t1-c", "title": "课程t1-c", "level": "township", "hours": 2.0,
                                 "progress": {"done": 0, "total": 1}, "due": None}]}


def test_catalog_rejects_an_unknown_level(api, world):
    api.login("w1")
    response = api.get("/api/v1/courses?level=province")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_level"


def test_catalog_requires_login(api, world):
    response = api.get("/api/v1/courses")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_worker_of_another_township_gets_404_for_its_course(api, world):
    api.login("w2")
    for url in ("/api/v1/courses/t1-c", "/api/v1/courses/t1-c/lessons/l1"):
        response = api.get(url)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert api.post("/api/v1/courses/t1-c/lessons/l1/complete").status_code == 404


def test_unpublished_course_is_not_visible(api, world):
    api.login("w1")
    assert api.get("/api/v1/courses/draft-c").status_code == 404


def test_course_detail_lists_lessons_with_done_flags(api, world):
    api.login("w1")
    api.post("/api/v1/courses/county-c/lessons/l1/complete")
    body = api.get("/api/v1/courses/county-c").get_json()
    assert body["code"] == "county-c" and body["level"] == "county" and body["quiz"] is None
    assert body["summary_html"] == "<p>摘要</p>"
    assert [(lesson["slug"], lesson["done"]) for lesson in body["lessons"]] == [("l1", True), ("l2", False)]
    assert body["complete"] is False


def test_lesson_returns_cached_html_and_remembers_where_i_left_off(api, world):
    api.login("w1")
    body = api.get("/api/v1/courses/county-c/lessons/l2").get_json()
    assert body == {"slug": "l2", "title": "第2课", "html": '<h2 id="第2课">第2课</h2>\n<p>正文 2</p>'}
    enrollment = db.session.scalar(sa.select(CourseEnrollment))
    assert enrollment.last_lesson_id is not None and enrollment.last_opened_at is not None


def test_unknown_lesson_is_404(api, world):
    api.login("w1")
    assert api.get("/api/v1/courses/county-c/lessons/nope").status_code == 404


def test_complete_is_idempotent_and_signals_once(api, world):
    seen = []

    def receiver(sender, **kwargs):
        seen.append((sender.username, kwargs["lesson"].slug, kwargs["course"].code, kwargs["now"] is not None))

    lesson_completed.connect(receiver)
    try:
        api.login("w1")
        first = api.post("/api/v1/courses/t1-c/lessons/l1/complete")
        second = api.post("/api/v1/courses/t1-c/lessons/l1/complete")
    finally:
        lesson_completed.disconnect(receiver)
    assert first.status_code == 200 and first.get_json() == {"done": True, "course_complete": True}
    assert second.get_json() == {"done": True, "course_complete": True}
    assert seen == [("w1", "l1", "t1-c", True)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress)) == 1


def test_complete_without_csrf_is_refused(api, world):
    api.login("w1")
    response = api.client.post("/api/v1/courses/t1-c/lessons/l1/complete")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"


def test_hr_without_learn_permission_cannot_complete(api, world):
    api.login("hr1")
    assert api.post("/api/v1/courses/county-c/lessons/l1/complete").status_code == 403


# --- assignments ------------------------------------------------------------------------------------------------

def _due(days=10) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def test_trainer_assigns_a_course_to_a_subtree(api, world):
    api.login("tc")
    response = api.post("/api/v1/assignments", json={"course": "county-c", "org": "HX01", "due": _due()})
    assert response.status_code == 201
    body = response.get_json()
    assert body["course"] == "county-c" and body["org"] == "HX01" and body["quiz"] is None and body["role"] is None
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "assignment.create")) is not None
    api.login("w1")
    assert {c["code"]: c["due"] for c in api.get("/api/v1/courses").get_json()["courses"]}["county-c"] == _due()
    api.login("w2")
    assert {c["code"]: c["due"] for c in api.get("/api/v1/courses").get_json()["courses"]}["county-c"] is None


def test_assignment_reaches_members_who_join_later(api, world):
    api.login("tc")
    api.post("/api/v1/assignments", json={"course": "county-c", "org": "HX01", "due": _due()})
    make_user("late", "worker", world["tree"]["v1"])
    api.login("late")
    assert {c["code"]: c["due"] for c in api.get("/api/v1/courses").get_json()["courses"]}["county-c"] == _due()


def test_assignment_of_a_quiz_is_stored(api, world):
    api.login("tc")
    response = api.post("/api/v1/assignments", json={"quiz": "county-exam", "org": "HX", "role": "worker", "due": _due()})
    assert response.status_code == 201 and response.get_json()["quiz"] == "county-exam"
    assert db.session.scalar(sa.select(Assignment.role)) == "worker"


def test_assigned_out_of_subtree_course_becomes_visible(api, world):
    api.login("tc")
    assert api.post("/api/v1/assignments", json={"course": "t1-c", "org": "HX02", "due": _due()}).status_code == 201
    api.login("w2")
    assert api.get("/api/v1/courses/t1-c").status_code == 200


@pytest.mark.parametrize("body, code", [
    ({"course": "nope", "org": "HX01", "due": "2099-01-01"}, "unknown_course"),
    ({"course": "draft-c", "org": "HX01", "due": "2099-01-01"}, "unknown_course"),
    ({"course": "county-c", "org": "NOPE", "due": "2099-01-01"}, "unknown_org"),
    ({"course": "county-c", "org": "HX01", "due": "2020-01-01"}, "due_in_past"),
    ({"course": "county-c", "org": "HX01", "due": "明天"}, "invalid_due"),
    ({"course": "county-c", "org": "HX01"}, "invalid_due"),
    ({"course": "county-c", "quiz": "q", "org": "HX01", "due": "2099-01-01"}, "course_or_quiz"),
    ({"org": "HX01", "due": "2099-01-01"}, "course_or_quiz"),
    ({"course": "county-c", "org": "HX01", "due": "2099-01-01", "role": "king"}, "invalid_role"),
    ({"course": ["county-c"], "org": "HX01", "due": "2099-01-01"}, "invalid"),
])
def test_bad_assignments_are_422_with_a_code(api, world, body, code):
    api.login("tc")
    response = api.post("/api/v1/assignments", json=body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_assignment_body_must_be_json_object(api, world):
    api.login("tc")
    assert api.post("/api/v1/assignments", json=["x"]).status_code == 400


def test_township_trainer_cannot_assign_outside_their_township(api, world):
    api.login("tq")
    response = api.post("/api/v1/assignments", json={"course": "county-c", "org": "HX02", "due": _due()})
    assert response.status_code == 403
    assert api.post("/api/v1/assignments", json={"course": "county-c", "org": "HX01", "due": _due()}).status_code == 201


def test_worker_cannot_assign(api, world):
    api.login("w1")
    assert api.post("/api/v1/assignments", json={"course": "county-c", "org": "HX01", "due": _due()}).status_code == 403


def test_retired_course_stays_visible_to_learners_who_started(api, world):
    api.login("w1")
    api.post("/api/v1/courses/county-c/lessons/l1/complete")
    course = get_course("county-c")
    course.is_retired = True
    db.session.commit()
    assert api.get("/api/v1/courses/county-c").status_code == 200
    api.login("w2")
    assert api.get("/api/v1/courses/county-c").status_code == 404


def test_openapi_documents_the_course_routes(api, world):
    paths = api.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/courses", "/api/v1/courses/{code}", "/api/v1/courses/{code}/lessons/{slug}",
                 "/api/v1/courses/{code}/lessons/{slug}/complete", "/api/v1/assignments"):
        assert path in paths


def test_reopening_the_same_lesson_soon_writes_nothing_and_another_lesson_moves_the_bookmark(api, world):
    api.login("w1")
    api.get("/api/v1/courses/county-c/lessons/l1")
    first = db.session.scalar(sa.select(CourseEnrollment.last_opened_at))
    api.get("/api/v1/courses/county-c/lessons/l1")
    db.session.expire_all()
    assert db.session.scalar(sa.select(CourseEnrollment.last_opened_at)) == first
    api.get("/api/v1/courses/county-c/lessons/l2")
    db.session.expire_all()
    enrollment = db.session.scalar(sa.select(CourseEnrollment))
    assert enrollment.last_lesson_id == get_course("county-c").lessons[1].id
