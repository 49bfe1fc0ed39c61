"""Certification rules: item-by-item evaluation, star level, issue order."""
from __future__ import annotations

import dataclasses

from lms.certification.content import Program, Requirements
from lms.certification.rules import HolderFacts, evaluate, newly_met, star_level

SG = Program(
    code="WG-SG", title="网格员上岗证", valid_months=36, star=None,
    requires=Requirements(
        courses=("county-grid-duties", "county-event-reporting"),
        quizzes={"quiz-grid-duties": 60},
        drills_accepted=3,
        training_hours=8,
    ),
)
STAR1 = Program(code="STAR-1", title="一星级网格员", valid_months=12, star=1,
                requires=Requirements(certificates=("WG-SG",), points=60, mentoring_activities=2))
STAR2 = Program(code="STAR-2", title="二星级网格员", valid_months=12, star=2,
                requires=Requirements(certificates=("WG-SG", "STAR-1"), points=120))
MANUAL = Program(code="HONOUR", title="优秀网格员", valid_months=12, star=None, requires=Requirements())

TITLES = {"county-grid-duties": "网格员职责与工作规范", "county-event-reporting": "事件发现与上报"}
QUIZ_TITLES = {"quiz-grid-duties": "网格员职责测验"}

READY_FOR_SG = HolderFacts(
    completed_courses=frozenset({"county-grid-duties", "county-event-reporting", "other"}),
    quiz_scores={"quiz-grid-duties": 60},
    drills_accepted=3,
    training_hours=8.0,
)


def test_holder_meeting_every_requirement_is_met_with_no_missing_items():
    result = evaluate(SG, READY_FOR_SG)
    assert result.met is True
    assert result.program == "WG-SG"
    assert result.missing == []
    assert [(i.kind, i.key) for i in result.items] == [
        ("course", "county-grid-duties"), ("course", "county-event-reporting"), ("quiz", "quiz-grid-duties"),
        ("drills_accepted", "drills_accepted"), ("training_hours", "training_hours"),
    ]


def test_missing_items_are_listed_with_chinese_labels_and_actual_values():
    facts = dataclasses.replace(
        READY_FOR_SG,
        completed_courses=frozenset({"county-grid-duties"}),
        quiz_scores={"quiz-grid-duties": 55},
        drills_accepted=1,
        training_hours=7.5,
    )
    result = evaluate(SG, facts, course_titles=TITLES, quiz_titles=QUIZ_TITLES)
    assert result.met is False
    assert [(i.label_zh, i.required, i.actual) for i in result.missing] == [
        ("完成课程《事件发现与上报》", True, False),
        ("测验《网格员职责测验》成绩达到 60 分", 60, 55),
        ("模拟事件上报被采纳 3 次", 3, 1),
        ("培训学时累计达到 8 学时", 8, 7.5),
    ]
    done = [i for i in result.items if i.met]
    assert [i.label_zh for i in done] == ["完成课程《网格员职责与工作规范》"]


def test_labels_fall_back_to_codes_without_titles():
    result = evaluate(SG, HolderFacts())
    assert result.items[0].label_zh == "完成课程《county-grid-duties》"
    assert result.items[2].label_zh == "测验《quiz-grid-duties》成绩达到 60 分"


def test_quiz_never_attempted_is_missing_with_no_score():
    item = next(i for i in evaluate(SG, HolderFacts()).items if i.kind == "quiz")
    assert (item.actual, item.met) == (None, False)


def test_certificate_points_and_mentoring_requirements():
    facts = HolderFacts(valid_certificates=frozenset(), points=59, mentoring_activities=2)
    result = evaluate(STAR1, facts, program_titles={"WG-SG": "网格员上岗证"})
    assert [(i.kind, i.label_zh, i.met) for i in result.items] == [
        ("certificate", "持有有效的《网格员上岗证》证书", False),
        ("mentoring_activities", "已确认的老带新活动达到 2 次", True),
        ("points", "积分达到 60 分", False),
    ]
    assert evaluate(STAR1, dataclasses.replace(facts, valid_certificates=frozenset({"WG-SG"}), points=60)).met


def test_zero_requirements_are_not_listed():
    result = evaluate(STAR1, HolderFacts())
    assert {i.kind for i in result.items} == {"certificate", "mentoring_activities", "points"}


def test_star_level_is_highest_star_among_valid_programs():
    assert star_level([]) == 0
    assert star_level([SG]) == 0
    assert star_level([SG, STAR2, STAR1]) == 2


def test_newly_met_issues_prerequisites_first_in_one_pass():
    facts = dataclasses.replace(READY_FOR_SG, points=130, mentoring_activities=2)
    assert [p.code for p in newly_met([STAR2, STAR1, SG], facts)] == ["WG-SG", "STAR-1", "STAR-2"]


def test_newly_met_skips_programs_already_held_or_requiring_nothing():
    facts = dataclasses.replace(READY_FOR_SG, valid_certificates=frozenset({"WG-SG"}), points=70,
                                mentoring_activities=2)
    assert [p.code for p in newly_met([SG, STAR1, STAR2, MANUAL], facts)] == ["STAR-1"]


def test_newly_met_stops_at_unmet_prerequisite():
    facts = dataclasses.replace(READY_FOR_SG, drills_accepted=0, points=500, mentoring_activities=9)
    assert newly_met([SG, STAR1, STAR2], facts) == []
