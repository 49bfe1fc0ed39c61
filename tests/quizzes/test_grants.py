"""补考: trainers and HR grant extra attempts to one person with a reason; the attempt limit adds them."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.quizzes.models import AttemptGrant
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz


@pytest.fixture
def setup(tree):
    make_bank()
    quiz = make_quiz(max_attempts=1)
    worker = make_user("w1", "worker", tree["g1"], name="李小红")
    make_user("w2", "worker", tree["g2"], name="王五")
    make_user("hr1", "hr", tree["t1"], name="周文斌")
    make_user("hr2", "hr", tree["t2"], name="人事二")
    make_user("tr1", "trainer", tree["t1"], name="培训一")
    return {"quiz": quiz, "worker": worker, **tree}


def _use_up(api, client):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    assert api.post(f"/api/v1/attempts/{attempt['id']}/submit").status_code == 200
    refused = api.post("/api/v1/quizzes/test-quiz/attempts")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "attempts_exhausted"
    client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.csrf = None


def _grant(api, body, code="test-quiz"):
    return api.post(f"/api/v1/quizzes/{code}/grants", json=body)


def test_grant_lets_a_locked_out_worker_start_again(setup, api, client):
    _use_up(api, client)
    api.login("hr1")
    response = _grant(api, {"username": "w1", "extra_attempts": 1, "reason": "因病缺考，申请补考"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["extra_attempts"] == 1 and body["extra_total"] == 1 and body["used"] == 1 and body["remaining"] == 1
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "quizzes.grant_attempts"))
    assert entry is not None and "周文斌" in entry.details["summary"] and "李小红" in entry.details["summary"]
    assert "因病缺考" in entry.details["summary"]
    client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w1")
    again = api.post("/api/v1/quizzes/test-quiz/attempts")
    assert again.status_code == 201
    assert api.post(f"/api/v1/attempts/{again.get_json()['id']}/submit").status_code == 200
    third = api.post("/api/v1/quizzes/test-quiz/attempts")
    assert third.status_code == 403 and "2 次" in third.get_json()["error"]["message"]


def test_grants_add_up(setup, api):
    api.login("tr1")
    assert _grant(api, {"username": "w1", "extra_attempts": 2, "reason": "复训后补考"}).status_code == 201
    body = _grant(api, {"username": "w1", "extra_attempts": 1, "reason": "再补一次"}).get_json()
    assert body["extra_total"] == 3 and body["remaining"] == 4


@pytest.mark.parametrize("body, code", [
    ({"username": "w1", "extra_attempts": 1}, "reason_required"),
    ({"username": "w1", "extra_attempts": 1, "reason": "   "}, "reason_required"),
    ({"username": "w1", "extra_attempts": 0, "reason": "x"}, "invalid_extra_attempts"),
    ({"username": "w1", "extra_attempts": -3, "reason": "x"}, "invalid_extra_attempts"),
    ({"username": "w1", "extra_attempts": 1000000, "reason": "x"}, "invalid_extra_attempts"),
    ({"username": "w1", "extra_attempts": "两次", "reason": "x"}, "invalid_extra_attempts"),
    ({"username": "w1", "extra_attempts": 1.5, "reason": "x"}, "invalid_extra_attempts"),
    ({"username": "w1", "extra_attempts": True, "reason": "x"}, "invalid_extra_attempts"),
    ({"username": "w1", "extra_attempts": None, "reason": "x"}, "invalid_extra_attempts"),
    ({"username": "w1", "extra_attempts": 1, "reason": "长" * 501}, "reason_too_long"),
    ({"username": "ghost", "extra_attempts": 1, "reason": "x"}, "unknown_user"),
    ({"username": "", "extra_attempts": 1, "reason": "x"}, "username_required"),
    ({"username": ["w1"], "extra_attempts": 1, "reason": "x"}, "username_required"),
])
def test_bad_input_is_refused_in_chinese_and_writes_nothing(setup, api, body, code):
    api.login("hr1")
    response = _grant(api, body)
    assert response.status_code in (400, 422)
    error = response.get_json()["error"]
    assert error["code"] == code and re.search(r"[\u4e00-\u9fff]", error["message"])
    assert db.session.scalar(sa.select(sa.func.count(AttemptGrant.id))) == 0


def test_body_that_is_not_json_is_400(setup, api):
    api.login("hr1")
    response = api.post("/api/v1/quizzes/test-quiz/grants", data="x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400 and response.get_json()["error"]["message"]


def test_unknown_quiz_is_404(setup, api):
    api.login("hr1")
    assert _grant(api, {"username": "w1", "extra_attempts": 1, "reason": "x"}, code="nope").status_code == 404


def test_unlimited_quiz_needs_no_grant(setup, api):
    make_quiz("free-quiz", max_attempts=None)
    api.login("hr1")
    response = _grant(api, {"username": "w1", "extra_attempts": 1, "reason": "x"}, code="free-quiz")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "attempts_unlimited"


@pytest.mark.parametrize("actor", ["hr2", "w2", "w1"])
def test_out_of_scope_or_workers_are_refused(setup, api, actor):
    api.login(actor)
    response = _grant(api, {"username": "w1", "extra_attempts": 1, "reason": "x"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(AttemptGrant.id))) == 0


def test_nobody_grants_themselves(setup, api, tree):
    make_user("tw", ["trainer", "worker"], tree["t1"], name="自己")
    api.login("tw")
    response = _grant(api, {"username": "tw", "extra_attempts": 1, "reason": "x"})
    assert response.status_code == 403


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_html_grant_form_from_the_results_page(setup, api, client):
    api.login("hr1")
    page = client.get("/quizzes/test-quiz/results")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "李小红" in text and "王五" not in text and "安排补考" in text
    form = client.get("/quizzes/test-quiz/grant?username=w1")
    assert form.status_code == 200
    token = _csrf(form)
    bad = client.post("/quizzes/test-quiz/grant", data={"csrf_token": token, "username": "w1",
                                                       "extra_attempts": "0", "reason": "x"})
    assert bad.status_code == 422 and "补考次数须在" in bad.get_data(as_text=True)
    missing = client.post("/quizzes/test-quiz/grant", data={"csrf_token": token, "username": "w1",
                                                           "extra_attempts": "1", "reason": ""})
    assert missing.status_code == 422 and "请填写补考理由" in missing.get_data(as_text=True)
    ok = client.post("/quizzes/test-quiz/grant", data={"csrf_token": token, "username": "w1",
                                                      "extra_attempts": "2", "reason": "因公缺考"})
    assert ok.status_code == 303
    assert db.session.scalar(sa.select(sa.func.sum(AttemptGrant.extra_attempts))) == 2
    assert client.get("/quizzes/test-quiz/grant?username=w2").status_code == 403


def test_hr_sees_scores_in_scope_but_not_a_township_over(setup, api, client):
    api.login("hr2")
    assert client.get("/quizzes/test-quiz/results?org=HX01").status_code == 403
    text = client.get("/quizzes/test-quiz/results").get_data(as_text=True)
    assert "王五" in text and "李小红" not in text
    assert client.get("/quiz-results").status_code == 200
    assert client.get("/quizzes/test-quiz/results.xlsx").status_code == 200


def test_worker_cannot_open_results(setup, api, client):
    api.login("w1")
    assert client.get("/quizzes/test-quiz/results").status_code == 403
    assert client.get("/quizzes/test-quiz/grant?username=w1").status_code == 403
