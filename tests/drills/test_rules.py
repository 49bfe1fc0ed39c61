"""Each drill rule passes a good report and returns a bad one with a message saying what to fix."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.drills.content import FORM_FIELDS, RULE_NAMES, parse_drill, parse_taxonomy
from lms.drills.rules import RULES, copy_overlap, evaluate, normalize_report

TAXONOMY = parse_taxonomy(
    "event_types: [矛盾纠纷, 噪声扰民]\n"
    "departments: [村（社区）人民调解委员会, 司法所, 住建局]\n"
    "urgencies: [一般, 较急, 紧急]\n",
    "taxonomy.yaml",
)

DRILL_TEXT = """\
code: leak
title: 楼上漏水
source: 《中华人民共和国民法典》第二百九十六条
scenario: |
  6月3日上午9点多，南关社区网格员接到幸福里小区3栋2单元402室住户赵某反映，
  楼上502室卫生间漏水已经持续5天，自家天花板发霉，墙皮掉落。502室是租户，
  房东孙某在外地，电话不接。赵某要求尽快维修，并赔偿天花板的粉刷费用。
  网格员上楼敲门，租户说不知道漏水，同意配合检修。现场没有发生争吵。
reference_time: 2026-06-04T08:00:00+08:00
facts:
  - name: 楼上卫生间漏水
    any: [漏水, 渗水]
  - name: 天花板受损
    any: [天花板, 墙皮]
  - name: 房东联系不上
    any: [房东在外地, 联系不上, 电话不接, 不接电话]
numbers:
  - name: 反映时间
    value: 9
    unit: 点
    near: [接到]
    field: occurred_at
  - name: 漏水持续天数
    value: 5
    unit: 天
    near: [持续, 已经, 漏水]
traps:
  - name: 双方发生冲突
    any: [打架, 争吵, 动手]
place_detail: building
answer:
  event_type: 矛盾纠纷
  department: [村（社区）人民调解委员会, 司法所]
  urgency: 一般
required: [event_type, occurred_at, location, parties, description, demand, measures, department, urgency]
model_report:
  event_type: 矛盾纠纷
  occurred_at: 6月3日上午9点多
