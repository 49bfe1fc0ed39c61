"""Consultation drills written in the browser: the form (rows, chips, sources), 检查范文 (the rules on the model
answer, nothing saved), generated codes, drafts/publishing/retiring, scope, audit, and file consultations."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from lms.audit.models import AuditEntry
from lms.consultations import authoring, queries
from lms.consultations.models import Consultation
from lms.extensions import db
from tests.consultations.factories import MODEL, PENSION, POOR, run_importer
from tests.factories import make_user


def form(**changes) -> MultiDict:
    """A complete editor post for a new consultation (the pension question), rows as the page posts them."""
    data = MultiDict({"title": "交满十五年就能领养老金吗", "org": "HX", "asker": "58岁的村民老周",
                      "question": "我交到第十三年了，是不是再交两年就**不用交**了？",
                      "refer": "县社保局、镇社保所", "overpromise": "保证每月能领", "model_answer": MODEL})
    data.setlist("point_name", ["最低缴费年限逐步提高到20年", "交不够可以继续交或补足", "领多少按年限和基数算", ""])
    data.setlist("point_any", ["提高到20年、20年", "继续交、补足", "缴费年限、缴费基数", ""])
    data.setlist("wrong_name", ["交满十五年就行", ""])
    data.setlist("wrong_any", ["交满十五年就行、十五年就够了", ""])
    data.setlist("source", ["《中华人民共和国社会保险法》第十六条", ""])
    for key, value in changes.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return data


def post(api, url, data: MultiDict, **extra):
    data = data.copy()
    data["csrf_token"] = api.csrf
    for key, value in extra.items():
        data[key] = value
    return api.client.post(url, data=data)


@pytest.fixture
def county_trainer(tree):
    return make_user("tr-county", "trainer", tree["county"])


def _errors(response) -> str:
    assert response.status_code == 422, response.status_code
    return response.get_data(as_text=True)


def test_a_new_consultation_is_saved_with_a_generated_code_as_a_draft_then_published(api, tree, county_trainer):
    api.login("tr-county")
    page = api.get("/consultations/new").get_data(as_text=True)
    assert "检查范文" in page and "js/editor_drill.js" in page and 'name="point_name"' in page
    assert "data-chips" in page and 'name="source"' in page and ">红溪县</option>" in page
    response = post(api, "/consultations/new", form(), action="save")
    assert response.status_code == 302
    item = db.session.scalar(sa.select(Consultation))
    assert item.code == "jmswnjnlyljm-1" and item.is_retired and item.source_path == ""
    assert authoring.meta(item.definition) == {"origin": "web", "detached": False, "state": "draft"}
    assert item.definition["refer"] == ["县社保局", "镇社保所"]
    assert "<strong>不用交</strong>" in item.question_html
    worker = make_user("w-1", "worker", tree["g1"])
    assert not queries.can_answer(worker, item) and item not in queries.list_visible(worker)
    response = post(api, f"/consultations/{item.code}/edit", form(), action="publish")
    assert response.status_code == 302
    db.session.refresh(item)
    assert not item.is_retired and item.version == 2 and queries.can_answer(worker, item)
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("consultation.%"))
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["consultation.create", "consultation.publish"]
    post(api, f"/consultations/{item.code}/retire", MultiDict())
    db.session.refresh(item)
    assert item.is_retired and authoring.meta(item.definition)["state"] == "retired"
    assert not queries.can_answer(worker, item)
    assert db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() \
        == "consultation.retire"
    manage = api.get("/consultations/manage").get_data(as_text=True)
    assert "交满十五年就能领养老金吗" in manage and "已停用" in manage and "网页" in manage


@pytest.mark.parametrize(("changes", "message"), [
    ({"title": ""}, "请填写标题"),
    ({"title": "长" * 201}, "标题太长：最多 200 个字"),
    ({"asker": "人" * 61}, "提问的人太长：最多 60 个字"),
    ({"question": "问" * 5001}, "群众的问题太长：最多 5000 个字"),
    ({"model_answer": "答" * 2001}, "示范回答太长：最多 2000 个字"),
    ({"point_name": ["", ""], "point_any": ["", ""]}, "至少写一条必须讲到的要点"),
    ({"point_name": ["最低缴费年限", "", "x"], "point_any": ["20年", "继续交", ""]},
     "必须讲到的要点第2行有说法但缺少名称"),
    ({"point_name": ["最低缴费年限", "", "领多少"], "point_any": ["20年", "", ""]},
     "必须讲到的要点第3行“领多少”还没有说法"),
    ({"wrong_name": [""], "wrong_any": ["新农保"]}, "错误或过时的说法第1行有说法但缺少名称"),
    ({"point_name": ["名" * 61], "point_any": ["20年"]}, "必须讲到的要点第1行的名称太长"),
    ({"source": ["", "社会保险法第十六条"]}, "依据第2行“社会保险法第十六条”不是法规条文的引用"),
    ({"source": [""]}, "至少写一条依据"),
    ({"refer": ""}, "至少写一个可以指引群众去的部门"),
    ({"refer": "县社保局、" + "局" * 41}, "可以指引去的部门中的“局局局"),
    ({"point_name": ["最低缴费年限"], "point_any": ["年" * 41]}, "必须讲到的要点第1行的说法"),
    ({"source": ["《社会保险法》第十六条" + "条" * 200]}, "依据第1行太长"),
    ({"model_answer": POOR}, "示范回答未通过“要点齐全”"),
])
def test_bad_input_is_refused_with_a_chinese_message_and_nothing_saved(api, county_trainer, changes, message):
    api.login("tr-county")
    page = _errors(post(api, "/consultations/new", form(**changes), action="publish"))
    assert message in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consultation)) == 0
    assert "key_points" not in page.split("请修改以下问题", 1)[1].split("</ul>", 1)[0]  # no rule ids shown


def test_a_returned_model_answer_is_refused_once_per_failed_rule_and_the_typed_fields_stay(api, county_trainer):
    api.login("tr-county")
    page = _errors(post(api, "/consultations/new", form(model_answer=POOR), action="save"))
    for label in ("要点齐全", "没有错误说法", "指明去处", "不乱承诺"):
        assert f"示范回答未通过“{label}”" in page
    assert POOR in page and 'value="最低缴费年限逐步提高到20年"' in page


def test_check_model_runs_the_rules_without_saving(api, county_trainer):
    api.login("tr-county")
    good = post(api, "/consultations/preview/check", form()).get_json()
    assert good["accepted"] is True and len(good["checks"]) == 5 and good["errors"] == []
    assert {c["label"] for c in good["checks"]} == {"要点齐全", "没有错误说法", "指明去处", "不乱承诺", "通俗易懂"}
    bad = post(api, "/consultations/preview/check", form(model_answer=POOR)).get_json()
    assert bad["accepted"] is False and any(not c["passed"] and c["rule"] == "no_overpromise" for c in bad["checks"])
    half = post(api, "/consultations/preview/check", form(point_name=["", "x"], point_any=["20年", ""])).get_json()
    assert half["accepted"] is False and half["checks"] == [] and any("第1行" in e for e in half["errors"])
    assert api.client.post("/consultations/preview/check", headers={"X-CSRFToken": api.csrf}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consultation)) == 0


def test_a_village_trainer_cannot_edit_a_county_consultation(api, tree, county_trainer):
    api.login("tr-county")
    post(api, "/consultations/new", form(), action="publish")
    code = db.session.scalar(sa.select(Consultation.code))
    make_user("tr-village", "trainer", tree["v1"])
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("tr-village")
    assert api.get(f"/consultations/{code}/edit").status_code == 403
    assert post(api, f"/consultations/{code}/edit", form(title="改掉"), action="publish").status_code == 403
    assert post(api, f"/consultations/{code}/retire", MultiDict()).status_code == 403
    # nor put a new one above their unit
    assert post(api, "/consultations/new", form(org="HX"), action="publish").status_code == 403
    assert db.session.scalar(sa.select(Consultation.title)) == "交满十五年就能领养老金吗"
    make_user("w-x", "worker", tree["g1"])
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w-x")
    assert api.get("/consultations/new").status_code == 403
    assert api.get(f"/consultations/{code}/edit").status_code == 403


def test_a_file_consultation_edited_in_the_browser_is_detached_and_offers_its_yaml(api, tmp_path, pension,
                                                                                   county_trainer):
    api.login("tr-county")
    page = api.get(f"/consultations/{PENSION}/edit").get_data(as_text=True)
    assert "来自文件" in page and "data-yaml" in page and "model_answer:" in page and "points:" in page
    assert 'value="最低缴费年限从2030年起逐步提高到20年"' in page and "✓ 通过" in page
    response = post(api, f"/consultations/{PENSION}/edit",
                    form(title="养老保险交多少年才能领（网页修改）", org="HX"), action="publish")
    assert response.status_code == 302
    item = queries.get_consultation(PENSION)
    assert authoring.meta(item.definition) == {"origin": "file", "detached": True, "state": "published"}
    # the importer leaves the trainer's edit alone and does not retire it
    from tests.consultations.factories import bank_with
    report = run_importer(bank_with(tmp_path, PENSION))
    db.session.commit()
    db.session.refresh(item)
    assert item.title == "养老保险交多少年才能领（网页修改）" and not item.is_retired
    assert any("脱钩" in note for note in report.notes)
    empty = tmp_path / "other" / "question_bank"
    (empty / "consultations").mkdir(parents=True)
    run_importer(empty)
    db.session.commit()
    db.session.refresh(item)
    assert not item.is_retired


def test_reserved_and_taken_codes(api, county_trainer):
    api.login("tr-county")
    post(api, "/consultations/new", form(), action="publish")
    post(api, "/consultations/new", form(), action="publish")
    codes = sorted(db.session.scalars(sa.select(Consultation.code)))
    assert codes == ["jmswnjnlyljm-1", "jmswnjnlyljm-2"]
    page = _errors(post(api, "/consultations/new", form(code="manage"), action="publish"))
    assert "系统保留字" in page
