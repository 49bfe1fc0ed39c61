"""Parsing certifications.yaml: programs, point rules and file:line errors."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lms.certification.content import PointRules, dependency_order, parse_certifications
from lms.contentfile import ContentErrors

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "courses" / "certifications.yaml"

EXISTING_COURSES = {
    "county-grid-duties", "county-event-reporting", "county-social-security", "county-personal-info",
    "qs-dispute-mediation", "qs-petitions", "cg-relocation", "ty-home-visits", "ty-fire-gas-safety",
    "hp-elderly-care",
}
EXISTING_QUIZZES = {
    "quiz-grid-duties", "quiz-event-reporting", "quiz-social-security", "quiz-personal-info",
    "quiz-dispute-mediation", "quiz-petitions", "quiz-relocation", "quiz-safety", "quiz-special-groups",
    "exam-policy-2026",
}

GOOD = """\
programs:
  - code: WG-SG
    title: 网格员上岗证
    valid_months: 36
    requires:
      courses: [county-grid-duties, county-event-reporting]
      quizzes: {quiz-grid-duties: 60}
      drills_accepted: 3
      training_hours: 7.5
  - code: STAR-1
    title: 一星级网格员
    valid_months: 12
    star: 1
    requires:
      certificates: [WG-SG]
      points: 60
      mentoring_activities: 2
points:
  lesson_complete: 1
  quiz_pass: 5
  drill_accepted: 3
  training_hour: 2
  mentoring_activity: 4
