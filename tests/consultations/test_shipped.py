"""The shipped consultations (question_bank/consultations/): enough of them, each importable, covering the topics
the county names, and citing articles the law texts have."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from lms.consultations.check import check_consultations
from tests.consultations.corpus import BANK, shipped_consultations

LAWS = Path(__file__).resolve().parents[3] / "shared" / "laws"
FILES = sorted((BANK / "consultations").glob("*.yaml"))
TOPICS = {"社保": ("养老", "失业"), "医保": ("医保",), "低保/特困": ("低保", "特困"), "征收安置": ("征收",),
          "信访": ("信访",), "个人信息": ("个人信息",), "邻里纠纷": ("邻", "调解"), "特殊人群": ("精神", "残疾")}


def test_at_least_fifteen_import_cleanly_and_cover_the_topics():
    items = shipped_consultations()
    assert len(items) >= 15
    assert check_consultations(BANK) == []
    for topic, words in TOPICS.items():
        assert any(any(w in f"{c.title}{c.question}{c.model_answer}" for w in words) for c in items.values()), topic


def _law_index():
    script = LAWS / "check_articles.py"
    if not script.is_file():
        pytest.skip(f"法律参考文本不存在（{LAWS}），跳过条文引用核对")
    spec = importlib.util.spec_from_file_location("check_articles", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    laws = {title: numbers for title, (_, numbers) in module.load_folder(str(LAWS)).items()}
    laws.update((t, n) for t, (_, n) in module.load_folder(str(BANK / "rules")).items())
    return laws, module.cn_to_int


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_sources_cite_existing_articles(path):
    laws, cn_to_int = _law_index()
    item = shipped_consultations()[path.stem]
    for source in item.sources:
        for title, articles in re.findall(r"《([^》]+)》([^《]*)", source):
            assert title in laws, f"{path.name}: 《{title}》不在法律参考文本或本县规范中"
            numbers = [cn_to_int(a) for a in re.findall(r"第([零〇一二两三四五六七八九十百千]+)条", articles)]
            assert numbers and not [n for n in numbers if n not in laws[title]], f"{path.name}: {source}"
