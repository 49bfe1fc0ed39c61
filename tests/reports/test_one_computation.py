"""One computation for every figure (#12.6): /stats JSON and page, the dashboard, the statistics export, the
progress summary and the progress export agree on one county's data, for the same filter."""
from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest

from lms.reports.dashboard import format_rate
from tests.progress.county import build_county, today


@pytest.fixture
def county(app):
    return build_county()


def _window(before: int = 30, after: int = 90) -> dict:
    return {"from": (today() - dt.timedelta(days=before)).isoformat(),
            "to": (today() + dt.timedelta(days=after)).isoformat()}


def _query(params: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


def _progress(api, **params):
    body = api.get(f"/api/v1/progress?{_query(params)}&per_page=500").get_json()
    return body["rows"], body["summary"]


def _dashboard_cells(html: str, org: str) -> dict:
    row = html.split(f'data-org="{org}"')[1].split("</tr>")[0]
    return dict(re.findall(r'data-key="([^"]+)" data-value="[^"]*">([^<]*)<', row))


def _xlsx(response) -> list[tuple]:
    assert response.status_code == 200
    return list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


@pytest.mark.parametrize("org", ["HX", "HX01", "HX02"])
def test_course_completion_agrees_everywhere(api, county, org):
    api.login("hr01")
    window = {"org": org, **_window()}
    stats = api.get(f"/api/v1/stats?{_query(window)}").get_json()["courses"]
    assigned = completed = 0
    for code in ("c-duties", "c-ss"):
        rows, summary = _progress(api, kind="course", code=code, org=org)
        assert sum(summary.values()) == len(rows)
        assigned += len(rows)
        completed += summary["done"]
        export = _xlsx(api.get(f"/exports/progress.xlsx?kind=course&code={code}&org={org}"))
        assert len(export) - 1 == len(rows)
        assert sum(1 for r in export[1:] if r[5] == "已完成") == summary["done"]
    assert (stats["assigned"], stats["completed"]) == (assigned, completed)
    text = format_rate(completed, assigned, stats["completion_rate"])
    dashboard = api.get(f"/stats/dashboard?{_query(window)}").get_data(as_text=True)
    assert _dashboard_cells(dashboard, org)["courses.completion_rate"] == text
    page = api.get(f"/stats?{_query(window)}").get_data(as_text=True)
    assert text.split("（")[0] in page
    sheet = _xlsx(api.get(f"/exports/trainings.xlsx?{_query(window)}", buffered=True))
    header, total = sheet[0], sheet[1]
    assert total[header.index("指派课程（人·门）")] == assigned
    assert total[header.index("已完成（人·门）")] == completed


def test_county_figures_are_the_sum_of_the_assignments(api, county):
    api.login("hr01")
    stats = api.get(f"/api/v1/stats?{_query({'org': 'HX', **_window()})}").get_json()["courses"]
    # c-duties: 7 workers (2 done); c-ss: 6 people of 青石镇 (1 done)
    assert (stats["assigned"], stats["completed"]) == (13, 3)


def test_assignment_due_after_the_default_window_counts_in_its_own(api, county):
    api.login("hr01")
    default = api.get("/api/v1/stats?org=HX").get_json()["courses"]
    assert (default["assigned"], default["due_later"]) == (7, 6)  # c-ss falls due in 60 days
    later = {"org": "HX", "from": (today() + dt.timedelta(days=1)).isoformat(),
             "to": (today() + dt.timedelta(days=90)).isoformat()}
    assert api.get(f"/api/v1/stats?{_query(later)}").get_json()["courses"]["assigned"] == 6
    rows, _ = _progress(api, kind="assignment", code=county["a2"].id)
    assert len(rows) == 6
    page = api.get("/stats?org=HX").get_data(as_text=True)
    assert "另有 6（人·门）指派的截止日期在" in page
    assert "另有 6（人·门）指派的截止日期在" in api.get("/stats/dashboard?org=HX").get_data(as_text=True)


def test_quiz_figures_agree_with_the_progress_of_the_quiz(api, county):
    api.login("hr01")
    stats = api.get(f"/api/v1/stats?{_query({'org': 'HX', **_window()})}").get_json()["quizzes"]
    rows, summary = _progress(api, kind="quiz", code="q-exam")
    assert stats["attempts"] == sum(r["progress"]["done"] for r in rows) == 4
    # two people passed (w001 once, w004 at the second attempt): two passed attempts
    assert stats["passed"] == summary["done"] == 2
    dashboard = api.get(f"/stats/dashboard?{_query({'org': 'HX', **_window()})}").get_data(as_text=True)
    assert _dashboard_cells(dashboard, "HX")["quizzes.pass_rate"] == "50.0%（2/4）"


def test_no_data_reads_the_same_everywhere(api, county):
    api.login("hr01")
    empty = {"org": "HX02", "from": "2025-01-01", "to": "2025-02-01"}
    stats = api.get(f"/api/v1/stats?{_query(empty)}").get_json()
    assert stats["courses"]["assigned"] == 0 and stats["quizzes"]["attempts"] == 0
    dashboard = _dashboard_cells(api.get(f"/stats/dashboard?{_query(empty)}").get_data(as_text=True), "HX02")
    assert dashboard["courses.completion_rate"] == dashboard["quizzes.pass_rate"] == "无数据"
    page = api.get(f"/stats?{_query(empty)}").get_data(as_text=True)
    total_row = page.split('class="stats-total"')[1].split("</tr>")[0]
    assert "0.0%" not in total_row and total_row.count("无数据") >= 2
    sheet = _xlsx(api.get(f"/exports/trainings.xlsx?{_query(empty)}", buffered=True))
    header, total = sheet[0], sheet[1]
    assert total[header.index("课程完成率(%)")] is None and total[header.index("测验通过率(%)")] is None
