"""Return-rate statistics (lms.drills.stats) as plain functions: no HTTP, real database."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.drills import queries
from lms.drills import stats
from lms.drills.content import RULE_NAMES
from lms.drills.services import review_report, submit_report
from lms.extensions import db
from tests.drills.factories import NOISE, POOR, copy_bank, model_report, run_importers
from tests.factories import make_user

GAS = "gas-leak-smell"
UTC = dt.timezone.utc
MON = dt.datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 1 June, 10:00 in Shanghai (ISO week 23)
TUE = dt.datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
NEXT_WEEK = dt.datetime(2026, 6, 9, 2, 0, tzinfo=UTC)  # week 24
JULY = dt.datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # week 27, the next month


@pytest.fixture
def drills(tree, tmp_path):
    run_importers(copy_bank(tmp_path, NOISE, GAS))
    db.session.commit()
    return queries.get_drill(NOISE), queries.get_drill(GAS)


@pytest.fixture
def reports(tree, drills):
    """a (桃源村 grid): noise returned then accepted, gas returned; b (和平社区 grid): gas accepted, noise returned."""
    noise, gas = drills
    a = make_user("w-a", "worker", tree["g1"], name="甲", phone="13812345678")
    b = make_user("w-b", "worker", tree["g2"], name="乙")
    made = {
        "a_noise_1": submit_report(a, noise, POOR, now=MON)[0],
        "a_noise_2": submit_report(a, noise, model_report(NOISE), now=TUE)[0],
        "a_gas_1": submit_report(a, gas, POOR, now=NEXT_WEEK)[0],
        "b_gas_1": submit_report(b, gas, model_report(GAS), now=NEXT_WEEK)[0],
        "b_noise_1": submit_report(b, noise, POOR, now=JULY)[0],
    }
    db.session.commit()
    return made


def _failed(report) -> set[str]:
    return {c["rule"] for c in report.checks if not c["passed"]}


def test_return_rate_over_all_and_first_attempts(tree, reports):
    total = stats.summary(tree["county"])
    assert (total["reports"], total["returned"], total["return_rate"]) == (5, 3, 0.6)
    # First attempts: a_noise_1, a_gas_1, b_gas_1, b_noise_1; the revision a_noise_2 is not one.
    assert (total["first_reports"], total["first_returned"], total["first_return_rate"]) == (4, 3, 0.75)


def test_by_rule_counts_each_failed_check_and_its_share(tree, reports):
    rows = {row["rule"]: row for row in stats.by_rule(stats.report_rows(tree["county"]))}
    assert list(rows) == list(RULE_NAMES)
    returned = [reports[k] for k in ("a_noise_1", "a_gas_1", "b_noise_1")]
    for rule in RULE_NAMES:
        failed = sum(rule in _failed(r) for r in returned)
        assert rows[rule]["failed"] == rows[rule]["first_failed"] == failed
        assert rows[rule]["rate"] == pytest.approx(failed / 5)
        assert rows[rule]["first_rate"] == pytest.approx(failed / 4)
    assert rows["department"]["failed"] == 3  # POOR routes to 城管局 for both drills


def test_a_trainer_override_changes_the_return_rate_not_the_rule_failures(tree, reports):
    trainer = make_user("tr", "trainer", tree["county"])
    review_report(trainer, reports["b_noise_1"], "accepted", 80, "口头汇报过，可以通过")
    db.session.commit()
    total = stats.summary(tree["county"])
    assert (total["returned"], total["first_returned"]) == (2, 2)
    assert total["by_rule"]["department"] == 3


def test_by_unit_lists_every_township_and_village_in_tree_order_with_its_subtree(tree, reports):
    rows = stats.by_unit(tree["county"], stats.report_rows(tree["county"]))
    assert [(r["key"], r["kind"], r["depth"], r["parent"]) for r in rows] == [
        ("HX01", "township", 1, "HX"), ("HX0101", "village", 2, "HX01"),
        ("HX02", "township", 1, "HX"), ("HX0201", "village", 2, "HX02")]
    figures = {r["key"]: (r["reports"], r["returned"], r["first_reports"]) for r in rows}
    assert figures == {"HX01": (3, 2, 2), "HX0101": (3, 2, 2), "HX02": (2, 1, 2), "HX0201": (2, 1, 2)}


def test_a_unit_without_reports_has_a_row_with_no_rate(tree, drills):
    rows = stats.by_unit(tree["county"], [])
    assert {r["key"] for r in rows} == {"HX01", "HX0101", "HX02", "HX0201"}
    assert all(r["reports"] == 0 and r["return_rate"] is None and r["first_return_rate"] is None for r in rows)


def test_over_time_by_iso_week_and_month_in_local_time_listing_empty_periods(tree, reports):
    rows = stats.report_rows(tree["county"])
    months = stats.over_time(rows, "month")
    assert [(r["key"], r["label"], r["reports"]) for r in months] == [("2026-06", "2026年6月", 4),
                                                                       ("2026-07", "2026年7月", 1)]
    weeks = stats.over_time(rows, "week")
    assert [(r["key"], r["reports"]) for r in weeks] == [
        ("2026-W23", 2), ("2026-W24", 2), ("2026-W25", 0), ("2026-W26", 0), ("2026-W27", 1)]
    assert weeks[0]["label"] == "2026年第23周" and weeks[2]["return_rate"] is None
    # Within an explicit window every period is listed, data or not.
    start = dt.datetime(2026, 5, 1, tzinfo=stats.SHANGHAI)
    end = dt.datetime(2026, 8, 1, tzinfo=stats.SHANGHAI)
    window = stats.over_time(stats.report_rows(tree["county"], start, end), "month", start, end)
    assert [r["key"] for r in window] == ["2026-05", "2026-06", "2026-07"]
    with pytest.raises(ValueError):
        stats.over_time(rows, "year")


def test_a_report_late_on_sunday_utc_counts_in_the_local_monday_week(tree, drills):
    noise, _ = drills
    worker = make_user("w-late", "worker", tree["g1"])
    # Sunday 7 June 20:00 UTC is Monday 8 June 04:00 in Shanghai: week 24, not 23.
    submit_report(worker, noise, POOR, now=dt.datetime(2026, 6, 7, 20, 0, tzinfo=UTC))
    db.session.commit()
    assert [r["key"] for r in stats.over_time(stats.report_rows(tree["county"]), "week")] == ["2026-W24"]


def test_per_drill_and_per_worker_rows(tree, reports):
    rows = stats.report_rows(tree["county"])
    drills = {r["key"]: (r["label"], r["reports"], r["returned"], r["first_return_rate"]) for r in stats.by_drill(rows)}
    assert drills == {GAS: ("居民楼道闻到燃气味", 2, 1, 0.5), NOISE: ("夜间施工噪声扰民", 3, 2, 1.0)}
    workers = stats.by_worker(rows)
    assert [(r["key"], r["label"], r["org"], r["reports"], r["returned"], r["first_reports"]) for r in workers] == [
        ("w-a", "甲", "桃源村第一网格", 3, 2, 2), ("w-b", "乙", "和平社区第一网格", 2, 1, 2)]
    assert "phone" not in workers[0]  # personal data stays out of the figures


def test_the_period_window_is_half_open(tree, reports):
    assert stats.summary(tree["county"], MON, TUE)["reports"] == 1
    assert stats.summary(tree["county"], TUE, NEXT_WEEK)["reports"] == 1
    assert stats.summary(tree["county"], JULY, None)["reports"] == 1


def test_a_viewer_sees_only_reports_in_their_scope(tree, reports):
    trainer = make_user("tr-qs", "trainer", tree["t1"])
    data = stats.breakdown(tree["county"], user=trainer)
    assert data["total"]["reports"] == 3
    assert [r["key"] for r in data["by_worker"]] == ["w-a"]
    outsider = make_user("w-x", "worker", tree["g1"])  # no VIEW_STATS anywhere
    assert stats.summary(tree["county"], user=outsider)["reports"] == 0


def test_a_report_counts_for_the_unit_at_the_time_after_a_transfer(tree, reports):
    worker = reports["a_gas_1"].user
    worker.org = tree["g2"]
    db.session.commit()
    units = {r["key"]: r["reports"] for r in stats.by_unit(tree["county"], stats.report_rows(tree["county"]))}
    assert (units["HX01"], units["HX02"]) == (3, 2)
    assert stats.by_worker(stats.report_rows(tree["county"]))[0]["org"] == "和平社区第一网格"  # now


def test_breakdown_holds_every_view_from_one_read(tree, reports):
    data = stats.breakdown(tree["county"])
    assert set(data) == {"total", "by_rule", "missed", "by_unit", "by_drill", "by_worker", "by_month", "by_week"}
    assert set(stats.detail(tree["county"])) == {"by_unit", "by_month", "by_week", "by_drill", "by_worker"}


def test_failed_rules_ignores_odd_check_entries():
    checks = [{"rule": "urgency", "passed": False}, {"rule": "nope", "passed": False}, "x", None,
              {"rule": "department", "passed": True}]
    assert stats.failed_rules(checks) == ("urgency",)
    assert stats.failed_rules(None) == ()


def test_the_database_reads_failed_rules_like_python_even_from_odd_checks(tree, reports):
    report = reports["a_gas_1"]
    report.checks = [{"rule": "urgency", "passed": False}, "x", None, 7, {"rule": "nope", "passed": False},
                     {"rule": "department", "passed": True}, {"passed": False}]
    db.session.commit()
    rows = {(r.drill_code, r.user_id, r.created_at): r.rules for r in stats.report_rows(tree["county"])}
    assert len(rows) == len(reports)
    assert rows[(GAS, report.user_id, report.created_at)] == ("urgency",) == stats.failed_rules(report.checks)
    for made in reports.values():
        if made is not report:
            assert rows[(made.drill.code, made.user_id, made.created_at)] == stats.failed_rules(made.checks)


def test_precision_by_rule_counts_what_trainers_upheld_and_overturned(tree, reports):
    trainer = make_user("tr", "trainer", tree["county"])
    # a_noise_1 and b_noise_1 fail the same rules (POOR); a trainer accepts one and upholds the other.
    review_report(trainer, reports["a_noise_1"], "accepted", 70, "说法不同，但意思写到了")
    review_report(trainer, reports["b_noise_1"], "returned", 20, "")
    # a report every check passed, returned by the trainer: a miss of the checker, no rule's
    review_report(trainer, reports["b_gas_1"], "returned", 60, "诉求要写是谁提的")
    db.session.commit()
    failed = _failed(reports["a_noise_1"])
    assert failed == _failed(reports["b_noise_1"]) and "department" in failed
    rows = {row["rule"]: row for row in stats.by_rule(stats.report_rows(tree["county"]))}
    for rule in failed:
        assert (rows[rule]["reviewed"], rows[rule]["overturned"], rows[rule]["precision"]) == (2, 1, 0.5), rule
    # a_gas_1 failed its rules too, but nobody reviewed it: no precision figure from it
    for rule in set(RULE_NAMES) - failed - _failed(reports["a_gas_1"]):
        assert (rows[rule]["reviewed"], rows[rule]["precision"]) == (0, None), rule
    assert stats.checker_missed(stats.report_rows(tree["county"])) == 1
    assert stats.breakdown(tree["county"])["missed"] == 1
