"""Cross-feature read contracts: accepted_count, return_rate, drill_stats (unit at the time of the report)."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.drills import queries
from lms.drills.services import submit_report
from lms.extensions import db
from tests.drills.factories import NOISE, POOR, copy_bank, model_report, run_importers
from tests.factories import make_user

UTC = dt.timezone.utc
DAY1 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
DAY2 = dt.datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
DAY3 = dt.datetime(2026, 6, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def drills(tree, tmp_path):
    run_importers(copy_bank(tmp_path, NOISE, "gas-leak-smell"))
    db.session.commit()
    return queries.get_drill(NOISE), queries.get_drill("gas-leak-smell")


def test_accepted_count_counts_drills_not_reports_within_the_window(tree, drills):
    noise, gas = drills
    worker = make_user("w1", "worker", tree["g1"])
    assert queries.accepted_count(worker) == 0
    submit_report(worker, noise, model_report(NOISE), now=DAY1)
    submit_report(worker, noise, model_report(NOISE), now=DAY2)
    submit_report(worker, gas, POOR, now=DAY2)
    submit_report(worker, gas, model_report("gas-leak-smell"), now=DAY3)
    db.session.commit()
    assert queries.accepted_count(worker) == 2
    assert queries.accepted_count(worker, since=DAY2) == 2
    assert queries.accepted_count(worker, since=DAY2, until=DAY3) == 1
    assert queries.accepted_count(worker, until=DAY1) == 0


def test_return_rate_is_none_without_reports_and_a_share_otherwise(tree, drills):
    noise, _ = drills
    worker = make_user("w1", "worker", tree["g1"])
    assert queries.return_rate(worker) is None
    submit_report(worker, noise, POOR, now=DAY1)
    submit_report(worker, noise, {}, now=DAY1)
    submit_report(worker, noise, model_report(NOISE), now=DAY2)
    db.session.commit()
    assert queries.return_rate(worker) == pytest.approx(2 / 3)
    assert queries.return_rate(worker, start=DAY2) == 0.0
    assert queries.return_rate(worker, end=DAY2) == 1.0
    assert queries.return_rate(worker, start=DAY3) is None


def test_drill_stats_count_each_report_for_the_unit_at_the_time(tree, drills):
    noise, _ = drills
    worker = make_user("w1", "worker", tree["g1"])
    submit_report(worker, noise, POOR, now=DAY1)
    db.session.commit()
    worker.org = tree["g2"]  # transferred to 城关街道
    db.session.commit()
    submit_report(worker, noise, model_report(NOISE), now=DAY2)
    db.session.commit()
    qs = queries.drill_stats(tree["t1"], None, None)
    assert (qs["reports"], qs["returned"], qs["return_rate"]) == (1, 1, 1.0)
    assert qs["by_rule"]["department"] == 1 and qs["by_rule"]["urgency"] == 1
    assert set(qs["by_rule"]) == {"required_fields", "time_specific", "place_specific", "parties_named", "key_facts",
                                  "no_fabrication", "department", "urgency", "description_quality", "event_type",
                                  "demand_specific", "measures_specific", "notified"}
    cg = queries.drill_stats(tree["t2"], None, None)
    assert (cg["reports"], cg["returned"], cg["return_rate"]) == (1, 0, 0.0)
    county = queries.drill_stats(tree["county"], DAY1, DAY2)
    assert county["reports"] == 1
    empty = queries.drill_stats(tree["county"], DAY3, None)
    assert (empty["reports"], empty["returned"], empty["return_rate"]) == (0, 0, 0.0)
    assert empty["by_rule"] == dict.fromkeys(qs["by_rule"], 0)
    assert empty["first_return_rate"] is None  # added keys: no data is not 0 %
