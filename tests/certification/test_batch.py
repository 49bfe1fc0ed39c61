"""Batch certificate issue: who got one, who was refused and why (Chinese), scope, self, bad input."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.accounts.models import UserStatus
from lms.audit.models import AuditEntry
from lms.certification.models import Certificate
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def desk(tree):
    sg = make_program("WG-SG", "网格员上岗证")
    hard = make_program("WG-STAR", "星级网格员", star=1, requires={"points": 100})
    people = {
        "w1": make_user("w1", "worker", tree["g1"], name="李小红"),
        "w2": make_user("w2", "worker", tree["g1"], name="张大山"),
        "held": make_user("held", "worker", tree["g1"], name="已持证"),
        "gone": make_user("gone", "worker", tree["g1"], name="离岗者"),
        "far": make_user("far", "worker", tree["g2"], name="王五"),
        "hr1": make_user("hr1", ["hr", "worker"], tree["t1"], name="周文斌"),
        "hr2": make_user("hr2", "hr", tree["t2"], name="城关人事"),
    }
    make_certificate(people["held"], sg)
    people["gone"].status = UserStatus.disabled
    db.session.commit()
    return {"sg": sg, "hard": hard, **people}


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Certificate.id)))


def test_batch_issues_and_lists_refusals_with_reasons(desk, api):
    api.login("hr1")
    response = api.post("/api/v1/certificates/batch", json={
        "usernames": ["w1", "w2", "held", "far", "ghost", "hr1", "gone", "w1"], "program": "WG-SG",
        "reason": "2026年上岗培训考核合格"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert sorted(c["holder"]["username"] for c in body["issued"]) == ["w1", "w2"]
    refused = {r["username"]: r["reason"] for r in body["refused"]}
    assert refused == {"held": "已持有有效的《网格员上岗证》证书", "far": "不在您的管辖范围内", "ghost": "工号不存在",
                       "hr1": "不能给自己发证", "gone": "已离岗，不能发证", "w1": "名单中重复出现，已按第一次处理"}
    assert _count() == 3
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "certificates.issue",
                                                            AuditEntry.actor_id == desk["hr1"].id)).all()
    assert {e.details["holder"] for e in entries} == {"w1", "w2"}


def test_only_qualified_refuses_who_does_not_meet_the_rules(desk, api):
    api.login("hr1")
    body = api.post("/api/v1/certificates/batch", json={"usernames": ["w1"], "program": "WG-STAR",
                                                         "reason": "评星", "only_qualified": True}).get_json()
    assert body["issued"] == []
    assert body["refused"][0]["reason"].startswith("未满足认证条件：") and "积分达到 100 分" in body["refused"][0]["reason"]
    # Without the flag HR issues by hand with a reason, as for a single manual issue.
    body = api.post("/api/v1/certificates/batch", json={"usernames": "w1", "program": "WG-STAR",
                                                         "reason": "县里特批"}).get_json()
    assert [c["holder"]["username"] for c in body["issued"]] == ["w1"]


@pytest.mark.parametrize("payload, code", [
    ({"usernames": ["w1"], "program": "WG-SG"}, "reason_required"),
    ({"usernames": ["w1"], "program": "WG-SG", "reason": " "}, "reason_required"),
    ({"usernames": [], "program": "WG-SG", "reason": "x"}, "usernames_required"),
    ({"usernames": 5, "program": "WG-SG", "reason": "x"}, "invalid_usernames"),
    ({"program": "WG-SG", "reason": "x"}, "invalid_usernames"),
    ({"usernames": ["w1"], "program": "NOPE", "reason": "x"}, "unknown_program"),
    ({"usernames": ["w1"], "reason": "x"}, "program_required"),
    ({"usernames": ["w1"] * 2001, "program": "WG-SG", "reason": "x"}, "too_many"),
    ({"usernames": ["w1"], "program": "WG-SG", "reason": "x", "only_qualified": "yes"}, "invalid_only_qualified"),
])
def test_bad_batches_are_refused_whole(desk, api, payload, code):
    api.login("hr1")
    response = api.post("/api/v1/certificates/batch", json=payload)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code and re.search(r"[\u4e00-\u9fff]", error["message"])
    assert _count() == 1


def test_non_numbers_in_the_list_are_refused_one_by_one(desk, api):
    api.login("hr1")
    body = api.post("/api/v1/certificates/batch", json={"usernames": ["w1", 7, None], "program": "WG-SG",
                                                         "reason": "x"}).get_json()
    assert [c["holder"]["username"] for c in body["issued"]] == ["w1"]
    assert [r["reason"] for r in body["refused"]] == ["工号必须是文字", "工号必须是文字"]


@pytest.mark.parametrize("actor", ["w1", "hr2"])
def test_workers_cannot_and_hr_one_township_over_issues_nothing(desk, api, actor):
    api.login(actor)
    response = api.post("/api/v1/certificates/batch", json={"usernames": ["w1", "w2"], "program": "WG-SG",
                                                             "reason": "x"})
    if actor == "w1":
        assert response.status_code == 403
    else:
        body = response.get_json()
        assert body["issued"] == [] and {r["reason"] for r in body["refused"]} == {"不在您的管辖范围内"}
    assert _count() == 1


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_html_batch_lists_the_qualified_then_shows_who_was_refused(desk, api, client):
    api.login("hr1")
    manage = client.get("/certificates/manage").get_data(as_text=True)
    assert "批量发证" in manage and "列出已满足条件的人" in manage
    listing = client.get("/certificates/batch?program=WG-SG&org=HX01")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "共 2 人" in text  # w1 and w2: not the holder, the leaver, HR itself nor the far worker
    token = _csrf(listing)
    missing = client.post("/certificates/batch", data={"csrf_token": token, "program": "WG-SG", "usernames": "w1",
                                                        "reason": ""})
    assert missing.status_code == 422 and "请填写发证理由" in missing.get_data(as_text=True)
    done = client.post("/certificates/batch", data={"csrf_token": token, "program": "WG-SG",
                                                     "usernames": "w1\nw2, held far", "reason": "考核合格",
                                                     "only_qualified": "1"})
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "已发 2 人，未发 2 人" in page and "已持有有效的《网格员上岗证》证书" in page and "不在您的管辖范围内" in page
    assert _count() == 3
    assert client.get("/certificates/batch?program=WG-SG&org=HX02").status_code == 403
    assert client.get("/certificates/batch?program=NOPE").status_code == 422
