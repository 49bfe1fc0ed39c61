"""Field quality: figures per person and unit for a period, GET /api/v1/field/quality scoped, the pages in Chinese."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.field import queries
from lms.field.models import FieldEvent
from lms.field.services import import_bytes
from tests.factories import ApiClient, make_org, make_user

HEADER = "事件编号,工号,上报时间,事件类型,结果,退回原因,满意度"


def load(*rows: str) -> None:
    report = import_bytes(("\n".join([HEADER, *rows]) + "\n").encode(), "events.csv")
    assert report.error_count == 0, report.errors
    db.session.commit()


@pytest.fixture
def county(tree):
    """w1 (青石镇 grid), w2 (城关街道 grid); hr-t1 over 青石镇, hr over the county, a leader over w1's grid."""
    g3 = make_org("HX010102", "grid", tree["v1"], name="桃源村第二网格")
    people = {"w1": make_user("w1", "worker", tree["g1"], name="张小明"),
              "w3": make_user("w3", "worker", g3, name="吴海涛"),
              "w2": make_user("w2", "worker", tree["g2"], name="杨秀英"),
              "hr": make_user("hr", "hr", tree["county"], name="李红梅"),
              "hr-t1": make_user("hr-t1", "hr", tree["t1"], name="周敏"),
              "leader": make_user("leader", ["worker", "grid_leader"], tree["g1"], name="孙丽")}
    load("A1,w1,2026-03-01 08:30,矛盾纠纷,办结,,5",
         "A2,w1,2026-03-02 08:30,矛盾纠纷,退回,描述不清,",
         "A3,w1,2026-03-03 08:30,矛盾纠纷,退回,描述不清,",
         "A4,w1,2026-03-04 08:30,矛盾纠纷,超时,,2",
         "B1,w3,2026-03-05 08:30,环境卫生,重复,,",
         "B2,w3,2026-03-06 08:30,环境卫生,退回,要素不全,",
         "C1,w2,2026-03-01 08:30,安全隐患,办结,,4",
         "C2,w2,2026-03-02 08:30,安全隐患,办结,,3",
         "C3,w2,2025-12-31 23:30,安全隐患,退回,部门错误,",   # before the period below
         "C4,w2,2026-04-01 00:10,安全隐患,退回,信息不实,")   # after it (Beijing time)
    return people


START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)