"""

GOOD = {
    "event_type": "矛盾纠纷",
    "occurred_at": "6月3日上午9点多",
    "location": "南关社区幸福里3栋2单元402室",
    "parties": "402室住户赵某；502室租户（姓名待核实）；房东孙某",
    "description": "我接到赵某反映后上门查看：502室卫生间往楼下渗水，据赵某说已经持续五天，402室天花板发霉、墙皮脱落。"
                   "房东孙某人在外地，电话不接。502室租户表示此前不知情，愿意配合检修。",
    "demand": "赵某要求尽快修好漏点，并由对方承担天花板重新粉刷的费用。",
    "measures": "已让租户暂停使用卫生间，留下房东电话继续联系，约定明天请物业上门查漏。",
    "department": "村（社区）人民调解委员会",
    "urgency": "一般",
}


@pytest.fixture(scope="module")
def drill():
    return parse_drill(DRILL_TEXT, "leak.yaml", TAXONOMY)


def check(rule, report, drill):
    return RULES[rule].check(normalize_report(report), drill)


def with_(**changes):
    return {**GOOD, **changes}


def test_registry_holds_exactly_the_api_rule_names_in_order():
    assert tuple(RULES) == RULE_NAMES == (
        "required_fields", "time_specific", "place_specific", "parties_named", "key_facts",
        "no_fabrication", "department", "urgency", "description_quality",
        "event_type", "demand_specific", "measures_specific", "notified",
    )


def test_good_report_is_accepted_with_full_score(drill):
    evaluation = evaluate(GOOD, drill)
    assert [c.rule for c in evaluation.failed] == []
    assert (evaluation.verdict, evaluation.score) == ("accepted", 100)
    assert [c.rule for c in evaluation.checks] == list(RULE_NAMES)


# -- required_fields

def test_missing_required_fields_are_listed_by_label(drill):
    result = check("required_fields", with_(location="  ", demand=None), drill)
    assert not result.passed
    assert result.message == "缺少必填要素：发生地点、群众诉求。请补全后再提交"
    assert result.field == "location"


# -- time_specific

@pytest.mark.parametrize(
    "text, expected",
    [("", "请填写事件发生时间"), ("昨天上午", "只说了时段，请写明几点"), ("6月3日", "在日期后写明几点"),
     ("最近", "不要写“最近”"), ("上午9点", "时间缺少日期"), ("不清楚", "看不懂填写的时间“不清楚”"),
     ("6月5日上午9点", "晚于上报时间"), ("6月3日下午3点", "时间与情景不符：情景中事件发生在9点前后")],
)
def test_time_that_is_not_specific_or_contradicts_is_returned_with_advice(drill, text, expected):
    result = check("time_specific", with_(occurred_at=text), drill)
    assert not result.passed and result.field == "occurred_at"
    assert expected in result.message
    assert "例如“6月3日晚上10点左右”" in result.message or "晚于" in result.message or "不符" in result.message


@pytest.mark.parametrize("text", ["6月3日上午9点多", "昨天9点20分", "2026-06-03 09:40", "昨天上午九点左右", "6月3日10点"])
def test_specific_time_near_the_scenario_passes_and_is_normalised(drill, text):
    result = check("time_specific", with_(occurred_at=text), drill)
    assert result.passed, result.message
    assert result.message.startswith("时间具体：2026年6月3日")


# -- place_specific

@pytest.mark.parametrize(
    "text", ["幸福里3栋2单元402室", "幸福里三号楼二单元", "人民路128号", "3栋402", "幸福里小区402室", "Ｂ座２单元"])
def test_building_place_down_to_unit_or_door_passes(drill, text):
    assert check("place_specific", with_(location=text), drill).passed


@pytest.mark.parametrize(
    "text, expected",
    [("幸福里小区", "城镇地点要写到小区或街路巷、楼栋、单元、门牌号"), ("幸福里3栋", "已写到楼栋，还缺单元或门牌号"),
     ("", "请填写事件发生地点")])
def test_vague_building_place_is_returned(drill, text, expected):
    result = check("place_specific", with_(location=text), drill)
    assert not result.passed and expected in result.message and result.field == "location"


def test_group_place_needs_group_and_house_number(drill):
    village = parse_drill(DRILL_TEXT.replace("place_detail: building", "place_detail: group"), "leak.yaml", TAXONOMY)
    assert check("place_specific", with_(location="桃源村三组12号门前"), village).passed
    assert check("place_specific", with_(location="石桥村2村民小组15号"), village).passed
    no_number = check("place_specific", with_(location="桃源村三组"), village)
    assert not no_number.passed and "已写到村民小组，还缺门牌号" in no_number.message
    no_group = check("place_specific", with_(location="桃源村村口"), village)
    assert not no_group.passed and "例如“桃源村三组12号门前”" in no_group.message


# -- parties_named

@pytest.mark.parametrize("text", ["赵某", "业主", "刘建国、陈玉梅", "老王", "施工单位负责人", "张大爷", "王某某与李某"])
def test_named_or_described_parties_pass(drill, text):
    assert check("parties_named", with_(parties=text), drill).passed


@pytest.mark.parametrize("text", ["有人", "群众", "相关人员", "他们几个"])
def test_unnamed_parties_are_returned(drill, text):
    result = check("parties_named", with_(parties=text), drill)
    assert not result.passed and "当事人不明确" in result.message and result.field == "parties"


# -- key_facts

def test_missing_key_facts_are_listed_by_name(drill):
    result = check("key_facts", with_(description="楼上漏水，请处理一下，谢谢，情况比较严重需要尽快解决的问题。",
                                      demand="要求修好", measures="已上报"), drill)
    assert not result.passed
    assert result.message == "事件经过漏了关键事实：“天花板受损”、“房东联系不上”。请在事件经过中写清楚这些情况"


def test_key_facts_may_appear_in_demand_or_measures(drill):
    report = with_(description="502室卫生间渗水到402室，赵某家天花板发霉，已经持续五天，情况属实需要协调处理。",
                   measures="房东孙某联系不上，已留言。")
    assert check("key_facts", report, drill).passed


def test_key_facts_match_full_width_and_spacing(drill):
    report = with_(description="５０２室 漏 水，天花板发霉；房东电话不接。" * 2)
    assert check("key_facts", report, drill).passed


# -- no_fabrication

@pytest.mark.parametrize("days", ["五天", "5天", "５天", "5日"])
def test_the_right_figure_in_arabic_or_chinese_numerals_is_not_fabrication(drill, days):
    assert check("no_fabrication", with_(description=f"502室漏水已经持续{days}，天花板发霉。"), drill).passed


@pytest.mark.parametrize("days", ["三天", "3天", "十天", "两天"])
def test_a_different_figure_next_to_a_near_word_is_fabrication(drill, days):
    result = check("no_fabrication", with_(description=f"502室漏水已经持续{days}，天花板发霉。"), drill)
    assert not result.passed and result.field == "description"
    assert f"“漏水持续天数”情景中是5天，事件经过里写成了“{days}”" in result.message


def test_figure_far_from_near_words_is_not_checked(drill):
    assert check("no_fabrication", with_(measures="约定3天内请物业上门查看。"), drill).passed


def test_approximate_figure_within_tolerance_passes_and_outside_fails(drill):
    assert check("no_fabrication", with_(description="漏水已持续约6天。"), drill).passed
    assert not check("no_fabrication", with_(description="漏水已持续约10天。"), drill).passed


def test_trap_stated_is_fabrication_naming_the_trap(drill):
    result = check("no_fabrication", with_(description=GOOD["description"] + "双方在楼道里发生争吵。"), drill)
    assert not result.passed
    assert "写了情景中没有的情况“双方发生冲突”（“争吵”）" in result.message


@pytest.mark.parametrize("text", ["现场没有发生争吵。", "双方未争吵。", "是否动手待核实。", "无人打架"])
def test_negated_or_unverified_trap_is_not_fabrication(drill, text):
    assert check("no_fabrication", with_(description=GOOD["description"] + text), drill).passed


def test_fabrication_in_another_field_highlights_that_field(drill):
    result = check("no_fabrication", with_(demand="赵某说两家已经动手了，要求处理。"), drill)
    assert not result.passed and result.field == "demand"


# -- department and urgency

def test_any_accepted_department_passes(drill):
    assert check("department", with_(department="司法所"), drill).passed
    assert check("department", with_(department=" 村(社区)人民调解委员会 "), drill).passed


def test_wrong_department_is_returned_with_the_source_to_consult(drill):
    result = check("department", with_(department="住建局"), drill)
    assert not result.passed and result.field == "department"
    assert result.message.startswith("责任部门选择有误：“住建局”不负责这类事件")
    assert "可参考：《中华人民共和国民法典》第二百九十六条" in result.message


def test_empty_department_asks_to_choose(drill):
    assert "请选择建议的责任部门" in check("department", with_(department=""), drill).message


def test_urgency_two_levels_too_high_is_returned(drill):
    result = check("urgency", with_(urgency="紧急"), drill)
    assert not result.passed and result.message.startswith("紧急程度偏高两级：你选的是“紧急”")
    assert "拿不准时可以报高一级，但不能报低" in result.message


def test_urgency_one_level_above_the_key_is_accepted_with_a_note(drill):
    # County rule 第九条: when unsure, report the higher level.
    result = check("urgency", with_(urgency="较急"), drill)
    assert result.passed
    assert result.message.startswith("紧急程度比参考答案高一级（你选“较急”，参考“一般”）") and "第九条" in result.message


def test_urgency_too_low_is_named():
    urgent = parse_drill(DRILL_TEXT.replace("  urgency: 一般\nrequired", "  urgency: 紧急\nrequired"), "leak.yaml", TAXONOMY)
    assert check("urgency", with_(urgency="一般"), urgent).message.startswith("紧急程度偏低")


def test_unknown_urgency_lists_the_choices(drill):
    assert "在紧急、较急、一般中选择" in check("urgency", with_(urgency="特急"), drill).message


# -- description_quality

def test_short_description_is_returned_with_the_minimum(drill):
    result = check("description_quality", with_(description="楼上漏水。"), drill)
    assert not result.passed and "请至少写30个字" in result.message


def test_copied_scenario_is_detected_even_when_repunctuated(drill):
    copied = drill.scenario.replace("，", " ").replace("。", "；")
    result = check("description_quality", with_(description=copied), drill)
    assert not result.passed
    assert result.message.startswith("请用自己的话概括，不要直接复制情景材料")


def test_long_verbatim_run_is_detected_inside_own_words(drill):
    own = "我上门核实后记录如下，情况基本属实，需要协调。" * 3
    run = "楼上502室卫生间漏水已经持续5天，自家天花板发霉，墙皮掉落。502室是租户，房东孙某在外地"
    assert not check("description_quality", with_(description=own + run), drill).passed


def test_copy_overlap_measures_share_and_longest_run(drill):
    assert copy_overlap(drill.scenario, drill.scenario)[0] == 1.0
    assert copy_overlap(GOOD["description"], drill.scenario)[1] < 40
    assert copy_overlap("短", drill.scenario) == (0.0, 0)


# -- evaluate: verdict and weighted score

def test_any_failure_returns_the_report_with_every_reason(drill):
    evaluation = evaluate(with_(location="小区里", urgency="紧急"), drill)
    assert evaluation.verdict == "returned"
    assert [c.rule for c in evaluation.failed] == ["place_specific", "urgency"]
    assert evaluation.score == round(100 * 11 / 13)


def test_score_uses_the_drill_weights(drill):
    weighted = parse_drill(DRILL_TEXT + "weights:\n  urgency: 6\n  description_quality: 0\n", "leak.yaml", TAXONOMY)
    # total weight 11 + 6 + 0 = 17; failing urgency loses 6.
    assert evaluate(with_(urgency="紧急"), weighted).score == round(100 * 11 / 17)
    # a zero-weight rule still returns the report but costs no points
    zero = evaluate(with_(description=drill.scenario), weighted)
    assert (zero.verdict, zero.score) == ("returned", 100)


def test_evaluation_to_dict_is_the_api_shape(drill):
    data = evaluate(with_(urgency="紧急"), drill).to_dict()
    assert set(data) == {"verdict", "score", "checks"}
    assert data["checks"][7] == {"rule": "urgency", "passed": False, "field": "urgency",
                                 "message": data["checks"][7]["message"]}


# -- odd input

@pytest.mark.parametrize("report", [None, [], "text", 42, {}, {"description": None}, {1: 2}])
def test_non_dict_or_empty_report_is_returned_not_raised(drill, report):
    evaluation = evaluate(report, drill)
    assert evaluation.verdict == "returned"
    assert 0 <= evaluation.score <= 100


def test_non_string_values_are_read_as_text(drill):
    report = with_(occurred_at=20260603, parties=["赵某", "孙某"], urgency=b"\xe4\xb8\x80\xe8\x88\xac")
    normalized = normalize_report(report)
    assert normalized["parties"] == "赵某、孙某" and normalized["urgency"] == "一般"
    assert evaluate(report, drill).verdict == "returned"  # 20260603 is not a readable time


def test_huge_text_is_cut_and_checked_quickly(drill):
    evaluation = evaluate(with_(description="漏水" * 200_000, location="3栋" * 100_000), drill)
    assert evaluation.verdict == "returned"
    assert len(normalize_report({"description": "字" * 50_000})["description"]) == 10_000


FALLBACK = "系统暂时无法完成这项检查"
text_values = st.one_of(st.none(), st.text(max_size=80), st.integers(), st.booleans(),
                        st.lists(st.text(max_size=10), max_size=3))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(FORM_FIELDS + ("x", "")), text_values, max_size=12))
def test_evaluate_never_raises_on_arbitrary_dicts(report):
    drill = parse_drill(DRILL_TEXT, "leak.yaml", TAXONOMY)
    evaluation = evaluate(report, drill)
    assert evaluation.verdict in ("accepted", "returned")
    assert 0 <= evaluation.score <= 100
    assert all(FALLBACK not in c.message for c in evaluation.checks)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(FORM_FIELDS), st.text(alphabet="一二三四五六七八九十两零0123456789点时日号天月楼栋单元室组某无未受伤争吵，。 ", max_size=60)))
def test_evaluate_never_raises_on_number_heavy_text(report):
    drill = parse_drill(DRILL_TEXT, "leak.yaml", TAXONOMY)
    assert all(FALLBACK not in c.message for c in evaluate(report, drill).checks)


def test_each_figure_is_read_with_the_words_of_its_own_phrase(drill):
    # "5天" belongs to 持续; the "3天" of the next phrase is a deadline, not the leak's duration.
    report = with_(description=GOOD["description"] + "漏水已经持续5天，物业承诺3天内上门。")
    assert check("no_fabrication", report, drill).passed


@pytest.mark.parametrize("text", ["双方有争吵的风险。", "担心两家会动手。", "严禁动手。", "一旦争吵要及时劝开。"])
def test_hypothetical_or_forbidding_trap_phrase_is_not_fabrication(drill, text):
    assert check("no_fabrication", with_(measures=text), drill).passed


def test_stated_trap_after_an_earlier_negated_one_is_still_fabrication(drill):
    result = check("no_fabrication", with_(description=GOOD["description"] + "当时没有争吵。后来两家打架了。"), drill)
    assert not result.passed and "（“打架”）" in result.message


def test_deeply_nested_values_do_not_overflow(drill):
    nested = "赵某"
    for _ in range(5000):
        nested = [nested]
    report = with_(parties=nested, demand={"a": "要求维修", "b": ["赔偿"]})
    assert normalize_report(report)["parties"] == ""
    assert normalize_report(report)["demand"] == "要求维修、赔偿"
    assert evaluate(report, drill).verdict == "returned"


# -- behaviours tuned against the labelled corpus (each one a reviewer's reading, not a corpus quirk)

EXTRA_DRILL = DRILL_TEXT.replace(
    "traps:\n",
    "  - name: 502室住的人数\n    value: 8\n    unit: 人\n    near: [住]\n"
    "  - name: 老人年龄\n    value: 82\n    unit: 岁\n    near: [老人]\n"
    "  - name: 测得音量\n    value: 75\n    unit: 分贝\n    near: [测]\n"
    "traps:\n  - name: 已经起火\n    any: [着火, 起火]\n  - name: 已破门\n    any: [破门]\n",
)


@pytest.fixture(scope="module")
def extra():
    return parse_drill(EXTRA_DRILL, "leak.yaml", TAXONOMY)


@pytest.mark.parametrize("text", ["南关小区7栋楼顶平台", "幸福里3栋的天台", "幸福里3号楼下", "幸福里三号楼顶"])
def test_a_part_of_the_whole_building_needs_no_unit(drill, text):
    result = check("place_specific", with_(location=text), drill)
    assert result.passed, result.message


@pytest.mark.parametrize("text", ["南关小区楼顶", "幸福里小区楼道", "幸福里3栋", "3栋旁边的工地"])
def test_a_roof_without_its_building_or_a_bare_building_is_still_vague(drill, text):
    assert not check("place_specific", with_(location=text), drill).passed


def test_key_facts_count_in_the_parties_or_location_field(drill):
    # The reviewer reads the whole report: "房东孙某（在外地，电话不接）" in 当事人 states the fact.
    report = with_(parties="402室住户赵某；房东孙某（在外地，电话不接）",
                   description="502室卫生间往楼下渗水，402室天花板发霉、墙皮脱落，赵某要求尽快维修并赔偿。")
    assert check("key_facts", report, drill).passed
    assert not check("key_facts", with_(parties="402室住户赵某", description=report["description"]), drill).passed


def test_key_fact_synonyms_do_not_match_across_two_fields(drill):
    # "房东在外" ends 当事人 and "地" starts the place: the fact "房东在外地" is not written.
    report = with_(parties="房东在外", location="地下室", measures="已上报", demand="要求维修",
                   description="502室卫生间往楼下渗水，402室天花板发霉、墙皮脱落，赵某要求尽快维修并赔偿。")
    assert not check("key_facts", report, drill).passed


def test_a_count_of_people_with_a_noun_after_the_classifier_is_checked(extra):
    result = check("no_fabrication", with_(measures="502室里住了12个工人。"), extra)
    assert not result.passed and "“12个工人”" in result.message
    assert check("no_fabrication", with_(measures="502室里住了8个工人。"), extra).passed


@pytest.mark.parametrize("text, passed", [("赵某及其他7名住户", True), ("赵某和另外3名住户", True),
                                          ("赵某及其他12名住户", False)])
def test_others_besides_a_named_person_are_a_part_of_the_total(extra, text, passed):
    assert check("no_fabrication", with_(parties=text + "住在502室"), extra).passed is passed


@pytest.mark.parametrize("text, passed", [("老人约80岁", True), ("老人80多岁", True), ("老人八十多岁", True),
                                          ("老人约90岁", False), ("老人70多岁", False), ("老人85岁", False),
                                          ("测得约75分贝", True), ("测得约80分贝", True), ("测得约90分贝", False)])
def test_approximate_figures_agree_at_the_precision_written(extra, text, passed):
    assert check("no_fabrication", with_(measures=text + "。"), extra).passed is passed


@pytest.mark.parametrize("text", ["在门口等派出所来破门。", "要求物业尽快破门。", "准备破门进屋。", "怕楼里着火。",
                                  "厨房里开着火在做饭。", "没有起火、着火。"])
def test_asked_for_feared_or_false_friend_traps_are_not_fabrication(extra, text):
    result = check("no_fabrication", with_(measures=text), extra)
    assert result.passed, result.message


@pytest.mark.parametrize("text", ["楼里着火了。", "派出所来了以后破门进屋。", "吴某等人已经破门。"])
def test_stated_traps_are_still_fabrication(extra, text):
    assert not check("no_fabrication", with_(measures=text), extra).passed
