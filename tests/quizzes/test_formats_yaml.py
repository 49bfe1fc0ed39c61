import datetime as dt
import textwrap

import pytest

from lms.contentfile import ContentErrors
from lms.quizzes.formats.quiz_file import parse_quiz
from lms.quizzes.formats.yaml_bank import check_unique_ids, parse_bank

PATH = "question_bank/social-security.yaml"

GOOD = """\
bank: social-security
title: 社会保障政策
org: HX
questions:
  - id: ss-0001
    type: single
    stem: 新型农村社会养老保险实行哪种筹资方式？
    options: {A: 个人缴费、集体补助和政府补贴相结合, B: 完全由个人缴费, C: 完全由政府补贴}
    answer: A
    explanation: 见第二十条。
    source: 《中华人民共和国社会保险法》第二十条
    difficulty: 2
    tags: [养老保险]
  - id: ss-0002
    type: multiple
    stem: 下列哪些属于基本养老保险的缴费主体？
    options:
      A: 用人单位
      B: 职工
      C: 网格员
    answer: [A, B]
    tags: 养老保险
  - id: ss-0003
    type: judge
    stem: "**职工**应当参加基本养老保险。"
    answer: true
  - id: ss-0004
    type: fill
    stem: 由用人单位和____共同缴纳，最低缴费____年。
    answer: [[职工, 职工本人], 15]
"""


def errors_of(text, parse=parse_bank, path=PATH, **kwargs):
    with pytest.raises(ContentErrors) as info:
        parse(textwrap.dedent(text), path, **kwargs)
    return [(e.line, e.message) for e in info.value.errors]


def test_good_bank_parses_every_type_with_canonical_answers():
    bank = parse_bank(GOOD, PATH, expected_code="social-security")
    assert (bank.code, bank.title, bank.org) == ("social-security", "社会保障政策", "HX")
    single, multiple, judge, fill = bank.questions
    assert single.answer == "A" and single.options["A"].startswith("个人缴费")
    assert single.difficulty == 2 and single.tags == ("养老保险",) and single.line == 5
    assert multiple.answer == frozenset({"A", "B"}) and multiple.tags == ("养老保险",)
    assert judge.answer is True and judge.options == {} and judge.difficulty == 3
    assert fill.answer == (("职工", "职工本人"), ("15",))
    assert {q.text_format for q in bank.questions} == {"markdown"}


def test_org_defaults_to_none_for_the_tree_root():
    bank = parse_bank(GOOD.replace("org: HX\n", ""), PATH)
    assert bank.org is None


def bank_with(question_yaml: str) -> str:
    return "bank: social-security\ntitle: 社保\nquestions:\n" + textwrap.indent(textwrap.dedent(question_yaml), "  ")


def test_unknown_type_is_reported_on_its_line():
    text = bank_with("""\
        - id: a
          type: essay
          stem: 论述
          answer: x
        """)
    assert errors_of(text) == [(5, "未知题型 'essay'，应为 single、multiple、judge 或 fill")]


def test_answer_not_among_options_points_at_the_answer_line():
    text = bank_with("""\
        - id: a
          type: single
          stem: 题
          options: {A: 甲, B: 乙}
          answer: D
        """)
    assert errors_of(text) == [(8, "答案 D 不在选项中（A、B）")]


def test_missing_stem_points_at_the_question():
    text = bank_with("""\
        - id: a
          type: judge
          answer: true
        - id: b
          type: judge
          answer: false
          stem: ""
        """)
    assert errors_of(text) == [(4, "题目缺少题干 stem"), (7, "题目缺少题干 stem")]


def test_difficulty_out_of_range_points_at_difficulty():
    text = bank_with("""\
        - id: a
          type: judge
          stem: 题
          answer: true
          difficulty: 7
        """)
    assert errors_of(text) == [(8, "难度必须是 1–5 的整数，实际是 7")]


def test_duplicate_id_in_file_names_the_first_line():
    text = bank_with("""\
        - id: a
          type: judge
          stem: 题一
          answer: true
        - id: a
          type: judge
          stem: 题二
          answer: false
        """)
    assert errors_of(text) == [(8, "题目编号 a 重复（第 4 行已使用）")]


def test_fill_blank_count_must_match_answer_lists():
    text = bank_with("""\
        - id: a
          type: fill
          stem: 由用人单位和____共同缴纳
          answer: [职工, 本人]
        """)
    assert errors_of(text) == [(7, "题干有 1 个空，答案却给了 2 个空的答案")]


def test_unknown_keys_are_errors_at_their_line():
    text = bank_with("""\
        - id: a
          type: judge
          stem: 题
          answer: true
          anwser: false
        """).replace("title: 社保\n", "title: 社保\nowner: HX\n")
    assert errors_of(text) == [
        (3, "未知字段 owner（可用：bank, title, org, questions）"),
        (9, "未知字段 anwser（可用：id, type, stem, options, answer, explanation, source, difficulty, tags）"),
    ]


def test_wrong_answer_shape_for_multiple_is_explained():
    text = bank_with("""\
        - id: a
          type: multiple
          stem: 题
          options: {A: 甲, B: 乙}
          answer: {A: 1}
        """)
    [(line, message)] = errors_of(text)
    assert line == 8 and "多选题的答案应为选项字母的列表" in message


