"""Drill and taxonomy files are parsed strictly, with Chinese file:line errors."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from lms.contentfile import ContentErrors
from lms.drills.content import (
    FORM_FIELDS,
    RULE_NAMES,
    Taxonomy,
    load_drill,
    parse_drill,
    parse_taxonomy,
    validate_model_report,
)

TAXONOMY = """\
event_types: [噪声扰民, 矛盾纠纷, 其他]
departments: [住建局, 生态环境局, 城管局（综合行政执法局）, 村（社区）人民调解委员会]
urgencies: [一般, 较急, 紧急]
"""

# Line numbers matter below: keep this text's layout stable.
DRILL = """\
code: sample-noise
title: 楼上装修噪声
scenario: |
  6月3日晚上9点左右，和平社区幸福里5栋2单元的业主王某反映，楼上601室的租户
  正在装修，电钻声很大，已经持续了2天。王某要求晚上8点以后不要施工。
reference_time: 2026-06-04T09:00:00+08:00
facts:
  - name: 装修噪声
    any: [装修, 电钻]
  - name: 持续多日
    any: [两天, 2天]
numbers:
  - name: 持续天数
    value: 2
    unit: 天
    near: [持续, 已经]
traps:
  - name: 有人受伤
    any: [受伤]
place_detail: building
answer:
  event_type: 噪声扰民
  department: [住建局]
  urgency: 一般
required: [event_type, occurred_at, location, parties, description, demand, measures, department, urgency]
model_report:
  event_type: 噪声扰民
  occurred_at: 6月3日21时左右
  location: 和平社区幸福里5栋2单元601室
  parties: 反映人5栋2单元业主王某；601室租户（姓名待核实）
  description: 我于6月3日晚上接到王某反映后上门核实，601室租户家中装修时使用电钻，噪声明显，据王某说这种情况已持续2天。
  demand: 王某希望对方晚上8点后停止装修作业。
  measures: 已提醒租户控制作业时间，租户表示当晚停工。
  department: 住建局
  urgency: 一般
