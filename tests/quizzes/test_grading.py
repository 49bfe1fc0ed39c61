import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.quizzes.grading import TYPES, get_type, grade, normalize_answer, normalize_text, validate_question
from lms.quizzes.questions import (
    Question,
    answer_from_json,
    answer_to_json,
    count_blanks,
    question_from_dict,
    split_blanks,
)

SINGLE = Question(id="q-1", type="single", stem="题干", options={"A": "甲", "B": "乙", "C": "丙"}, answer="B")
MULTIPLE = Question(id="q-2", type="multiple", stem="题干", options={"A": "甲", "B": "乙", "C": "丙", "D": "丁"},
                    answer=frozenset({"A", "C"}))
JUDGE = Question(id="q-3", type="judge", stem="网格员可以公开居民身份证号。", answer=False)
FILL = Question(id="q-4", type="fill", stem="由用人单位和____共同缴纳，____年。",
                answer=(("职工", "职工本人"), ("15", "十五")))


def test_registry_has_four_types_with_chinese_labels():
    assert {name: t.label for name, t in TYPES.items()} == {
        "single": "单选", "multiple": "多选", "judge": "判断", "fill": "填空"}
    assert get_type("fill").type == "fill"
    with pytest.raises(KeyError):
        get_type("essay")


@pytest.mark.parametrize("raw", ["B", "b", "ｂ", " B ", "B。", "[B]", ["B"], '"B"'])
def test_single_choice_accepts_spellings_of_one_letter(raw):
    assert grade(SINGLE, raw) is True


@pytest.mark.parametrize("raw", ["A", "AB", "", None, 2, "G", ["B", "C"], {"B": 1}])
def test_single_choice_rejects_other_or_unreadable_answers(raw):
    assert grade(SINGLE, raw) is False


@pytest.mark.parametrize("raw", ["AC", "A,C", "A、C", "[A, C]", ["A", "C"], '["A","C"]', "ａｃ", "C A", "ca；", ("C", "A")])
def test_multiple_choice_accepts_every_documented_spelling(raw):
    assert normalize_answer("multiple", raw) == frozenset({"A", "C"})
    assert grade(MULTIPLE, raw) is True


@pytest.mark.parametrize("raw", ["A", "ACD", "AX", [], "", None, [1, 2], True])
def test_multiple_choice_is_all_or_nothing(raw):
    assert grade(MULTIPLE, raw) is False


def test_multiple_choice_garbage_is_unreadable_not_just_wrong():
    assert normalize_answer("multiple", "A and C") is None
    assert normalize_answer("multiple", ["A", None]) is None


@given(st.sets(st.sampled_from("ABCDEF"), min_size=1), st.randoms(use_true_random=False),
       st.sampled_from([",", "、", " ", "", "；", ", "]), st.booleans(), st.booleans(), st.booleans())
@settings(max_examples=150, deadline=None, database=None)
def test_any_order_separator_and_width_of_letters_normalises_to_the_same_set(letters, rnd, sep, lower, wide, bracket):
    ordered = list(letters)
    rnd.shuffle(ordered)
    text = sep.join(ordered)
    if lower:
        text = text.lower()
    if wide:
        text = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in text)
    if bracket:
        text = f"[{text}]"
    assert normalize_answer("multiple", text) == frozenset(letters)
    assert normalize_answer("multiple", ordered) == frozenset(letters)


@pytest.mark.parametrize("raw,expected", [
    (True, True), (False, False), ("true", True), ("FALSE", False), ("对", True), ("错", False),
    ("正确", True), ("错误", False), ("√", True), ("×", False), ("T", True), ("f", False), ("Ｔ", True),
    ("对。", True),
])
def test_judge_accepts_words_and_symbols(raw, expected):
    assert normalize_answer("judge", raw) is expected


@pytest.mark.parametrize("raw", ["也许", "", None, 1, 0, ["对"]])
def test_judge_unreadable_answer_is_wrong_either_way(raw):
    assert normalize_answer("judge", raw) is None
    assert grade(JUDGE, raw) is False
    assert grade(Question(id="j", type="judge", stem="s", answer=True), raw) is False


def test_judge_grades_against_the_key():
    assert grade(JUDGE, "错") is True
    assert grade(JUDGE, "对") is False


