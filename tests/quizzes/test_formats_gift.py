from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lms.contentfile import ContentErrors
from lms.quizzes.formats.gift import export_gift, parse_gift
from lms.quizzes.grading import validate_question
from lms.quizzes.questions import Question

ROOT = Path(__file__).resolve().parents[2]
MOODLE = ROOT.parent / "shared" / "fixtures" / "moodle"


def moodle_file(name: str) -> str:
    path = MOODLE / name
    if not path.exists():
        pytest.skip(f"Moodle fixture {name} not available at {MOODLE}")
    return path.read_text(encoding="utf-8")


def parse(text, existing_ids=frozenset()):
    return parse_gift(text, "bank.gift", "demo", existing_ids)


def errors_of(text):
    with pytest.raises(ContentErrors) as info:
        parse(text)
    return [(e.line, e.message) for e in info.value.errors]


# --- Moodle conformance -------------------------------------------------------

def test_moodle_questions_fixture_imports_supported_and_warns_about_the_rest():
    questions, warnings = parse_gift(moodle_file("questions.gift.txt"), "questions.gift.txt", "m")
    by_line = {q.line: q for q in questions}
    assert sorted(by_line) == [14, 22, 34, 41, 46, 49]

    q2 = by_line[14]
    assert (q2.type, q2.answer) == ("single", "A")
    assert q2.options == {"A": "yellow", "B": "red", "C": "blue"}
    assert q2.stem == "What's between orange and green in the spectrum?"

    colours = by_line[22]
    assert colours.type == "multiple" and colours.answer == frozenset({"A", "C"})
    assert colours.options["C"] == "off-beige"

    short = by_line[34]
    assert short.type == "fill" and short.answer == (("Frog",),)
    assert short.stem == "Which is the best animal? ____"

    true_false = by_line[41]
    assert true_false.type == "judge" and true_false.answer is False
    assert true_false.explanation == "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    assert by_line[46].answer is True and by_line[49].answer is True
    assert all(q.text_format == "plain" for q in questions)

    messages = {w.line: w.message for w in warnings}
    assert messages[2] == "问答题（essay）不支持，已跳过"
    assert messages[5] == "配对题（matching）不支持，已跳过"
    assert messages[31] == "数值题（numerical）不支持，已跳过"
    assert "Cat" in messages[36] and "已舍弃" in messages[36]
    assert messages[37] == "通配符答案“*”不支持，已舍弃"
    assert all(str(w).startswith("questions.gift.txt:") for w in warnings)


def test_moodle_examples_fixture_maps_every_supported_kind():
    questions, warnings = parse_gift(moodle_file("examples.gift.txt"), "examples.gift.txt", "m")
    by_line = {q.line: q for q in questions}

    assert by_line[8].type == "single" and by_line[8].answer == "C"
    missing_word = by_line[10]
    assert missing_word.type == "single" and missing_word.stem == "Grant is ____ in Grant's tomb."
    assert missing_word.answer == "B" and missing_word.options["B"] == "entombed"
    assert by_line[29].stem == "The American holiday of Thanksgiving is celebrated on the ____ Thursday of November."
    assert by_line[12].type == "judge" and by_line[12].answer is False
    assert by_line[51].answer is True
    assert by_line[14].type == "fill" and by_line[14].answer == (("no one", "nobody"),)
    assert by_line[45].stem == "Two plus two equals ____." and by_line[45].answer == (("four", "4"),)
    assert by_line[108].text_format == "markdown" and "**Grant's tomb**" in by_line[108].stem
    assert by_line[115].type == "multiple" and by_line[115].answer == frozenset({"B", "C"})
    assert by_line[136].answer == frozenset({"B", "C"})  # negative weights are wrong options
    assert by_line[143].options == {"A": "= 2 + 2", "B": "= 2 + 3", "C": "= 2 + 4"}
    control = by_line[148]
    assert control.options == {"A": "~", "B": "=", "C": "#", "D": "{", "E": "}", "F": "\\"}
    assert control.answer == "F"
    assert by_line[123].answer == (("Nazareth",),)

    skipped = {w.line for w in warnings if w.message.endswith("不支持，已跳过")}
    assert skipped == {16, 55, 61, 70, 72, 74, 76, 85, 175, 177, 202}
    assert not skipped & set(by_line)
    assert len({q.id for q in questions}) == len(questions) == 32


# --- features ---------------------------------------------------------------

