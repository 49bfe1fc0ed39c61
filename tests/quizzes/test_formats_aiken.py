from pathlib import Path

import pytest

from lms.contentfile import ContentErrors
from lms.quizzes.formats import detect_format, parse_question_file
from lms.quizzes.formats.aiken import parse_aiken

ROOT = Path(__file__).resolve().parents[2]
MOODLE = ROOT.parent / "shared" / "fixtures" / "moodle"


def errors_of(text):
    with pytest.raises(ContentErrors) as info:
        parse_aiken(text, "q.txt", "demo")
    return [(e.line, e.message) for e in info.value.errors]


def test_moodle_aiken_fixture_imports_both_questions_as_plain_single_choice():
    path = MOODLE / "questions.aiken.txt"
    if not path.exists():
        pytest.skip(f"Moodle fixture not available at {path}")
    first, second = parse_aiken(path.read_text(encoding="utf-8"), "questions.aiken.txt", "moodle")
    assert (first.id, first.type, first.answer, first.line) == ("moodle-1", "single", "B", 1)
    assert first.stem == "The Moodle project was started by:"
    assert first.options == {"A": "Petr Skoda", "B": "Martin Dougiamas", "C": "Eloy Lafuente", "D": "Tim Hunt"}
    assert second.answer == "A" and second.line == 8
    # Plain text: the HTML stays literal for the renderer to escape.
    assert '<html class="cool"> & images:' in second.stem and second.text_format == "plain"


def test_chinese_markers_full_width_and_multi_line_stems():
    text = "依照社会保险法，\n职工基本养老保险费由谁缴纳？\nＡ．用人单位和职工\nB、只由职工\nC) 只由政府\n答案：Ａ\n下一题\nA. 是\nB. 否\nANSWER: b\n"
    first, second = parse_aiken(text, "q.txt", "ss", existing_ids={"ss-1"})
    assert first.id == "ss-2" and second.id == "ss-3"
    assert first.stem == "依照社会保险法，\n职工基本养老保险费由谁缴纳？"
    assert first.options == {"A": "用人单位和职工", "B": "只由职工", "C": "只由政府"}
    assert first.answer == "A" and second.answer == "B" and second.line == 7


def test_answer_not_among_options_is_reported_on_the_answer_line():
    assert errors_of("题\nA) 甲\nB) 乙\nANSWER: C\n") == [(4, "答案 C 不在选项中（A、B）")]


def test_missing_answer_line_points_at_the_question():
    assert errors_of("题一\nA) 甲\nB) 乙\nANSWER: A\n\n题二\nA) 甲\nB) 乙\n") == [(6, "题目缺少 ANSWER: 行")]


def test_options_out_of_order_and_text_after_options():
    assert errors_of("题\nA) 甲\nC) 丙\nANSWER: A\n") == [(3, "选项 C 的位置不对：应为 B")]
    assert errors_of("题\nA) 甲\nB) 乙\n多余的一行\nANSWER: A\n")[0] == (4, "选项后应为 ANSWER: 行，却是“多余的一行”")


def test_answer_without_options_or_stem():
    assert errors_of("ANSWER: A\n") == [(1, "ANSWER 行前缺少题干和选项")]
    assert errors_of("题\nANSWER: A\n") == [(2, "ANSWER 行前缺少选项（A) … B) …）")]


def test_single_option_and_empty_file_are_errors():
    assert errors_of("题\nA) 甲\nANSWER: A\n") == [(1, "单选题至少要有 2 个选项")]
    assert errors_of("\n\n") == [(1, "文件中没有题目")]


def test_format_is_detected_from_the_extension_and_gb18030_text_is_read():
    assert [detect_format(n) for n in ("a.xlsx", "b.GIFT", "c.gift.txt", "d.txt", "e.doc")] == [
        "xlsx", "gift", "gift", "aiken", None]
    data = "题目\nA) 甲\nB) 乙\nANSWER: B\n".encode("gb18030")
    [question], warnings = parse_question_file(data, "q.txt", "demo")
    assert question.options == {"A": "甲", "B": "乙"} and warnings == []
    with pytest.raises(ContentErrors) as info:
        parse_question_file(b"x", "q.doc", "demo")
    assert str(info.value) == "q.doc:1: 不支持的文件格式：.doc，请用 xlsx、gift 或 aiken"
