"""The issue-14 rules: event_type, demand_specific, measures_specific, notified; the content keys they read."""
from __future__ import annotations

import pytest

from lms.contentfile import ContentErrors
from lms.drills.content import parse_drill
from lms.drills.definition import from_definition, to_definition
from lms.drills.rules import MAX_FIELD_CHARS, evaluate
from tests.drills.test_rules import DRILL_TEXT, GOOD, TAXONOMY, check, with_

URGENT = DRILL_TEXT.replace("  urgency: 一般\nrequired", "  urgency: 紧急\nrequired").replace(
    "place_detail:", "must_notify:\n  - name: 拨打110报警\n    any: [110, 报警]\n"
                     "  - name: 电话报告街道综治中心\n    any: [综治中心]\nplace_detail:")
OVERLAP = DRILL_TEXT.replace("  event_type: 矛盾纠纷\n  department:", "  event_type: [矛盾纠纷, 噪声扰民]\n  department:")


@pytest.fixture(scope="module")
def drill():
    return parse_drill(DRILL_TEXT, "leak.yaml", TAXONOMY)


@pytest.fixture(scope="module")
def urgent():
    return parse_drill(URGENT, "leak.yaml", TAXONOMY)


# -- event_type

def test_event_type_must_be_one_the_key_accepts(drill):
    assert check("event_type", GOOD, drill).passed
    wrong = check("event_type", with_(event_type="噪声扰民"), drill)
    assert not wrong.passed and wrong.field == "event_type"
    assert wrong.message.startswith("事件类型选择有误：“噪声扰民”不是这件事的性质")
    assert "例如摆摊占道弄脏了路面，选“占道经营”而不是“环境卫生”" in wrong.message


def test_overlapping_types_are_all_accepted_and_survive_storage():
    overlap = parse_drill(OVERLAP, "leak.yaml", TAXONOMY)
    assert overlap.answer.accepted_types == ("矛盾纠纷", "噪声扰民") and overlap.answer.event_type == "矛盾纠纷"
    stored = from_definition(to_definition(overlap))
    assert stored.answer.accepted_types == ("矛盾纠纷", "噪声扰民")
    for chosen in ("矛盾纠纷", "噪声扰民", " 噪声扰民 "):
        assert check("event_type", with_(event_type=chosen), stored).passed, chosen
    # a definition stored before lists existed (a plain string) still reads
    old = to_definition(parse_drill(DRILL_TEXT, "leak.yaml", TAXONOMY))
    assert old["answer"]["event_type"] == "矛盾纠纷" and from_definition(old).answer.accepted_types == ("矛盾纠纷",)


def test_other_and_empty_event_types_are_returned(drill):
    assert "不要选“其他”" in check("event_type", with_(event_type="其他"), drill).message
    empty = check("event_type", with_(event_type="  "), drill)
    assert not empty.passed and empty.message.startswith("请选择事件类型")


# -- demand_specific / measures_specific

@pytest.mark.parametrize("demand", ["要求处理", "请领导处理", "要求相关部门尽快处理。", "希望有关部门尽快解决", "赵某要求处理此事",
                                    "居民要求妥善处理一下吧", "无", "暂无"])
def test_stock_demands_are_returned_with_an_example(drill, demand):
    result = check("demand_specific", with_(demand=demand), drill)
    assert not result.passed and result.field == "demand", demand
    assert result.message.startswith("群众诉求太笼统") and "例如“住户要求工地晚上10点以后停止施工”" in result.message


@pytest.mark.parametrize("demand", ["住户要求晚上10点后停止施工", "许某要求赶快修", "要钱", "当事人未提出诉求",
                                    "赵某没有提出具体要求", GOOD["demand"]])
def test_specific_demands_pass(drill, demand):
    assert check("demand_specific", with_(demand=demand), drill).passed, demand


@pytest.mark.parametrize("measures", ["已处理", "已上报", "已上报，等待处理", "已报告领导，等待处理", "已跟进", "已协调",
                                      "正在处理中", "已登记", "已处理。", "已经向上级部门反映情况"])
def test_stock_measures_are_returned_with_an_example(drill, measures):
    result = check("measures_specific", with_(measures=measures), drill)
    assert not result.passed and result.field == "measures", measures
    assert result.message.startswith("已采取措施太笼统") and "例如“已劝双方冷静" in result.message


