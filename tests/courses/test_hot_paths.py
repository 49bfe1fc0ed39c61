"""The learner's busiest pages: a fixed number of SQL statements whatever the number of courses,
and the per-process lesson cache never shows a stale lesson (DESIGN.md "Performance targets")."""
from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa

from lms.courses.models import Assignment
from lms.extensions import db
from lms.org.queries import get_org
from tests.courses.factories import make_course
from tests.factories import ApiClient, make_user

#: transaction control is not a query (and PostgreSQL's BEGIN never reaches the cursor)
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextlib.contextmanager
def statements():
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(_CONTROL):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def get_ok(api, url) -> str:
    response = api.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def count(api, url) -> int:
    get_ok(api, url)  # first read fills per-process caches and records "where I left off"
    with statements() as seen:
        get_ok(api, url)
    return len(seen)


@pytest.fixture
def learner(api, tree):
    make_user("w1", "worker", tree["g1"])
    make_user("tc", "trainer", tree["county"])
    api.login("w1")
    return api


def _courses(n: int, first: int = 0, *, assign: bool = True) -> None:
    for i in range(first, first + n):
        course = make_course(f"c{i:02d}", lessons=3, title=f"课程{i:02d}")
        if assign:
            db.session.add(Assignment(course=course, org=get_org("HX"), due_on=dt.date(2099, 1, 1 + i % 28)))
    db.session.commit()


def test_catalog_issues_the_same_few_statements_for_3_or_30_courses(learner):
    _courses(3)
    few = count(learner, "/courses")
    _courses(27, first=3)
    html = get_ok(learner, "/courses")
    assert html.count('class="card course-card') == 30
    assert count(learner, "/courses") == few <= 2  # the session with its user, then one query for every card


def test_my_learning_issues_the_same_few_statements_for_3_or_30_assigned_courses(learner):
    _courses(3)
    few = count(learner, "/learning")
    _courses(27, first=3)
    html = get_ok(learner, "/learning")
    assert html.count('class="card course-card') == 30
    # session, cards, done lessons (outlines cached), assigned and scheduled exams (one statement)
    assert count(learner, "/learning") == few <= 4


def test_course_list_api_issues_the_same_statements_for_3_or_30_courses(learner):
    _courses(3)
    few = count(learner, "/api/v1/courses")
    _courses(27, first=3)
    assert len(learner.get("/api/v1/courses").get_json()["courses"]) == 30
    assert count(learner, "/api/v1/courses") == few <= 2


def test_lesson_page_issues_at_most_three_statements(learner):
    make_course("c1", lessons=5)
    # session with its user; the course if visible; done lessons and where I left off
    assert count(learner, "/courses/c1/lessons/l3") <= 3
    assert count(learner, "/api/v1/courses/c1/lessons/l3") <= 3


def test_course_page_issues_at_most_three_statements(learner):
    make_course("c1", lessons=5)
    # session with its user; the course with its card if visible; done lessons and where I left off
    assert count(learner, "/courses/c1") <= 3


def test_every_request_still_checks_the_session_in_the_database(learner, app):
    make_course("c1", lessons=2)
    get_ok(learner, "/courses/c1/lessons/l1")
    with statements() as seen:
        get_ok(learner, "/courses/c1/lessons/l1")
    assert any("user_sessions" in statement for statement in seen)
    assert learner.delete("/api/v1/session").status_code == 200
    assert learner.get("/courses/c1/lessons/l1").status_code in (302, 401)


def _author(app) -> ApiClient:
    author = ApiClient(app.test_client())
    assert author.login("tc").status_code == 200
    return author


def test_an_edited_lesson_is_shown_at_once_despite_the_lesson_cache(learner, app):
    make_course("c1", lessons=3)
    assert "正文 2" in get_ok(learner, "/courses/c1/lessons/l2")
    author = _author(app)
    response = author.client.post("/author/courses/c1/lessons/l2", data={
        "csrf_token": author.csrf, "title": "第2课（修订）", "minutes": "9", "markdown": "## 第2课\n\n改过的正文"})
    assert response.status_code == 302
    html = get_ok(learner, "/courses/c1/lessons/l2")
    assert "改过的正文" in html and "正文 2" not in html and "第2课（修订）" in html and "预计 9 分钟" in html
    assert learner.get("/api/v1/courses/c1/lessons/l2").get_json()["title"] == "第2课（修订）"


def test_reordered_and_added_lessons_are_shown_at_once_despite_the_lesson_cache(learner, app):
    make_course("c1", lessons=3)
    html = get_ok(learner, "/courses/c1/lessons/l3")
    assert "第 3/3 课" in html and "/courses/c1/lessons/l2" in html
    author = _author(app)
    assert author.client.post("/author/courses/c1/lessons/l3/move",
                              data={"csrf_token": author.csrf, "direction": "up"}).status_code == 302
    assert "第 2/3 课" in get_ok(learner, "/courses/c1/lessons/l3")
    assert author.client.post("/author/courses/c1/lessons/new", data={
        "csrf_token": author.csrf, "slug": "extra", "title": "加课", "minutes": "4", "markdown": "加课正文"}
    ).status_code == 302
    html = get_ok(learner, "/courses/c1/lessons/extra")
    assert "第 4/4 课" in html and "加课正文" in html


def test_unpublished_course_disappears_from_the_reader_at_once(learner, app):
    make_course("c1", lessons=2)
    get_ok(learner, "/courses/c1/lessons/l1")
    author = _author(app)
    assert author.client.post("/author/courses/c1/publish",
                              data={"csrf_token": author.csrf, "action": "unpublish"}).status_code == 302
    assert learner.get("/courses/c1/lessons/l1").status_code == 404


def test_remembered_template_urls_respect_script_root_and_external(app):
    from flask import render_template_string
    source = "{{ url_for('courses.catalog') }}|{{ url_for('courses.catalog', _external=True) }}|" \
             "{{ url_for('courses.lesson', code='c1', slug='l2') }}|{{ url_for('static', filename='css/app.css') }}"
    for _ in range(2):  # the second time from memory
        with app.test_request_context("/"):
            plain, external, lesson, static = render_template_string(source).split("|")
        assert (plain, external, lesson) == ("/courses", "http://localhost/courses", "/courses/c1/lessons/l2")
        assert static.startswith("/static/css/app.css?v=")
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/lms"}):
            assert render_template_string(source).split("|")[:3] == [
                "/lms/courses", "http://localhost/lms/courses", "/lms/courses/c1/lessons/l2"]
        with app.test_request_context("/", base_url="https://other.test"):
            assert render_template_string(source).split("|")[:2] == ["/courses", "https://other.test/courses"]
