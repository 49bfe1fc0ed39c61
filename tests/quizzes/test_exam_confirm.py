"""Exam start: a confirmation page (time, attempts, offline, 开始后不能暂停) before any start that cannot be undone."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import queries
from lms.quizzes.models import Attempt
from tests.factories import PASSWORD, make_org, make_user
from tests.quizzes.factories import make_bank, make_quiz


def _login(client, username):
    assert client.post("/api/v1/session", json={"username": username, "password": PASSWORD}).status_code == 200


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _attempts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attempt))


@pytest.fixture
def setup(tree):
    make_bank()
    make_quiz("exam", max_attempts=1, time_limit_minutes=30)
    make_quiz("drill3", max_attempts=3, time_limit_minutes=15)
    make_user("w1", "worker", tree["g1"])
    return tree


def test_one_attempt_exam_card_links_to_the_confirmation_not_a_start(setup, client):
    _login(client, "w1")
    html = client.get("/quizzes").get_data(as_text=True)
    assert 'href="/quizzes/exam/start"' in html
    assert 'action="/quizzes/exam/start"' not in html  # no one-tap start from the list
    assert _attempts() == 0


def test_confirmation_page_says_time_attempts_offline_and_no_pause(setup, client):
    _login(client, "w1")
    reply = client.get("/quizzes/exam/start")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "30 分钟" in html and "只有 1 次作答机会" in html and "开始后不能暂停" in html
    assert "断网时答案先保存在这台平板上" in html and "服务器" in html
    assert "开始考试" in html and 'name="csrf_token"' in html and "返回测验列表" in html
    assert _attempts() == 0  # looking is free


def test_confirmed_start_creates_one_attempt_and_reopening_continues_it(setup, client):
    _login(client, "w1")
    html = client.get("/quizzes/exam/start").get_data(as_text=True)
    started = client.post("/quizzes/exam/start", data={"csrf_token": _csrf(html)})
    assert started.status_code == 302 and "/attempts/" in started.headers["Location"]
    assert _attempts() == 1
    again = client.get("/quizzes/exam/start")
    assert again.status_code == 302 and again.headers["Location"] == started.headers["Location"]
    assert _attempts() == 1


def test_start_without_csrf_is_refused(setup, client):
    _login(client, "w1")
    reply = client.post("/quizzes/exam/start", data={})
    assert reply.status_code == 400 and _attempts() == 0


def test_spent_exam_shows_why_and_no_start_button(setup, client, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/exam/attempts").get_json()
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    html = client.get("/quizzes/exam/start").get_data(as_text=True)
    assert "最多可作答 1 次，您已用完" in html and "开始考试</button>" not in html


def test_last_of_three_attempts_is_called_the_last_chance(setup, client, api):
    api.login("w1")
    for _ in range(2):
        attempt = api.post("/api/v1/quizzes/drill3/attempts").get_json()
        api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    html = client.get("/quizzes/drill3/start").get_data(as_text=True)
    assert "这是最后 1 次作答机会" in html


def test_attempts_to_spare_say_how_many_are_left(setup, client):
    _login(client, "w1")
    html = client.get("/quizzes/drill3/start").get_data(as_text=True)
    assert "还可作答 3 次" in html and "15 分钟" in html


def test_exam_closing_before_the_time_limit_says_when_it_ends(setup, client):
    make_quiz("closing", max_attempts=1, time_limit_minutes=30, closes_at=utcnow() + dt.timedelta(minutes=10))
    _login(client, "w1")
    html = client.get("/quizzes/closing/start").get_data(as_text=True)
    assert "收卷时间" in html


def test_exam_not_yet_open_says_when(setup, client):
    make_quiz("later", max_attempts=1, opens_at=utcnow() + dt.timedelta(days=2))
    _login(client, "w1")
    reply = client.get("/quizzes/later/start")
    assert reply.status_code == 200 and "现在不能开始" in reply.get_data(as_text=True)
    assert "开始考试</button>" not in reply.get_data(as_text=True)


def test_back_link_returns_to_my_learning_when_asked(setup, client):
    _login(client, "w1")
    html = client.get("/quizzes/exam/start?from=learning").get_data(as_text=True)
    assert 'href="/learning"' in html and "返回我的学习" in html
    html = client.get("/quizzes/exam/start?from=https://evil.example").get_data(as_text=True)
    assert "evil" not in html and "返回测验列表" in html


def test_quiz_out_of_scope_or_unknown_is_a_chinese_refusal(setup, client, tree):
    other = make_org("HX0202", "village", tree["t2"], name="东门社区")
    make_quiz("t2-only", org=other)
    _login(client, "w1")
    refused = client.get("/quizzes/t2-only/start")
    assert refused.status_code == 403 and "该测验不属于您所在的单位" in refused.get_data(as_text=True)
    missing = client.get("/quizzes/nope/start")
    assert missing.status_code == 404 and "测验 nope 不存在" in missing.get_data(as_text=True)
    assert _attempts() == 0


def test_json_api_still_starts_without_confirmation(setup, api):
    api.login("w1")
    reply = api.post("/api/v1/quizzes/exam/attempts")
    assert reply.status_code == 201 and _attempts() == 1


def test_needs_confirmation_rule():
    class Q:
        time_limit_minutes = 0

    spare = queries.Allowance(0, None, None, None)
    assert not queries.needs_confirmation(Q(), spare)
    assert queries.needs_confirmation(Q(), queries.Allowance(2, 3, 1, None))
    Q.time_limit_minutes = 20
    assert queries.needs_confirmation(Q(), spare)
