"""Readable codes from Chinese titles (lms.codes): pure, no database."""
from __future__ import annotations

import pytest

from lms import codes


@pytest.mark.parametrize("title, stem", [
    ("矛盾纠纷调解", "mdjftj"),
    ("2026年冬季供暖", "2026-ndjgn"),
    ("Flood Drill 防汛", "flood-drill-fx"),
    ("ＡＢＣ１２３", "abc123"),          # full-width letters and digits read as ASCII
    ("入户走访：第1讲", "rhzf-d-1-j"),
    ("重庆", "cq"),                    # 重 read in its place-name sound (chong)
    ("", "x"),
    ("？！…", "x"),
])
def test_stems_are_pinyin_initials_and_latin_words(title, stem):
    assert codes.stem(title) == stem


def test_generated_codes_take_the_first_free_number_and_are_valid():
    assert codes.generate("矛盾纠纷调解", set()) == "mdjftj-1"
    assert codes.generate("矛盾纠纷调解", {"mdjftj-1", "mdjftj-2"}) == "mdjftj-3"
    assert codes.generate("矛盾纠纷调解", lambda c: c != "mdjftj-4") == "mdjftj-4"
    long = codes.generate("网格" * 80, set(), max_len=30)
    assert len(long) <= 30 and codes.is_code(long)
    assert codes.generate("", set(), fallback="kc") == "kc-1"


def test_typed_codes_are_kept_when_valid_and_generated_otherwise():
    assert codes.code_or_generate("hp-flood", "防汛", set()) == ("hp-flood", False)
    assert codes.code_or_generate("", "防汛演练", set()) == ("fxyl-1", True)
    assert codes.code_or_generate("纠纷", "别的标题", set()) == ("jf-1", True)
    assert codes.code_or_generate("Bad Code", "x", set()) == ("bad-code-1", True)
    assert codes.code_or_generate("a" * 65, "标题", set(), max_len=64)[1] is True


def test_sequential_ids_skip_taken_numbers():
    assert codes.sequential("winter", set()) == "winter-0001"
    assert codes.sequential("winter", {"winter-0001", "winter-0002"}) == "winter-0003"
    assert codes.sequential("bank", {"bank-1"}, width=1) == "bank-2"