"""


def errors_of(text: str, **kwargs) -> list[str]:
    with pytest.raises(ContentErrors) as info:
        parse_certifications(textwrap.dedent(text), "courses/certifications.yaml", **kwargs)
    return [str(e) for e in info.value.errors]


def test_parses_programs_requirements_and_points():
    config = parse_certifications(GOOD, "c.yaml")
    sg, star1 = config.programs
    assert (sg.code, sg.title, sg.valid_months, sg.star) == ("WG-SG", "网格员上岗证", 36, None)
    assert sg.requires.courses == ("county-grid-duties", "county-event-reporting")
    assert sg.requires.quizzes == {"quiz-grid-duties": 60}
    assert sg.requires.drills_accepted == 3
    assert sg.requires.training_hours == 7.5
    assert sg.requires.certificates == ()
    assert star1.star == 1 and star1.requires.certificates == ("WG-SG",)
    assert star1.requires.points == 60 and star1.requires.mentoring_activities == 2
    assert star1.line == 10
    assert config.points == PointRules(lesson_complete=1, quiz_pass=5, drill_accepted=3, training_hour=2,
                                       mentoring_activity=4)
    assert config.program("STAR-1") is star1
    assert config.program("STAR-9") is None


def test_point_rules_award_rounds_fractional_hours_down():
    rules = PointRules(training_hour=2, quiz_pass=5)
    assert rules.award("training_hour", 1.5) == 3
    assert rules.award("training_hour", 1.2) == 2
    assert rules.award("quiz_pass") == 5
    with pytest.raises(ValueError):
        rules.award("login")


def test_missing_point_keys_default_to_zero():
    config = parse_certifications("programs: []\npoints: {quiz_pass: 5}\n", "c.yaml")
    assert config.points == PointRules(quiz_pass=5)


def test_unknown_keys_are_reported_at_their_lines():
    assert errors_of("""\
        programs:
          - code: WG-SG
            title: 网格员上岗证
            valid_month: 36
            requires:
              course: [county-grid-duties]
        points:
          lesson: 1
        extra: true
        """) == [
        "courses/certifications.yaml:2: 认证项目“WG-SG”缺少 valid_months（有效期，月数）",
        "courses/certifications.yaml:4: 认证项目“WG-SG”中有未知的键“valid_month”"
        "（可用的键：code、title、valid_months、star、requires）",
        "courses/certifications.yaml:6: requires 中有未知的键“course”（可用的键：courses、quizzes、drills_accepted、"
        "training_hours、mentoring_activities、points、certificates、within_months）",
        "courses/certifications.yaml:8: points 中有未知的键“lesson”（可用的键：lesson_complete、quiz_pass、"
        "drill_accepted、consultation_accepted、training_hour、mentoring_activity、field_closed、field_returned、"
        "field_satisfaction）",
        "courses/certifications.yaml:9: 文件顶层中有未知的键“extra”（可用的键：programs、points）",
    ]


def test_negative_numbers_are_rejected():
    assert errors_of("""\
        programs:
          - code: WG-SG
            title: 网格员上岗证
            valid_months: -12
            requires:
              drills_accepted: -1
              training_hours: -0.5
              points: -10
        points:
          quiz_pass: -5
        """) == [
        "courses/certifications.yaml:4: 认证项目“WG-SG”的 valid_months 必须是正整数（月数），不能是负数：-12",
        "courses/certifications.yaml:6: 模拟上报被采纳次数 drills_accepted 不能是负数：-1",
        "courses/certifications.yaml:7: 培训学时 training_hours 不能是负数：-0.5",
        "courses/certifications.yaml:8: 积分 points 不能是负数：-10",
        "courses/certifications.yaml:10: 通过一次测验的积分 quiz_pass 不能是负数：-5",
    ]


def test_counts_must_be_whole_numbers_and_scores_within_0_to_100():
    assert errors_of("""\
        programs:
          - code: WG-SG
            title: 网格员上岗证
            valid_months: 0
            requires:
              drills_accepted: 2.5
              mentoring_activities: true
              quizzes: {quiz-grid-duties: 120, quiz-petitions: 及格}
        """) == [
        "courses/certifications.yaml:4: 认证项目“WG-SG”的 valid_months 必须是正整数（月数），不能是0：0",
        "courses/certifications.yaml:6: 模拟上报被采纳次数 drills_accepted 必须是不小于 0 的整数，而不是“2.5”",
        "courses/certifications.yaml:7: 老带新活动次数 mentoring_activities 必须是不小于 0 的整数，而不是“True”",
        "courses/certifications.yaml:8: 测验“quiz-grid-duties”的最低分必须是 0–100 的数字，而不是“120”",
        "courses/certifications.yaml:8: 测验“quiz-petitions”的最低分必须是 0–100 的数字，而不是“及格”",
    ]


@pytest.mark.parametrize("star", ["0", "6", "-1", "2.5", "三"])
def test_star_outside_one_to_five_is_rejected(star):
    assert errors_of(f"""\
        programs:
          - code: STAR-X
            title: 星级
            valid_months: 12
            star: {star}
        """) == [f"courses/certifications.yaml:5: 认证项目“STAR-X”的 star（星级）必须是 1–5 的整数，而不是“{star}”"]


def test_duplicate_program_codes_name_the_first_definition():
    assert errors_of("""\
        programs:
          - code: WG-SG
            title: 网格员上岗证
            valid_months: 36
          - code: WG-SG
            title: 网格员上岗证（重复）
            valid_months: 36
        """) == ["courses/certifications.yaml:5: 认证项目编码“WG-SG”重复（第 2 行已定义）"]


def test_certificate_requirement_must_name_a_program_of_the_file():
    assert errors_of("""\
        programs:
          - code: STAR-1
            title: 一星级网格员
            valid_months: 12
            requires:
              certificates: [WG-SG]
        """) == ["courses/certifications.yaml:6: 认证项目“STAR-1”要求的证书“WG-SG”不存在（不是本文件中的认证项目）"]


def test_a_program_requiring_itself_is_rejected():
    assert errors_of("""\
        programs:
          - code: STAR-1
            title: 一星级网格员
            valid_months: 12
            requires:
              certificates:
                - STAR-1
        """) == ["courses/certifications.yaml:7: 认证项目“STAR-1”不能要求持有它自己的证书"]


def test_a_cycle_of_certificate_requirements_is_reported_once_with_its_path():
    assert errors_of("""\
        programs:
          - code: A
            title: 甲
            valid_months: 12
            requires: {certificates: [B]}
          - code: B
            title: 乙
            valid_months: 12
            requires: {certificates: [C]}
          - code: C
            title: 丙
            valid_months: 12
            requires: {certificates: [A]}
        """) == ["courses/certifications.yaml:5: 证书要求形成循环：A → B → C → A（任何人都无法取得这些证书）"]


def test_duplicate_course_in_requirements_is_reported():
    assert errors_of("""\
        programs:
          - code: WG-SG
            title: 网格员上岗证
            valid_months: 36
            requires:
              courses:
                - county-grid-duties
                - county-grid-duties
        """) == ["courses/certifications.yaml:8: courses 课程中“county-grid-duties”重复"]


def test_unknown_courses_and_quizzes_are_reported_when_known_sets_are_given():
    text = """\
        programs:
          - code: WG-SG
            title: 网格员上岗证
            valid_months: 36
            requires:
              courses: [county-grid-duties, county-nonexistent]
              quizzes:
                quiz-grid-duties: 60
                quiz-missing: 60
        """
    # Without known sets, references are not checked.
    parse_certifications(textwrap.dedent(text), "c.yaml")
    assert errors_of(text, known_courses=EXISTING_COURSES, known_quizzes=EXISTING_QUIZZES) == [
        "courses/certifications.yaml:6: 课程“county-nonexistent”不存在",
        "courses/certifications.yaml:9: 测验“quiz-missing”不存在",
    ]


def test_missing_required_program_fields_point_at_the_program():
    assert errors_of("""\
        programs:
          - title: 无编码
            valid_months: 12
          - code: X
        """) == [
        "courses/certifications.yaml:2: 第 1 个认证项目缺少 code（编码）",
        "courses/certifications.yaml:4: 认证项目“X”缺少 title（名称）",
        "courses/certifications.yaml:4: 认证项目“X”缺少 valid_months（有效期，月数）",
    ]


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "courses/certifications.yaml:1: 文件必须是 YAML 映射，包含 programs（认证项目）和 points（积分规则）"),
    ("points: {}\n", "courses/certifications.yaml:1: 缺少 programs（认证项目列表）"),
    ("programs: WG-SG\n", "courses/certifications.yaml:1: programs 必须是认证项目的列表（每项以“- code: …”开始）"),
    ("programs: [\n", None),
])
def test_malformed_documents_are_rejected(text, message):
    lines = errors_of(text)
    if message is None:
        assert len(lines) == 1 and "YAML 格式错误" in lines[0]
    else:
        assert lines == [message]


def test_dependency_order_puts_required_programs_first():
    config = parse_certifications("""\
