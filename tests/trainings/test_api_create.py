"""POST/GET /api/v1/trainings: creation rules, levels by the trainer's grant, scope, listing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.trainings.models import Training
from tests.trainings.factories import make_training

GOOD = {"level": "township", "title": "信访工作条例解读", "date": "2026-03-15", "place": "青石镇政府三楼会议室",
        "hours": 2.5, "org": "HX01"}


def _count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Training))


def test_township_trainer_creates_a_township_training(api, people):
    api.login("tt01")
    response = api.post("/api/v1/trainings", json={**GOOD, "start": "14:00", "end": "16:30"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["level"] == "township" and body["level_label"] == "乡培"
    assert body["date"] == "2026-03-15" and body["start"] == "14:00" and body["end"] == "16:30"
    assert body["starts_at"] == "2026-03-15T14:00:00+08:00"
    assert body["hours"] == 2.5 and body["org"] == {"code": "HX01", "name": "青石镇"}
    assert body["trainer"]["username"] == "tt01" and body["attendance_count"] == 0
    training = db.session.get(Training, body["id"])
    assert training.starts_at.isoformat() == "2026-03-15T06:00:00+00:00" and len(training.checkin_secret) == 32


def test_times_default_to_the_working_day(api, people):
    api.login("tt01")
    body = api.post("/api/v1/trainings", json=GOOD).get_json()
    assert (body["start"], body["end"]) == ("08:00", "18:00")


def test_county_trainer_may_run_all_three_levels_in_a_village(api, people):
    api.login("ct01")
    for level in ("county", "township", "village"):
        assert api.post("/api/v1/trainings", json={**GOOD, "level": level, "org": "HX0101"}).status_code == 201


def test_named_trainer_must_hold_the_permission_there(api, people):
    api.login("ct01")
    ok = api.post("/api/v1/trainings", json={**GOOD, "trainer": "tt01"})
    assert ok.status_code == 201 and ok.get_json()["trainer"]["username"] == "tt01"
    bad = api.post("/api/v1/trainings", json={**GOOD, "trainer": "tt02"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "trainer_not_allowed"
    unknown = api.post("/api/v1/trainings", json={**GOOD, "trainer": "nobody"})
    assert unknown.get_json()["error"]["code"] == "unknown_trainer"


@pytest.mark.parametrize("change,code,message", [
    ({"level": "province"}, "invalid_level", "培训层级无效"),
    ({"level": None}, "invalid_level", "培训层级无效"),
    ({"hours": 0}, "invalid_hours", "学时必须大于 0"),
    ({"hours": -1}, "invalid_hours", "学时必须大于 0"),
    ({"hours": "两小时"}, "invalid_hours", "学时必须是数字"),
    ({"hours": True}, "invalid_hours", "学时必须是数字"),
    ({"hours": "NaN"}, "invalid_hours", "学时必须大于 0"),
    ({"hours": 1.25}, "invalid_hours", "一位小数"),
    ({"hours": 30}, "invalid_hours", "不能超过 24"),
    ({"org": "NOPE"}, "unknown_org", "组织编码 NOPE 不存在"),
    ({"org": ""}, "unknown_org", "不存在"),
    ({"org": 7}, "unknown_org", "不存在"),
    ({"date": "2026/03/15"}, "invalid_date", "YYYY-MM-DD"),
    ({"date": "2026-02-30"}, "invalid_date", "YYYY-MM-DD"),
    ({"start": "25:00"}, "invalid_time", "HH:MM"),
    ({"start": "16:00", "end": "09:00"}, "invalid_time", "结束时间必须晚于开始时间"),
    ({"title": "  "}, "invalid_title", "请填写培训主题"),
    ({"title": "题" * 201}, "invalid_title", "不能超过 200"),
    ({"place": None}, "invalid_place", "请填写培训地点"),
    ({"level": "county"}, "level_not_allowed", "您不能为“青石镇”组织县训，可选层级：乡培"),
    ({"level": "village"}, "level_not_allowed", "可选层级：乡培"),
])
def test_bad_input_is_refused_with_a_chinese_message_and_nothing_saved(api, people, change, code, message):
    api.login("tt01")
    response = api.post("/api/v1/trainings", json={**GOOD, **change})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code and message in error["message"]
    assert _count() == 0


def test_village_trainer_may_only_run_village_practice(api, people):
    api.login("vt01")
    assert api.post("/api/v1/trainings", json={**GOOD, "org": "HX0101"}).get_json()["error"]["code"] == \
        "level_not_allowed"
    assert api.post("/api/v1/trainings", json={**GOOD, "level": "village", "org": "HX010101"}).status_code == 201


@pytest.mark.parametrize("username,org", [("tt01", "HX02"), ("tt01", "HX"), ("vt01", "HX01"), ("w001", "HX010101")])
def test_out_of_scope_creation_is_forbidden(api, people, username, org):
    api.login(username)
    response = api.post("/api/v1/trainings", json={**GOOD, "level": "village", "org": org})
    assert response.status_code == 403
    assert _count() == 0


def test_body_that_is_not_a_json_object_is_400(api, people):
    api.login("tt01")
    assert api.post("/api/v1/trainings", json=["x"]).status_code == 400
    assert api.client.post("/api/v1/trainings", data="x", headers={"X-CSRFToken": api.csrf}).status_code == 400


def test_listing_filters_by_org_and_period_within_scope(api, people, tree):
    import datetime as dt
    from lms.db import SHANGHAI
    mar = dt.datetime(2026, 3, 15, 9, tzinfo=SHANGHAI)
    apr = dt.datetime(2026, 4, 2, 9, tzinfo=SHANGHAI)
    a = make_training(tree["t1"], people["tt"], title="三月乡培", starts_at=mar)
    b = make_training(tree["v1"], people["vt"], level="village", title="四月村练", starts_at=apr)
    make_training(tree["t2"], people["tt2"], title="街道培训", starts_at=mar)
    api.login("tt01")
    titles = [t["title"] for t in api.get("/api/v1/trainings").get_json()["trainings"]]
    assert titles == ["四月村练", "三月乡培"]
    march = api.get("/api/v1/trainings?from=2026-03-01&to=2026-03-31").get_json()["trainings"]
    assert [t["id"] for t in march] == [a.id]
    village = api.get("/api/v1/trainings?org=HX0101").get_json()
    assert [t["id"] for t in village["trainings"]] == [b.id] and village["next"] is None
    assert api.get("/api/v1/trainings?per_page=1").get_json()["next"] == 2


@pytest.mark.parametrize("query,status,code", [
    ("from=2026-13-01", 422, "invalid_date"), ("to=yesterday", 422, "invalid_date"),
    ("from=2026-04-01&to=2026-03-01", 422, "invalid_period"), ("org=NOPE", 404, "not_found"),
    ("org=HX02", 403, "forbidden"), ("page=x", 400, "bad_request"),
])
def test_listing_bad_input(api, people, query, status, code):
    api.login("tt01")
    response = api.get(f"/api/v1/trainings?{query}")
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_worker_lists_the_trainings_they_may_attend(api, people, tree):
    mine = make_training(tree["t1"], people["tt"], title="全镇乡培")
    make_training(tree["t2"], people["tt2"], title="街道培训")
    make_training(tree["county"], people["ct"], level="county", title="全县县训")
    api.login("w001")
    titles = {t["title"] for t in api.get("/api/v1/trainings").get_json()["trainings"]}
    assert titles == {"全镇乡培", "全县县训"}
    assert api.get(f"/api/v1/trainings/{mine.id}").status_code == 200


def test_training_detail_scope_and_missing(api, people, tree):
    other = make_training(tree["t2"], people["tt2"])
    api.login("w001")
    assert api.get(f"/api/v1/trainings/{other.id}").status_code == 403
    assert api.get("/api/v1/trainings/999999").status_code == 404
