"""Counts other features rely on, suggestions, outcomes and the 1+N team rule."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.accounts.permissions import SYSTEM
from lms.extensions import db
from lms.mentoring import crossfeature, eligibility, queries, services
from lms.mentoring.models import ActivityKind
from tests.factories import make_org, make_user
from tests.mentoring.factories import TODAY, days, log, make_cast, make_pairing


@pytest.fixture
def cast(tree):
    return make_cast(tree)


def test_confirmed_activity_count_counts_mentor_and_mentee_but_not_pending_or_disputed(cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"], cast["w2"]])
    a1 = log(cast["mentor"], pairing, mentee="w1")
    a2 = log(cast["mentor"], pairing, mentee="w2", kind="case_review")
    a3 = log(cast["mentor"], pairing, mentee="w1", kind="joint_visit")
    log(cast["mentor"], pairing, mentee="w1")
    services.confirm_activity(cast["w1"], a1)
    services.confirm_activity(cast["w2"], a2)
    services.dispute_activity(cast["w1"], a3, "没去")
    db.session.commit()
    assert queries.confirmed_activity_count(cast["mentor"]) == 2
    assert queries.confirmed_activity_count(cast["w1"]) == 1
    assert queries.confirmed_activity_count(cast["w3"]) == 0


def test_mentoring_stats_count_running_pairings_and_confirmed_activities_in_the_subtree(cast, tree):
    pairing = make_pairing(cast["mentor"], [cast["w1"]], start=days(-30), end=days(30))
    confirmed = log(cast["mentor"], pairing, date=days(-10).isoformat())
    log(cast["mentor"], pairing, date=days(-9).isoformat())  # never confirmed: does not count
    services.confirm_activity(cast["w1"], confirmed)
    db.session.commit()
    assert queries.mentoring_stats(tree["t1"], days(-20), days(0)) == {"pairings": 1, "activities_confirmed": 1}
    assert queries.mentoring_stats(tree["t1"], days(-5), days(0)) == {"pairings": 1, "activities_confirmed": 0}
    assert queries.mentoring_stats(tree["t1"], days(40), days(50)) == {"pairings": 0, "activities_confirmed": 0}
    assert queries.mentoring_stats(tree["t2"], days(-20), days(0)) == {"pairings": 0, "activities_confirmed": 0}


def test_mentoring_stats_skip_a_pairing_ended_before_the_period(cast, tree):
    pairing = make_pairing(cast["mentor"], [cast["w1"]], start=days(-60), end=days(60))
    services.end_pairing(SYSTEM, pairing, "调岗", now=services.local_start(days(-40)))
    db.session.commit()
    assert queries.mentoring_stats(tree["county"], days(-30), days(0))["pairings"] == 0
    assert queries.mentoring_stats(tree["county"], days(-50), days(0))["pairings"] == 1


def test_team_gaps_lists_grids_without_a_young_graduate(cast, tree):
    # g1 has w1 (born 1998, 大专): fine; g2 only has "far" without birth date or education.
    assert queries.team_gaps(cast["hr"]) == [tree["g2"]]
    make_user("young", "worker", tree["g2"], birth_date=dt.date(TODAY.year - 34, 1, 1), education="本科")
    assert queries.team_gaps(cast["hr"]) == []


def test_team_rule_needs_under_35_and_college(cast, tree):
    g3 = make_org("HX010102", "grid", tree["v1"])
    thirty_five = TODAY.replace(year=TODAY.year - 35) if not (TODAY.month == 2 and TODAY.day == 29) else TODAY
    make_user("old", "worker", g3, birth_date=thirty_five, education="研究生")
    make_user("school", "worker", g3, birth_date=dt.date(TODAY.year - 25, 1, 1), education="高中")
    assert g3 in queries.team_gaps(cast["hr"])
    # A township HR of the other township does not see it.
    assert g3 not in queries.team_gaps(cast["hr2"])


def test_team_page_data_names_the_leader_first(cast, tree):
    make_user("leader", ["worker", ("grid_leader", tree["g1"])], tree["g1"], name="孙丽")
    data = queries.team(tree["g1"])
    assert [u.username for u in data["leaders"]] == ["leader"]
    assert data["members"][0]["user"].username == "leader" and data["members"][0]["is_leader"]
    assert data["rule_met"] is True


def test_suggestions_prefer_the_same_village_then_stars_and_skip_full_mentors(cast, tree, monkeypatch):
    v_other = make_org("HX0102", "village", tree["t1"])
    g_other = make_org("HX010201", "grid", v_other)
    township_star = make_user("star", ["worker", ("mentor", tree["t1"])], g_other, hired_on=dt.date(2012, 1, 1))
    full = make_user("full", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=dt.date(2012, 1, 1))
    make_user("junior", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=days(-100))
    make_pairing(full, [cast["w2"], cast["w3"]])
    monkeypatch.setattr(eligibility, "_STAR_SOURCES", [])
    eligibility.register_star_source(lambda user: 3 if user.username == "star" else 0)
    suggestions = {s.mentee.username: s for s in queries.suggest_mentors(cast["hr"], min_years=3, capacity=2)}
    assert set(suggestions) == {"w1", "far", "junior"}  # w2, w3 are paired
    ranked = [(m["user"].username, m["tier"]) for m in suggestions["w1"].mentors]
    assert ranked == [("mentor", "同村（社区）"), ("star", "同乡镇（街道）")]
    assert suggestions["far"].mentors == []  # nobody's mentor role covers township 2
    assert [m["user"].id for m in suggestions["junior"].mentors] == [cast["mentor"].id, township_star.id]


def test_suggestions_rank_by_return_rate_within_a_tier(cast, tree, monkeypatch):
    make_user("senior2", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=dt.date(2012, 1, 1))
    rates = {"mentor": 0.4, "senior2": 0.1}
    monkeypatch.setattr(crossfeature, "return_rate", lambda user, *a: rates.get(user.username))
    suggestion = next(s for s in queries.suggest_mentors(cast["hr"], min_years=3, capacity=2)
                      if s.mentee.username == "w1")
    assert [m["user"].username for m in suggestion.mentors] == ["senior2", "mentor"]


def test_outcomes_compare_return_rate_before_and_during_and_count_kinds(cast, monkeypatch):
    pairing = make_pairing(cast["mentor"], [cast["w1"]], start=days(-30), end=days(30))
    calls = []

    def fake_rate(user, start=None, end=None):
        calls.append((start, end))
        return 0.5 if end is not None and end <= services.local_start(days(-30)) else 0.2

    monkeypatch.setattr(crossfeature, "return_rate", fake_rate)
    for kind in ("shadowing", "shadowing", "case_review"):
        services.confirm_activity(cast["w1"], log(cast["mentor"], pairing, kind=kind))
    db.session.commit()
    rows = queries.outcome_rows(cast["hr"], queries.Permission.MANAGE_PAIRINGS)
    assert len(rows) == 1
    row = rows[0]
    assert (row["before"], row["during"]) == (0.5, 0.2)
    assert row["by_kind"] == {ActivityKind.shadowing: 2, ActivityKind.joint_visit: 0, ActivityKind.case_review: 1}
    assert row["minutes"] == 270
    rollup = queries.township_rollup(rows)
    assert [(g["township"], g["pairings"], g["confirmed"]) for g in rollup] == [("青石镇", 1, 3)]
    # "Before" is a window as long as the pairing so far, ending where it starts.
    before_start, before_end = calls[0]
    assert before_end == services.local_start(days(-30))
    assert before_end - before_start == dt.timedelta(days=31)


def test_outcomes_stay_within_the_viewers_scope(cast):
    make_pairing(cast["mentor"], [cast["w1"]])
    assert queries.outcome_rows(cast["hr2"], queries.Permission.MANAGE_PAIRINGS) == []
    assert len(queries.outcome_rows(cast["hr1"], queries.Permission.MANAGE_PAIRINGS)) == 1


def test_dashboard_card_flags_unconfirmed_and_quiet_mentees(cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]], start=days(-60), end=days(60))
    old = log(cast["mentor"], pairing, date=days(-40).isoformat(),
              now=services.local_start(days(-40)) + dt.timedelta(hours=12))
    card = queries.mentee_overview(pairing, cast["w1"])
    assert any("未确认" in item for item in card["overdue"])
    assert any("没有带教活动" in item for item in card["overdue"])
    assert old.id and card["return_rate"] == "—"


def test_formatters_handle_what_other_features_might_return():
    assert queries.format_rate(0.125) == "12%"
    assert queries.format_progress({"done": 2, "total": 5}) == "已完成 2/5 门指派课程"
    assert queries.format_progress(None) == "—"
    assert queries.format_progress({"done": 0, "total": 0, "overdue": []}) == "暂无指派课程"
    assert queries.format_scores({"county-exam": 85}) == "county-exam 85"
    assert queries.format_scores([{"title": "县考", "score": 90}, ("乡考", 70)]) == "县考 90；乡考 70"
    assert queries.format_scores([]) == "—"


def test_only_workers_hired_under_a_year_ago_need_a_mentor(cast, tree):
    make_user("newhr", "hr", tree["t1"], hired_on=days(-5))
    make_user("veteran", "worker", tree["g1"], hired_on=days(-400))
    names = {u.username for u in queries.new_workers_without_mentor(cast["hr"])}
    assert names == {"w1", "w2", "w3", "far"}
    assert {u.username for u in queries.new_workers_without_mentor(cast["hr2"])} == {"far"}
