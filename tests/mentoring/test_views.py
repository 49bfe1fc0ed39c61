"""HTML pages: log form, confirmations, pairings, outcomes, export, teams — wiring, bad input, scope."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.mentoring.models import Activity, ActivityStatus, Pairing
from tests.factories import make_user
from tests.mentoring.factories import days, log, make_cast, make_pairing


@pytest.fixture
def cast(tree):
    return make_cast(tree)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _page(api, url):
    response = api.get(url)
    return response, response.get_data(as_text=True)


def test_mentor_logs_on_the_form_and_a_resubmit_does_not_duplicate(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("mentor")
    response, html = _page(api, f"/mentoring/pairings/{pairing.id}/log")
    assert response.status_code == 200 and "跟岗学习" in html and 'name="client_id"' in html
    client_id = re.search(r'name="client_id" value="([^"]+)"', html).group(1)
    form = {"csrf_token": _csrf(html), "client_id": client_id, "mentee": "w1", "kind": "joint_visit",
            "date": days(-1).isoformat(), "minutes": "45", "place": "", "notes": "联合走访困难户"}
    assert api.client.post(f"/mentoring/pairings/{pairing.id}/log", data=form).status_code == 302
    assert api.client.post(f"/mentoring/pairings/{pairing.id}/log", data=form).status_code == 302
    assert db.session.query(Activity).count() == 1


@pytest.mark.parametrize("field, value, message", [
    ("minutes", "0", "时长必须在 1 到 1440 分钟之间"),
    ("date", days(2).isoformat(), "活动日期不能晚于今天"),
    ("date", days(-300).isoformat(), "活动日期须在结对期间"),
    ("kind", "", "活动类型只能是"),
    ("notes", "", "请填写活动内容"),
])
def test_log_form_bad_input_shows_the_message_and_keeps_the_values(api, cast, field, value, message):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("mentor")
    _, html = _page(api, f"/mentoring/pairings/{pairing.id}/log")
    form = {"csrf_token": _csrf(html), "client_id": "k1", "mentee": "w1", "kind": "shadowing",
            "date": days(-1).isoformat(), "minutes": "60", "place": "村委会", "notes": "跟岗", field: value}
    response = api.client.post(f"/mentoring/pairings/{pairing.id}/log", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "村委会" in html
    assert db.session.query(Activity).count() == 0


@pytest.mark.parametrize("username", ["w1", "hr"])
def test_log_form_is_the_mentors_only(api, cast, username):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login(username)
    assert api.get(f"/mentoring/pairings/{pairing.id}/log").status_code == 403


def test_mentee_confirms_and_disputes_on_the_confirm_page(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    first = log(cast["mentor"], pairing, notes="跟岗学习网格巡查")
    second = log(cast["mentor"], pairing, kind="case_review", notes="复盘噪音投诉")
    api.login("w1")
    response, html = _page(api, "/mentoring/confirm")
    assert "跟岗学习网格巡查" in html and "确认属实" in html and "有异议" in html
    token = _csrf(html)
    assert api.client.post(f"/mentoring/activities/{first.id}/confirm", data={"csrf_token": token}).status_code == 302
    # An empty reason is refused with a message, nothing changes.
    api.client.post(f"/mentoring/activities/{second.id}/dispute", data={"csrf_token": token, "reason": ""})
    assert db.session.get(Activity, second.id).status == ActivityStatus.logged
    api.client.post(f"/mentoring/activities/{second.id}/dispute", data={"csrf_token": token, "reason": "没有复盘"})
    assert db.session.get(Activity, first.id).status == ActivityStatus.confirmed
    assert db.session.get(Activity, second.id).status == ActivityStatus.disputed
    # Confirming again is a conflict; without the CSRF token it is refused.
    assert api.client.post(f"/mentoring/activities/{first.id}/confirm", data={"csrf_token": token}).status_code == 409
    assert api.client.post(f"/mentoring/activities/{first.id}/confirm").status_code == 400


def test_someone_elses_activity_cannot_be_confirmed_on_the_page(api, cast):
    activity = log(cast["mentor"], make_pairing(cast["mentor"], [cast["w1"]]))
    api.login("w2")
    _, html = _page(api, "/mentoring/confirm")
    response = api.client.post(f"/mentoring/activities/{activity.id}/confirm", data={"csrf_token": _csrf(html)})
    assert response.status_code == 403
    assert db.session.get(Activity, activity.id).status == ActivityStatus.logged


def test_dashboard_lists_mentees_with_this_month(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    log(cast["mentor"], pairing, date=days(0).isoformat())
    api.login("mentor")
    response, html = _page(api, "/mentoring")
    assert response.status_code == 200
    assert "张小明" in html and "本月活动" in html and "记录带教活动" in html
    api.login("w1")
    assert api.get("/mentoring").status_code == 403


def test_hr_creates_a_pairing_on_the_page_and_sees_suggestions(api, cast):
    api.login("hr")
    response, html = _page(api, "/mentoring/pairings")
    assert "新人导师推荐" in html and "张小明" in html and "赵德山" in html
    form = {"csrf_token": _csrf(html), "mentor": "mentor", "mentees": "w1，w2", "start": days(0).isoformat(),
            "end": days(90).isoformat(), "goals": "入户走访"}
    assert api.client.post("/mentoring/pairings", data=form).status_code == 302
    pairing = db.session.query(Pairing).one()
    assert {pm.mentee.username for pm in pairing.mentees} == {"w1", "w2"}
    bad = api.client.post("/mentoring/pairings", data={**form, "mentees": "w3"})
    assert bad.status_code == 422 and "最多 2 名" in bad.get_data(as_text=True)
    _, html = _page(api, "/mentoring/pairings")
    ended = api.client.post(f"/mentoring/pairings/{pairing.id}/end", data={"csrf_token": _csrf(html),
                                                                          "reason": "导师调岗"})
    assert ended.status_code == 302 and db.session.get(Pairing, pairing.id).end_reason == "导师调岗"


def test_township_hr_cannot_end_another_townships_pairing(api, cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("hr2")
    _, html = _page(api, "/mentoring/pairings")
    assert "赵德山" not in html
    response = api.client.post(f"/mentoring/pairings/{pairing.id}/end", data={"csrf_token": _csrf(html),
                                                                             "reason": "x"})
    assert response.status_code == 403


def test_export_is_scoped_audited_and_formula_safe(api, cast, tree):
    evil = make_user("evil", ["worker", ("mentor", tree["t1"])], tree["g1"], name="=HYPERLINK(1)",
                     hired_on=cast["mentor"].hired_on)
    make_pairing(evil, [cast["w1"]])
    make_pairing(cast["mentor"], [cast["w2"]])
    api.login("hr")
    response = api.get("/exports/pairings.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("结对编号", "导师姓名", "导师工号", "学员姓名", "学员工号")
    assert len(rows) == 3
    assert "'=HYPERLINK(1)" in [r[1] for r in rows[1:]]
    entry = db.session.query(AuditEntry).filter_by(action="export.pairings").one()
    assert entry.details["rows"] == 2
    api.login("hr2")
    scoped = openpyxl.load_workbook(io.BytesIO(api.get("/exports/pairings.xlsx").data), read_only=True).active
    assert len(list(scoped.iter_rows(values_only=True))) == 1
    api.login("w1")
    assert api.get("/exports/pairings.xlsx").status_code == 403


def test_outcomes_page_shows_the_township_rollup(api, cast):
    make_pairing(cast["mentor"], [cast["w1"]])
    api.login("hr")
    response, html = _page(api, "/mentoring/outcomes")
    assert response.status_code == 200 and "青石镇" in html and "结对前退回率" in html and "导出 Excel" in html


def test_team_pages_and_gaps(api, cast, tree):
    make_user("leader", ["worker", ("grid_leader", tree["g1"])], tree["g1"], name="孙丽")
    api.login("hr")
    _, html = _page(api, "/teams/gaps")
    assert "和平社区第一网格" in html and "桃源村第一网格" not in html
    response, html = _page(api, "/teams/HX010101")
    assert response.status_code == 200 and "孙丽" in html and "达到配置要求" in html
    assert api.get("/teams/NOPE").status_code == 404
    api.login("leader")
    assert api.get("/teams/HX010101").status_code == 200
    assert api.get("/teams/HX020101").status_code == 403
    api.login("w1")
    assert api.get("/teams").status_code == 403


def test_home_shows_the_mentoring_tiles(api, cast):
    log(cast["mentor"], make_pairing(cast["mentor"], [cast["w1"]]))
    api.login("w1")
    assert "待确认的带教活动（1）" in api.get("/").get_data(as_text=True)
    api.login("mentor")
    assert "我的学员" in api.get("/").get_data(as_text=True)


def test_log_form_links_a_drill_report_and_works_without_the_hidden_key(api, cast, monkeypatch):
    from lms.mentoring import crossfeature

    owner = cast["w1"].id  # read now: the request runs on another connection
    monkeypatch.setattr(crossfeature, "drill_report_owner_id", lambda rid: owner)
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    api.login("mentor")
    _, html = _page(api, f"/mentoring/pairings/{pairing.id}/log")
    form = {"csrf_token": _csrf(html), "mentee": "w1", "kind": "case_review", "date": days(-1).isoformat(),
            "minutes": "30", "notes": "复盘一份被退回的上报", "drill_report_id": "41"}
    assert api.client.post(f"/mentoring/pairings/{pairing.id}/log", data=form).status_code == 302
    assert db.session.query(Activity).one().drill_report_id == 41
