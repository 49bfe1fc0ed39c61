"""Statistics per org unit: org_stats gathers the features' summaries; /api/v1/stats and /stats with bad input and scope."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.db import SHANGHAI
from lms.reports import stats
from lms.reports.stats import Source, default_period, org_stats
from tests.factories import make_user
from tests.trainings.factories import attend, make_training


def _at(day: int, month: int = 3):
    return dt.datetime(2026, month, day, 9, tzinfo=SHANGHAI)


@pytest.fixture
def data(tree):
    people = {
        "ct": make_user("ct01", "trainer", tree["county"]),
        "tt": make_user("tt01", "trainer", tree["t1"]),
        "hr1": make_user("hr01", "hr", tree["t1"]),
        "w1": make_user("w001", "worker", tree["g1"]),
        "w2": make_user("w002", "worker", tree["v1"]),
        "w3": make_user("w003", "worker", tree["g2"]),
    }
    county = make_training(tree["county"], people["ct"], level="county", hours="3", starts_at=_at(2))
    township = make_training(tree["t1"], people["tt"], hours="2", starts_at=_at(10))
    village = make_training(tree["v1"], people["tt"], level="village", hours="1", starts_at=_at(11))
    make_training(tree["t1"], people["tt"], hours="4", starts_at=_at(12), is_cancelled=True)
    for training, who in ((county, ("w1", "w2", "w3")), (township, ("w1", "w2")), (village, ("w1",))):
        for key in who:
            attend(training, people[key])
    return people


MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def test_org_stats_has_the_unit_and_each_direct_child(data, tree):
    result = org_stats(tree["county"], dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert result["org"] == {"code": "HX", "name": "红溪县", "kind": "county"}
    assert (result["from"], result["to"]) == ("2026-03-01", "2026-03-31")
    assert result["trainings"] == {"sessions": 3, "attendances": 6, "hours": 3 * 3 + 2 * 2 + 1}
    children = {c["org"]["code"]: c["trainings"] for c in result["children"]}
    assert children == {"HX01": {"sessions": 2, "attendances": 5, "hours": 3 + 3 + 2 + 2 + 1},
                        "HX02": {"sessions": 0, "attendances": 1, "hours": 3.0}}


def test_missing_feature_is_absent_not_an_error(data, tree, monkeypatch):
    monkeypatch.setattr(stats, "SOURCES", stats.SOURCES + (
        Source("absent", "lms.no_such_feature.queries", "x_stats"),
        Source("absent_fn", "lms.trainings.queries", "no_such_stats")))
    result = org_stats(tree["t2"], dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert "absent" not in result and "absent_fn" not in result and "trainings" in result


def test_every_installed_feature_contributes_its_summary(data, tree):
    result = org_stats(tree["t1"], dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    for source, fn in stats.available_sources():
        assert source.key in result and isinstance(result[source.key], dict)
        assert all(source.key in child for child in result["children"])


def test_course_completion_counts_assigned_and_completed(data, tree):
    pytest.importorskip("lms.courses.queries")
    from lms.accounts.permissions import SYSTEM
    from lms.courses import services as course_services
    from lms.extensions import db
    from tests.courses.factories import make_course
    course = make_course("ss-basics", level="township", org="HX01", lessons=1)
    course_services.create_assignment(SYSTEM, course_code="ss-basics", quiz_code=None, org=tree["t1"], role=None,
                                      due=dt.date(2026, 3, 20), now=_at(1))
    course_services.complete_lesson(data["w1"], course, course.lessons[0], now=_at(5))
    db.session.commit()
    result = org_stats(tree["t1"], dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    # tt01 and hr01 sit in 青石镇 too: four members, one completed.
    assert result["courses"] == {"assigned": 4, "completed": 1, "completion_rate": 0.25, "due_later": 0}


def test_default_period_is_the_last_six_months():
    assert default_period(dt.date(2026, 11, 27)) == (dt.date(2026, 5, 27), dt.date(2026, 11, 27))
    assert default_period(dt.date(2026, 3, 31)) == (dt.date(2025, 9, 30), dt.date(2026, 3, 31))
    assert default_period(dt.date(2026, 8, 31)) == (dt.date(2026, 2, 28), dt.date(2026, 8, 31))


def test_stats_api_returns_the_figures(api, data):
    api.login("ct01")
    body = api.get("/api/v1/stats?org=HX&from=2026-03-01&to=2026-03-31").get_json()
    assert body["trainings"]["sessions"] == 3 and body["trainings"]["attendances"] == 6
    assert [c["org"]["code"] for c in body["children"]] == ["HX01", "HX02"]


def test_stats_api_defaults_to_the_viewers_unit_and_six_months(api, data):
    api.login("hr01")
    body = api.get("/api/v1/stats").get_json()
    assert body["org"]["code"] == "HX01"
    start, end = dt.date.fromisoformat(body["from"]), dt.date.fromisoformat(body["to"])
    assert 180 <= (end - start).days <= 184


@pytest.mark.parametrize("query,status,code", [
    ("org=HX&from=2026-3-1x", 422, "invalid_date"),
    ("org=HX&to=31/03/2026", 422, "invalid_date"),
    ("org=HX&from=2026-04-01&to=2026-03-01", 422, "invalid_period"),
    ("org=NOPE", 404, "not_found"),
])
def test_stats_api_bad_input(api, data, query, status, code):
    api.login("ct01")
    response = api.get(f"/api/v1/stats?{query}")
    assert response.status_code == status and response.get_json()["error"]["code"] == code


@pytest.mark.parametrize("username,org", [("hr01", "HX"), ("hr01", "HX02"), ("tt01", "HX02"), ("w001", "HX010101")])
def test_stats_out_of_scope_is_403(api, data, username, org):
    api.login(username)
    assert api.get(f"/api/v1/stats?org={org}").status_code == 403
    assert api.client.get(f"/stats?org={org}").status_code == 403


def test_stats_page_shows_the_county_report_figures_per_child(api, data):
    api.login("ct01")
    response = api.client.get("/stats?org=HX&from=2026-03-01&to=2026-03-31")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for heading in ("培训场次", "培训人次", "培训学时", "课程完成率"):
        assert heading in html
    assert "合计：红溪县" in html and "青石镇" in html and "城关街道" in html
    assert "<td class=\"text-end\">6</td>" in html  # county 人次
    assert " style=" not in html and "<script>" not in html


def test_stats_page_bad_dates_say_why(api, data):
    api.login("ct01")
    response = api.client.get("/stats?org=HX&from=2026-04-01&to=2026-03-01")
    assert response.status_code == 422 and "起始日期不能晚于截止日期" in response.get_data(as_text=True)
    assert api.client.get("/stats?org=NOPE").status_code == 404
