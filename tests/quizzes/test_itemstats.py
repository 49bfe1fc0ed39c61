import csv
from pathlib import Path

import pytest

from lms.quizzes.itemstats import correlation, item_stats

ROOT = Path(__file__).resolve().parents[2]
MOODLE = ROOT.parent / "shared" / "fixtures" / "moodle"


def moodle_csv(name):
    path = MOODLE / name
    if not path.exists():
        pytest.skip(f"Moodle fixture {name} not available at {MOODLE}")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_reproduces_moodle_facility_and_discrimination_from_its_fixture():
    rows = []
    for attempt in moodle_csv("results00.csv"):
        for slot in range(1, 8):
            rows.append((attempt["quizattempt"], str(slot), float(attempt[f"slots.{slot}.mark"]), 1.0, None))
    stats = item_stats(rows)
    expected = moodle_csv("qstats00.csv")
    assert len(expected) == 7
    for row in expected:
        stat = stats[row["slot"]]
        assert stat.attempts == 25
        assert stat.facility == pytest.approx(float(row["facility"]), abs=1e-6)
        assert stat.discrimination == pytest.approx(float(row["discriminationindex"]), abs=1e-6)
        assert stat.sd == pytest.approx(float(row["sd"]), abs=1e-6)


def test_option_counts_count_each_choice_and_blanks():
    rows = [
        (1, "q1", 1, 1, "B"), (2, "q1", 0, 1, "A"), (3, "q1", 1, 1, "B"), (4, "q1", 0, 1, None),
        (1, "q2", 1, 1, frozenset({"A", "C"})), (2, "q2", 0, 1, ["A"]), (3, "q2", 0, 1, True),
    ]
    stats = item_stats(rows)
    assert stats["q1"].option_counts == {"A": 1, "B": 2} and stats["q1"].unanswered == 1
    assert stats["q2"].option_counts == {"A": 2, "C": 1, "true": 1}
    assert stats["q1"].facility == 0.5


def test_facility_uses_the_fraction_of_each_mark():
    stats = item_stats([(1, "q", 1, 2, "A"), (2, "q", 2, 2, "A")])
    assert stats["q"].facility == 0.75


def test_good_item_discriminates_positively_and_flat_item_is_undefined():
    rows = []
    for attempt, (good, rest, flat) in enumerate([(1, 3, 1), (1, 2, 1), (0, 1, 1), (0, 0, 1)]):
        rows += [(attempt, "good", good, 1, None), (attempt, "rest", rest, 3, None), (attempt, "flat", flat, 1, None)]
    stats = item_stats(rows)
    assert stats["good"].discrimination > 80
    assert stats["flat"].discrimination is None and stats["flat"].facility == 1.0


def test_correlation_needs_two_points_and_spread():
    assert correlation([1], [1]) is None
    assert correlation([1, 1], [0, 1]) is None
    assert correlation([0, 1, 2], [0, 2, 4]) == pytest.approx(1.0)
    assert correlation([0, 1, 2], [4, 2, 0]) == pytest.approx(-1.0)
