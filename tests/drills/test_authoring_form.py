"""The report-drill editor as a form: date-time picker in county time, one row per fact/number/trap with its
synonyms, 检查范文 (the rules on the model report, nothing saved), generated codes, scope."""
from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from lms.drills import queries
from lms.drills.forms import definition_from_form, form_from_definition, reference_time_from_form
from tests.drills.factories import NOISE
from tests.factories import make_user


def _rows(noise, **changes) -> MultiDict:
    """The editor's fields for the shipped night-noise drill, facts/numbers/traps as rows (what the page posts)."""
    values = form_from_definition(noise.definition)
    data = MultiDict()
    for key, value in values.items():
        if isinstance(value, str) and key not in ("facts", "numbers", "traps"):
            data[key] = value
    for key in ("answer_department", "required", "answer_event_type"):
        data.setlist(key, values[key])
    for prefix, rows in (("fact", values["fact_rows"]), ("trap", values["trap_rows"])):
        data.setlist(f"{prefix}_name", [r["name"] for r in rows] + ["", ""])
        data.setlist(f"{prefix}_any", ["、".join(r["any"]) for r in rows] + ["", ""])
    numbers = values["number_rows"] + [{"name": "", "value": "", "unit": "", "near": [], "field": ""}]
    for column in ("name", "value", "unit", "field"):
        data.setlist(f"number_{column}", [str(n[column]) for n in numbers])
    data.setlist("number_near", ["、".join(n["near"]) for n in numbers])
    for key, value in changes.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return data


def _post(api, url, data: MultiDict):
    data = data.copy()
    data["csrf_token"] = api.csrf
    return api.client.post(url, data=data)


@pytest.fixture
def county_trainer(tree):
    return make_user("tr-county", "trainer", tree["county"])


def test_the_editor_offers_a_picker_in_county_time_and_rows_not_syntax(api, noise, county_trainer):
    api.login("tr-county")
    html = api.get(f"/drills/{NOISE}/edit").get_data(as_text=True)
    assert 'type="datetime-local" id="e-ref" name="reference_time" value="2026-09-10T08:30"' in html
    assert "ISO 8601" not in html and "|" not in re.sub(r"<[^>]+>", "", html.split("关键事实", 1)[1][:3000])
    assert 'name="fact_name" value="夜间施工"' in html and "夜里施工、晚上施工" in html
    assert 'name="number_value" value="22"' in html and '<option value="occurred_at" selected>事件发生时间</option>' in html
    assert 'name="trap_name" value="派出所已出警"' in html
    assert "js/editor_drill.js" in html and "检查范文" in html
    new = api.get("/drills/new").get_data(as_text=True)
    assert re.search(r'name="reference_time" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', new)
    assert "代码（可不填）" in new