programs:
  - {code: STAR-2, title: 二星, valid_months: 12, star: 2, requires: {certificates: [STAR-1, WG-SG]}}
  - {code: STAR-1, title: 一星, valid_months: 12, star: 1, requires: {certificates: [WG-SG]}}
  - {code: WG-SG, title: 上岗证, valid_months: 36}
""", "c.yaml")
    assert [p.code for p in dependency_order(config.programs)] == ["WG-SG", "STAR-1", "STAR-2"]


def test_shipped_certifications_parse_and_reference_existing_courses_and_quizzes():
    if not SHIPPED.exists():
        pytest.fail(f"{SHIPPED} is missing")
    config = parse_certifications(SHIPPED.read_text(encoding="utf-8"), str(SHIPPED),
                                  known_courses=EXISTING_COURSES, known_quizzes=EXISTING_QUIZZES)
    by_code = {p.code: p for p in config.programs}
    assert set(by_code) == {"WG-SG", "STAR-1", "STAR-2", "STAR-3", "STAR-4", "STAR-5"}
    sg = by_code["WG-SG"]
    assert sg.title == "网格员上岗证" and sg.valid_months == 36 and sg.star is None
    assert set(sg.requires.courses) == {"county-grid-duties", "county-event-reporting", "county-personal-info"}
    assert sg.requires.quizzes == {"quiz-grid-duties": 60, "quiz-event-reporting": 60}
    assert sg.requires.drills_accepted == 3 and sg.requires.training_hours == 8
    previous = None
    for n, name in enumerate("一二三四五", start=1):
        star = by_code[f"STAR-{n}"]
        assert star.title == f"{name}星级网格员" and star.star == n and star.valid_months == 12
        assert "WG-SG" in star.requires.certificates
        if previous:
            assert previous.code in star.requires.certificates
            # Each level asks for more than the one below it.
            assert star.requires.points > previous.requires.points
            assert star.requires.drills_accepted >= previous.requires.drills_accepted
            assert star.requires.training_hours >= previous.requires.training_hours
        assert (star.requires.mentoring_activities > 0) == (n >= 4)
        assert star.requires.within_months == 12  # 12-month stars renew on the last 12 months only
        previous = star
    assert config.points == PointRules(lesson_complete=1, quiz_pass=5, drill_accepted=3, consultation_accepted=3,
                                       training_hour=2, mentoring_activity=4, field_closed=1, field_returned=1,
                                       field_satisfaction=1)
