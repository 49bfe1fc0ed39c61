"""The shipped drills parse against the shipped taxonomy, and their answer keys work."""
from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from pathlib import Path

import pytest

from lms.drills.content import FORM_FIELDS, load_drill, parse_taxonomy
from lms.drills.rules import evaluate
from lms.drills.timeparse import parse_time

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "question_bank"
DRILLS = sorted((BANK / "drills").glob("*.yaml"))
LAWS = ROOT.parent / "shared" / "laws"
COUNTY_RULES = BANK / "rules"  # the demo county's own rules, cited like laws


@pytest.fixture(scope="module")
def taxonomy():
    path = BANK / "taxonomy.yaml"
    return parse_taxonomy(path.read_text(encoding="utf-8"), str(path))


def load(path: Path, taxonomy):
    return load_drill(path.read_text(encoding="utf-8"), str(path), taxonomy)


def test_taxonomy_offers_the_county_lists(taxonomy):
    assert taxonomy.urgencies == ("一般", "较急", "紧急")
    for name in ("噪声扰民", "违章搭建", "矛盾纠纷", "消防隐患", "燃气安全隐患", "占道经营", "欠薪讨薪", "其他"):
        assert name in taxonomy.event_types
    for name in ("住建局", "生态环境局", "城管局（综合行政执法局）", "公安派出所", "人社局", "乡镇（街道）综治中心"):
        assert name in taxonomy.departments


def test_at_least_twelve_drills_are_shipped():
    assert len(DRILLS) >= 12


@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_drill_parses_and_its_model_report_is_accepted(path, taxonomy):
    drill = load(path, taxonomy)  # raises ContentErrors with file:line otherwise
    evaluation = evaluate(dict(drill.model_report), drill)
    assert (evaluation.verdict, evaluation.score) == ("accepted", 100)


@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_drill_is_sized_like_the_brief(path, taxonomy):
    drill = load(path, taxonomy)
    assert drill.code == path.stem
    assert 200 <= len(re.sub(r"\s", "", drill.scenario)) <= 400
    assert 3 <= len(drill.facts) <= 6
    assert 1 <= len(drill.numbers) <= 3
    assert 1 <= len(drill.traps) <= 3
    assert drill.required == FORM_FIELDS
    assert drill.org == "HX"
    # a scenario paragraph is one line: a line break inside Chinese text renders as a stray space
    assert "\n" not in drill.scenario.strip().replace("\n\n", "")


@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_drill_returns_bad_reports(path, taxonomy):
    drill = load(path, taxonomy)
    good = dict(drill.model_report)

    copied = evaluate({**good, "description": drill.scenario}, drill)
    assert "description_quality" in [c.rule for c in copied.failed]

    wrong_department = next(d for d in taxonomy.departments if d not in drill.answer.departments)
    assert [c.rule for c in evaluate({**good, "department": wrong_department}, drill).failed] == ["department"]

    # One level above the key is accepted (county rule 第九条: when unsure, the higher level); below or two above is not.
    key = taxonomy.urgencies.index(drill.answer.urgency)
    wrong_urgency = next(u for i, u in enumerate(taxonomy.urgencies) if i != key and i != key + 1)
    assert [c.rule for c in evaluate({**good, "urgency": wrong_urgency}, drill).failed] == ["urgency"]

    trap_word = drill.traps[0].any[0]
    trapped = evaluate({**good, "description": good["description"] + f"另外，{trap_word}。"}, drill)
    assert [c.rule for c in trapped.failed] == ["no_fabrication"]

    for entry in drill.numbers:
        if entry.field == "occurred_at":
            continue
        wrong = int(entry.value) * 3 + 7 if entry.unit not in ("点", "时") else (int(entry.value) + 5) % 12 or 3
        text = good["description"] + f"另外，{entry.near[0]}{wrong}{entry.unit}。"
        result = evaluate({**good, "description": text}, drill)
        assert [c.rule for c in result.failed] == ["no_fabrication"], (entry.name, text)

    assert evaluate({}, drill).verdict == "returned"


@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_time_anchor_catches_a_report_at_another_hour(path, taxonomy):
    drill = load(path, taxonomy)
    anchor = next((n for n in drill.numbers if n.field == "occurred_at"), None)
    if anchor is None:
        pytest.skip("drill has no event-time anchor")
    stated = parse_time(drill.model_report["occurred_at"], drill.reference_time).at - timedelta(days=1)
    hour = (int(anchor.value) + 6) % 24
    report = {**drill.model_report, "occurred_at": f"{stated.year}年{stated.month}月{stated.day}日{hour}点"}
    [failed] = evaluate(report, drill).failed
    assert failed.rule == "time_specific" and failed.message.startswith("时间与情景不符")


def test_night_construction_noise_routes_to_housing_per_the_law_and_county_rule(taxonomy):
    drill = load(BANK / "drills" / "night-construction-noise.yaml", taxonomy)
    # The code (art. 548, 572, 1185) leaves enforcement to the department the government
    # designates; the county rule (art. 22 item 1) designates 住建局 — so one answer, not three.
    assert drill.answer.departments == ("住建局",)
    assert drill.answer.urgency == "较急"
    assert drill.answer.event_type == "噪声扰民"
    assert "《中华人民共和国生态环境法典》第五百四十八条、第五百七十二条、第一千一百八十五条" in drill.source
    for bounced in ("生态环境局", "城管局（综合行政执法局）"):
        assert not evaluate({**drill.model_report, "department": bounced}, drill).checks[6].passed


def _law_index():
    script = LAWS / "check_articles.py"
    if not script.is_file():
        pytest.skip(f"法律参考文本不存在（{LAWS}），跳过条文引用核对")
    spec = importlib.util.spec_from_file_location("check_articles", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    laws = {title: numbers for title, (_, numbers) in module.load_folder(str(LAWS)).items()}
    if COUNTY_RULES.is_dir():
        laws.update((t, n) for t, (_, n) in module.load_folder(str(COUNTY_RULES)).items())
    return laws, module.cn_to_int


@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_source_cites_existing_articles(path, taxonomy):
    drill = load(path, taxonomy)
    if not drill.source:
        pytest.skip("no source")
    laws, cn_to_int = _law_index()
    parts = re.findall(r"《([^》]+)》([^《]*)", drill.source)
    assert parts, drill.source
    for title, articles in parts:
        assert title in laws, f"《{title}》不在法律参考文本或本县规范中"
        numbers = [cn_to_int(a) for a in re.findall(r"第([零〇一二三四五六七八九十百千]+)条", articles)]
        assert numbers, f"《{title}》 cites no article"
        missing = [n for n in numbers if n not in laws[title]]
        assert not missing, f"《{title}》没有第{missing}条"