def test_escapes_title_category_comments_and_feedback():
    text = (
        "$CATEGORY: $course$/政策\n"
        "\n"
        "// a comment\n"
        "::标题::比例 50\\% 写作 a\\:b \\{x\\} \\~ \\= \\#?{\n"
        "  =对 # 好\n"
        "  ~错 # 不好\n"
        "  #### 总评\n"
        "}\n"
    )
    [question], warnings = parse(text)
    assert warnings == []
    assert question.stem == "比例 50\\% 写作 a:b {x} ~ = #?"
    assert question.options == {"A": "对", "B": "错"} and question.answer == "A"
    assert question.explanation == "总评" and question.line == 4


def test_plain_markdown_and_html_formats():
    text = "[plain]<b>x</b>{T}\n\n[html]<b>x</b>{T}\n\n[markdown]**x**{F}\n\n普通{TRUE}\n"
    questions, _ = parse(text)
    assert [q.text_format for q in questions] == ["plain", "markdown", "markdown", "plain"]
    assert questions[0].stem == "<b>x</b>"


def test_metadata_comment_sets_id_source_difficulty_and_tags():
    text = "// lms: id=ss-9; source=《法》第一条\\; 附则; difficulty=4; tags=养老\\,医疗,低保\n题{T}\n"
    [question], _ = parse(text)
    assert question.id == "ss-9" and question.source == "《法》第一条; 附则"
    assert question.difficulty == 4 and question.tags == ("养老,医疗", "低保")


def test_generated_ids_skip_existing_and_file_ids():
    text = "题一{T}\n\n// lms: id=demo-2\n题二{T}\n\n题三{F}\n"
    questions, _ = parse(text, existing_ids={"demo-1"})
    assert [q.id for q in questions] == ["demo-3", "demo-2", "demo-4"]


def test_fill_without_blank_gets_one_and_partial_answers_warn():
    [question], warnings = parse("首都是？{=北京 =%50%北平 =Beijing}\n")
    assert question.stem == "首都是？ ____" and question.answer == (("北京", "Beijing"),)
    assert [(w.line, w.message) for w in warnings] == [(1, "部分得分答案“北平”（50%）不支持，已舍弃")]


def test_multiple_fully_correct_options_is_skipped_not_guessed():
    questions, warnings = parse("哪个对？{=甲 =乙 ~丙}\n")
    assert questions == []
    assert warnings[0].message == "有多个完全正确（=）选项的选择题，既不是单选也不是多选不支持，已跳过"


def test_description_only_is_skipped_with_line():
    questions, warnings = parse("\n\n只是一段说明文字。\n")
    assert questions == [] and [(w.line, w.message) for w in warnings] == [(3, "说明文字（没有答案块的题）不支持，已跳过")]


# --- malformed input ----------------------------------------------------------

def test_unclosed_brace_is_an_error_on_the_brace_line():
    assert errors_of("题一{T}\n\n题二\n问？{\n  =甲\n  ~乙\n") == [(4, "答案块缺少结尾的 }")]


def test_stray_closing_brace_is_an_error():
    assert errors_of("好题}{T}\n") == [(1, "多余的 }：答案块必须以 { 开始（文字中的花括号写作 \\{ 和 \\}）")]


def test_second_answer_block_is_an_error():
    assert errors_of("题{T} 又一个 {F}\n") == [(1, "一道题只能有一个答案块；文字中的花括号写作 \\{ 和 \\}")]


def test_answer_without_marker_is_an_error():
    assert errors_of("\n题？{\n  甲 ~乙 =丙\n}\n") == [(3, "答案块中“甲”前缺少 = 或 ~")]
    assert errors_of("题？{也许}\n") == [(1, "无法识别的答案“也许”：选项须以 = 或 ~ 开头，判断题写 T 或 F")]


def test_choice_without_right_answer_is_an_error():
    assert errors_of("题？{~甲 ~乙}\n") == [(1, "没有正确答案：单选题要用 = 标出一个正确选项")]


def test_bad_metadata_is_reported_on_the_comment_line():
    assert errors_of("题一{T}\n\n// lms: id=x; difficulty=难\n题二{T}\n") == [(3, "难度必须是 1–5 的整数：难")]
    assert errors_of("// lms: id=a b\n题{T}\n")[0][0] == 1
    assert errors_of("// lms: id=a\n题{T}\n\n// lms: id=a\n题{F}\n") == [(4, "题目编号 a 重复（第 1 行已使用）")]


def test_empty_or_comment_only_file_is_an_error():
    assert errors_of("") == [(1, "文件中没有题目")]
    assert errors_of("// 只有注释\n\n$CATEGORY: x\n") == [(1, "文件中没有题目")]


def test_file_with_only_unsupported_questions_is_not_an_error():
    questions, warnings = parse("数字？{#3}\n")
    assert questions == [] and len(warnings) == 1


