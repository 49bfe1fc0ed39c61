"""Trainers edit, create, retire and restore questions in the browser; past attempts keep their version."""
from __future__ import annotations

import re

import pytest

from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.models import Origin, Question, Quiz
from tests.factories import PASSWORD, make_user
from tests.quizzes.factories import make_bank, make_quiz


@pytest.fixture
def setup(tree):
    make_bank()
    make_quiz()
    make_user("tc", "trainer", tree["county"])
    make_user("t2", "trainer", tree["t2"])
    make_user("w1", "worker", tree["g1"])
    return tree


def _login(client, username):
    assert client.post("/api/v1/session", json={"username": username, "password": PASSWORD}).status_code == 200
    page = client.get("/quizzes").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _form(token, **fields):
    base = {"csrf_token": token, "stem": "新题干 **加粗**", "option_A": "甲", "option_B": "乙", "option_C": "",
            "answer": "B", "explanation": "新解析", "source": "新出处", "difficulty": "2", "tags": "养老、医保"}
    return base | fields


def _row(qid):
    return db.session.execute(db.select(Question).where(Question.qid == qid)).scalar_one()


def test_edit_makes_a_new_version_and_a_started_attempt_keeps_the_old_one(setup, client, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    api.delete("/api/v1/session")
    token = _login(client, "tc")
    page = client.get("/quizzes/questions/t-single/edit")
    assert page.status_code == 200 and "学员看到的样子" in page.get_data(as_text=True)
    saved = client.post("/quizzes/questions/t-single/edit", data=_form(token))
    assert saved.status_code == 302
    row = _row("t-single")
    assert (row.version, row.origin, row.stem, row.answer, row.tags) == (2, Origin.web, "新题干 **加粗**", "B",
                                                                         ["养老", "医保"])
    assert "<strong>加粗</strong>" in client.get("/quizzes/questions/t-single/edit").get_data(as_text=True)
    client.delete("/api/v1/session", headers={"X-CSRFToken": token})
    api.login("w1")
    questions = {q["qid"]: q for q in api.get(f"/api/v1/attempts/{attempt['id']}").get_json()["questions"]}
    assert questions["t-single"]["stem"] == "城乡居民养老保险由谁缴费？"
    result = {r["qid"]: r for r in api.post(f"/api/v1/attempts/{attempt['id']}/submit").get_json()["results"]}
    assert result["t-single"]["explanation"] == "解析甲：三方共同筹资"


@pytest.mark.parametrize("fields, message", [
    ({"answer": "D"}, "答案 D 不在选项中"),
    ({"answer": "？"}, "答案无法识别"),
    ({"stem": ""}, "题干不能为空"),
    ({"option_A": "", "option_B": "乙"}, "选项 A 的内容为空"),
])
def test_bad_edits_are_refused_with_the_reason_and_nothing_changes(setup, client, fields, message):
    token = _login(client, "tc")
    reply = client.post("/quizzes/questions/t-single/edit", data=_form(token, **fields))
    assert reply.status_code == 422 and message in reply.get_data(as_text=True)
    assert _row("t-single").version == 1


def test_new_question_then_duplicate_id_refused(setup, client):
    token = _login(client, "tc")
    form = _form(token, qid="t-new", type="judge", answer="对", option_A="", option_B="")
    assert client.post("/quizzes/banks/test-bank/questions/new", data=form).status_code == 302
    row = _row("t-new")
    assert (row.type, row.answer, row.origin, row.version) == ("judge", True, Origin.web, 1)
    again = client.post("/quizzes/banks/test-bank/questions/new", data=form)
    assert again.status_code == 422 and "已被使用" in again.get_data(as_text=True)
    assert client.post("/quizzes/banks/test-bank/questions/new", data=_form(token, qid="x", type="essay")).status_code == 422


def test_pools_follow_new_and_edited_questions_after_a_draw_read_them(setup, client):
    quiz = db.session.execute(db.select(Quiz)).scalar_one()
    before = {q.id: q for q in services.draw_pools(quiz)["test-bank"]}  # read (and kept by this process)
    assert "t-new" not in before and before["t-single"].tags == ()
    token = _login(client, "tc")
    assert client.post("/quizzes/questions/t-single/edit", data=_form(token)).status_code == 302
    form = _form(token, qid="t-new", type="judge", answer="对", option_A="", option_B="", difficulty="5")
    assert client.post("/quizzes/banks/test-bank/questions/new", data=form).status_code == 302
    after = {q.id: q for q in services.draw_pools(quiz)["test-bank"]}
    assert after["t-single"].tags == ("养老", "医保") and after["t-new"].difficulty == 5


def test_retired_question_leaves_draws_and_can_be_restored(setup, client):
    quiz = db.session.execute(db.select(Quiz)).scalar_one()
    assert "t-fill" in {q.id for q in services.draw_pools(quiz)["test-bank"]}
    token = _login(client, "tc")
    assert client.post("/quizzes/questions/t-fill/retire", data={"csrf_token": token, "retire": "1"}).status_code == 302
    assert "t-fill" not in {q.id for q in services.draw_pools(quiz)["test-bank"]}
    assert "已停用" in client.get("/quizzes/banks/test-bank").get_data(as_text=True)
    client.post("/quizzes/questions/t-fill/retire", data={"csrf_token": token, "retire": "0"})
    assert "t-fill" in {q.id for q in services.draw_pools(quiz)["test-bank"]}


def test_trainer_outside_the_banks_unit_is_refused_everywhere(setup, client):
    token = _login(client, "t2")
    assert client.get("/quizzes/banks/test-bank").status_code == 403
    assert client.get("/quizzes/questions/t-single/edit").status_code == 403
    assert client.post("/quizzes/questions/t-single/edit", data=_form(token)).status_code == 403
    assert client.post("/quizzes/questions/t-single/retire", data={"csrf_token": token}).status_code == 403
    assert client.get("/quizzes/banks/test-bank/questions/new").status_code == 403
    assert client.get("/quizzes/questions/nope/edit").status_code == 404
    assert _row("t-single").version == 1 and _row("t-single").is_retired is False


def _quiz_form(token, **fields):
    base = {"csrf_token": token, "code": "web-quiz", "title": "网页测验", "org": "HX", "bank_0": "test-bank",
            "count_0": "3", "tags_0": "", "difficulty_0": "", "time_limit_minutes": "20", "pass_score": "60",
            "max_attempts": "2", "shuffle_options": "1", "opens_at": "", "closes_at": "", "action": "save"}
    return base | fields


def test_trainer_defines_a_quiz_checks_the_draw_and_workers_can_sit_it(setup, client, api):
    token = _login(client, "tc")
    assert "新建测验" in client.get("/quizzes/banks").get_data(as_text=True)
    check = client.post("/quizzes/manage/new", data=_quiz_form(token, action="check"))
    assert check.status_code == 200 and "可以组卷" in check.get_data(as_text=True)
    assert db.session.execute(db.select(Quiz).where(Quiz.code == "web-quiz")).first() is None
    too_many = client.post("/quizzes/manage/new", data=_quiz_form(token, count_0="9"))
    assert too_many.status_code == 422 and "要抽 9 题" in too_many.get_data(as_text=True)
    saved = client.post("/quizzes/manage/new", data=_quiz_form(token))
    assert saved.status_code == 302
    quiz = db.session.execute(db.select(Quiz).where(Quiz.code == "web-quiz")).scalar_one()
    assert (quiz.origin, quiz.max_attempts, quiz.draws[0]["count"]) == (Origin.web, 2, 3)
    edited = client.post("/quizzes/web-quiz/edit", data=_quiz_form(token, title="改过的测验", max_attempts="",
                                                                  opens_at="2026-01-01T08:00",
                                                                  closes_at="2099-01-01T08:00"))
    assert edited.status_code == 302
    db.session.refresh(quiz)
    assert quiz.title == "改过的测验" and quiz.max_attempts is None and quiz.opens_at.hour == 0
    client.delete("/api/v1/session", headers={"X-CSRFToken": token})
    api.login("w1")
    assert len(api.post("/api/v1/quizzes/web-quiz/attempts").get_json()["questions"]) == 3


@pytest.mark.parametrize("fields, message", [
    ({"title": ""}, "请填写测验名称"),
    ({"bank_0": ""}, "至少要有一条抽题规则"),
    ({"pass_score": "120"}, "及格分必须是 0–100"),
    ({"org": "HX02X"}, "所属单位"),
    ({"opens_at": "2026-02-01T08:00", "closes_at": "2026-01-01T08:00"}, "截止时间必须晚于开放时间"),
    ({"difficulty_0": "9"}, "难度只能是 1–5"),
])
def test_bad_quiz_forms_are_refused_with_the_reason(setup, client, fields, message):
    token = _login(client, "tc")
    reply = client.post("/quizzes/manage/new", data=_quiz_form(token, **fields))
    assert reply.status_code == 422 and message in reply.get_data(as_text=True)
    assert db.session.execute(db.select(Quiz).where(Quiz.code == "web-quiz")).first() is None


def test_township_trainer_cannot_edit_a_county_quiz(setup, client):
    token = _login(client, "t2")
    assert client.get("/quizzes/test-quiz/edit").status_code == 403
    assert client.post("/quizzes/test-quiz/edit", data=_quiz_form(token, org="HX02")).status_code == 403
    refused = client.post("/quizzes/manage/new", data=_quiz_form(token, org="HX"))
    assert refused.status_code == 422 and "管辖范围" in refused.get_data(as_text=True)