def test_a_drill_authored_in_rows_with_a_blank_code_is_saved_in_county_time(api, noise, county_trainer):
    api.login("tr-county")
    data = _rows(noise, code="", title="夜间施工噪声（网页版）", reference_time="2026-09-10T08:30", action="save")
    response = _post(api, "/drills/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    drill = queries.get_drill("yjsgzs-wyb-1")
    assert drill is not None and response.headers["Location"].endswith("/drills/yjsgzs-wyb-1/edit")
    definition = drill.definition
    assert definition["reference_time"] == "2026-09-10T08:30:00+08:00"
    assert definition["facts"] == noise.definition["facts"]
    assert definition["traps"] == noise.definition["traps"]
    assert definition["numbers"] == noise.definition["numbers"]


@pytest.mark.parametrize("changes, message", [
    ({"fact_name": ["夜间施工", "没有说法的事实"], "fact_any": ["夜间施工", ""]}, "关键事实第2行“没有说法的事实”还没有说法"),
    ({"fact_name": ["", "夜间施工"], "fact_any": ["晚上施工", "夜间施工"]}, "关键事实第1行缺少名称"),
    ({"trap_name": ["受伤"], "trap_any": [""]}, "虚构陷阱第1行“受伤”还没有说法"),
    ({"number_name": ["天数"], "number_value": ["三"], "number_unit": ["天"], "number_near": ["连续"],
      "number_field": [""]}, "关键数字第1行的数值“三”不是数字"),
    ({"number_name": ["天数"], "number_value": ["3"], "number_unit": [""], "number_near": [""],
      "number_field": [""]}, "关键数字第1行缺少单位、附近词"),
    ({"number_name": ["天数"], "number_value": ["3"], "number_unit": ["天"], "number_near": ["连续"],
      "number_field": ["location"]}, "用途只能是"),
    ({"number_name": ["天数"], "number_value": ["nan"], "number_unit": ["天"], "number_near": ["连续"],
      "number_field": [""]}, "不是数字"),
    ({"reference_time": ""}, "请选择情景的“当前时间”"),
    ({"reference_time": "2026-13-40T25:00"}, "不是有效的日期时间"),
    ({"reference_time": "下周一"}, "请用日期时间选择器选择"),
])
def test_bad_rows_are_refused_by_row_number_and_the_form_comes_back(api, noise, county_trainer, changes, message):
    api.login("tr-county")
    response = _post(api, "/drills/new", _rows(noise, code="web-noise", action="save", **changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert queries.get_drill("web-noise") is None
    assert 'value="夜间施工噪声' in page or "夜间施工噪声" in page  # what was typed is shown again


def test_check_model_runs_the_rules_on_the_model_report_without_saving(api, noise, county_trainer):
    api.login("tr-county")
    good = _post(api, "/drills/preview/check", _rows(noise, code="web-noise"))
    body = good.get_json()
    assert good.status_code == 200 and body["accepted"] is True and body["errors"] == []
    assert body["checks"] and all(c["passed"] for c in body["checks"])
    assert {"label", "passed", "message", "rule"} <= set(body["checks"][0])
    wrong = _post(api, "/drills/preview/check", _rows(noise, model_department="城管局（综合行政执法局）"))
    body = wrong.get_json()
    assert body["accepted"] is False
    assert [c["label"] for c in body["checks"] if not c["passed"]] == ["责任部门"]
    broken = _post(api, "/drills/preview/check", _rows(noise, fact_name=["夜间施工"], fact_any=[""]))
    assert broken.get_json() == {"accepted": False, "checks": [],
                                 "errors": ["关键事实第1行“夜间施工”还没有说法：至少添加一种报告里可能的写法"]}
    assert queries.get_drill("web-noise") is None and queries.get_drill("check-only") is None


def test_check_model_refuses_a_body_that_is_not_the_form_and_workers(api, noise, county_trainer, tree):
    api.login("tr-county")
    refused = api.client.post("/drills/preview/check", json={"x": 1}, headers={"X-CSRFToken": api.csrf})
    assert refused.status_code == 400 and "编辑表单" in refused.get_json()["error"]["message"]
    no_token = api.client.post("/drills/preview/check", data=_rows(noise))
    assert no_token.status_code == 400
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("w-qs", "worker", tree["g1"])
    api.login("w-qs")
    assert _post(api, "/drills/preview/check", _rows(noise)).status_code == 403


def test_a_village_trainer_cannot_edit_a_county_drill(api, noise, tree):
    make_user("tr-village", "trainer", tree["v1"])
    api.login("tr-village")
    assert api.get(f"/drills/{NOISE}/edit").status_code == 403
    before = queries.get_drill(NOISE).version
    assert _post(api, f"/drills/{NOISE}/edit", _rows(noise, title="改", action="publish")).status_code == 403
    assert queries.get_drill(NOISE).version == before
    assert _post(api, "/drills/new", _rows(noise, code="v-noise", org="HX", action="save")).status_code == 403
    assert queries.get_drill("v-noise") is None


def test_the_picker_value_reads_as_shanghai_time_whatever_the_stored_zone():
    errors = []
    assert reference_time_from_form("2026-09-10T08:30", errors) == "2026-09-10T08:30:00+08:00"
    assert reference_time_from_form("2026-09-10T00:30:00+00:00", errors) == "2026-09-10T00:30:00+00:00"
    assert errors == []
    values = form_from_definition({"reference_time": "2026-09-10T00:30:00+00:00"})
    assert values["reference_time"] == "2026-09-10T08:30"


def test_the_older_one_line_per_fact_fields_still_read():
    data, errors = definition_from_form(MultiDict({"facts": "夜间施工：夜里施工、晚上施工", "reference_time": "2026-09-10T08:30"}),
                                        code="x")
    assert errors == [] and data["facts"] == [{"name": "夜间施工", "any": ["夜里施工", "晚上施工"]}]


def test_overlapping_event_types_and_must_notify_rows_round_trip_through_the_editor(api, tree, tmp_path):
    """A file drill with a type list and must_notify (issue 14) keeps both when opened and saved in the browser."""
    from lms.extensions import db
    from tests.drills.factories import copy_bank, run_importers

    run_importers(copy_bank(tmp_path, "mental-disorder-risk"))
    db.session.commit()
    drill = queries.get_drill("mental-disorder-risk")
    values = form_from_definition(drill.definition)
    assert values["answer_event_type"] == ["治安隐患", "特殊人群帮扶"]
    assert [r["name"] for r in values["notify_rows"]] == ["拨打110报警", "电话报告镇综治中心"]
    data = MultiDict({k: v for k, v in values.items() if isinstance(v, str) and k not in ("facts", "numbers", "traps")})
    for key in ("answer_department", "required", "answer_event_type"):
        data.setlist(key, values[key])
    for prefix, rows in (("fact", values["fact_rows"]), ("trap", values["trap_rows"]), ("notify", values["notify_rows"])):
        data.setlist(f"{prefix}_name", [r["name"] for r in rows] + [""])
        data.setlist(f"{prefix}_any", ["、".join(r["any"]) for r in rows] + [""])
    numbers = values["number_rows"]
    for column in ("name", "value", "unit", "field"):
        data.setlist(f"number_{column}", [str(n[column]) for n in numbers])
    data.setlist("number_near", ["、".join(n["near"]) for n in numbers])
    definition, errors = definition_from_form(data, code=drill.code)
    assert errors == []
    assert definition["answer"]["event_type"] == ["治安隐患", "特殊人群帮扶"]
    assert definition["must_notify"] == drill.definition["must_notify"]
    one = MultiDict(data)
    one.setlist("answer_event_type", ["治安隐患"])
    one.setlist("notify_name", ["拨打110报警", ""])
    one.setlist("notify_any", ["", ""])  # a half-filled row is refused by its number
    single, errors = definition_from_form(one, code=drill.code)
    assert single["answer"]["event_type"] == "治安隐患"
    assert any("必须打的电话" in e and "第1" in e for e in errors), errors
