"""HTML pages: quiz list, answering screen (no key in it), result, 错题本 practice, stats, bank import."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from lms.extensions import db
from lms.quizzes.models import Bank, Mistake, Question
from tests.factories import PASSWORD, make_user
from tests.quizzes.factories import QUESTIONS, make_bank, make_quiz, right_answers, wrong_answers


def _login(client, username):
    reply = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200


def _csrf(client, url="/quizzes"):
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


@pytest.fixture
def setup(tree):
    make_bank()
    make_quiz()
    make_user("w1", "worker", tree["g1"])
    make_user("tc", "trainer", tree["county"])
    make_user("t2", "trainer", tree["t2"])
    return tree


def test_worker_starts_from_the_list_and_the_page_holds_no_question_or_key(setup, client):
    _login(client, "w1")
    listing = client.get("/quizzes")
    assert listing.status_code == 200 and "测验test-quiz" in listing.get_data(as_text=True)
    started = client.post("/quizzes/test-quiz/start", data={"csrf_token": _csrf(client)})
    assert started.status_code == 302
    page = client.get(started.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-attempt-id="' in html and "js/quizzes.js" in html
    assert page.headers["X-LMS-Offline"] == "page"
    for question in QUESTIONS:
        assert question.explanation not in html and question.source not in html and question.stem not in html
    assert "<script>" not in html and " style=" not in html


def test_result_page_shows_score_explanation_and_law(setup, client, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    right = right_answers(attempt)
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-judge", json={"answer": right["t-judge"], "seq": 1})
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    html = client.get(f"/attempts/{attempt['id']}/result").get_data(as_text=True)
    assert "25 分" in html and "未及格" in html
    assert "解析丙：不得代签" in html and "《中华人民共和国社会保险法》第十六条" in html
    # The answering page of a submitted attempt sends to the result.
    assert client.get(f"/attempts/{attempt['id']}").status_code == 302


def test_someone_elses_result_page_is_404(setup, client, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    api.delete("/api/v1/session")
    make_user("w2", "worker", setup["g1"])
    _login(client, "w2")
    assert client.get(f"/attempts/{attempt['id']}/result").status_code == 404
    assert client.get(f"/attempts/{attempt['id']}").status_code == 404


def test_practice_moves_boxes_and_box_5_right_masters(setup, client, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    mistake = db.session.query(Mistake).filter_by(qid="t-judge").one()
    mistake.next_review_on = dt.date(2020, 1, 1)
    db.session.commit()
    # Wrong stays in box 1; right moves to box 2 due in 2 days.
    wrong = api.post("/api/v1/mistakes/t-judge/practice", json={"answer": True}).get_json()
    assert wrong["correct"] is False and wrong["box"] == 1
    right = api.post("/api/v1/mistakes/t-judge/practice", json={"answer": False}).get_json()
    assert right["correct"] is True and right["box"] == 2
    assert dt.date.fromisoformat(right["next_review_on"]) - dt.date.today() in (dt.timedelta(days=2),
                                                                                 dt.timedelta(days=1),
                                                                                 dt.timedelta(days=3))
    mistake = db.session.query(Mistake).filter_by(qid="t-judge").one()
    mistake.box = 5
    db.session.commit()
    done = api.post("/api/v1/mistakes/t-judge/practice", json={"answer": "错"}).get_json()
    assert done["mastered"] is True
    assert "t-judge" not in [m["qid"] for m in api.get("/api/v1/mistakes").get_json()["items"]]
    assert api.post("/api/v1/mistakes/t-judge/practice", json={"answer": False}).status_code == 404
    assert api.post("/api/v1/mistakes/t-single/practice", data="x",
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post("/api/v1/mistakes/t-single/practice", json={"answer": "Z"}).status_code == 422


def test_practice_page_form_round_trip(setup, client, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    for mistake in db.session.query(Mistake):
        mistake.next_review_on = dt.date(2020, 1, 1)
    db.session.commit()
    _login(client, "w1")
    assert "4 道错题" in client.get("/mistakes").get_data(as_text=True)
    page = client.get("/mistakes/practice").get_data(as_text=True)
    qid = re.search(r'/mistakes/practice/([\w-]+)"', page).group(1)
    answer = {"t-single": {"answer": "B"}, "t-multiple": {"answer": ["A", "C"]}, "t-judge": {"answer": "false"},
              "t-fill": {"blank": "十五"}}[qid]
    reply = client.post(f"/mistakes/practice/{qid}", data={**answer, "csrf_token": _csrf(client, "/mistakes")})
    assert "答对了" in reply.get_data(as_text=True)
    assert db.session.query(Mistake).filter_by(qid=qid).one().box == 2


def test_stats_for_trainer_in_scope_and_403_outside(setup, api):
    for username in ("w1",):
        api.login(username)
        attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
        for qid, answer in wrong_answers(attempt).items():
            api.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}", json={"answer": answer, "seq": 1})
        api.post(f"/api/v1/attempts/{attempt['id']}/submit")
        api.delete("/api/v1/session")
    api.login("tc")
    stats = api.get("/api/v1/quizzes/test-quiz/stats").get_json()
    assert stats["attempts"] == 1
    by_qid = {q["qid"]: q for q in stats["questions"]}
    assert by_qid["t-single"]["facility"] == 0.0 and sum(by_qid["t-single"]["option_counts"].values()) == 1
    assert api.get("/quizzes/test-quiz/stats").status_code == 200
    api.delete("/api/v1/session")
    api.login("t2")
    assert api.get("/api/v1/quizzes/test-quiz/stats").status_code == 403
    assert api.get("/quizzes/test-quiz/stats").status_code == 403
    api.delete("/api/v1/session")
    api.login("w1")
    assert api.get("/api/v1/quizzes/test-quiz/stats").status_code == 403


def test_template_download_and_bank_upload_for_trainers(setup, client):
    _login(client, "t2")
    template = client.get("/quizzes/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    assert "attachment" in template.headers["Content-Disposition"]
    token = _csrf(client, "/quizzes/banks")
    gift = "::a:: 街道题目 {=对 ~错}\n".encode()
    reply = client.post("/quizzes/banks", data={"csrf_token": token, "bank": "t2-bank",
                                                "file": (io.BytesIO(gift), "x.gift")},
                        content_type="multipart/form-data")
    assert reply.status_code == 200
    bank = db.session.query(Bank).filter_by(code="t2-bank").one()
    assert bank.org.code == "HX02" and db.session.query(Question).filter_by(bank_id=bank.id).count() == 1
    bad = client.post("/quizzes/banks", data={"csrf_token": token, "bank": "t2-bank",
                                              "file": (io.BytesIO(b"::b:: x {~a ~b}\n"), "y.gift")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "y.gift:1:" in bad.get_data(as_text=True)
    # A bank owned by the county is out of a township trainer's scope.
    refused = client.post("/quizzes/banks", data={"csrf_token": token, "bank": "test-bank",
                                                  "file": (io.BytesIO(gift), "x.gift")},
                          content_type="multipart/form-data")
    assert refused.status_code == 403
    assert client.get("/quizzes/banks").status_code == 200


def test_workers_cannot_open_trainer_pages(setup, client):
    _login(client, "w1")
    assert client.get("/quizzes/banks").status_code == 403
    assert client.get("/quizzes/template.xlsx").status_code == 403


def test_results_export_csv_and_xlsx_scoped_and_formula_safe(setup, api, tree):
    make_user("evil", "worker", tree["g1"], name="=cmd|'/c calc'!A1")
    api.login("evil")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    api.delete("/api/v1/session")
    api.login("tc")
    csv_reply = api.get("/quizzes/test-quiz/results.csv")
    assert csv_reply.status_code == 200
    text = csv_reply.data.decode("utf-8")
    assert text.startswith("\ufeff姓名,工号") and "'=cmd" in text and "evil" in text
    xlsx = api.get("/quizzes/test-quiz/results.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert api.get("/quizzes/test-quiz/results.pdf").status_code == 404
    api.delete("/api/v1/session")
    api.login("t2")
    assert api.get("/quizzes/test-quiz/results.csv").status_code == 403
