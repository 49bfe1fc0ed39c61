"""Shipped banks and drills: stable unique ids, current social-insurance facts, urgent drills as the county rule says."""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BANKS = ROOT / "question_bank"
NOT_BANKS = {"taxonomy.yaml", "field_needs.yaml"}  # as lms.quizzes.sync.NOT_BANKS
# Schemes merged away: 新农保/城居保 into 城乡居民基本养老保险 (2014), 城镇居民医保/新农合 into 城乡居民基本医疗保险 (2016).
MERGED = ("新农保", "城居保", "新型农村社会养老保险", "城镇居民社会养老保险", "城镇居民基本医疗保险", "新型农村合作医疗", "新农合")


def _questions():
    for path in sorted(BANKS.glob("*.yaml")):
        if path.name in NOT_BANKS:
            continue
        for question in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            yield path.name, question


def _keys(question):
    """The texts a learner must choose or write to be right."""
    if question["type"] == "single":
        return [question["options"][question["answer"]]]
    if question["type"] == "multiple":
        return [question["options"][k] for k in question["answer"]]
    if question["type"] == "judge" and question["answer"] is True:
        return [question["stem"]]
    return []


def test_question_ids_are_unique_across_banks():
    seen, clashes = {}, []
    for name, question in _questions():
        if question["id"] in seen:
            clashes.append(f"{question['id']}: {seen[question['id']]} and {name}")
        seen[question["id"]] = name
    assert not clashes, clashes


def test_merged_schemes_are_never_the_right_answer_and_explanations_say_they_merged():
    problems = []
    for name, question in _questions():
        for text in _keys(question):
            if any(old in text for old in MERGED) and not re.search(r"合并|整合|原", text):
                problems.append(f"{name} {question['id']}: the key treats a merged scheme as current: {text}")
        explanation = question.get("explanation", "")
        if any(old in f"{question['stem']}{explanation}" for old in MERGED) and not re.search(r"201[46]", explanation):
            problems.append(f"{name} {question['id']}: names a merged scheme without saying when it merged")
    assert not problems, "\n".join(problems)


def test_pension_years_mention_the_2024_retirement_decision():
    problems = []
    for name, question in _questions():
        text = f"{question['stem']}{question.get('explanation', '')}"
        if "养老" in text and "十五年" in text and not ("2030" in text and "延迟" in text):
            problems.append(f"{name} {question['id']}: 十五年 without the 2030 rise of the minimum contribution years")
    assert not problems, "\n".join(problems)


def test_urgent_drills_call_the_emergency_number_and_phone_the_centre():
    """County rule art. 18: urgent events are phoned to 110/119/120 and to the 综治中心 at once."""
    problems = []
    for path in sorted((BANKS / "drills").glob("*.yaml")):
        drill = yaml.safe_load(path.read_text(encoding="utf-8"))
        if drill["answer"]["urgency"] != "紧急":
            continue
        measures = drill["model_report"]["measures"]
        if not re.search(r"110|119|120", measures):
            problems.append(f"{path.name}: the model report of an urgent event calls no emergency number")
        if "综治中心" not in measures:
            problems.append(f"{path.name}: the model report of an urgent event does not phone the 综治中心")
        if not re.search(r"110|119|120", drill["scenario"]):
            problems.append(f"{path.name}: the scenario of an urgent event has nobody calling an emergency number")
    assert not problems, "\n".join(problems)