@pytest.mark.parametrize("measures", ["已拍照", "已劝导停工", "已电话报告街道综治中心", GOOD["measures"]])
def test_specific_measures_pass(drill, measures):
    assert check("measures_specific", with_(measures=measures), drill).passed, measures


def test_empty_demand_and_measures_ask_for_them(drill):
    assert check("demand_specific", with_(demand=""), drill).message.startswith("请填写群众诉求")
    assert check("measures_specific", with_(measures=None), drill).message.startswith("请填写已采取的措施")


def test_a_ten_thousand_character_demand_is_read_not_refused(drill):
    long = ("赵某要求修好漏点" * 2000)[:MAX_FIELD_CHARS + 500]
    assert check("demand_specific", with_(demand=long), drill).passed
    stock = ("要求处理，" * 3000)
    assert not check("demand_specific", with_(demand=stock), drill).passed


# -- notified

def test_without_must_notify_nothing_is_asked(drill):
    assert check("notified", with_(measures="已处理"), drill).passed


@pytest.mark.parametrize("measures", ["已拨打110，已电话报告街道综治中心", "没进屋就打了110，又报告了综治中心",
                                      "已报警。街道综治中心也打了电话"])
def test_both_calls_said_pass(urgent, measures):
    assert check("notified", with_(measures=measures), urgent).passed, measures


def test_a_call_in_the_description_counts(urgent):
    report = with_(description=GOOD["description"] + "我在楼下已拨打110。", measures="已电话报告街道综治中心")
    assert check("notified", report, urgent).passed


@pytest.mark.parametrize("measures, missing", [
    ("已电话报告街道综治中心", "拨打110报警"),
    ("已拨打110", "电话报告街道综治中心"),
    ("没打110，已报告综治中心", "拨打110报警"),
    ("准备打110，已报告综治中心", "拨打110报警"),
    ("已拨打110，综治中心还没来得及报", "电话报告街道综治中心"),
    ("已拨打110，未报告综治中心", "电话报告街道综治中心"),
])
def test_a_missing_denied_or_planned_call_is_returned_naming_it(urgent, measures, missing):
    result = check("notified", with_(measures=measures), urgent)
    assert not result.passed and result.field == "measures", measures
    assert f"“{missing}”" in result.message and "县规范第十八条" in result.message
    assert "例如“已" in result.message


def test_an_urgent_drill_returns_the_lessons_bad_example(urgent):
    evaluation = evaluate(with_(urgency="紧急", measures="已处理", demand="要求处理"), urgent)
    assert evaluation.verdict == "returned"
    assert {c.rule for c in evaluation.failed} == {"demand_specific", "measures_specific", "notified"}


# -- bad input never raises

@pytest.mark.parametrize("report", [None, [], "text", 42, {}, {"demand": ["列表"], "measures": {"x": 1}},
                                    {"event_type": b"\xff\xfe", "measures": 110}])
def test_odd_reports_are_returned_not_raised(urgent, report):
    evaluation = evaluate(report, urgent)
    assert evaluation.verdict == "returned" and 0 <= evaluation.score <= 100


# -- content keys

def test_must_notify_and_event_type_lists_are_checked_with_lines():
    bad = URGENT.replace("    any: [110, 报警]\n", "    any: []\n").replace(
        "  event_type: 矛盾纠纷\n  department:", "  event_type: [矛盾纠纷, 拆迁安置]\n  department:")
    with pytest.raises(ContentErrors) as caught:
        parse_drill(bad, "leak.yaml", TAXONOMY)
    messages = [(e.line, e.message) for e in caught.value.errors]
    lines = bad.splitlines()
    assert any("must_notify 第1项的 any" in m for _, m in messages)
    [line] = [line for line, m in messages if m == "事件类型“拆迁安置”不在分类文件的 event_types 中"]
    assert lines[line - 1] == "  event_type: [矛盾纠纷, 拆迁安置]"  # file:line points at the list
    not_a_list = URGENT.replace("must_notify:\n  - name: 拨打110报警", "must_notify: 110\nx:\n  - name: 拨打110报警")
    with pytest.raises(ContentErrors):
        parse_drill(not_a_list, "leak.yaml", TAXONOMY)
