import random

import pytest

from lms.quizzes.draw import (
    DrawError,
    check_draws,
    draw_paper,
    item_from_stored,
    shuffle_options,
    to_display,
    to_original,
)
from lms.quizzes.formats.quiz_file import DrawSpec
from lms.quizzes.grading import grade
from lms.quizzes.questions import Question


def q(qid, tags=(), difficulty=3, qtype="single"):
    if qtype == "single":
        return Question(id=qid, type="single", stem=f"题 {qid}", options={"A": "甲", "B": "乙", "C": "丙", "D": "丁"},
                        answer="B", tags=tuple(tags), difficulty=difficulty)
    return Question(id=qid, type="judge", stem=f"题 {qid}", answer=True, tags=tuple(tags), difficulty=difficulty)


BANKS = {
    "ss": [q(f"ss-{i}", tags=["养老"] if i < 6 else ["医疗"], difficulty=1 + i % 5) for i in range(10)],
    "pt": [q(f"pt-{i}", qtype="judge") for i in range(4)],
}


def test_draw_takes_each_count_from_its_pool_without_duplicates():
    draws = [DrawSpec("ss", 3, tags=("养老",)), DrawSpec("ss", 4), DrawSpec("pt", 2)]
    paper = draw_paper(draws, BANKS, random.Random(1))
    ids = [item.qid for item in paper]
    assert len(ids) == len(set(ids)) == 9
    assert all("养老" in item.question.tags for item in paper[:3])
    assert [item.bank for item in paper] == ["ss"] * 7 + ["pt"] * 2


def test_difficulty_filter_and_tags_match_any():
    draws = [DrawSpec("ss", 2, difficulty=(1,))]
    paper = draw_paper(draws, BANKS, random.Random(5))
    assert sorted(item.qid for item in paper) == ["ss-0", "ss-5"]
    both = draw_paper([DrawSpec("ss", 10, tags=("养老", "医疗"))], BANKS, random.Random(5))
    assert len(both) == 10


def test_same_seed_gives_the_same_paper_whatever_the_input_order():
    draws = [DrawSpec("ss", 5)]
    shuffled = {"ss": list(reversed(BANKS["ss"]))}
    first = draw_paper(draws, BANKS, random.Random(42), shuffle=True)
    second = draw_paper(draws, shuffled, random.Random(42), shuffle=True)
    assert [(i.qid, i.options) for i in first] == [(i.qid, i.options) for i in second]
    other = draw_paper(draws, BANKS, random.Random(43), shuffle=True)
    assert [(i.qid, i.options) for i in other] != [(i.qid, i.options) for i in first]


def test_too_small_pool_is_a_clear_error():
    with pytest.raises(DrawError, match="第 1 条抽题规则（题库 ss，标签 养老）要抽 7 题，只剩 6 道可抽"):
        draw_paper([DrawSpec("ss", 7, tags=("养老",))], BANKS, random.Random(0))
    with pytest.raises(DrawError, match="不存在的题库 nope"):
        draw_paper([DrawSpec("nope", 1)], BANKS, random.Random(0))


def test_check_draws_finds_pools_that_could_run_dry():
    assert check_draws([DrawSpec("ss", 6, tags=("养老",)), DrawSpec("pt", 4)], BANKS) == []
    problems = check_draws([DrawSpec("ss", 8), DrawSpec("ss", 3, tags=("养老",)), DrawSpec("xx", 1)], BANKS)
    assert problems == [
        "第 2 条抽题规则（题库 ss，标签 养老）要抽 3 题，符合条件的题只有 6 道，其中最多 6 道可能已被前面的规则抽走",
        "第 3 条抽题规则引用了不存在的题库 xx",
    ]


def test_shuffle_options_relabels_and_maps_back():
    question = BANKS["ss"][0]
    display, key_map = shuffle_options(question, random.Random(3))
    assert [key for key, _ in display] == ["A", "B", "C", "D"]
    assert sorted(key_map.values()) == ["A", "B", "C", "D"]
    for key, text in display:
        assert question.options[key_map[key]] == text
    right = to_display(question, question.answer, key_map)
    assert dict(display)[right] == "乙"
    assert grade(question, to_original(question, right, key_map))
    wrong = next(key for key in key_map if key != right)
    assert not grade(question, to_original(question, wrong, key_map))


def test_multiple_choice_answers_map_between_display_and_bank_letters():
    question = Question(id="m", type="multiple", stem="s", options={"A": "1", "B": "2", "C": "3"},
                        answer=frozenset({"A", "C"}))
    key_map = {"A": "C", "B": "A", "C": "B"}
    assert to_display(question, question.answer, key_map) == frozenset({"A", "B"})
    assert to_original(question, "A、B", key_map) == frozenset({"A", "C"})
    assert to_original(question, "AD", key_map) is None


def test_judge_and_fill_pass_through_unshuffled():
    question = BANKS["pt"][0]
    [item] = draw_paper([DrawSpec("pt", 1)], {"pt": [question]}, random.Random(0), shuffle=True)
    assert item.options == [] and item.key_map == {}
    assert to_original(question, "对", item.key_map) is True


def test_public_view_hides_answers_and_stored_item_rebuilds_the_same_display():
    fill = Question(id="f", type="fill", stem="由____和（ ）缴纳", answer=(("a",), ("b",)), explanation="解析")
    items = draw_paper([DrawSpec("ss", 2), DrawSpec("f", 1)], {**BANKS, "f": [fill]}, random.Random(9), shuffle=True)
    public = items[0].public()
    assert set(public) == {"qid", "type", "stem", "text_format", "options"}
    assert [o["key"] for o in public["options"]] == ["A", "B", "C", "D"]
    assert items[2].public()["blanks"] == 2 and "answer" not in items[2].public()
    for item in items:
        rebuilt = item_from_stored(item.to_stored(), item.question)
        assert rebuilt.options == item.options and rebuilt.key_map == item.key_map