"""


@pytest.fixture
def taxonomy():
    return parse_taxonomy(TAXONOMY, "question_bank/taxonomy.yaml")


def errors_of(text, taxonomy, path="question_bank/drills/sample-noise.yaml"):
    with pytest.raises(ContentErrors) as info:
        parse_drill(text, path, taxonomy)
    return [(e.line, e.message) for e in info.value.errors]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_taxonomy_lists_are_read_in_order(taxonomy):
    assert taxonomy == Taxonomy(
        event_types=("噪声扰民", "矛盾纠纷", "其他"),
        departments=("住建局", "生态环境局", "城管局（综合行政执法局）", "村（社区）人民调解委员会"),
        urgencies=("一般", "较急", "紧急"),
    )


def test_taxonomy_missing_list_duplicate_and_unknown_key_are_reported_with_lines():
    text = "event_types: [噪声扰民, 噪声扰民]\ndepartment: [住建局]\nurgencies: []\n"
    with pytest.raises(ContentErrors) as info:
        parse_taxonomy(text, "t.yaml")
    messages = [(e.line, e.message) for e in info.value.errors]
    assert (1, "event_types 中“噪声扰民”重复") in messages
    assert any(line == 2 and "未知的键“department”" in m for line, m in messages)
    assert any(line == 3 and "urgencies（紧急程度）必须是非空列表" in m for line, m in messages)
    assert any("缺少 departments" in m for _, m in messages)


def test_taxonomy_that_is_not_a_mapping_is_rejected():
    with pytest.raises(ContentErrors) as info:
        parse_taxonomy("- 住建局\n", "t.yaml")
    assert "YAML 映射" in str(info.value)


def test_valid_drill_parses_every_key(taxonomy):
    drill = parse_drill(DRILL, "question_bank/drills/sample-noise.yaml", taxonomy)
    assert drill.code == "sample-noise"
    assert drill.org is None
    assert drill.reference_time == datetime.fromisoformat("2026-06-04T09:00:00+08:00")
    assert drill.reference_time.utcoffset() == timedelta(hours=8)
    assert [f.name for f in drill.facts] == ["装修噪声", "持续多日"]
    assert drill.numbers[0].value == 2 and drill.numbers[0].unit == "天" and drill.numbers[0].field is None
    assert drill.traps[0].any == ("受伤",)
    assert drill.answer.departments == ("住建局",)
    assert drill.required == FORM_FIELDS
    assert dict(drill.weights) == dict.fromkeys(RULE_NAMES, 1.0)
    assert set(drill.model_report) == set(FORM_FIELDS)
    assert drill.model_report_lines[""] == line_of(DRILL, "model_report:")
    assert drill.model_report_lines["urgency"] == len(DRILL.splitlines())


def test_reference_time_as_quoted_string_with_offset_is_accepted(taxonomy):
    text = DRILL.replace("reference_time: 2026-06-04T09:00:00+08:00", 'reference_time: "2026-06-04T01:00:00Z"')
    drill = parse_drill(text, "sample-noise.yaml", taxonomy)
    assert drill.reference_time == datetime.fromisoformat("2026-06-04T09:00:00+08:00")


@pytest.mark.parametrize(
    "value, message",
    [("2026-06-04T09:00:00", "缺少时区"), ("2026-06-04", "只写了日期"), ("明天早上", "无法识别"),
     ('"2026-13-04T09:00:00+08:00"', "无法识别")],
)
def test_bad_reference_time_is_reported_on_its_line(taxonomy, value, message):
    text = DRILL.replace("2026-06-04T09:00:00+08:00", value)
    [(line, text_)] = errors_of(text, taxonomy)
    assert line == line_of(DRILL, "reference_time:")
    assert "reference_time 必须是带时区的 ISO 8601 时间" in text_ and message in text_


def test_answer_values_outside_taxonomy_are_reported_on_their_lines(taxonomy):
    text = (DRILL.replace("  event_type: 噪声扰民\n  department: [住建局]", "  event_type: 扰民\n  department: [住建局, 环保局]")
            .replace("  urgency: 一般\nrequired", "  urgency: 特急\nrequired"))
    errors = errors_of(text, taxonomy)
    assert (line_of(DRILL, "  event_type: 噪声扰民"), "事件类型“扰民”不在分类文件的 event_types 中") in errors
    assert (line_of(DRILL, "  department: [住建局]"), "责任部门“环保局”不在分类文件的 departments 中") in errors
    assert (line_of(DRILL, "  urgency: 一般"),
            "紧急程度“特急”不在分类文件的 urgencies 中（可选：一般、较急、紧急）") in errors


def test_unknown_form_field_in_required_and_model_report_is_reported(taxonomy):
    text = (DRILL.replace("required: [event_type,", "required: [event_kind, event_type,")
            .replace("  department: 住建局\n  urgency: 一般\n", "  department: 住建局\n  urgency: 一般\n  photo: 无\n"))
    errors = errors_of(text, taxonomy)
    assert any(line == line_of(DRILL, "required:") and "未知的表单字段“event_kind”" in m for line, m in errors)
    assert any(line == len(DRILL.splitlines()) + 1 and "model_report 中有未知的表单字段“photo”" in m
               for line, m in errors)


def test_missing_keys_are_each_reported(taxonomy):
    text = "\n".join(line for line in DRILL.splitlines() if not line.startswith(("title:", "place_detail:")))
    messages = [m for _, m in errors_of(text, taxonomy)]
    assert "缺少 title" in messages and "缺少 place_detail" in messages


def test_unknown_top_level_key_is_reported_on_its_line(taxonomy):
    text = DRILL.replace("title: 楼上装修噪声\n", "title: 楼上装修噪声\ndifficulty: 2\n")
    [(line, message)] = errors_of(text, taxonomy)
    assert line == 3 and "未知的键“difficulty”" in message


def test_unknown_rule_name_in_weights_is_rejected(taxonomy):
    text = DRILL + "weights:\n  key_facts: 3\n  spelling: 1\n  urgency: -1\n"
    errors = errors_of(text, taxonomy)
    end = len(DRILL.splitlines())
    assert any(line == end + 3 and "未知的规则名“spelling”" in m for line, m in errors)
    assert any(line == end + 4 and "“urgency”的权重必须是不小于 0 的数字" in m for line, m in errors)


def test_weights_default_to_one_for_rules_not_listed(taxonomy):
    drill = parse_drill(DRILL + "weights:\n  no_fabrication: 3\n", "sample-noise.yaml", taxonomy)
    assert drill.weights["no_fabrication"] == 3.0
    assert drill.weights["urgency"] == 1.0


def test_bad_facts_numbers_and_place_detail_are_reported(taxonomy):
    text = (DRILL.replace("    any: [装修, 电钻]", "    any: []")
            .replace("    value: 2\n", "    value: 两\n")
            .replace("place_detail: building", "place_detail: street"))
    errors = errors_of(text, taxonomy)
    assert any(line == line_of(DRILL, "any: [装修, 电钻]") and "facts 第1项的 any必须是非空列表" in m for line, m in errors)
    assert any(line == line_of(DRILL, "value: 2") and "value 必须是数字" in m for line, m in errors)
    assert any(line == line_of(DRILL, "place_detail:") and "place_detail 只能是 building" in m for line, m in errors)


def test_time_anchor_needs_a_time_unit(taxonomy):
    text = DRILL.replace("    near: [持续, 已经]\n", "    near: [持续, 已经]\n    field: occurred_at\n")
    [(line, message)] = errors_of(text, taxonomy)
    assert line == line_of(DRILL, "unit: 天") and "unit 必须是 点、时、日、号 之一" in message


def test_file_name_must_match_code(taxonomy):
    [(line, message)] = errors_of(DRILL, taxonomy, path="question_bank/drills/other.yaml")
    assert line == 1 and "文件名应为 sample-noise.yaml" in message


def test_yaml_syntax_error_names_the_line(taxonomy):
    errors = errors_of(DRILL.replace("title: 楼上装修噪声", "title: [楼上装修噪声"), taxonomy)
    assert errors and "YAML 格式错误" in errors[0][1]


def test_model_report_that_would_be_returned_is_reported_on_the_failing_field(taxonomy):
    text = DRILL.replace("  location: 和平社区幸福里5栋2单元601室", "  location: 幸福里小区里")
    drill = parse_drill(text, "sample-noise.yaml", taxonomy)
    errors = validate_model_report(drill, taxonomy)
    assert [(e.line, e.message.split("：")[0]) for e in errors] == [
        (line_of(DRILL, "  location:"), "示范报告未通过检查“地点具体”")]
    with pytest.raises(ContentErrors):
        load_drill(text, "sample-noise.yaml", taxonomy)


def test_model_report_missing_field_points_at_model_report(taxonomy):
    text = DRILL.replace("  demand: 王某希望对方晚上8点后停止装修作业。\n", "")
    errors = validate_model_report(parse_drill(text, "sample-noise.yaml", taxonomy), taxonomy)
    # required_fields and demand_specific both name the empty 群众诉求; both point at model_report:
    assert [(e.line, "群众诉求" in e.message) for e in errors] == [(line_of(DRILL, "model_report:"), True)] * 2
    assert "缺少必填要素：群众诉求" in errors[0].message and "“诉求具体”" in errors[1].message


def test_model_report_department_outside_taxonomy_is_reported(taxonomy):
    text = DRILL.replace("  department: 住建局\n  urgency: 一般\n", "  department: 街道办\n  urgency: 一般\n")
    errors = validate_model_report(parse_drill(text, "sample-noise.yaml", taxonomy), taxonomy)
    assert (len(DRILL.splitlines()) - 1, "示范报告的责任部门“街道办”不在分类文件中") in [(e.line, e.message) for e in errors]


def test_load_drill_accepts_a_good_drill(taxonomy):
    assert load_drill(DRILL, "sample-noise.yaml", taxonomy).title == "楼上装修噪声"
