"""The /api/v1 mentoring routes: status codes, error bodies, scope refusals, idempotency, OpenAPI."""
from __future__ import annotations

import pytest

from lms.extensions import db
from lms.mentoring.models import Activity, ActivityStatus, Pairing
from lms.mentoring import services
from tests.mentoring.factories import days, log, make_cast, make_pairing


@pytest.fixture
def cast(tree):
    return make_cast(tree)


def _pairing_body(**overrides):
    return {"mentor": "mentor", "mentees": ["w1"], "start": days(-10).isoformat(), "end": days(80).isoformat(),
            "goals": "三个月内独立完成入户走访", **overrides}


def test_hr_creates_a_pairing(api, cast):
    api.login("hr")
    response = api.post("/api/v1/pairings", json=_pairing_body())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["mentor"] == {"username": "mentor", "name": "赵德山"}
    assert body["mentees"] == [{"username": "w1", "name": "张小明"}]
    assert body["status"] == "active" and body["org"]["code"] == "HX010101"


@pytest.mark.parametrize("overrides, code", [
    ({"mentees": ["mentor"]}, "self_pairing"),
    ({"start": days(10).isoformat(), "end": days(5).isoformat()}, "invalid_dates"),
    ({"start": "明天"}, "invalid_date"),
    ({"mentees": ["w1", "w2", "w3"]}, "mentor_at_capacity"),
    ({"mentor": "w2"}, "mentor_ineligible"),
    ({"mentor": "nobody"}, "unknown_user"),
    ({"mentees": []}, "invalid"),
    ({"mentees": "w1"}, "invalid"),
])
def test_bad_pairings_are_422_with_the_apis_codes(api, cast, overrides, code):
    api.login("hr")
    response = api.post("/api/v1/pairings", json=_pairing_body(**overrides))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert db.session.query(Pairing).count() == 0


def test_pairing_an_already_paired_mentee_is_422(api, cast):
    make_pairing(cast["mentor"], [cast["w1"]])
    api.login("hr")
    response = api.post("/api/v1/pairings", json=_pairing_body(mentor="mentor", mentees=["w1"]))
    assert response.get_json()["error"]["code"] == "mentee_already_paired"


def test_pairing_needs_a_json_object(api, cast):
    api.login("hr")
    assert api.post("/api/v1/pairings", data="x", content_type="text/plain").status_code == 400


@pytest.mark.parametrize("username, status", [("w1", 403), ("mentor", 403), ("hr2", 403), ("hr1", 201)])
def test_who_may_create_a_pairing(api, cast, username, status):
    api.login(username)
    assert api.post("/api/v1/pairings", json=_pairing_body()).status_code == status


