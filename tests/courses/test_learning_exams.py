"""我的学习 lists the exams assigned to the person and the scheduled (windowed) exams beside the courses."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.courses import services
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.org.queries import get_org
from lms.quizzes.models import Quiz
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz

NOW = utcnow()
TODAY = NOW.astimezone(SHANGHAI).date()


@pytest.fixture
def world(tree):
    make_bank()
    make_quiz("plain")  # neither assigned nor scheduled: stays on /quizzes only
    make_quiz("assigned-q", org=tree["t1"], max_attempts=2)
    make_quiz("window-q", max_attempts=1, opens_at=NOW - dt.timedelta(days=1), closes_at=NOW + dt.timedelta(days=9))
    annual = make_quiz("annual-q", max_attempts=1)
    annual.annual_opens, annual.annual_closes = "12-01", "12-31"
    db.session.commit()
    trainer = make_user("tc", "trainer", tree["county"])
    make_user("w1", "worker", tree["g1"])
    make_user("w2", "worker", tree["g2"])
    services.create_assignment(trainer, course_code=None, quiz_code="assigned-q", org=get_org("HX01"), role=None,
                               due=TODAY + dt.timedelta(days=5), now=NOW)
    db.session.commit()
    return tree


def test_assigned_and_scheduled_exams_appear_with_window_and_due(world, api):
    api.login("w1")
    html = api.get("/learning").get_data(as_text=True)
    assert "考试与测验" in html
    assert "测验assigned-q" in html and f"{TODAY + dt.timedelta(days=5):%Y-%m-%d}" in html and "完成期限" in html
    assert "测验window-q" in html and "开放时间" in html
    assert "测验annual-q" in html and "每年 12 月 1 日至 12 月 31 日" in html
    assert "测验plain" not in html
    assert 'href="/quizzes/assigned-q/start?from=learning"' in html


def test_an_exam_assigned_elsewhere_is_not_listed(world, api):
    api.login("w2")
    html = api.get("/learning").get_data(as_text=True)
    assert "测验assigned-q" not in html and "测验window-q" in html


def test_passed_exam_shows_passed_and_links_to_the_result(world, api):
    from tests.quizzes.factories import right_answers

    api.login("w1")
    attempt = api.post("/api/v1/quizzes/assigned-q/attempts").get_json()
    for n, (qid, answer) in enumerate(right_answers(attempt).items(), start=1):
        api.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}", json={"answer": answer, "seq": n})
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    html = api.get("/learning").get_data(as_text=True)
    assert "已通过" in html and f"/attempts/{attempt['id']}/result" in html


def test_open_attempt_offers_to_continue(world, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/window-q/attempts").get_json()
    html = api.get("/learning").get_data(as_text=True)
    assert "继续作答" in html and f'href="/attempts/{attempt["id"]}"' in html


def test_retired_assigned_quiz_is_not_listed(world, api):
    db.session.execute(db.update(Quiz).where(Quiz.code == "assigned-q").values(is_retired=True))
    db.session.commit()
    api.login("w1")
    assert "测验assigned-q" not in api.get("/learning").get_data(as_text=True)


def test_no_exams_keeps_the_courses_page_as_before(tree, api):
    make_user("w9", "worker", tree["g1"])
    api.login("w9")
    reply = api.get("/learning")
    assert reply.status_code == 200 and "考试与测验" not in reply.get_data(as_text=True)


def test_role_bound_exam_reaches_only_that_role(world, api, tree):
    from lms.accounts.queries import get_user

    services.create_assignment(get_user("tc"), course_code=None, quiz_code="plain", org=get_org("HX"),
                               role="grid_leader", due=TODAY + dt.timedelta(days=3), now=NOW)
    db.session.commit()
    make_user("gl", "grid_leader", tree["g1"])
    api.login("w1")
    assert "测验plain" not in api.get("/learning").get_data(as_text=True)
    from tests.factories import ApiClient
    other = ApiClient(api.client.application.test_client())
    other.login("gl")
    assert "测验plain" in other.get("/learning").get_data(as_text=True)
