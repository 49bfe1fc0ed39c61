"""Bad input named in issue #5, end to end: graded or refused with a clear Chinese message, never a 500."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.drills.content import FIELD_LABELS, FORM_FIELDS, RULE_NAMES
from lms.drills.models import DrillReport
from lms.drills.rules import MAX_FIELD_CHARS
from lms.extensions import db
from tests.drills.factories import NOISE, POOR, model_report
from tests.factories import make_user

URL = f"/api/v1/drills/{NOISE}/reports"
FULL_WIDTH = str.maketrans("0123456789:", "０１２３４５６７８９：")


@pytest.fixture
def worker(api, tree, noise):
    make_user("w-qs", "worker", tree["g1"], name="张小明")
    api.login("w-qs")


def _failed(result) -> dict[str, str]:
    return {c["rule"]: c["message"] for c in result["checks"] if not c["passed"]}


def test_every_field_blank_or_whitespace_is_returned_naming_each_missing_field(api, worker):
    result = api.post(URL, json={name: " \u3000\t\n" for name in FORM_FIELDS}).get_json()
    # Every rule fails but no_fabrication (nothing written, nothing made up) and notified (the noise drill is
    # not urgent): 2 of 13 equal weights.
    assert result["verdict"] == "returned" and result["score"] == 15
    assert set(_failed(result)) == set(RULE_NAMES) - {"no_fabrication", "notified"}
    message = _failed(result)["required_fields"]
    assert message == "缺少必填要素：" + "、".join(FIELD_LABELS[f] for f in FORM_FIELDS) + "。请补全后再提交"


def test_a_ten_thousand_character_description_is_kept_whole_and_graded(api, worker):
    description = model_report()["description"]
    description = (description * (MAX_FIELD_CHARS // len(description) + 1))[:MAX_FIELD_CHARS]
    response = api.post(URL, json=model_report() | {"description": description})
    assert response.status_code == 201
    stored = db.session.get(DrillReport, response.get_json()["id"])
    assert stored.fields["description"] == description
    # Repeating one's own words is not copying the scenario; the report is still a good one.
    assert response.get_json()["verdict"] == "accepted", _failed(response.get_json())
    longer = api.post(URL, json=model_report() | {"description": description + "多出来的字"}).get_json()
    assert len(db.session.get(DrillReport, longer["id"]).fields["description"]) == MAX_FIELD_CHARS


def test_full_width_digits_and_emoji_are_read_like_plain_text(api, worker):
    report = {name: value.translate(FULL_WIDTH) for name, value in model_report().items()}
    report["description"] += "😀👍"
    report["parties"] = "🏠 " + report["parties"]
    result = api.post(URL, json=report).get_json()
    assert result["verdict"] == "accepted", _failed(result)
    assert "２２" in report["occurred_at"] or "１０" in report["occurred_at"]  # the input really was full width


@pytest.mark.parametrize("occurred_at, expected", [
    ("明天晚上10点", "晚于上报时间"), ("2027-09-09 22:20", "晚于上报时间"),
    ("9月9日晚上25点", "时间填写有误：没有25点"), ("9月9日22:75", "分钟数不对"), ("13月9日晚上10点", "没有13月"),
    ("9月31日晚上10点", "9月没有31日"),
])
def test_future_or_impossible_times_are_returned_with_what_is_wrong(api, worker, occurred_at, expected):
    result = api.post(URL, json=model_report() | {"occurred_at": occurred_at}).get_json()
    failed = _failed(result)
    assert list(failed) == ["time_specific"] and expected in failed["time_specific"]


def test_html_in_fields_is_stored_as_typed_and_escaped_on_every_page(api, tree, worker):
    hostile = "<img src=x onerror=alert(1)>"
    result = api.post(URL, json=model_report() | {"parties": hostile + "陈某", "demand": "<b>停工</b>"}).get_json()
    stored = db.session.get(DrillReport, result["id"])
    assert stored.fields["parties"].startswith(hostile)  # kept as typed: the API returns data, not HTML
    for url in (f"/drills/{NOISE}?report={result['id']}", f"/drill-reports/{result['id']}"):
        page = api.get(url).get_data(as_text=True)
        assert hostile not in page and "&lt;img src=x onerror=alert(1)&gt;" in page, url
        assert "<b>停工</b>" not in page
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    page = api.get(f"/drill-reports/{result['id']}").get_data(as_text=True)
    assert hostile not in page


def test_a_drill_that_does_not_exist_is_404_on_every_route(api, worker):
    for method, url in (("get", "/drills/no-such-drill"), ("post", "/drills/no-such-drill"),
                        ("get", "/api/v1/drills/no-such-drill"), ("post", "/api/v1/drills/no-such-drill/reports")):
        if method == "post" and not url.startswith("/api"):
            response = api.client.post(url, data=POOR | {"csrf_token": api.csrf})
        else:
            response = getattr(api, method)(url, json=POOR) if method == "post" else api.get(url)
        assert response.status_code == 404, url
        assert "找不到这个演练" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DrillReport)) == 0


def test_a_trainer_outside_the_scope_can_neither_review_nor_read(api, tree, worker):
    report_id = api.post(URL, json=POOR).get_json()["id"]
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("tr-cg", "trainer", tree["t2"])
    api.login("tr-cg")
    response = api.post(f"/api/v1/drill-reports/{report_id}/review",
                        json={"verdict": "accepted", "score": 90, "comment": "越权"})
    assert response.status_code == 403
    assert "超出了您的角色或管辖范围" in response.get_json()["error"]["message"]
    assert api.get(f"/api/v1/drill-reports/{report_id}").status_code == 403
    assert api.get(f"/drill-reports/{report_id}").status_code == 403
    assert db.session.get(DrillReport, report_id).verdict.value == "returned"