def test_end_pairing_in_scope_only(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("hr2")
    assert api.post(f"/api/v1/pairings/{pairing.id}/end", json={"reason": "x"}).status_code == 403
    api.login("hr1")
    assert api.post(f"/api/v1/pairings/{pairing.id}/end", json={}).status_code == 422
    response = api.post(f"/api/v1/pairings/{pairing.id}/end", json={"reason": "学员离岗"})
    assert response.status_code == 200 and response.get_json()["status"] == "ended"
    assert response.get_json()["end_reason"] == "学员离岗"
    assert api.post(f"/api/v1/pairings/{pairing.id}/end", json={"reason": "again"}).status_code == 409
    assert api.post("/api/v1/pairings/99999/end", json={"reason": "x"}).status_code == 404


def _activity(**overrides):
    return {"kind": "shadowing", "date": days(-1).isoformat(), "minutes": 120, "place": "桃源村 3 组",
            "notes": "跟岗走访独居老人", **overrides}


def test_mentor_logs_and_mentee_confirms(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("mentor")
    response = api.post(f"/api/v1/pairings/{pairing.id}/activities", json=_activity(client_id="c-1"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["confirmed"] is False and isinstance(body["id"], int)
    retry = api.post(f"/api/v1/pairings/{pairing.id}/activities", json=_activity(client_id="c-1", minutes=5))
    assert retry.status_code == 200 and retry.get_json()["id"] == body["id"]
    assert db.session.query(Activity).count() == 1

    api.login("w2")
    assert api.post(f"/api/v1/activities/{body['id']}/confirm").status_code == 403
    api.login("w1")
    confirmed = api.post(f"/api/v1/activities/{body['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["confirmed"] is True
    again = api.post(f"/api/v1/activities/{body['id']}/confirm")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_confirmed"
    assert api.post(f"/api/v1/activities/{body['id']}/dispute", json={"reason": "x"}).status_code == 409
    assert api.post("/api/v1/activities/99999/confirm").status_code == 404


@pytest.mark.parametrize("overrides, code", [
    ({"date": days(-400).isoformat()}, "activity_outside_pairing"),
    ({"date": days(1).isoformat()}, "activity_in_future"),
    ({"minutes": 0}, "invalid_minutes"),
    ({"minutes": -30}, "invalid_minutes"),
    ({"minutes": 24 * 60 + 1}, "invalid_minutes"),
    ({"kind": "dinner"}, "invalid_kind"),
    ({"date": "昨天"}, "invalid_date"),
    ({"notes": ""}, "invalid"),
    ({"client_id": 12}, "invalid"),
])
def test_bad_activities_are_422(api, cast, overrides, code):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("mentor")
    response = api.post(f"/api/v1/pairings/{pairing.id}/activities", json=_activity(**overrides))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == code
    assert db.session.query(Activity).count() == 0


@pytest.mark.parametrize("username", ["w1", "hr", "hr1"])
def test_only_the_mentor_logs_activities(api, cast, username):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login(username)
    assert api.post(f"/api/v1/pairings/{pairing.id}/activities", json=_activity()).status_code == 403


def test_mentee_disputes_with_a_reason(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("mentor")
    activity_id = api.post(f"/api/v1/pairings/{pairing.id}/activities", json=_activity()).get_json()["id"]
    api.login("w1")
    assert api.post(f"/api/v1/activities/{activity_id}/dispute", json={"reason": " "}).status_code == 422
    response = api.post(f"/api/v1/activities/{activity_id}/dispute", json={"reason": "时长不对，只有半小时"})
    assert response.status_code == 200 and response.get_json()["status"] == "disputed"
    assert db.session.get(Activity, activity_id).status == ActivityStatus.disputed


def test_openapi_documents_the_mentoring_routes(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/pairings"]) == {"get", "post"}
    assert set(paths["/api/v1/activities"]) == {"get"}
    assert "422" in paths["/api/v1/pairings"]["post"]["responses"]
    for path in ("/api/v1/pairings/{pairing_id}/end", "/api/v1/pairings/{pairing_id}/activities",
                 "/api/v1/activities/{activity_id}/confirm", "/api/v1/activities/{activity_id}/dispute"):
        assert "post" in paths[path]
    assert paths["/api/v1/pairings/{pairing_id}/activities"]["post"]["requestBody"]


@pytest.mark.parametrize("app_config", [{"MENTOR_CAPACITY": 1, "MENTOR_MIN_YEARS": 20}])
def test_capacity_and_seniority_come_from_config(api, cast, app_config):
    api.login("hr")
    response = api.post("/api/v1/pairings", json=_pairing_body())
    assert response.get_json()["error"]["code"] == "mentor_ineligible"
    assert "20 年" in response.get_json()["error"]["message"]


def test_hr_lists_pairings_in_scope_with_paging(api, cast, tree):
    make_pairing(cast["mentor"], [cast["w1"]])
    make_pairing(cast["mentor"], [cast["w2"]])
    api.login("hr")
    first = api.get("/api/v1/pairings?per_page=1").get_json()
    assert len(first["pairings"]) == 1 and first["next"] == 2
    second = api.get("/api/v1/pairings?per_page=1&page=2").get_json()
    assert second["next"] is None and second["pairings"][0]["id"] != first["pairings"][0]["id"]
    assert len(api.get("/api/v1/pairings?org=HX01").get_json()["pairings"]) == 2
    assert api.get("/api/v1/pairings?org=NOPE").status_code == 404
    assert api.get("/api/v1/pairings?page=x").status_code == 400
    api.login("hr2")
    assert api.get("/api/v1/pairings").get_json()["pairings"] == []
    assert api.get("/api/v1/pairings?org=HX01").status_code == 403
    api.login("w1")
    assert api.get("/api/v1/pairings").status_code == 403


@pytest.mark.parametrize("username, status", [("hr", 200), ("hr1", 200), ("mentor", 200), ("w1", 200),
                                              ("w2", 403), ("hr2", 403)])
def test_pairing_detail_is_for_hr_in_scope_the_mentor_and_the_mentees(api, cast, username, status):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    log(cast["mentor"], pairing)
    api.login(username)
    response = api.get(f"/api/v1/pairings/{pairing.id}")
    assert response.status_code == status
    if status == 200:
        assert [a["kind"] for a in response.get_json()["activities"]] == ["shadowing"]


def test_mentee_lists_activities_to_confirm(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    pending = log(cast["mentor"], pairing)
    done = log(cast["mentor"], pairing, kind="case_review")
    services.confirm_activity(cast["w1"], done)
    db.session.commit()
    api.login("w1")
    body = api.get("/api/v1/activities?status=logged").get_json()
    assert [a["id"] for a in body["activities"]] == [pending.id] and body["next"] is None
    assert body["activities"][0]["mentor"]["name"] == "赵德山"
    assert len(api.get("/api/v1/activities").get_json()["activities"]) == 2
    assert api.get("/api/v1/activities?status=bogus").status_code == 400
    api.login("w2")
    assert api.get("/api/v1/activities").get_json()["activities"] == []