@pytest.mark.parametrize("raw", [["职工", "15"], ["职工本人。", "十五"], [" 职 工 ", "１５"], ["职工", 15]])
def test_fill_compares_each_blank_normalised_against_its_accepted_list(raw):
    assert grade(FILL, raw) is True


@pytest.mark.parametrize("raw", [["职工"], ["职工", "16"], ["十五", "职工"], ["职工", "15", "x"], "职工", [], None, [None, "15"]])
def test_fill_is_all_or_nothing_and_needs_one_string_per_blank(raw):
    assert grade(FILL, raw) is False


def test_fill_ignores_case_and_full_width_latin():
    question = Question(id="f", type="fill", stem="缩写是____。", answer=(("APP",),))
    assert grade(question, ["ａｐｐ"]) is True
    assert grade(question, "App!") is True


def test_normalize_text_strips_spaces_trailing_punctuation_and_width():
    assert normalize_text(" 养老 保险。") == "养老保险"
    assert normalize_text("ＡＢＣ；") == "abc"


def test_valid_questions_have_no_issues():
    for question in (SINGLE, MULTIPLE, JUDGE, FILL):
        assert validate_question(question) == []


@pytest.mark.parametrize("question,field,fragment", [
    (Question(id="q", type="single", stem="s", options={"A": "甲", "B": "乙"}, answer="C"), "answer", "答案 C 不在选项中"),
    (Question(id="q", type="single", stem="s", options={"A": "甲"}, answer="A"), "options", "至少要有 2 个选项"),
    (Question(id="q", type="single", stem="s", options={"A": "甲", "C": "丙"}, answer="A"), "options", "从 A 起依次排列"),
    (Question(id="q", type="single", stem="s", options={"A": "甲", "B": " 甲"}, answer="A"), "options", "内容相同"),
    (Question(id="q", type="multiple", stem="s", options={"A": "甲", "B": "乙"}, answer=frozenset({"A", "E"})), "answer", "答案 E 不在选项中"),
    (Question(id="q", type="judge", stem="s", options={"A": "对"}, answer=True), "options", "判断题不能有选项"),
    (Question(id="q", type="judge", stem="s", answer="对"), "answer", "true（对）或 false（错）"),
    (Question(id="q", type="fill", stem="没有空", answer=(("x",),)), "stem", "没有空"),
    (Question(id="q", type="fill", stem="a____b____", answer=(("x",),)), "answer", "题干有 2 个空，答案却给了 1 个"),
    (Question(id="q", type="single", stem="  ", options={"A": "甲", "B": "乙"}, answer="A"), "stem", "题干不能为空"),
    (Question(id="q", type="judge", stem="s", answer=True, difficulty=6), "difficulty", "1–5"),
    (Question(id="有 空格", type="judge", stem="s", answer=True), "id", "编号"),
    (Question(id="q", type="essay", stem="s", answer=True), "type", "未知题型"),
])
def test_validate_names_the_problem_and_its_field(question, field, fragment):
    issues = validate_question(question)
    assert any(issue.field == field and fragment in issue for issue in issues), issues


@pytest.mark.parametrize("stem,blanks", [
    ("无空", 0), ("a____b", 1), ("a___b", 0), ("a______b（ ）c( )", 3), ("（）与（　）", 2), ("函数(x)", 0),
])
def test_count_blanks_recognises_underscores_and_empty_parentheses(stem, blanks):
    assert count_blanks(stem) == blanks
    assert len(split_blanks(stem)) == blanks + 1


def test_answers_round_trip_through_json_form():
    for question in (SINGLE, MULTIPLE, JUDGE, FILL):
        data = answer_to_json(question.type, question.answer)
        assert answer_from_json(question.type, data) == question.answer
    assert answer_to_json("multiple", frozenset({"C", "A"})) == ["A", "C"]
    assert question_from_dict(FILL.to_dict()) == FILL


def test_fingerprint_changes_with_content_only():
    moved = Question(**{**FILL.__dict__, "line": 99})
    changed = Question(**{**FILL.__dict__, "explanation": "新解析"})
    assert moved.fingerprint() == FILL.fingerprint()
    assert changed.fingerprint() != FILL.fingerprint()