def test_errors_import_nothing_and_list_every_bad_question():
    text = "好{T}\n\n坏{~甲 ~乙}\n\n也坏{\n"
    assert [line for line, _ in errors_of(text)] == [3, 5]


# --- export and round trip ---------------------------------------------------

RICH = [
    Question(id="ss-1", type="single", stem="**加粗**的题干：a:b ~ = # { } \\ 结尾\n\n第二段",
             options={"A": "%50% 不是权重", "B": "[html] 不是格式", "C": "普通 = 选项 #1"}, answer="C",
             explanation="解析含 {花括号} 和 ####", source="《法》第一条; 见=附件", difficulty=5,
             tags=("养老,保险", "低保"), text_format="markdown"),
    Question(id="ss-2", type="multiple", stem="多选（ ）", options={"A": "甲", "B": "乙", "C": "丙"},
             answer=frozenset({"A", "C"}), text_format="plain"),
    Question(id="ss-3", type="multiple", stem="只有一个对的多选", options={"A": "甲", "B": "乙"},
             answer=frozenset({"B"}), text_format="plain"),
    Question(id="ss-4", type="judge", stem="T", answer=True, explanation="", text_format="plain"),
    Question(id="ss-5", type="judge", stem="判断\n题", answer=False, explanation="[markdown]开头", text_format="markdown"),
    Question(id="ss-6", type="fill", stem="由____和（ ）缴纳，年限______。",
             answer=(("用人单位", "单位"), ("职工",), ("15", "十五", "a*b")), text_format="markdown"),
    Question(id="ss-7", type="fill", stem="一个空____", answer=(("a -> b", "50%", "=x"),), text_format="plain"),
    Question(id="ss-8", type="single", stem="选择____是缺词", options={"A": "x", "B": "y"}, answer="A", text_format="plain"),
]


def test_export_writes_metadata_comment_before_each_question():
    text = export_gift(RICH[:1])
    assert text.splitlines()[0] == (
        "// lms: id=ss-1; source=《法》第一条\\; 见\\=附件; difficulty=5; tags=养老\\,保险,低保")
    assert "::ss-1::[markdown]" in text


def test_export_then_import_round_trips_a_rich_bank_without_loss():
    questions, warnings = parse(export_gift(RICH))
    assert warnings == []
    assert [q.to_dict() for q in questions] == [q.to_dict() for q in RICH]


def test_moodle_import_export_import_is_stable():
    first, _ = parse_gift(moodle_file("examples.gift.txt"), "examples.gift.txt", "m")
    second, warnings = parse(export_gift(first))
    assert warnings == []
    assert [q.to_dict() for q in second] == [q.to_dict() for q in first]


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), include_characters="\n"),
    min_size=1, max_size=30,
).map(str.strip).filter(lambda s: s and "____" not in s and "(" not in s and "（" not in s)
_tag = _text.filter(lambda s: "\n" not in s)


@st.composite
def _questions(draw):
    qtype = draw(st.sampled_from(["single", "multiple", "judge", "fill"]))
    stem = draw(_text)
    options, answer = {}, None
    if qtype in ("single", "multiple"):
        texts = draw(st.lists(_text, min_size=2, max_size=6, unique_by=lambda s: "".join(s.split()).casefold()))
        options = {"ABCDEF"[i]: t for i, t in enumerate(texts)}
        keys = list(options)
        answer = draw(st.sampled_from(keys)) if qtype == "single" else frozenset(
            draw(st.lists(st.sampled_from(keys), min_size=1, unique=True)))
    elif qtype == "judge":
        answer = draw(st.booleans())
    else:
        blanks = draw(st.integers(1, 3))
        stem = stem + "".join(f" ____ {draw(_text)}" for _ in range(blanks))
        answer = tuple(tuple(draw(st.lists(_tag, min_size=1, max_size=3))) for _ in range(blanks))
    return Question(
        id=draw(st.from_regex(r"[a-z0-9][a-z0-9.-]{0,10}", fullmatch=True)), type=qtype, stem=stem,
        options=options, answer=answer, explanation=draw(st.one_of(st.just(""), _text)),
        source=draw(st.one_of(st.just(""), _tag)), difficulty=draw(st.integers(1, 5)),
        tags=tuple(draw(st.lists(_tag, max_size=3))), text_format=draw(st.sampled_from(["markdown", "plain"])),
    )


@given(st.lists(_questions(), min_size=1, max_size=4, unique_by=lambda q: q.id))
@settings(max_examples=60, deadline=None, database=None)
def test_round_trip_holds_for_generated_questions(questions):
    assume(all(validate_question(q) == [] for q in questions))
    parsed, warnings = parse(export_gift(questions))
    assert warnings == []
    assert [q.to_dict() for q in parsed] == [q.to_dict() for q in questions]
