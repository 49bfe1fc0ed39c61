"""JSON API of the drills: form lists without the answer key, reports, idempotent client_id, review in scope."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.drills import queries
from lms.drills.models import Drill, DrillReport, DrillReview
from lms.drills.rules import MAX_FIELD_CHARS
from lms.extensions import db
from lms.inbox.models import Message
from lms.signals import drill_accepted
from tests.drills.factories import NOISE, POOR, model_report
from tests.factories import make_user

URL = f"/api/v1/drills/{NOISE}/reports"


@pytest.fixture
def accepted_signals():
    received = []

    def receiver(sender, **kwargs):
        received.append((sender.username, kwargs["report"].id, kwargs["now"]))

    drill_accepted.connect(receiver)
    yield received
    drill_accepted.disconnect(receiver)


def _count_reports() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(DrillReport))


def test_get_drill_gives_scenario_and_form_lists_but_never_the_answer_key(api, worker, noise):
    api.login("w-qs")
    response = api.get(f"/api/v1/drills/{NOISE}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"code", "title", "scenario_html", "form"}
    assert "和平商住楼" in body["scenario_html"] and body["scenario_html"].startswith("<p>")
    assert body["form"]["urgencies"] == ["一般", "较急", "紧急"]
    assert "住建局" in body["form"]["departments"] and "噪声扰民" in body["form"]["event_types"]
    text = response.get_data(as_text=True)
    secret = noise.definition
    for needle in (secret["model_report"]["description"][:20], "model_report", "traps", "已取得夜间施工证明",
                   "未公示", "生态环境法典", "answer"):
        assert needle not in text


def test_list_shows_drills_meant_for_my_unit_with_my_last_result(api, worker, noise):
    api.login("w-qs")
    assert api.get("/api/v1/drills").get_json() == {
        "drills": [{"code": NOISE, "title": "夜间施工噪声扰民", "accepted": False, "last": None}], "next": None}
    assert api.get("/api/v1/drills?page=2").get_json() == {"drills": [], "next": None}
    assert api.get("/api/v1/drills?per_page=x").status_code == 400
    api.post(URL, json=POOR)
    last = api.get("/api/v1/drills").get_json()["drills"][0]
    assert last["last"]["verdict"] == "returned" and last["accepted"] is False


def test_poor_report_is_returned_with_every_failed_rule_and_the_field_to_fix(api, worker, noise):
    api.login("w-qs")
    response = api.post(URL, json=POOR)
    assert response.status_code == 201
    body = response.get_json()
    assert body["verdict"] == "returned" and 0 <= body["score"] < 100
    failed = {c["rule"]: c for c in body["checks"] if not c["passed"]}
    assert {"required_fields", "time_specific", "place_specific", "department"} <= set(failed)
    assert failed["department"]["field"] == "department"
    assert all(c["message"] for c in body["checks"])
    assert [c["rule"] for c in body["checks"]][:2] == ["required_fields", "time_specific"]
    stored = db.session.get(DrillReport, body["id"])
    assert stored.fields["location"] == "工地" and stored.org_id == worker.org_id and stored.attempt == 1


def test_model_report_is_accepted_and_announced_once(api, worker, noise, accepted_signals):
    api.login("w-qs")
    response = api.post(URL, json=model_report())
    assert response.status_code == 201
    assert (response.get_json()["verdict"], response.get_json()["score"]) == ("accepted", 100)
    assert [(u, r) for u, r, _ in accepted_signals] == [("w-qs", response.get_json()["id"])]
    assert queries.accepted_count(worker) == 1


def test_automatic_verdicts_stay_on_the_drill_page_and_post_nothing_to_the_inbox(api, worker, noise):
    api.login("w-qs")
    assert api.post(URL, json=POOR).get_json()["verdict"] == "returned"
    assert api.post(URL, json=model_report()).get_json()["verdict"] == "accepted"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.user_id == worker.id)) == 0
    assert api.get("/api/v1/inbox").get_json()["unread"] == 0


@pytest.mark.parametrize("body", [{}, {"event_type": "   ", "description": "\n\t"}, {"occurred_at": None},
                                  {"description": ["列表", "不是文字"], "urgency": {"x": 1}, "extra": 1}])
def test_missing_empty_or_odd_fields_give_a_returned_verdict_not_an_error(api, worker, noise, body):
    api.login("w-qs")
    response = api.post(URL, json=body)
    assert response.status_code == 201
    result = response.get_json()
    assert result["verdict"] == "returned"
    assert next(c for c in result["checks"] if c["rule"] == "required_fields")["passed"] is False


@pytest.mark.parametrize("raw", ["[1, 2]", "\"文字\"", "not json", "null", ""])
def test_a_body_that_is_not_a_json_object_is_400(api, worker, noise, raw):
    api.login("w-qs")
    response = api.client.post(URL, data=raw, content_type="application/json", headers={"X-CSRFToken": api.csrf})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert _count_reports() == 0


def test_same_client_id_again_returns_the_first_result_with_200(api, worker, noise):
    api.login("w-qs")
    first = api.post(URL, json=POOR | {"client_id": "3f1c2b9e-6a55-4d3b-9a0c-0d7e3c1b2a11"})
    again = api.post(URL, json=model_report() | {"client_id": "3f1c2b9e-6a55-4d3b-9a0c-0d7e3c1b2a11"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert _count_reports() == 1
    other = api.post(URL, json=POOR | {"client_id": "another"})
    assert other.status_code == 201 and other.get_json()["attempt"] == 2


def test_client_ids_are_per_user(api, worker, noise):
    make_user("w-2", "worker", worker.org)
    api.login("w-qs")
    mine = api.post(URL, json=POOR | {"client_id": "same"}).get_json()
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w-2")
    theirs = api.post(URL, json=POOR | {"client_id": "same"})
    assert theirs.status_code == 201 and theirs.get_json()["id"] != mine["id"]


@pytest.mark.parametrize("client_id", [12345, ["a"], "x" * 65])
def test_malformed_client_id_is_422(api, worker, noise, client_id):
    api.login("w-qs")
    response = api.post(URL, json=POOR | {"client_id": client_id})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_client_id"


def test_hostile_and_odd_input_is_graded_without_error(api, worker, noise):
    api.login("w-qs")
    report = model_report() | {
        "description": "<script>alert(1)</script>" + "很长的描述。" * 3000,
        "occurred_at": "９月９日晚上25点", "parties": "陈某 😀 业主", "location": "人民路８８号😀"}
    response = api.post(URL, json=report)
    assert response.status_code == 201
    result = response.get_json()
    assert result["verdict"] == "returned"
    stored = db.session.get(DrillReport, result["id"])
    assert len(stored.fields["description"]) == MAX_FIELD_CHARS
    assert next(c for c in result["checks"] if c["rule"] == "time_specific")["passed"] is False
    page = api.get(f"/drill-reports/{result['id']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_unpublished_or_other_unit_drills_are_404_and_hr_cannot_report(api, tree, worker, noise):
    api.login("w-qs")
    assert api.post("/api/v1/drills/no-such-drill/reports", json=POOR).status_code == 404
    assert api.get("/api/v1/drills/no-such-drill").get_json()["error"]["code"] == "drill_not_found"
    noise.org = tree["t2"]  # now a 城关街道 drill: not for a 青石镇 worker
    db.session.commit()
    assert api.get(f"/api/v1/drills/{NOISE}").status_code == 404
    assert api.post(URL, json=POOR).status_code == 404
    noise.org, noise.is_published = tree["county"], False
    db.session.commit()
    assert api.post(URL, json=POOR).status_code == 404
    noise.is_published = True
    db.session.commit()
    make_user("hr1", "hr", tree["county"])
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("hr1")
    assert api.post(URL, json=POOR).status_code == 403
    assert _count_reports() == 0


def test_anonymous_requests_are_401(client, noise):
    assert client.get(f"/api/v1/drills/{NOISE}").status_code == 401
    assert client.post(URL, json=POOR).status_code in (400, 401)  # CSRF or login, never a report
    assert _count_reports() == 0


# ------------------------------------------------------------------ review

@pytest.fixture
def returned(api, worker, noise):
    api.login("w-qs")
    report_id = api.post(URL, json=POOR).get_json()["id"]
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.csrf = None
    return db.session.get(DrillReport, report_id)


def _review(api, report_id, body):
    return api.post(f"/api/v1/drill-reports/{report_id}/review", json=body)


def test_trainer_in_scope_overrides_audited_and_acceptance_announced(api, tree, returned, accepted_signals):
    make_user("tr-qs", "trainer", tree["t1"], name="陈晓燕")
    api.login("tr-qs")
    response = _review(api, returned.id, {"verdict": "accepted", "score": 85, "comment": "地点已基本清楚，可以通过。"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["verdict"], body["score"], body["review"]["comment"]) == ("accepted", 85, "地点已基本清楚，可以通过。")
    db.session.expire_all()
    report = db.session.get(DrillReport, returned.id)
    assert (report.verdict.value, report.score) == ("accepted", 85)
    assert [r.comment for r in report.reviews] == ["地点已基本清楚，可以通过。"]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "drill.review"))
    assert entry.actor_name == "tr-qs" and entry.target == str(returned.id)
    assert entry.details["before"][0] == "returned" and entry.details["after"] == ["accepted", 85]
    assert [(u, r) for u, r, _ in accepted_signals] == [("w-qs", returned.id)]
    # The worker reads the comment on the report page.
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w-qs")
    assert "地点已基本清楚，可以通过。" in api.get(f"/drill-reports/{returned.id}").get_data(as_text=True)


def test_other_township_trainer_and_a_worker_cannot_review(api, tree, returned):
    make_user("tr-cg", "trainer", tree["t2"])
    make_user("w-other", "worker", tree["g1"])
    for username in ("tr-cg", "w-other", "w-qs"):
        api.login(username)
        response = _review(api, returned.id, {"verdict": "accepted", "score": 90, "comment": "越权"})
        assert response.status_code == 403, username
        assert response.get_json()["error"]["code"] == "forbidden"
        api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DrillReview)) == 0
    assert db.session.get(DrillReport, returned.id).verdict.value == "returned"


def test_scope_follows_the_reporters_unit_at_the_time_not_after_a_transfer(api, tree, returned):
    worker = returned.user
    worker.org = tree["g2"]  # transferred to 城关街道 after reporting
    db.session.commit()
    make_user("tr-cg", "trainer", tree["t2"])
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-cg")
    assert _review(api, returned.id, {"verdict": "accepted", "score": 90}).status_code == 403
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("tr-qs")
    assert _review(api, returned.id, {"verdict": "accepted", "score": 90}).status_code == 200


@pytest.mark.parametrize("body, code", [
    ({"verdict": "maybe", "score": 50}, "invalid_verdict"),
    ({"score": 50}, "invalid_verdict"),
    ({"verdict": "accepted", "score": 101}, "invalid_score"),
    ({"verdict": "accepted", "score": -1}, "invalid_score"),
    ({"verdict": "accepted", "score": "很好"}, "invalid_score"),
    ({"verdict": "accepted", "score": True}, "invalid_score"),
    ({"verdict": "accepted", "score": 80.5}, "invalid_score"),
    ({"verdict": "accepted", "score": 80, "comment": ["x"]}, "invalid_comment"),
    ({"verdict": "accepted", "score": 80, "comment": "长" * 2001}, "invalid_comment"),
])
def test_bad_verdict_score_or_comment_is_422_and_nothing_changes(api, tree, returned, body, code):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    response = _review(api, returned.id, body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DrillReview)) == 0


def test_review_of_a_missing_report_is_404_and_a_non_object_body_400(api, tree, returned):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    assert _review(api, 999999, {"verdict": "accepted", "score": 90}).status_code == 404
    response = api.client.post(f"/api/v1/drill-reports/{returned.id}/review", data="[]",
                               content_type="application/json", headers={"X-CSRFToken": api.csrf})
    assert response.status_code == 400


def test_overriding_to_returned_notifies_the_worker_with_the_comment(api, tree, worker, noise, accepted_signals):
    api.login("w-qs")
    report_id = api.post(URL, json=model_report()).get_json()["id"]
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("tr-county", "trainer", tree["county"])
    api.login("tr-county")
    response = _review(api, report_id, {"verdict": "returned", "score": 60, "comment": "诉求要写清楚是谁提的。"})
    assert response.status_code == 200
    bodies = db.session.scalars(sa.select(Message.body).where(Message.user_id == worker.id)).all()
    assert bodies == ["诉求要写清楚是谁提的。"]
    assert len(accepted_signals) == 1  # only the automatic acceptance


def test_drill_definition_rebuilds_to_the_same_grading(noise):
    from lms.drills.definition import from_definition, to_definition

    drill = from_definition(noise.definition)
    assert to_definition(drill) == noise.definition
    assert isinstance(db.session.get(Drill, noise.id).definition["reference_time"], str)


def test_a_date_in_the_future_is_returned_at_the_time_field(api, worker, noise):
    api.login("w-qs")
    result = api.post(URL, json=model_report() | {"occurred_at": "2027-09-09 22:20"}).get_json()
    assert result["verdict"] == "returned"
    failed = [c for c in result["checks"] if not c["passed"]]
    assert [(c["rule"], c["field"]) for c in failed] == [("time_specific", "occurred_at")]
    assert "晚于上报时间" in failed[0]["message"]


def test_a_trainer_cannot_review_their_own_report(api, tree, noise):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    report_id = api.post(URL, json=POOR).get_json()["id"]
    response = _review(api, report_id, {"verdict": "accepted", "score": 100, "comment": "自己给自己通过"})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "self_review"
    assert db.session.get(DrillReport, report_id).verdict.value == "returned"
