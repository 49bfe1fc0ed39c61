"""The consultation rules read answers in fresh words: dialect folded, a point said in its own words, a wrong claim
with a word inside it, a promise said another way, and what must still not count (denied, reported, other numbers)."""
from __future__ import annotations

import dataclasses

import pytest

from lms.consultations.content import load_consultation
from lms.consultations.rules import evaluate, fold
from lms.consultations.wording import content_words, fold_dialect
from lms.drills.content import Fact
from tests.consultations.factories import FIXTURES, MODEL, PENSION


@pytest.fixture(scope="module")
def item():
    path = FIXTURES / "good" / f"{PENSION}.yaml"
    return load_consultation(path.read_text(encoding="utf-8"), str(path))


def failed(answer, item) -> set[str]:
    return {c.rule for c in evaluate(answer, item).failed}


def test_dialect_is_folded_on_both_sides():
    assert fold_dialect("莫得啥子，屋头好多钱，莫听他的") == "没有什么，家里多少钱，不要听他的"
    assert fold("没得") == fold("莫得") == fold("没有")
    assert fold("县社会保险事业中心") == fold("县社保中心")
    assert fold("补缴") == fold("补交")


def test_content_words_keep_numbers_whole_and_drop_function_words():
    words = content_words(fold("交满十五年就可以不交了，2030年起"))
    assert {"15年", "2030年", "交满"} <= words
    assert "可以" not in words and "5年" not in words and "20年" not in words
    assert "60" in content_words(fold("年满六十岁")) and "60" in content_words(fold("年满60"))


def test_a_dialect_answer_matches_a_point_written_in_common_words(item):
    point = Fact("家里收入要核查", ("家里收入没有隐瞒",))
    consult = dataclasses.replace(item, points=(point,))
    assert "key_points" not in failed(MODEL + "你屋头收入莫得隐瞒的，镇上会来核查。", consult)


def test_a_point_said_in_its_own_words_within_one_sentence(item):
    point = Fact("满60岁、交满15年按月领", ("六十岁领",))
    consult = dataclasses.replace(item, points=(point,))
    # most of the point's words (and its numbers) in one sentence: said, though no phrase of the list is there
    assert "key_points" not in failed(MODEL + "年满60，累计交满15年，就可以每个月领。", consult)
    # the same words spread over sentences, or only a few of them: not said
    assert "key_points" in failed(MODEL + "年满60。累计交满15年。就可以每个月领。", consult)
    assert "key_points" in failed(MODEL + "累计交满15年再说。", consult)
    assert "key_points" in failed(MODEL + "年满60，累计交满15年，也领不了每个月的钱。", consult)  # denied


def test_a_point_in_other_words_needs_its_numbers(item):
    point = Fact("满60岁、交满15年按月领", ("六十岁领",))
    consult = dataclasses.replace(item, points=(point,))
    assert "key_points" in failed(MODEL + "年满60，累计交满10年，就可以每个月领。", consult)
    # the fixture's own point: every word but "20年" is in the answer, and 20 is the fact
    assert "key_points" in failed(MODEL.replace("逐步提高到20年", "逐步提高"), item)


def test_a_wrong_claim_with_words_inside_it_is_a_wrong_claim(item):
    wrong = Fact("把新农合说成现在还单独存在", ("新农合还在", "以后不来了", "医保自己交", "只交20年"))
    consult = dataclasses.replace(item, wrong=(wrong,))
    assert "no_wrong_claims" in failed(MODEL + "新农合是还在交的。", consult)
    assert "no_wrong_claims" in failed(MODEL + "那要得嘛，以后我们就不来了。", consult)  # dialect folded too


@pytest.mark.parametrize("said", [
    "领的期间医保也不用你自己交。",      # a negation inside the gap turns the claim round
    "新农合以前是还在的，现在合并了。",  # reported as what used to be
    "不是说新农合还在，早合并了。",      # denied before
    "只交2030年就停。",                  # "20年" is not inside "2030年"
])
def test_a_gapped_wrong_claim_still_respects_negation_reports_and_numbers(item, said):
    wrong = Fact("错误说法", ("新农合还在", "医保自己交", "只交20年"))
    consult = dataclasses.replace(item, wrong=(wrong,))
    assert "no_wrong_claims" not in failed(MODEL + said, consult)


@pytest.mark.parametrize("promise", [
    "我跟书记关系好，回头帮你递个话，保你今年吃得上。",
    "你这个情况我保准你到时候领得到。",
    "账户里少说还剩三四万。",
    "你选最高那一档，每个月至少领一千多。",
    "你放心，有我在，他们绝对不敢动你家一块砖。",
    "我让他们两个每个月各给你五百。",
    "我帮你去说说，书记会同意的。",
])
def test_a_promise_in_other_words_is_an_overpromise(item, promise):
    assert failed(MODEL + promise, item) == {"no_overpromise"}


@pytest.mark.parametrize("fine", [
    "医保你不用再交了，社保你接着交。",  # 保你 inside 医保你 / 社保你 is no promise
    "我们会确保你的信息只用来办事。",
    "我不敢保你一定批，要看审核。",       # denied
    "失业前至少交满一年才能领。",         # a condition, not a sum
    "我让他们给你回个电话。",             # what the worker can do
    "我帮你去说明一下情况，批不批看审核。",
])
def test_words_that_only_look_like_a_promise_are_not(item, fine):
    assert "no_overpromise" not in failed(MODEL + fine, item)


def test_plain_language_one_official_sentence_is_not_the_law_read_out(item):
    official = "按照现行规定，没有在集中参保期参保或者中断后再参保的，要设置不少于三个月的待遇等待期。"
    assert "plain_language" not in failed(MODEL + official, item)


def test_plain_language_an_answer_opening_with_the_article_and_its_words_is_the_law_read_out(item):
    law = ("《国有土地上房屋征收与补偿条例》第十九条　对被征收房屋价值的补偿，不得低于房屋征收决定公告之日被征收房屋"
           "类似房地产的市场价格。被征收房屋的价值，由具有相应资质的房地产价格评估机构按照房屋征收评估办法评估确定。")
    assert "plain_language" in failed(law, item)
    assert "plain_language" not in failed("按《国有土地上房屋征收与补偿条例》第十九条讲，" + MODEL, item)


def test_referral_knows_the_formal_name_of_an_office(item):
    text = MODEL.replace("到镇社保所", "到县社会保险事业局")
    assert "referral" not in failed(text, item)
