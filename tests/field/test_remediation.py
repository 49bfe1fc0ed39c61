"""Remediation: the pure proposal, the page where a trainer adjusts and sends it, the API, the worker's list,
inbox notices, audit, scope, bad input, and the field-first order of the 上报演练 list."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.field.needs import Training
from lms.field.remediation import Problem, drill_order_key, propose
from lms.field.remediation_models import Remediation
from lms.inbox.models import Message
from tests.factories import PASSWORD, make_user
from tests.field.needs_factories import NEEDS_MAP, add_events, days, seed_needs


def test_propose_takes_the_most_frequent_problems_above_the_threshold():
    counts = {
        1: (20, {"描述不清": 6, "超时": 3, "重复": 1, "分类错误": 4}),  # 30%, 15%, 5%, 20%
        2: (9, {"描述不清": 9}),                                    # below min_events
        3: (40, {"要素不全": 2}),                                   # 5%: below the threshold
        4: (10, {"部门错误": 5}),
    }
    found = {p.user_id: p for p in propose(counts, NEEDS_MAP, min_events=10, threshold=0.1)}
    assert set(found) == {1, 4}
    assert found[1].problems == [Problem("描述不清", 6, 0.3), Problem("分类错误", 4, 0.2)]
    assert found[1].items == [("drills", "night-construction-noise", "描述不清"),
                              ("drills", "neighbor-water-leak", "描述不清"),
                              ("courses", "county-event-reporting", "描述不清"),
                              ("drills", "square-dance-noise", "分类错误")]
    assert found[4].items == [("drills", "unpaid-wages", "部门错误"),
                              ("consultations", "dibao-application", "部门错误")]
    # the same training answering two problems is listed once
    both = propose({5: (10, {"要素不全": 3, "超时": 2})}, NEEDS_MAP, min_events=10, threshold=0.1)[0]
    assert [i[1] for i in both.items] == ["gas-leak-smell", "county-event-reporting", "road-collapse"]
    # a problem with no training mapped proposes nothing
    assert propose({6: (10, {"超时": 5})}, {"超时": Training()}, min_events=10, threshold=0.1) == []


@pytest.fixture
def cast(tree):
    seed_needs()
    people = {
        "trainer": make_user("trainer1", "trainer", tree["t1"], name="培训员"),
        "hr2": make_user("hr2", "hr", tree["t2"], name="城关人事"),
        "w1": make_user("w1", "worker", tree["g1"], name="张小明"),
        "w2": make_user("w2", "worker", tree["g1"], name="王小红"),
        "w3": make_user("w3", "worker", tree["g1"], name="刘小刚"),
        "far": make_user("far", "worker", tree["g2"], name="吴海涛"),
    }
    add_events(people["w1"], [(6, "办结", None), (3, "退回", "描述不清"), (2, "超时", None)])
    add_events(people["w2"], [(8, "办结", None), (4, "退回", "要素不全")])
    add_events(people["w3"], [(20, "办结", None)])
    add_events(people["far"], [(5, "办结", None), (5, "退回", "描述不清")])
    return people


def _login(client, username):
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


QUERY = {"org": "HX01", "from": days(-30).isoformat(), "to": days(0).isoformat(), "min_events": "10",
         "threshold": "10"}


def test_a_trainer_sees_adjusts_and_sends_the_proposal(client, cast):
    _login(client, "trainer1")
    page = client.get("/field/remediation", query_string=QUERY)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "张小明" in html and "王小红" in html
    assert "刘小刚" not in html and "吴海涛" not in html  # nothing to train; outside the trainer's township
    assert "描述不清 3 件（27%）" in html and "超时 2 件（18%）" in html
    w1, w2 = cast["w1"].id, cast["w2"].id
    # untick 王小红 entirely and one of 张小明's items
    form = {**QUERY, "csrf_token": _csrf(html), "due": days(20).isoformat(), "person": [str(w1)],
            "item": [f"{w1}:drills:night-construction-noise", f"{w1}:drills:road-collapse",
                     f"{w2}:drills:gas-leak-smell"]}
    sent = client.post("/field/remediation", data=form)
    assert sent.status_code in (302, 303)
    rems = db.session.scalars(sa.select(Remediation)).all()
    assert [(r.user_id, r.due_on, r.started_on) for r in rems] == [(w1, days(20), days(0))]
    assert [(i.kind, i.code, i.need) for i in rems[0].items] == [("drills", "night-construction-noise", "描述不清"),
                                                                   ("drills", "road-collapse", "超时")]
    assert [p["need"] for p in rems[0].problems] == ["描述不清", "超时"]
    message = db.session.scalar(sa.select(Message).where(Message.user_id == w1))
    assert message.link == "/field/remediation/mine" and "描述不清、超时" in message.title
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "field.remediation"))
    assert entry.details["people"] == 1 and entry.details["items"] == 2
    # people with training still running are not proposed again
    again = client.get("/field/remediation", query_string=QUERY).get_data(as_text=True)
    assert "张小明" not in again and "王小红" in again
    # the worker's own list
    _login(client, "w1")
    mine = client.get("/field/remediation/mine").get_data(as_text=True)
    assert "针对“描述不清、超时”" in mine and 'href="/drills/road-collapse"' in mine


@pytest.mark.parametrize("change, message", [
    ({"from": "2026-13-01"}, "开始日期“2026-13-01”不是有效日期"),
    ({"from": days(0).isoformat(), "to": days(-5).isoformat()}, "结束日期不能早于开始日期"),
    ({"min_events": "很多"}, "最少事件数须是整数"),
    ({"min_events": "0"}, "最少事件数须是 1 到 10000 的整数"),
    ({"threshold": "150"}, "问题占比阈值须大于 0、不超过 1"),
    ({"threshold": "abc"}, "问题占比阈值须是百分数"),
    ({"org": "NOPE"}, "组织编码“NOPE”不存在"),
])
def test_bad_filters_show_a_chinese_message(client, cast, change, message):
    _login(client, "trainer1")
    page = client.get("/field/remediation", query_string={**QUERY, **change})
    assert page.status_code in (200, 422) and message in page.get_data(as_text=True)


def test_bad_sends_lose_nothing_and_say_why(client, cast):
    _login(client, "trainer1")
    html = client.get("/field/remediation", query_string=QUERY).get_data(as_text=True)
    token = _csrf(html)
    nothing = client.post("/field/remediation", data={**QUERY, "csrf_token": token, "due": days(5).isoformat()})
    assert "没有勾选任何人或训练项目，未发送" in nothing.get_data(as_text=True)
    w1 = cast["w1"].id
    past = client.post("/field/remediation", data={**QUERY, "csrf_token": token, "due": days(-1).isoformat(),
                                                    "person": [str(w1)], "item": [f"{w1}:drills:road-collapse"]})
    assert "截止日期不能早于今天" in past.get_data(as_text=True)
    no_csrf = client.post("/field/remediation", data={**QUERY, "due": days(5).isoformat(), "person": [str(w1)],
                                                       "item": [f"{w1}:drills:road-collapse"]})
    assert no_csrf.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Remediation)) == 0


def test_other_hr_and_workers_cannot_use_the_page(client, cast):
    _login(client, "hr2")
    assert client.get("/field/remediation", query_string=QUERY).status_code == 403
    _login(client, "w1")
    assert client.get("/field/remediation").status_code == 403


def test_the_api_assigns_and_audits(api, cast):
    api.login("trainer1")
    body = {"org": "HX01", "from": days(-30).isoformat(), "to": days(0).isoformat(), "min_events": 10,
            "threshold": 0.1}
    response = api.post("/api/v1/field/remediation", json=body)
    assert response.status_code == 200, response.get_json()
    assigned = response.get_json()["assigned"]
    assert [a["username"] for a in assigned] == ["w1", "w2"]
    assert assigned[0]["due"] == days(30).isoformat() and assigned[0]["started"] == days(0).isoformat()
    assert [i["code"] for i in assigned[1]["items"]] == ["gas-leak-smell", "county-event-reporting"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "field.remediation")) == 1
    # sending again finds nobody new
    assert api.post("/api/v1/field/remediation", json=body).get_json() == {"assigned": []}


def test_the_api_sends_to_named_people_only(api, cast):
    api.login("trainer1")
    response = api.post("/api/v1/field/remediation", json={"org": "HX01", "from": days(-30).isoformat(),
                                                           "to": days(0).isoformat(), "people": ["w2"]})
    assert [a["username"] for a in response.get_json()["assigned"]] == ["w2"]


@pytest.mark.parametrize("body, status, code", [
    ({"from": "2026-01-01", "to": "2026-02-01"}, 400, "unknown_org"),
    ({"org": "HX01", "from": "昨天", "to": "2026-02-01"}, 400, "invalid_date"),
    ({"org": "HX01", "from": "2026-03-01", "to": "2026-02-01"}, 400, "invalid_period"),
    ({"org": "HX01", "from": "2025-01-01", "to": "2026-02-01"}, 400, "invalid_period"),
    ({"org": "HX01", "from": "2026-01-01", "to": "2026-02-01", "min_events": 0}, 400, "invalid_min_events"),
    ({"org": "HX01", "from": "2026-01-01", "to": "2026-02-01", "min_events": "10"}, 400, "invalid_min_events"),
    ({"org": "HX01", "from": "2026-01-01", "to": "2026-02-01", "threshold": 5}, 400, "invalid_threshold"),
    ({"org": "HX01", "from": "2026-01-01", "to": "2026-02-01", "due": "2020-01-01"}, 422, "due_in_past"),
    ({"org": "HX01", "from": "2026-01-01", "to": "2026-02-01", "people": "w1"}, 400, "invalid_people"),
    ({"org": "NOPE", "from": "2026-01-01", "to": "2026-02-01"}, 422, "unknown_org"),
    ({"org": "HX02", "from": "2026-01-01", "to": "2026-02-01"}, 403, None),
])
def test_the_api_refuses_bad_input(api, cast, body, status, code):
    api.login("trainer1")
    response = api.post("/api/v1/field/remediation", json=body)
    assert response.status_code == status, response.get_json()
    assert "error" in response.get_json()
    if code:
        assert response.get_json()["error"]["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", response.get_json()["error"]["message"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Remediation)) == 0


def test_the_api_refuses_non_json_and_workers(api, cast):
    api.login("trainer1")
    assert api.post("/api/v1/field/remediation", data="org=HX01").status_code == 400
    api.login("w1")
    assert api.post("/api/v1/field/remediation", json={"org": "HX01"}).status_code == 403


def test_drills_failed_in_the_field_come_first(app, cast):
    rows = [{"code": c} for c in ("gas-leak-smell", "night-construction-noise", "road-collapse", "street-vending",
                                  "neighbor-water-leak")]
    ordered = sorted(rows, key=drill_order_key(cast["w1"]))
    # 描述不清 (3) before 超时 (2); the rest keep their order
    assert [r["code"] for r in ordered] == ["night-construction-noise", "neighbor-water-leak", "road-collapse",
                                            "gas-leak-smell", "street-vending"]
    assert sorted(rows, key=drill_order_key(cast["w3"])) == rows  # no problems: unchanged


def test_the_drill_list_page_puts_field_problems_first(client, tree, runner):
    from lms.config import REPO_ROOT

    result = runner.invoke(args=["content", "import", "--questions", str(REPO_ROOT / "question_bank")])
    assert "演练：新增" in result.output, result.output
    seed_needs()
    worker = make_user("w1", "worker", tree["g1"], name="张小明")
    _login(client, "w1")
    before = re.findall(r'href="/drills/([a-z0-9-]+)"', client.get("/drills").get_data(as_text=True))
    assert "unpaid-wages" in before and "road-collapse" in before
    add_events(worker, [(5, "办结", None), (4, "退回", "部门错误"), (2, "超时", None)])
    after = re.findall(r'href="/drills/([a-z0-9-]+)"', client.get("/drills").get_data(as_text=True))
    # 部门错误 (4) → unpaid-wages, then 超时 (2) → road-collapse; the others keep their order
    assert after[:2] == ["unpaid-wages", "road-collapse"]
    assert [c for c in after[2:]] == [c for c in before if c not in ("unpaid-wages", "road-collapse")]
