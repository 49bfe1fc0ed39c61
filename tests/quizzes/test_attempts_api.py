"""The exam engine through /api/v1: start, autosave with seq, deadline and grace, submit, limits, leaks."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from lms.db import utcnow
from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptAnswer, AttemptStatus, Mistake
from tests.factories import make_user
from tests.quizzes.factories import QUESTIONS, make_bank, make_quiz, right_answers, wrong_answers


@pytest.fixture
def setup(tree):
    make_bank()
    quiz = make_quiz()
    worker = make_user("w1", "worker", tree["g1"])
    return {"quiz": quiz, "worker": worker, **tree}


def _start(api, code="test-quiz"):
    return api.post(f"/api/v1/quizzes/{code}/attempts")


def test_start_returns_201_then_the_same_open_attempt_with_200(setup, api):
    api.login("w1")
    first = _start(api)
    assert first.status_code == 201
    body = first.get_json()
    assert body["status"] == "open" and len(body["questions"]) == 4 and body["answers"] == {}
    assert dt.datetime.fromisoformat(body["deadline"]) - dt.datetime.fromisoformat(body["now"]) \
        == pytest.approx(dt.timedelta(minutes=30), abs=dt.timedelta(seconds=5))
    again = _start(api)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]


def test_open_attempt_leaks_no_key_explanation_or_source_in_json_or_html(setup, api, client):
    api.login("w1")
    body = _start(api).get_json()
    texts = [api.get(f"/api/v1/attempts/{body['id']}").get_data(as_text=True), json.dumps(body, ensure_ascii=False)]
    page = client.get(f"/attempts/{body['id']}")
    if page.status_code == 200:
        texts.append(page.get_data(as_text=True))
    for text in texts:
        for question in QUESTIONS:
            assert question.explanation not in text
            assert question.source not in text
        assert "十五" not in text and "correct" not in text
    for question in body["questions"]:
        assert set(question) <= {"qid", "type", "stem", "stem_html", "text_format", "options", "blanks"}


def test_resume_after_closing_the_tab_returns_saved_answers(setup, api):
    api.login("w1")
    attempt = _start(api).get_json()
    assert api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-judge", json={"answer": True, "seq": 1}).status_code == 200
    assert api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-fill", json={"answer": ["１５"], "seq": 2}).status_code == 200
    again = api.get(f"/api/v1/attempts/{attempt['id']}").get_json()
    assert again["answers"] == {"t-judge": {"answer": True, "seq": 1}, "t-fill": {"answer": ["１５"], "seq": 2}}
    assert _start(api).get_json()["answers"] == again["answers"]


def test_stale_only_when_that_questions_stored_seq_is_not_lower(setup, api):
    api.login("w1")
    attempt = _start(api).get_json()
    url = f"/api/v1/attempts/{attempt['id']}/answers/"
    assert api.put(url + "t-judge", json={"answer": True, "seq": 5}).get_json() == {"qid": "t-judge", "seq": 5, "stale": False}
    # An older save of the same question arriving late is ignored …
    late = api.put(url + "t-judge", json={"answer": False, "seq": 3}).get_json()
    assert late == {"qid": "t-judge", "seq": 5, "stale": True}
    assert api.put(url + "t-judge", json={"answer": False, "seq": 5}).get_json()["stale"] is True
    # … but an out-of-order save of ANOTHER question (seq below 5) is kept.
    assert api.put(url + "t-fill", json={"answer": ["十五"], "seq": 4}).get_json()["stale"] is False
    assert api.put(url + "t-judge", json={"answer": False, "seq": 6}).get_json()["stale"] is False
    answers = api.get(f"/api/v1/attempts/{attempt['id']}").get_json()["answers"]
    assert answers == {"t-judge": {"answer": False, "seq": 6}, "t-fill": {"answer": ["十五"], "seq": 4}}


@pytest.mark.parametrize("seconds_past, status", [(30, 200), (61, 409)])
def test_saves_are_refused_only_after_deadline_plus_60s_grace(setup, api, seconds_past, status):
    api.login("w1")
    attempt_id = _start(api).get_json()["id"]
    row = db.session.get(Attempt, attempt_id)
    row.deadline = utcnow() - dt.timedelta(seconds=seconds_past)
    db.session.commit()
    reply = api.put(f"/api/v1/attempts/{attempt_id}/answers/t-judge", json={"answer": True, "seq": 1})
    assert reply.status_code == status
    if status == 409:
        assert reply.get_json()["error"]["code"] == "attempt_closed"
        assert db.session.query(AttemptAnswer).count() == 0


def test_get_after_deadline_and_grace_closes_and_grades_what_was_saved_in_time(setup, api):
    api.login("w1")
    attempt = _start(api).get_json()
    right = right_answers(attempt)
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-judge", json={"answer": right["t-judge"], "seq": 1})
    row = db.session.get(Attempt, attempt["id"])
    row.deadline = utcnow() - dt.timedelta(minutes=5)
    db.session.commit()
    body = api.get(f"/api/v1/attempts/{attempt['id']}").get_json()
    assert body["status"] == "closed"
    result = api.post(f"/api/v1/attempts/{attempt['id']}/submit").get_json()
    assert result["score"] == 25.0 and result["passed"] is False


def test_submit_scores_all_or_nothing_and_repeating_returns_the_same_result(setup, api):
    api.login("w1")
    attempt = _start(api).get_json()
    right, wrong = right_answers(attempt), wrong_answers(attempt)
    seq = 0
    for qid in ("t-single", "t-judge", "t-fill"):
        seq += 1
        assert api.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}",
                       json={"answer": right[qid], "seq": seq}).status_code == 200
    # One of two right letters is wrong: no partial credit.
    partial = right["t-multiple"][:1]
    assert partial != wrong["t-multiple"]
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-multiple", json={"answer": partial, "seq": 9})
    first = api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    assert first.status_code == 200
    result = first.get_json()
    assert result["score"] == 75.0 and result["passed"] is True
    by_qid = {r["qid"]: r for r in result["results"]}
    assert by_qid["t-multiple"]["correct"] is False
    assert by_qid["t-multiple"]["correct_answer"] == right["t-multiple"]
    assert by_qid["t-judge"]["explanation"] == "解析丙：不得代签"
    assert by_qid["t-judge"]["source"] == "县网格化管理规定第八条"
    assert api.post(f"/api/v1/attempts/{attempt['id']}/submit").get_json() == result
    # After submitting, saves are refused and the answers stay.
    late = api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-multiple", json={"answer": right["t-multiple"], "seq": 99})
    assert late.status_code == 409
    assert db.session.query(Attempt).one().status == AttemptStatus.submitted


def test_wrong_answers_land_in_the_notebook_due_tomorrow(setup, api):
    api.login("w1")
    attempt = _start(api).get_json()
    wrong = wrong_answers(attempt)
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-single", json={"answer": wrong["t-single"], "seq": 1})
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    mistakes = api.get("/api/v1/mistakes").get_json()
    assert sorted(m["qid"] for m in mistakes["items"]) == ["t-fill", "t-judge", "t-multiple", "t-single"]
    assert all(m["box"] == 1 for m in mistakes["items"]) and mistakes["next"] is None
    assert db.session.query(Mistake).count() == 4


def test_attempts_exhausted_after_max_attempts(tree, api):
    make_bank()
    make_quiz(max_attempts=1)
    make_user("w1", "worker", tree["g1"])
    api.login("w1")
    attempt = _start(api).get_json()
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    again = _start(api)
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "attempts_exhausted"


@pytest.mark.parametrize("opens, closes", [(1, 2), (-2, -1)])
def test_quiz_not_open_outside_its_window(tree, api, opens, closes):
    now = utcnow()
    make_bank()
    make_quiz(opens_at=now + dt.timedelta(hours=opens), closes_at=now + dt.timedelta(hours=closes))
    make_user("w1", "worker", tree["g1"])
    api.login("w1")
    reply = _start(api)
    assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "quiz_not_open"
    assert db.session.query(Attempt).count() == 0


def test_deadline_of_a_scheduled_exam_is_its_closing_time(tree, api):
    now = utcnow()
    make_bank()
    make_quiz(opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(minutes=10))
    make_user("w1", "worker", tree["g1"])
    api.login("w1")
    body = _start(api).get_json()
    assert dt.datetime.fromisoformat(body["deadline"]) == (now + dt.timedelta(minutes=10)).replace(microsecond=0) \
        or abs(dt.datetime.fromisoformat(body["deadline"]) - (now + dt.timedelta(minutes=10))) < dt.timedelta(seconds=1)


def test_someone_elses_attempt_is_404_on_every_route(setup, api, tree):
    make_user("w2", "worker", tree["g1"])
    api.login("w1")
    attempt_id = _start(api).get_json()["id"]
    api.delete("/api/v1/session")
    api.login("w2")
    assert api.get(f"/api/v1/attempts/{attempt_id}").status_code == 404
    assert api.put(f"/api/v1/attempts/{attempt_id}/answers/t-judge", json={"answer": True, "seq": 1}).status_code == 404
    assert api.post(f"/api/v1/attempts/{attempt_id}/submit").status_code == 404
    assert db.session.query(AttemptAnswer).count() == 0


@pytest.mark.parametrize("qid, body, status, code", [
    ("t-judge", None, 400, "bad_request"),
    ("t-judge", {"seq": 1}, 422, "invalid"),
    ("nope", {"answer": "A", "seq": 1}, 422, "unknown_question"),
    ("t-single", {"answer": "Z", "seq": 1}, 422, "invalid_answer"),
    ("t-single", {"answer": {"x": 1}, "seq": 1}, 422, "invalid_answer"),
    ("t-multiple", {"answer": ["A", "Q"], "seq": 1}, 422, "invalid_answer"),
    ("t-judge", {"answer": "也许", "seq": 1}, 422, "invalid_answer"),
    ("t-fill", {"answer": ["a", "b"], "seq": 1}, 422, "invalid_answer"),
    ("t-fill", {"answer": ["x" * 501], "seq": 1}, 422, "invalid_answer"),
    ("t-judge", {"answer": True, "seq": "1"}, 422, "invalid_seq"),
    ("t-judge", {"answer": True, "seq": -1}, 422, "invalid_seq"),
    ("t-judge", {"answer": True, "seq": True}, 422, "invalid_seq"),
])
@pytest.mark.parametrize("started_before_slots", [False, True])
def test_bad_saves_are_refused_with_a_chinese_message(setup, api, qid, body, status, code, started_before_slots):
    api.login("w1")
    attempt_id = _start(api).get_json()["id"]
    if started_before_slots:
        # An attempt started before migration 0009: its answers are checked against the paper.
        db.session.execute(db.update(Attempt).where(Attempt.id == attempt_id).values(answer_slots=None))
    url = f"/api/v1/attempts/{attempt_id}/answers/{qid}"
    reply = api.put(url, data="not json", headers={"Content-Type": "application/json"}) if body is None \
        else api.put(url, json=body)
    assert reply.status_code == status
    error = reply.get_json()["error"]
    assert error["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert db.session.query(AttemptAnswer).count() == 0


@pytest.mark.parametrize("started_before_slots", [False, True])
def test_answer_spellings_are_normalised_before_storing(setup, api, started_before_slots):
    api.login("w1")
    attempt_id = _start(api).get_json()["id"]
    if started_before_slots:
        db.session.execute(db.update(Attempt).where(Attempt.id == attempt_id).values(answer_slots=None))
    url = f"/api/v1/attempts/{attempt_id}/answers/t-multiple"
    assert api.put(url, json={"answer": "ｃａ", "seq": 1}).status_code == 200
    assert api.get(f"/api/v1/attempts/{attempt_id}").get_json()["answers"]["t-multiple"]["answer"] == ["A", "C"]
    assert api.put(url, json={"answer": [], "seq": 2}).status_code == 200
    assert api.get(f"/api/v1/attempts/{attempt_id}").get_json()["answers"]["t-multiple"]["answer"] is None


def test_unknown_quiz_is_404_and_a_quiz_of_another_township_is_403(setup, api, tree):
    make_quiz(code="t2-quiz", org=tree["t2"])
    api.login("w1")
    assert _start(api, "nope").status_code == 404
    refused = _start(api, "t2-quiz")
    assert refused.status_code == 403
    assert db.session.query(Attempt).count() == 0


def test_anonymous_requests_are_401(setup, client):
    assert client.get("/api/v1/attempts/1").status_code == 401
    assert client.get("/api/v1/mistakes").status_code == 401


def test_unknown_ids_and_bad_paging_are_clear_errors(setup, api, tree):
    make_user("tc", "trainer", tree["county"])
    api.login("w1")
    assert api.get("/api/v1/attempts/999").status_code == 404
    assert api.post("/api/v1/attempts/999/submit").status_code == 404
    assert api.put("/api/v1/attempts/999/answers/t-judge", json={"answer": True, "seq": 1}).status_code == 404
    assert api.get("/api/v1/mistakes?page=x").status_code == 400
    assert api.post("/api/v1/mistakes/nope/practice", json={"answer": "A"}).status_code == 404
    assert api.post("/quizzes/nope/start").status_code == 404
    api.delete("/api/v1/session")
    api.login("tc")
    reply = api.get("/api/v1/quizzes/nope/stats")
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "not_found"


def test_a_start_draws_its_paper_while_others_can_still_write(setup, api, monkeypatch):
    """2,000 workers start an exam within a minute: the draw and the paper are made before the start takes
    SQLite's one write lock, which it then holds only for the insert."""
    import sqlalchemy as sa

    from lms.accounts.models import LoginFailure
    from lms.db import write_intent
    from lms.quizzes import draw as drawing

    writes = []
    choose = drawing.choose

    def choose_while_another_connection_writes(*args, **kwargs):
        with write_intent(), db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once instead of waiting on our own lock
            try:
                conn.execute(sa.insert(LoginFailure).values(username="other", client_addr="10.0.0.9",
                                                            failed_at=utcnow()))
                writes.append("written")
            finally:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=10000")
        return choose(*args, **kwargs)

    monkeypatch.setattr(drawing, "choose", choose_while_another_connection_writes)
    api.login("w1")
    first = _start(api)
    assert first.status_code == 201 and writes == ["written"]
    assert db.session.get(Attempt, first.get_json()["id"]).number == 1
    again = _start(api)  # the open attempt again: no new draw
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"] and writes == ["written"]
    assert db.session.query(Attempt).count() == 1