def test_person_figures_for_a_period(app, county):
    mine = queries.person_quality(county["w1"], START, END)
    assert (mine["events"], mine["returned"], mine["overdue"], mine["duplicates"]) == (4, 2, 1, 0)
    assert mine["return_rate"] == 0.5 and mine["by_reason"]["描述不清"] == 2 and mine["by_reason_rate"]["描述不清"] == 0.5
    assert (mine["rated"], mine["satisfaction"]) == (2, 3.5)
    # the period is local days, both included: w2's 23:30 on 12-31 and 00:10 on 04-01 fall outside
    theirs = queries.person_quality(county["w2"], START, END)
    assert (theirs["events"], theirs["returned"], theirs["satisfaction"]) == (2, 0, 3.5)
    assert queries.person_quality(county["w2"], dt.date(2026, 4, 1), dt.date(2026, 4, 1))["by_reason"]["信息不实"] == 1
    nothing = queries.person_quality(county["w1"], dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert (nothing["events"], nothing["return_rate"], nothing["satisfaction"]) == (0, None, None)


def test_unit_figures_roll_up_the_subtree_and_each_child(app, county, tree):
    whole = queries.org_quality(tree["county"], START, END)
    assert (whole["events"], whole["returned"], whole["duplicates"], whole["overdue"]) == (8, 3, 1, 1)
    children = {c["org"]["code"]: c for c in queries.children_quality(tree["county"], START, END)}
    assert (children["HX01"]["events"], children["HX01"]["returned"]) == (6, 3)
    assert children["HX01"]["by_reason"] == {"描述不清": 2, "要素不全": 1, "信息不实": 0, "分类错误": 0, "部门错误": 0}
    assert (children["HX02"]["events"], children["HX02"]["returned"]) == (2, 0)
    people = queries.people_quality(tree["t1"], START, END)
    assert [p["username"] for p in people] == ["w1", "w3"] and people[0]["return_rate"] == 0.5


def test_api_scopes_hr_to_their_subtree(app, client, county):
    api = ApiClient(client)
    api.login("hr-t1")
    mine = api.get("/api/v1/field/quality?from=2026-01-01&to=2026-03-31").get_json()
    assert mine["org"]["code"] == "HX01" and mine["events"] == 6
    assert {p["username"] for p in mine["people"]} == {"w1", "w3"}
    assert api.get("/api/v1/field/quality?org=HX02").status_code == 403
    assert api.get("/api/v1/field/quality?org=HX").status_code == 403
    assert api.get("/api/v1/field/quality?org=NOPE").status_code == 404
    bad = api.get("/api/v1/field/quality?from=2026-13-01")
    assert bad.status_code == 422 and "起始日期" in bad.get_json()["error"]["message"]
    assert api.get("/api/v1/field/quality?from=2026-03-01&to=2026-01-01").status_code == 422


def test_api_county_hr_sees_every_township_but_no_people_list(app, client, county):
    api = ApiClient(client)
    api.login("hr")
    data = api.get("/api/v1/field/quality?org=HX&from=2026-01-01&to=2026-03-31").get_json()
    assert data["events"] == 8 and data["people"] is None
    assert [(c["org"]["code"], c["events"]) for c in data["children"]] == [("HX01", 6), ("HX02", 2)]


def test_api_grid_leader_sees_the_grid_and_a_worker_only_themselves(app, client, county):
    api = ApiClient(client)
    api.login("leader")
    team = api.get("/api/v1/field/quality?from=2026-01-01&to=2026-03-31").get_json()
    assert team["org"]["code"] == "HX010101" and [p["username"] for p in team["people"]] == ["w1"]
    assert api.get("/api/v1/field/quality?org=HX0101").status_code == 403
    worker = ApiClient(app.test_client())
    worker.login("w2")
    own = worker.get("/api/v1/field/quality?from=2026-01-01&to=2026-04-30").get_json()
    assert set(own) == {"from", "to", "person"}
    assert (own["person"]["username"], own["person"]["events"], own["person"]["returned"]) == ("w2", 3, 1)
    assert worker.get("/api/v1/field/quality?org=HX020101").status_code == 403


def test_quality_page_draws_a_chart_per_township_in_chinese(app, client, county):
    ApiClient(client).login("hr")
    response = client.get("/field/quality?org=HX&from=2026-01-01&to=2026-03-31")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "现场上报质量" in html and html.count("<svg") == 2
    for label in ("青石镇", "城关街道", "退回·描述不清", "超时", "重复上报", "退回率", "满意度"):
        assert label in html
    assert re.search(r'<tr[^>]*data-org="HX01"[^>]*>.*?<td class="text-end">6</td><td class="text-end">50.0%</td>',
                     html, re.S)
    township = client.get("/field/quality?org=HX01&from=2026-01-01&to=2026-03-31").get_data(as_text=True)
    assert 'data-username="w1"' in township and "张小明" in township
    assert client.get("/field/quality?org=HX&from=bad").status_code == 422


def test_quality_page_refuses_a_worker_and_out_of_scope_units(app, client, county):
    ApiClient(client).login("hr-t1")
    assert client.get("/field/quality?org=HX02").status_code == 403
    client2 = app.test_client()
    ApiClient(client2).login("w1")
    assert client2.get("/field/quality").status_code == 403


def test_my_quality_page_and_home_tile(app, client, county):
    ApiClient(client).login("w1")
    html = client.get("/field/mine?from=2026-01-01&to=2026-03-31").get_data(as_text=True)
    assert "我的上报质量" in html and "上报 4 件" in html and "最多的原因：描述不清" in html and "<svg" in html
    assert "满意度平均 3.50 分" in html
    home = client.get("/").get_data(as_text=True)
    assert "我的上报质量" in home
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FieldEvent)) == 10


def test_home_tile_hidden_without_events(app, client, tree):
    make_user("w9", "worker", tree["g1"])
    ApiClient(client).login("w9")
    assert "我的上报质量" not in client.get("/").get_data(as_text=True)
