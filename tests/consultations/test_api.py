"""JSON API of the consultations: answers graded (201), idempotent client_id, bad input, the model answer only once
earned, points once, and trainer review only in the trainer's subtree."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.audit.render import render
from lms.consultations.models import ConsultationAnswer, ConsultationReview
from lms.consultations.rules import MAX_ANSWER_CHARS
from lms.extensions import db
from lms.inbox.models import Message
from lms.points.models import PointEntry, PointKind
from lms.points.services import set_point_rules
from tests.consultations.factories import MODEL, PENSION, POOR
from tests.factories import make_user

URL = f"/api/v1/consultations/{PENSION}/answers"


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_question_is_shown_without_the_key(api, worker, pension):
    api.login("w-qs")
    body = api.get(f"/api/v1/consultations/{PENSION}").get_json()
    assert set(body) == {"code", "title", "asker", "question_html"}
    assert body["asker"] == "58岁的村民老周" and "交到第十三年" in body["question_html"]
    text = api.get(f"/api/v1/consultations/{PENSION}").get_data(as_text=True)
    for secret in ("model_answer", "周叔", "县社保局", "保证每月能领", "逐步提高到20年"):
        assert secret not in text
    listed = api.get("/api/v1/consultations").get_json()
    assert listed == {"consultations": [{"code": PENSION, "title": "养老保险交多少年才能领", "asker": "58岁的村民老周",
                                         "accepted": False, "last": None}], "next": None}


def test_answer_graded_201_with_checks_in_contract_shape(api, worker, pension):
    api.login("w-qs")
    response = api.post(URL, json={"answer": POOR})
    assert response.status_code == 201
    body = response.get_json()
    assert body["verdict"] == "returned" and body["score"] == 20 and body["attempt"] == 1
    assert [c["rule"] for c in body["checks"]] == ["key_points", "no_wrong_claims", "referral", "no_overpromise",
                                                   "plain_language"]
    assert all(set(c) == {"rule", "passed", "message"} for c in body["checks"])
    assert body["model_answer"] is None  # one return: not yet


def test_same_client_id_returns_the_first_answer(api, worker, pension):
    api.login("w-qs")
    first = api.post(URL, json={"answer": POOR, "client_id": "tab-1"})
    again = api.post(URL, json={"answer": MODEL, "client_id": "tab-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["verdict"] == "returned"
    assert _count(ConsultationAnswer) == 1


@pytest.mark.parametrize("body, status", [
    ([1, 2], 400), ("答案", 400), (None, 400), ({"answer": 12}, 400), ({"answer": ["a"]}, 400),
    ({"answer": POOR, "client_id": 5}, 422), ({"answer": POOR, "client_id": "x" * 65}, 422),
])
def test_bad_input_is_refused_in_chinese_and_saves_nothing(api, worker, pension, body, status):
    api.login("w-qs")
    response = api.post(URL, json=body) if body is not None else api.post(URL, data="not json",
                                                                           content_type="application/json")
    assert response.status_code == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.get_json()["error"]["message"])
    assert _count(ConsultationAnswer) == 0


@pytest.mark.parametrize("answer", ["", "   ", None])
def test_empty_answer_is_kept_and_returned(api, worker, pension, answer):
    api.login("w-qs")
    response = api.post(URL, json={} if answer is None else {"answer": answer})
    assert response.status_code == 201 and response.get_json()["verdict"] == "returned"


def test_an_over_long_answer_is_cut_not_refused(api, worker, pension):
    api.login("w-qs")
    response = api.post(URL, json={"answer": MODEL + "好" * (MAX_ANSWER_CHARS * 2)})
    assert response.status_code == 201 and response.get_json()["verdict"] == "returned"
    assert len(db.session.scalar(sa.select(ConsultationAnswer)).answer) == MAX_ANSWER_CHARS


def test_unknown_consultation_404_and_other_county_branch_cannot_see_it(api, tree, pension):
    make_user("w-qs", "worker", tree["g1"])
    api.login("w-qs")
    assert api.post("/api/v1/consultations/nope/answers", json={"answer": MODEL}).status_code == 404


def test_model_answer_after_the_second_return_and_after_acceptance_points_once(api, worker, pension):
    set_point_rules({"consultation_accepted": 3})  # courses/certifications.yaml's points: consultation_accepted
    api.login("w-qs")
    assert api.post(URL, json={"answer": POOR}).get_json()["model_answer"] is None
    second = api.post(URL, json={"answer": POOR}).get_json()
    assert second["model_answer"].startswith("周叔")
    accepted = api.post(URL, json={"answer": MODEL}).get_json()
    assert accepted["verdict"] == "accepted" and accepted["score"] == 100
    api.post(URL, json={"answer": MODEL})
    entries = db.session.scalars(sa.select(PointEntry).where(PointEntry.kind == PointKind.consultation_accepted)).all()
    assert len(entries) == 1 and "养老保险交多少年才能领" in entries[0].reason and entries[0].points == 3
    assert _count(Message) == 0  # automatic verdicts stay on the page; the inbox hears only of trainers


@pytest.fixture
def returned(api, worker, pension):
    api.login("w-qs")
    answer_id = api.post(URL, json={"answer": MODEL.replace("到镇社保所", "到那边")}).get_json()["id"]
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    return answer_id


def test_trainer_in_scope_overrides_audited_in_chinese_and_the_worker_hears(api, tree, returned):
    make_user("tr-qs", "trainer", tree["t1"], name="陈晓燕")
    assert api.login("tr-qs").status_code == 200
    response = api.post(f"/api/v1/consultation-answers/{returned}/review",
                        json={"verdict": "accepted", "score": 90, "comment": "说了去社保部门查，算通过。"})
    assert response.status_code == 200
    assert response.get_json()["verdict"] == "accepted" and response.get_json()["review"]["reviewer"] == "陈晓燕"
    row = db.session.get(ConsultationAnswer, returned)
    assert row.verdict.value == "accepted" and row.score == 90 and len(row.reviews) == 1
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "consultation.review"))
    sentence = render([entry])[0]["sentence"]
    assert "复核了" in sentence and "《养老保险交多少年才能领》" in sentence and "通过" in sentence
    message = db.session.scalar(sa.select(Message))
    assert message.user_id == row.user_id and message.link == f"/consultation-answers/{returned}"
    assert db.session.scalar(sa.select(PointEntry).where(PointEntry.kind == PointKind.consultation_accepted))


def test_trainer_of_another_township_and_a_worker_cannot_review_or_read(api, tree, returned):
    make_user("tr-cg", "trainer", tree["t2"])
    make_user("w-other", "worker", tree["g1"])
    for username in ("tr-cg", "w-other"):
        api.login(username)
        assert api.post(f"/api/v1/consultation-answers/{returned}/review",
                        json={"verdict": "accepted", "score": 90}).status_code == 403
        assert api.get(f"/api/v1/consultation-answers/{returned}").status_code == 403
        api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    assert _count(ConsultationReview) == 0


@pytest.mark.parametrize("body", [{"verdict": "maybe", "score": 50}, {"verdict": "accepted", "score": 101},
                                  {"verdict": "accepted", "score": True}, {"verdict": "accepted", "score": 5,
                                                                          "comment": ["x"]}])
def test_bad_review_is_refused_and_changes_nothing(api, tree, returned, body):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    response = api.post(f"/api/v1/consultation-answers/{returned}/review", json=body)
    assert response.status_code == 422
    assert db.session.get(ConsultationAnswer, returned).verdict.value == "returned"
