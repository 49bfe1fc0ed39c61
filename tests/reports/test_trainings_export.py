"""/exports/trainings.xlsx: figures per org unit read back with openpyxl, neutralising, scope, audit, bad input."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.reports.export_views import TRAINING_COLUMNS
from tests.factories import make_org
from tests.reports.test_dashboard import seed_statistics

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def data(tree):
    return seed_statistics(tree)


def _get(api, url):
    # buffered: the body streams inside the request's context, as a WSGI server iterates it.
    return api.get(url, buffered=True)


def _rows(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        return [list(row) for row in book.active.iter_rows(values_only=True)]
    finally:
        book.close()


def _exports() -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "export.trainings")))


def test_rows_are_the_unit_and_each_child_with_the_stats_figures(api, data):
    api.login("hrc")
    expected = api.get(f"/api/v1/stats?org=HX&{MARCH}").get_json()
    response = _get(api, f"/exports/trainings.xlsx?org=HX&{MARCH}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="trainings-HX-20260301-20260331.xlsx"' in response.headers["Content-Disposition"]
    rows = _rows(response)
    assert tuple(rows[0]) == TRAINING_COLUMNS
    assert [r[:4] for r in rows[1:]] == [["HX", "红溪县", "县（区）", None], ["HX01", "青石镇", "乡镇（街道）", "红溪县"],
                                         ["HX02", "城关街道", "乡镇（街道）", "红溪县"]]
    for row, item in zip(rows[1:], [expected, *expected["children"]], strict=True):
        figures = dict(zip(TRAINING_COLUMNS, row, strict=True))
        assert figures["培训场次"] == item["trainings"]["sessions"]
        assert figures["培训人次"] == item["trainings"]["attendances"]
        assert figures["培训学时"] == item["trainings"]["hours"]
        assert figures["指派课程（人·门）"] == item["courses"]["assigned"]
        assert figures["已完成（人·门）"] == item["courses"]["completed"]
        assert figures["测验交卷人次"] == item["quizzes"]["attempts"]
        assert figures["测验通过人次"] == item["quizzes"]["passed"]
        assert figures["模拟上报份数"] == item["drills"]["reports"]
        assert figures["退回份数"] == item["drills"]["returned"]
        assert figures["统计起始"] == dt.datetime(2026, 3, 1) and figures["统计截止"] == dt.datetime(2026, 3, 31)
    qingshi = dict(zip(TRAINING_COLUMNS, rows[2], strict=True))
    assert qingshi["培训场次"] == 1 and qingshi["培训人次"] == 5 and qingshi["培训学时"] == 13
    assert qingshi["课程完成率(%)"] == 50.0 and qingshi["测验通过率(%)"] == 66.7 and qingshi["上报退回率(%)"] == 33.3


def test_rates_of_nothing_are_empty_cells_not_zero(api, data):
    api.login("hrc")
    rows = _rows(_get(api, "/exports/trainings.xlsx?org=HX&from=2025-01-01&to=2025-01-31"))
    for row in rows[1:]:
        figures = dict(zip(TRAINING_COLUMNS, row, strict=True))
        assert figures["培训场次"] == 0 and figures["指派课程（人·门）"] == 0
        assert figures["课程完成率(%)"] is None and figures["测验通过率(%)"] is None and figures["上报退回率(%)"] is None


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)"])
def test_unit_names_that_look_like_formulas_are_neutralised(api, data, tree, name):
    make_org("HX03", "township", tree["county"], name=name)
    api.login("hrc")
    rows = _rows(_get(api, f"/exports/trainings.xlsx?org=HX&{MARCH}"))
    assert rows[-1][:2] == ["HX03", "'" + name]


def test_export_is_audited_with_its_filter_and_row_count(api, data):
    api.login("hr1")
    response = _get(api, f"/exports/trainings.xlsx?org=HX01&{MARCH}")
    assert response.status_code == 200
    [entry] = _exports()
    assert entry.actor_name == "hr1" and entry.target == "trainings.xlsx"
    assert entry.details == {"org": "HX01", "from": "2026-03-01", "to": "2026-03-31", "rows": 2}
    assert [r[0] for r in _rows(response)[1:]] == ["HX01", "HX0101"]


def test_without_org_the_export_covers_the_hr_roles_unit(api, data):
    api.login("hr1")
    rows = _rows(_get(api, f"/exports/trainings.xlsx?{MARCH}"))
    assert rows[1][0] == "HX01"
    assert _exports()[0].details["org"] == "HX01"


@pytest.mark.parametrize("username,org", [("hr1", "HX"), ("hr1", "HX02"), ("hr1", "HX0201")])
def test_an_org_outside_the_hr_scope_is_refused_not_narrowed(api, data, username, org):
    api.login(username)
    response = _get(api, f"/exports/trainings.xlsx?org={org}&{MARCH}")
    assert response.status_code == 403 and not response.data.startswith(b"PK")
    assert _exports() == []


@pytest.mark.parametrize("username", ["tt2", "ct01", "w001"])
def test_roles_without_the_export_permission_are_refused(api, data, username):
    api.login(username)
    assert _get(api, f"/exports/trainings.xlsx?{MARCH}").status_code == 403
    assert _exports() == []


@pytest.mark.parametrize("query,status,message", [
    ("org=NOPE", 404, "组织编码 NOPE 不存在"),
    ("org=HX&from=2026-02-30", 422, "起始日期 from格式应为 YYYY-MM-DD"),
    ("org=HX&to=" + "9" * 300, 422, "截止日期 to格式应为 YYYY-MM-DD"),
    ("org=HX&from=2026-04-01&to=2026-03-01", 422, "起始日期不能晚于截止日期"),
])
def test_bad_filters_are_clear_errors_and_not_audited(api, data, query, status, message):
    api.login("hrc")
    response = _get(api, f"/exports/trainings.xlsx?{query}")
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert _exports() == []
