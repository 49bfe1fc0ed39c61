"""The event-based YAML reader gives exactly load_yaml's data and lines (or its errors)."""
from __future__ import annotations

from pathlib import Path

import pytest

from lms.contentfile import ContentErrors, load_yaml
from lms.quizzes.formats.yaml_bank import fast_load_yaml

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    "a: [1, 2.5, true, ~, 2026-01-01, '3', \"x\"]\nb: {c: yes, d: on}\ne:\n  - f: |\n      多行\n      文本\n",
    "",
    "x: &a 1\ny: *a\n",
    "- 1\n- [a, b]\n",
    "a: 1\na: 2\n",
    "? [a]\n: 1\n",
    "a: !!set {x}\n",
    "a: b: c\n",
    "a: 2026-12-01T09:00:00+08:00\nb: !!str 12\n",
    "questions:\n  - id: x\n    answer: [A, C]\n  - id: y\n    answer: false\n",
] + [p.read_text(encoding="utf-8") for p in sorted((ROOT / "question_bank").glob("*.yaml"))]


def _load(loader, text):
    try:
        data, located = loader(text, "f.yaml")
    except ContentErrors as exc:
        return "error", [str(e) for e in exc.errors]
    return data, located._lines


@pytest.mark.parametrize("text", CASES, ids=range(len(CASES)))
def test_fast_reader_matches_load_yaml(text):
    assert _load(fast_load_yaml, text) == _load(load_yaml, text)
