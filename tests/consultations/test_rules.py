"""The five consultation rules, pure: what passes, what fails, and that each message says what to do."""
from __future__ import annotations

import pytest

from lms.consultations.content import RULE_NAMES, load_consultation
from lms.consultations.rules import MAX_ANSWER_CHARS, evaluate, fold
from tests.consultations.factories import FIXTURES, MODEL, PENSION, POOR


@pytest.fixture(scope="module")
def item():
    path = FIXTURES / "good" / f"{PENSION}.yaml"
    return load_consultation(path.read_text(encoding="utf-8"), str(path))


def failed(answer, item) -> set[str]:
    return {c.rule for c in evaluate(answer, item).failed}


def message(answer, item, rule) -> str:
    return next(c.message for c in evaluate(answer, item).checks if c.rule == rule)


def test_model_answer_is_accepted_with_every_rule_in_contract_order(item):
    evaluation = evaluate(MODEL, item)
    assert evaluation.verdict == "accepted" and evaluation.score == 100
    assert [c.rule for c in evaluation.checks] == list(RULE_NAMES)


def test_an_out_of_date_promise_without_an_office_fails_four_rules_and_scores_the_rest(item):
    evaluation = evaluate(POOR, item)
    assert evaluation.verdict == "returned"
    assert {c.rule for c in evaluation.failed} == {"key_points", "no_wrong_claims", "referral", "no_overpromise"}
    assert evaluation.score == 20


def test_fold_writes_numbers_one_way():
    assert fold("交满十五年，２０３０年起") == fold("交满15年 2030年起") == "交满15年2030年起"


def test_key_points_names_each_missing_point_with_an_example(item):
    text = MODEL.replace("逐步提高到20年", "逐步提高")
    assert failed(text, item) == {"key_points"}
    msg = message(text, item, "key_points")
    assert "最低缴费年限从2030年起逐步提高到20年" in msg and "例如说到" in msg


def test_key_points_match_digits_for_chinese_numerals_and_skip_particles(item):
    assert "key_points" not in failed(MODEL.replace("逐步提高到20年", "逐步提高到二十年"), item)
    assert "key_points" not in failed(MODEL.replace("可以继续交", "可以继续地交"), item)


@pytest.mark.parametrize("said", [
    "不是交满十五年就行了",
    "以前交满15年就行，现在",
    "有人说交满十五年就行，",
    "交满十五年就行，这个说法不对了，",
    "交满十五年就行是老规矩了，",
])
def test_a_denied_reported_or_corrected_wrong_claim_is_not_a_wrong_claim(item, said):
    text = MODEL.replace("交满十五年就行是老说法了，", said)
    assert "no_wrong_claims" not in failed(text, item)


def test_a_wrong_claim_stated_plainly_is_named_in_the_message(item):
    text = MODEL.replace("交满十五年就行是老说法了。", "交满15年就行。")
    assert failed(text, item) == {"no_wrong_claims"}
    assert "“交满十五年就行”" in message(text, item, "no_wrong_claims")  # the listed claim, numerals as written
    assert "新农保" in message(MODEL + "也可以转到新农保去。", item, "no_wrong_claims")


def test_referral_accepts_the_office_without_its_township_prefix(item):
    assert "referral" not in failed(MODEL.replace("镇社保所", "社保所"), item)
    text = MODEL.replace("到镇社保所查一下缴费记录", "查一下缴费记录")
    assert failed(text, item) == {"referral"}
    assert "县社保局" in message(text, item, "referral")


def test_overpromise_unless_denied(item):
    assert failed(MODEL + "我保证每月能领。", item) == {"no_overpromise"}
    assert failed(MODEL + "这事包在我身上。", item) == {"no_overpromise"}  # a promise no worker can make
    assert "no_overpromise" not in failed(MODEL + "我不能保证每月能领多少。", item)
    assert "审核为准" in message(MODEL + "肯定能领两千。", item, "no_overpromise")


def test_plain_language_length_bounds(item):
    assert "plain_language" in failed("到镇社保所问。", item)
    assert "至少说40个字" in message("到镇社保所问。", item, "plain_language")
    long = MODEL + "您放心，" * 200
    assert "plain_language" in failed(long, item) and "600" in message(long, item, "plain_language")


def test_plain_language_refuses_the_law_read_out_and_the_question_said_back(item):
    law = ("参加基本养老保险的个人，达到法定退休年龄时累计缴费满十五年的，按月领取基本养老金。参加基本养老保险的个人，"
           "达到法定退休年龄时累计缴费不足十五年的，可以缴费至满十五年，按月领取基本养老金；也可以转入城镇居民社会养老保险，"
           "按照国务院规定享受相应的养老保险待遇。")
    assert "plain_language" in failed(MODEL + law, item)
    assert "大白话" in message(MODEL + law, item, "plain_language")
    assert "plain_language" in failed(item.question + MODEL[:60], item)


@pytest.mark.parametrize("odd", [None, "", "   ", 42, ["交满", "十五年"], {"a": 1}, b"\xff\xfe", "x" * (MAX_ANSWER_CHARS * 2)])
def test_odd_input_never_raises_and_is_returned(item, odd):
    evaluation = evaluate(odd, item)
    assert evaluation.verdict == "returned"
    assert len(evaluation.checks) == len(RULE_NAMES)