def test_every_problem_of_a_file_is_reported_at_once():
    text = bank_with("""\
        - id: a
          type: single
          stem: 题
          options: {A: 甲, B: 乙}
          answer: C
        - type: judge
          stem: 题
          answer: true
        """)
    assert [line for line, _ in errors_of(text)] == [8, 9]


def test_broken_yaml_reports_its_line():
    text = "bank: x\ntitle: t\nquestions:\n  - id: a\n    stem: [unclosed\n"
    [(line, message)] = errors_of(text)
    assert line == 6 and message.startswith("YAML 格式错误")


def test_empty_file_is_an_error_on_line_one():
    assert errors_of("") == [(1, "文件为空：需要 bank、title 和 questions")]


def test_bank_without_questions_is_an_error():
    assert errors_of("bank: social-security\ntitle: 社保\nquestions: []\n") == [
        (3, "questions 为空：题库至少要有一道题")]


def test_bank_code_must_match_file_name_when_asked():
    assert errors_of(GOOD, expected_code="pensions") == [
        (1, "题库编码 social-security 与文件名 pensions.yaml 不一致")]


def test_ids_must_be_unique_across_banks():
    first = parse_bank(GOOD, "question_bank/a.yaml")
    second = parse_bank(GOOD.replace("social-security", "other"), "question_bank/b.yaml")
    errors = check_unique_ids([first, second])
    assert len(errors) == 4
    assert str(errors[0]) == "question_bank/b.yaml:5: 题目编号 ss-0001 已在 question_bank/a.yaml:5 使用，编号必须在所有题库中唯一"


# --- quiz files -------------------------------------------------------------

QPATH = "question_bank/quizzes/county-exam.yaml"
QUIZ = """\
code: county-exam
title: 县级网格员统一考试
org: HX
draw:
  - {bank: social-security, count: 5, tags: [养老保险]}
  - bank: petitions
    count: 5
    difficulty: [2, 3]
time_limit_minutes: 30
pass_score: 80
max_attempts: 2
shuffle_options: true
opens_at: 2026-12-01T09:00:00+08:00
closes_at: "2026-12-01T11:00:00+08:00"
"""


def test_quiz_file_parses_draws_and_aware_times():
    spec = parse_quiz(QUIZ, QPATH, expected_code="county-exam")
    assert spec.code == "county-exam" and spec.pass_score == 80 and spec.max_attempts == 2
    assert [(d.bank, d.count, d.tags, d.difficulty) for d in spec.draws] == [
        ("social-security", 5, ("养老保险",), ()), ("petitions", 5, (), (2, 3))]
    assert spec.question_count == 10
    assert spec.opens_at == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.timezone.utc)
    assert spec.closes_at.utcoffset() == dt.timedelta(hours=8)


def test_quiz_defaults():
    text = "code: q\ntitle: 测验\ndraw: [{bank: b, count: 1}]\ntime_limit_minutes: 10\npass_score: 60\n"
    spec = parse_quiz(text, QPATH)
    assert spec.org is None and spec.max_attempts is None and spec.shuffle_options is True
    assert spec.opens_at is None and spec.closes_at is None


def test_quiz_times_without_offset_are_errors():
    text = QUIZ.replace("2026-12-01T09:00:00+08:00", "2026-12-01T09:00:00")
    assert errors_of(text, parse_quiz, QPATH) == [(13, "opens_at 必须带时区偏移，如 2026-12-01T09:00:00+08:00")]


def test_quiz_must_open_before_it_closes():
    text = QUIZ.replace("11:00:00+08:00", "08:00:00+08:00")
    assert errors_of(text, parse_quiz, QPATH) == [(14, "closes_at 必须晚于 opens_at")]


def test_quiz_pass_score_out_of_range_and_bad_draw_are_reported_by_line():
    text = QUIZ.replace("pass_score: 80", "pass_score: 120").replace("count: 5, tags", "count: 0, tags")
    assert errors_of(text, parse_quiz, QPATH) == [
        (5, "抽题数量 count 必须是正整数，实际是 0"),
        (10, "pass_score 必须是 0–100 的整数，实际是 120"),
    ]


def test_quiz_missing_fields_and_unknown_keys():
    text = "code: q\ntitle: 测验\ndraw: [{bank: b, count: 1, level: 2}]\nshuffle: false\n"
    assert errors_of(text, parse_quiz, QPATH) == [
        (1, "缺少答题时限 time_limit_minutes（分钟）"),
        (1, "缺少及格分 pass_score（0–100）"),
        (3, "未知字段 level（可用：bank, count, tags, difficulty）"),
        (4, "未知字段 shuffle（可用：code, title, org, draw, questions, time_limit_minutes, pass_score, max_attempts, shuffle_options, opens_at, closes_at, retake_after_days, annual_window）"),
    ]


def test_quiz_broken_yaml_and_empty_file():
    assert errors_of("code: [q\n", parse_quiz, QPATH)[0][0] == 2
    assert errors_of("", parse_quiz, QPATH) == [(1, "文件为空：需要 code、title、draw 等字段")]
