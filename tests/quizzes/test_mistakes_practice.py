"""错题本 that teaches: every entry with the right answer, explanation and law; 现在练一练 on today's mistakes
(graded at once, not an attempt, right answers move up a box); practice of one topic (tag) from visible banks."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from lms.db import SHANGHAI
from lms.extensions import db
from lms.quizzes.models import Attempt, Mistake
from tests.factories import make_org, make_user
from tests.quizzes.factories import QUESTIONS, make_bank, make_quiz, wrong_answers

TAGGED = [dataclasses.replace(q, id=f"s-{q.id}", tags=("社保", "养老保险") if n < 3 else ("社保",))
          for n, q in enumerate(QUESTIONS)]


def _csrf(client, url="/mistakes"):
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def _mistakes(username="w1") -> dict[str, Mistake]:
    from lms.accounts.queries import get_user
    return {m.qid: m for m in db.session.scalars(sa.select(Mistake).where(Mistake.user_id == get_user(username).id)
                                                 .execution_options(populate_existing=True))}


def _attempts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attempt))


@pytest.fixture
def world(tree):
    make_bank()
    make_quiz(shuffle_options=False)
    make_bank("social", TAGGED)
    make_quiz("social-q", bank="social")
    other = make_org("HX0202", "village", tree["t2"], name="东门社区")
    make_bank("secret", [dataclasses.replace(QUESTIONS[0], id="x-1", tags=("机密专题",))], org=other)
    make_quiz("secret-q", bank="secret", count=1, org=other)
    make_user("w1", "worker", tree["g1"])
    return tree


@pytest.fixture
def failed(world, api):
    """w1 sat test-quiz and got every question wrong (four notebook entries, wrong today)."""
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    for n, (qid, answer) in enumerate(wrong_answers(attempt).items(), start=1):
        api.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}", json={"answer": answer, "seq": n})
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    return attempt


def test_notebook_rows_teach_the_answer_explanation_and_law(failed, client):
    html = client.get("/mistakes").get_data(as_text=True)
    assert "共 4 道错题" in html and "今天新做错 4 道" in html and "现在练一练（4 道）" in html
    for question in QUESTIONS:
        assert question.explanation in html and question.source in html
    assert "B. 个人缴费、集体补助、政府补贴" in html  # the right option with its text
    assert "A. 养老保险；C. 医疗保险" in html and "正确答案：</strong>错误" in html and "十五" in html
    # What the worker answered (wrong_answers: the first other letter, 正确 for the judge, 二十 for the blank).
    assert "您当时的答案：A" in html and "您当时的答案：正确" in html and "您当时的答案：二十" in html


def test_today_round_shows_todays_mistakes_without_answers(failed, client):
    reply = client.get("/mistakes/today")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and html.count('name="qid"') == 4
    for question in QUESTIONS:
        assert question.explanation not in html and question.source not in html


def test_today_round_grades_at_once_advances_right_answers_and_is_no_attempt(failed, client):
    attempts = _attempts()
    data = {"csrf_token": _csrf(client), "qid": ["t-single", "t-multiple", "t-judge", "t-fill"],
            "a-t-single": "B", "a-t-multiple": ["A"], "a-t-judge": "false"}
    reply = client.post("/mistakes/today", data=data)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "答对 2 / 4 道" in html
    assert "解析甲：三方共同筹资" in html and "《中华人民共和国社会保险法》第十六条" in html and "未作答" in html
    assert 'class="opt-correct opt-mine"' in html and "你的选择" in html  # t-single: chosen and right
    assert _attempts() == attempts
    book = _mistakes()
    today = dt.datetime.now(SHANGHAI).date()
    assert book["t-single"].box == 2 and book["t-single"].next_review_on == today + dt.timedelta(days=2)
    assert book["t-judge"].box == 2
    assert book["t-multiple"].box == 1 and book["t-fill"].box == 1
    # The next round asks only what is still wrong.
    html = client.get("/mistakes/today").get_data(as_text=True)
    assert html.count('name="qid"') == 2 and 'value="t-multiple"' in html and 'value="t-single"' not in html


def test_no_mistakes_today_sends_back_with_a_message(world, api, client):
    api.login("w1")
    reply = client.get("/mistakes/today")
    assert reply.status_code == 302 and reply.headers["Location"] == "/mistakes"
    assert "今天没有新的错题可练" in client.get("/mistakes").get_data(as_text=True)


def test_empty_or_foreign_rounds_are_refused_in_chinese(failed, client):
    token = _csrf(client)
    empty = client.post("/mistakes/today", data={"csrf_token": token})
    assert empty.status_code == 422 and "这次练习没有题目" in empty.get_data(as_text=True)
    foreign = client.post("/mistakes/today", data={"csrf_token": token, "qid": ["s-t-single"], "a-s-t-single": "B"})
    assert foreign.status_code == 422 and "请重新开始练习" in foreign.get_data(as_text=True)


def test_malformed_answers_count_as_unanswered_not_errors(failed, client):
    data = {"csrf_token": _csrf(client), "qid": ["t-single", "t-fill"], "a-t-single": "Z",
            "b-t-fill": ["一", "二", "三"]}
    reply = client.post("/mistakes/today", data=data)
    assert reply.status_code == 200 and "答对 0 / 2 道" in reply.get_data(as_text=True)


def test_topics_list_the_tags_of_visible_banks_only(world, api, client):
    api.login("w1")
    html = client.get("/practice").get_data(as_text=True)
    assert "社保" in html and "养老保险" in html and "机密专题" not in html
    assert "练 4 道" in html  # a topic smaller than the set size offers what it has


def test_topic_round_draws_that_tag_and_records_wrong_answers(world, api, client):
    api.login("w1")
    reply = client.get("/practice/round?tag=养老保险&n=5")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and html.count('name="qid"') == 3 and "专题练习：养老保险" in html
    assert 'value="s-t-fill"' not in html  # not tagged 养老保险
    data = {"csrf_token": _csrf(client, "/practice"), "tag": "养老保险", "qid": ["s-t-single", "s-t-multiple"],
            "a-s-t-single": "A", "a-s-t-multiple": ["A", "C"]}
    graded = client.post("/practice/round", data=data)
    assert graded.status_code == 200 and "答对 1 / 2 道" in graded.get_data(as_text=True)
    assert set(_mistakes()) == {"s-t-single"} and _attempts() == 0


def test_topic_practice_advances_a_notebook_entry_answered_right(world, api, client):
    api.login("w1")
    token = _csrf(client, "/practice")
    client.post("/practice/round", data={"csrf_token": token, "tag": "社保", "qid": ["s-t-judge"],
                                         "a-s-t-judge": "true"})
    assert _mistakes()["s-t-judge"].box == 1
    client.post("/practice/round", data={"csrf_token": token, "tag": "社保", "qid": ["s-t-judge"],
                                         "a-s-t-judge": "false"})
    assert _mistakes()["s-t-judge"].box == 2


@pytest.mark.parametrize("url, status, message", [
    ("/practice/round?tag=不存在的专题", 404, "没有“不存在的专题”这个专题的题目"),
    ("/practice/round?tag=机密专题", 404, "没有“机密专题”这个专题的题目"),  # a bank of a quiz out of scope
    ("/practice/round?tag=", 422, "请选择要练习的专题"),
    ("/practice/round?tag=社保&n=abc", 422, "每次练习的题数只能是 1–20 道"),
    ("/practice/round?tag=社保&n=500", 422, "每次练习的题数只能是 1–20 道"),
])
def test_bad_topic_requests_are_chinese_refusals(world, api, client, url, status, message):
    api.login("w1")
    reply = client.get(url)
    assert reply.status_code == status and message in reply.get_data(as_text=True)


def test_topic_answers_for_questions_outside_the_tag_are_refused(world, api, client):
    api.login("w1")
    data = {"csrf_token": _csrf(client, "/practice"), "tag": "社保", "qid": ["x-1"], "a-x-1": "B"}
    reply = client.post("/practice/round", data=data)
    assert reply.status_code == 422 and "请重新开始练习" in reply.get_data(as_text=True)
    assert not _mistakes()
