"""HTML pages: the plain-POST report form with feedback at the fields, history, review form, editor, stats."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.drills import queries
from lms.drills.definition import from_definition
from lms.drills.forms import form_from_definition
from lms.drills.models import DrillOrigin, DrillReport, DrillVersion
from lms.extensions import db
from tests.drills.factories import NOISE, POOR, model_report
from tests.factories import make_user


def _post_form(api, url, data):
    return api.client.post(url, data=data | {"csrf_token": api.csrf})


def test_drill_page_shows_scenario_form_and_lists_but_no_answer_key(api, worker, noise):
    api.login("w-qs")
    assert NOISE in api.get("/drills").get_data(as_text=True)
    page = api.get(f"/drills/{NOISE}").get_data(as_text=True)
    assert "和平商住楼" in page and 'name="client_id"' in page
    for label in ("事件类型", "发生时间", "发生地点", "当事人", "事件经过", "群众诉求", "已采取措施", "责任部门", "紧急程度"):
        assert f">{label}</label>" in page
    assert "<option>较急</option>" in page
    for secret in (noise.definition["model_report"]["description"][:20], "已取得夜间施工证明", "生态环境法典"):
        assert secret not in page


def test_plain_post_without_js_shows_failed_rules_at_their_fields_and_keeps_every_attempt(api, worker, noise):
    api.login("w-qs")
    response = _post_form(api, f"/drills/{NOISE}", POOR | {"client_id": "form-1"})
    assert response.status_code == 302
    first = db.session.scalar(sa.select(DrillReport))
    assert response.headers["Location"].endswith(f"/drills/{NOISE}?report={first.id}#feedback")
    page = api.get(f"/drills/{NOISE}?report={first.id}").get_data(as_text=True)
    assert "✗ 退回" in page
    department = next(c for c in first.checks if c["rule"] == "department")
    assert re.search(r'id="f-department"[^>]*aria-invalid="true"', page.replace("\n", " "))
    assert f"✗ 需修改：{department['message']}" in page
    assert 'value="工地"' in page  # the worker revises what was typed
    # A double tap of the same form records once.
    again = _post_form(api, f"/drills/{NOISE}", POOR | {"client_id": "form-1"})
    assert again.headers["Location"] == response.headers["Location"]
    _post_form(api, f"/drills/{NOISE}", model_report() | {"client_id": "form-2"})
    reports = queries.list_my_reports(worker, noise)
    assert [(r.attempt, r.verdict.value) for r in reports] == [(2, "accepted"), (1, "returned")]
    page = api.get(f"/drills/{NOISE}?report={reports[0].id}").get_data(as_text=True)
    assert "✓ 通过" in page and "第 1 次" in page and "第 2 次" in page


def test_form_post_without_csrf_is_refused(api, worker, noise):
    api.login("w-qs")
    response = api.client.post(f"/drills/{NOISE}", data=POOR)
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DrillReport)) == 0


def test_someone_elses_report_is_not_shown(api, tree, worker, noise):
    api.login("w-qs")
    _post_form(api, f"/drills/{NOISE}", POOR)
    report = db.session.scalar(sa.select(DrillReport))
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("w-cg", "worker", tree["g2"])
    make_user("tr-cg", "trainer", tree["t2"])
    for username in ("w-cg", "tr-cg"):
        api.login(username)
        assert api.get(f"/drills/{NOISE}?report={report.id}").status_code == 404
        assert api.get(f"/drill-reports/{report.id}").status_code == 403
        assert _post_form(api, f"/drill-reports/{report.id}/review",
                          {"verdict": "accepted", "score": "90"}).status_code == 403
        api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})


def test_review_queue_filters_and_the_review_form_overrides_or_explains_bad_input(api, tree, worker, noise):
    other = make_user("w-cg", "worker", tree["g2"])
    api.login("w-qs")
    _post_form(api, f"/drills/{NOISE}", POOR)
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w-cg")
    _post_form(api, f"/drills/{NOISE}", model_report())
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    queue = api.get("/drills/review").get_data(as_text=True)
    assert "张小明" in queue and other.username not in queue
    assert "张小明" not in api.get("/drills/review?verdict=accepted").get_data(as_text=True)
    assert api.get("/drills/review?org=HX02").status_code == 403
    report = queries.list_my_reports(worker)[0]
    bad = _post_form(api, f"/drill-reports/{report.id}/review", {"verdict": "accepted", "score": "120",
                                                                  "comment": "好"})
    assert bad.status_code == 422 and "0 到 100" in bad.get_data(as_text=True)
    ok = _post_form(api, f"/drill-reports/{report.id}/review", {"verdict": "accepted", "score": "80",
                                                                 "comment": "可以"})
    assert ok.status_code == 302
    assert db.session.get(DrillReport, report.id).score == 80
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.action == "drill.review"))


def test_worker_cannot_open_trainer_pages(api, worker):
    api.login("w-qs")
    for url in ("/drills/review", "/drills/manage", "/drills/new", "/drills/stats", f"/drills/{NOISE}/edit"):
        assert api.get(url).status_code == 403, url


# ------------------------------------------------------------------ editor

def _editor_data(noise, **changes):
    values = form_from_definition(noise.definition)
    data = {k: v for k, v in values.items() if not isinstance(v, list)}
    data.update(changes)
    data["answer_department"] = values["answer_department"]
    data["required"] = values["required"]
    data["answer_event_type"] = values["answer_event_type"]
    return data


def test_trainer_writes_a_drill_and_cannot_publish_until_the_model_report_is_accepted(api, tree, noise):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    assert "情景" in api.get("/drills/new").get_data(as_text=True)
    data = _editor_data(noise, code="qs-noise", org="HX01", model_department="城管局（综合行政执法局）",
                        action="publish")
    refused = _post_form(api, "/drills/new", data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "不能发布" in page and "✗ 责任部门" in page
    assert queries.get_drill("qs-noise") is None
    draft = _post_form(api, "/drills/new", data | {"action": "save"})
    assert draft.status_code == 302
    drill = queries.get_drill("qs-noise")
    assert (drill.origin, drill.is_published, drill.version) == (DrillOrigin.web, False, 1)
    worker = make_user("w-qs", "worker", tree["g1"])
    assert drill not in queries.list_visible(worker)
    published = _post_form(api, "/drills/qs-noise/edit", data | {"model_department": "住建局"})
    assert published.status_code == 302
    db.session.expire_all()
    drill = queries.get_drill("qs-noise")
    assert (drill.is_published, drill.version) == (True, 2)
    assert drill in queries.list_visible(worker)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DrillVersion)
                             .where(DrillVersion.drill_id == drill.id)) == 2
    assert from_definition(drill.definition).answer.departments == ("住建局",)
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "drill.publish"))


def test_editing_a_file_drill_detaches_it_and_needs_scope(api, tree, noise):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    assert api.get(f"/drills/{NOISE}/edit").status_code == 403  # a county drill
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("tr-county", "trainer", tree["county"])
    api.login("tr-county")
    response = _post_form(api, f"/drills/{NOISE}/edit", _editor_data(noise, title="夜间施工噪声（县训版）",
                                                                       action="publish"))
    assert response.status_code == 302
    db.session.expire_all()
    drill = queries.get_drill(NOISE)
    assert (drill.title, drill.is_detached, drill.version, drill.origin) == ("夜间施工噪声（县训版）", True, 2,
                                                                             DrillOrigin.file)


@pytest.mark.parametrize("changes, message", [
    ({"facts": "没有冒号的一行"}, "关键事实第1行"),
    ({"numbers": "天数 | 三 | 天 | 连续"}, "不是数字"),
    ({"reference_time": "昨天"}, "“当前时间”“昨天”不是有效的日期时间"),
    ({"code": "stats"}, "系统保留字"),
    ({"weight_key_facts": "很重"}, "不是数字"),
    ({"title": ""}, "title"),
    ({"answer_urgency": "特急"}, "特急"),
    ({"title": "长" * 201}, "标题太长"),
    ({"code": "a" * 81}, "代码太长"),
])
def test_editor_bad_input_is_422_with_a_chinese_message_and_nothing_saved(api, tree, noise, changes, message):
    make_user("tr-county", "trainer", tree["county"])
    api.login("tr-county")
    data = _editor_data(noise, code="new-drill", action="save") | changes
    response = _post_form(api, "/drills/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert queries.get_drill(data["code"]) is None


def test_editor_refuses_an_org_outside_scope_and_a_taken_code(api, tree, noise):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    assert _post_form(api, "/drills/new", _editor_data(noise, code="x-drill", org="HX02", action="save")
                      ).status_code == 403
    taken = _post_form(api, "/drills/new", _editor_data(noise, code=NOISE, org="HX01", action="save"))
    assert taken.status_code == 409 and "已被其他演练使用" in taken.get_data(as_text=True)


def test_preview_renders_sanitised_markdown(api, tree):
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    response = api.post("/drills/preview", json={"markdown": "**夜间**施工<script>alert(1)</script>"})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "<strong>夜间</strong>" in html and "<script>" not in html
    assert api.post("/drills/preview", json=["x"]).status_code == 400


# ------------------------------------------------------------------ statistics page

def test_stats_page_counts_return_rate_by_rule_and_unit(api, tree, worker, noise):
    api.login("w-qs")
    _post_form(api, f"/drills/{NOISE}", POOR)
    _post_form(api, f"/drills/{NOISE}", model_report())
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    page = api.get("/drills/stats?org=HX01").get_data(as_text=True)
    assert 'data-total>2<' in page and "data-rate>50.0%<" in page
    assert "桃源村" in page
    assert api.get("/drills/stats?org=HX02").status_code == 403
    assert api.get("/drills/stats?org=NOPE").status_code == 404
    bad = api.get("/drills/stats?org=HX01&from=2026-13-01")
    assert bad.status_code == 422 and "不是有效日期" in bad.get_data(as_text=True)
    assert api.get("/drills/stats?org=HX01&from=2026-06-02&to=2026-06-01").status_code == 422
