"""Return-rate statistics over HTTP: the stats page, the XLSX/CSV export (scoped, masked, audited), /api/v1/stats."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.drills import queries
from lms.drills.content import RULE_NAMES
from lms.drills.services import submit_report
from lms.extensions import db
from tests.drills.factories import NOISE, POOR, import_noise, model_report
from tests.factories import make_user


@pytest.fixture
def data(tree, tmp_path):
    """Two workers of 桃源村 (青石镇) and one of 和平社区 (城关街道); trainers and HR at several levels."""
    import_noise(tmp_path)
    noise = queries.get_drill(NOISE)
    a = make_user("w-a", "worker", tree["g1"], name="张小明", phone="13812345678")
    b = make_user("w-b", "worker", tree["g1"], name="=HYPERLINK(\"x\")", phone="13900001111")
    c = make_user("w-c", "worker", tree["g2"], name="王芳", phone="13700002222")
    submit_report(a, noise, POOR)
    submit_report(a, noise, model_report())
    submit_report(b, noise, POOR)
    submit_report(c, noise, model_report())
    db.session.commit()
    make_user("tr-qs", "trainer", tree["t1"], name="青石镇培训师")
    make_user("hr", "hr", tree["county"], name="县人事")
    make_user("hr-pii", ["hr", ("pii", tree["county"])], tree["county"], name="县人事（个人信息）")
    make_user("w-x", "worker", tree["g1"])
    return tree


def _csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_stats_page_shows_first_attempt_rates_units_periods_and_export_links(api, data):
    api.login("tr-qs")
    page = api.get("/drills/stats?org=HX01").get_data(as_text=True)
    assert "data-total>3<" in page and "data-rate>66.7%<" in page
    assert "data-first-total>2<" in page and "data-first-rate>100.0%<" in page
    assert 'data-table="unit"' in page and 'data-key="HX0101"' in page  # village row under the township
    assert 'data-rule="department"' in page
    assert "（w-a）" in page and "王芳" not in page  # 和平社区 is outside 青石镇
    assert "/drills/stats.xlsx?" in page and "/drills/stats.csv?" in page
    weekly = api.get("/drills/stats?org=HX01&period=week").get_data(as_text=True)
    assert "按周（ISO 周）" in weekly and "年第" in weekly
    bad = api.get("/drills/stats?org=HX01&period=year")
    assert bad.status_code == 422 and "统计周期" in bad.get_data(as_text=True)


def test_worker_export_csv_masks_phones_neutralises_formulas_and_is_audited(api, data):
    api.login("tr-qs")
    response = api.get("/drills/stats.csv?org=HX01&view=worker")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:10] == ["工号", "姓名", "手机号", "现所在单位", "上报份数", "退回份数", "退回率(%)", "首次上报份数",
                            "首次退回份数", "首次退回率(%)"]
    assert len(rows[0]) == 10 + len(RULE_NAMES)
    body = {r[0]: r for r in rows[1:]}
    assert set(body) == {"w-a", "w-b"}
    assert body["w-a"][1:10] == ["张小明", "138****5678", "桃源村第一网格", "2", "1", "50.0", "1", "1", "100.0"]
    assert body["w-b"][1] == "'=HYPERLINK(\"x\")"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.drill_stats"))
    assert entry.actor_name == "tr-qs" and entry.target == "drills/stats.csv"
    assert entry.details["view"] == "worker" and entry.details["rows"] == 2 and entry.details["org"] == "HX01"


def test_pii_sees_full_phones_in_the_xlsx(api, data):
    api.login("hr-pii")
    response = api.get("/drills/stats.xlsx?org=HX&view=worker")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    phones = {r[0]: r[2] for r in rows[1:]}
    assert phones == {"w-a": "13812345678", "w-b": "13900001111", "w-c": "13700002222"}
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("hr")
    rows = _csv(api.get("/drills/stats.csv?org=HX&view=worker"))
    assert {r[0]: r[2] for r in rows[1:]}["w-c"] == "137****2222"


@pytest.mark.parametrize("view, first", [("unit", ["HX0101", "桃源村", "村（社区）", "HX01", "3", "2", "66.7"]),
                                         ("drill", [NOISE, "夜间施工噪声扰民", "3", "2", "66.7"]),
                                         ("rule", ["required_fields", "必填要素", "2", "66.7", "2", "100.0"])])
def test_other_views_export_their_rows(api, data, view, first):
    api.login("tr-qs")
    rows = _csv(api.get(f"/drills/stats.csv?org=HX01&view={view}"))
    assert rows[1][:len(first)] == first


def test_period_export_lists_each_month(api, data):
    api.login("hr")
    rows = _csv(api.get("/drills/stats.csv?org=HX&view=period&period=month"))
    assert rows[0][0] == "月份" and len(rows) == 2 and rows[1][2] == "4"


def test_export_refuses_bad_requests_and_other_scopes(api, data):
    api.login("tr-qs")
    assert api.get("/drills/stats.csv?org=HX02").status_code == 403
    assert api.get("/drills/stats.csv?org=NOPE").status_code == 404
    assert api.get("/drills/stats.pdf?org=HX01").status_code == 404
    bad = api.get("/drills/stats.csv?org=HX01&view=everything")
    assert bad.status_code == 422 and "导出内容" in bad.get_data(as_text=True)
    assert api.get("/drills/stats.csv?org=HX01&from=2026-02-30").status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "export.drill_stats")) == 0
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w-x")
    assert api.get("/drills/stats.csv?org=HX0101").status_code == 403


def test_stats_api_carries_the_drill_breakdown_without_changing_old_keys(api, data):
    api.login("hr")
    body = api.get("/api/v1/stats?org=HX").get_json()
    drills = body["drills"]
    assert (drills["reports"], drills["returned"], drills["return_rate"]) == (4, 2, 0.5)
    assert set(drills["by_rule"]) == set(RULE_NAMES)
    assert (drills["first_reports"], drills["first_returned"], drills["first_return_rate"]) == (3, 2, 2 / 3)
    assert [r["key"] for r in drills["by_unit"]] == ["HX01", "HX0101", "HX02", "HX0201"]
    assert {r["key"] for r in drills["by_worker"]} == {"w-a", "w-b", "w-c"}
    assert all("phone" not in r for r in drills["by_worker"])
    assert len(drills["by_month"]) >= 1 and len(drills["by_week"]) >= 1 and drills["by_drill"][0]["key"] == NOISE
    child = next(c for c in body["children"] if c["org"]["code"] == "HX01")
    assert (child["drills"]["reports"], child["drills"]["first_return_rate"]) == (3, 1.0)
    assert "by_unit" not in child["drills"]
    schema = api.get("/api/openapi.json").get_json()["paths"]["/api/v1/stats"]["get"]
    props = schema["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["drills"]["properties"]
    assert {"first_return_rate", "by_rule_rate", "by_unit", "by_week", "by_worker"} <= set(props)


def test_stats_page_and_rule_export_show_precision(api, data, tree):
    from lms.drills.services import review_report
    from lms.drills.models import DrillReport
    from tests.factories import make_user as _make_user

    trainer = _make_user("tr-prec", "trainer", tree["county"])
    returned = db.session.scalars(sa.select(DrillReport).where(DrillReport.verdict == "returned")
                                  .order_by(DrillReport.id)).first()
    review_report(trainer, returned, "accepted", 80, "")
    db.session.commit()
    failed = {c["rule"] for c in returned.checks if not c["passed"]}
    api.login("hr")
    page = api.get("/drills/stats?org=HX").get_data(as_text=True)
    assert "data-precision-note" in page and "复核后改判通过" in page
    rule = sorted(failed)[0]
    row = page.split(f'data-rule="{rule}"', 1)[1].split("</tr>", 1)[0]
    assert "<td data-reviewed>1</td>" in row and "<td data-overturned>1</td>" in row and "0.0%" in row
    rows = _csv(api.get("/drills/stats.csv?org=HX&view=rule"))
    assert rows[0][-3:] == ["其中培训老师复核份数", "复核后改判通过份数", "准确率(%)"]
    exported = next(r for r in rows[1:] if r[0] == rule)
    assert exported[-3:] == ["1", "1", "0.0"]
