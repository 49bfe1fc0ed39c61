"""Pairing and activity rules, called directly: every refusal from the issue's bad-input list."""
from __future__ import annotations

import datetime as dt

import pytest

from lms import signals
from lms.accounts.permissions import SYSTEM
from lms.errors import Conflict, Forbidden, ValidationError
from lms.extensions import db
from lms.inbox.models import Message
from lms.mentoring import eligibility, services
from lms.mentoring.models import ActivityStatus
from tests.factories import make_user
from tests.mentoring.factories import days, log, make_cast, make_pairing


@pytest.fixture
def cast(tree):
    return make_cast(tree)


def _code(excinfo) -> str:
    return excinfo.value.code


def test_pairing_is_owned_by_the_mentors_unit_and_keeps_its_mentees(cast, tree):
    pairing = make_pairing(cast["mentor"], [cast["w1"], cast["w2"]], actor=cast["hr"])
    assert pairing.org_id == tree["g1"].id
    assert [pm.mentee.username for pm in pairing.mentees] == ["w1", "w2"]
    assert pairing.created_by_id == cast["hr"].id


def test_mentor_cannot_pair_with_themselves(cast):
    with pytest.raises(ValidationError) as exc:
        make_pairing(cast["mentor"], [cast["mentor"]])
    assert _code(exc) == "self_pairing"


def test_end_before_start_is_invalid_dates(cast):
    with pytest.raises(ValidationError) as exc:
        make_pairing(cast["mentor"], [cast["w1"]], start=days(10), end=days(9))
    assert _code(exc) == "invalid_dates"
    assert "结束日期不能早于开始日期" in exc.value.message


def test_malformed_date_is_refused_with_the_format(cast):
    with pytest.raises(ValidationError) as exc:
        make_pairing(cast["mentor"], [cast["w1"]], start="2026/03/01")
    assert _code(exc) == "invalid_date"
    assert "YYYY-MM-DD" in exc.value.message


def test_mentee_in_a_running_pairing_cannot_be_paired_again(cast, tree):
    other = make_user("senior2", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=dt.date(2010, 1, 1))
    make_pairing(cast["mentor"], [cast["w1"]])
    with pytest.raises(ValidationError) as exc:
        make_pairing(other, [cast["w1"]], start=days(0), end=days(30))
    assert _code(exc) == "mentee_already_paired"


def test_overlapping_a_finished_pairing_of_the_same_mentee_is_invalid_dates(cast, tree):
    other = make_user("senior2", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=dt.date(2010, 1, 1))
    make_pairing(cast["mentor"], [cast["w1"]], start=days(-200), end=days(-50))
    with pytest.raises(ValidationError) as exc:
        make_pairing(other, [cast["w1"]], start=days(-60), end=days(30))
    assert _code(exc) == "invalid_dates"
    # Right after the old one it is fine.
    assert make_pairing(other, [cast["w1"]], start=days(-49), end=days(30)).id


def test_ended_pairing_frees_the_mentee_the_same_day_and_keeps_history(cast, tree):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    services.end_pairing(cast["hr"], pairing, "导师调岗")
    db.session.commit()
    other = make_user("senior2", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=dt.date(2010, 1, 1))
    again = make_pairing(other, [cast["w1"]], start=days(0), end=days(90))
    assert again.id != pairing.id
    assert pairing.ended_at is not None and pairing.end_reason == "导师调岗"


def test_ending_needs_a_reason_and_happens_once(cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    with pytest.raises(ValidationError):
        services.end_pairing(cast["hr"], pairing, "  ")
    services.end_pairing(cast["hr"], pairing, "学员离岗")
    with pytest.raises(Conflict):
        services.end_pairing(cast["hr"], pairing, "再来一次")


def test_junior_mentor_is_ineligible_without_a_credential(cast, tree, monkeypatch):
    junior = make_user("junior", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=days(-400))
    with pytest.raises(ValidationError) as exc:
        make_pairing(junior, [cast["w1"]])
    assert _code(exc) == "mentor_ineligible"
    assert "3 年" in exc.value.message
    # A registered credential (the certification feature's star certificate) makes them eligible.
    monkeypatch.setattr(eligibility, "_CREDENTIAL_CHECKS", [])
    eligibility.register_credential_check(lambda user: user.username == "junior")
    assert make_pairing(junior, [cast["w1"]]).mentor_id == junior.id


def test_min_years_is_configurable(cast, tree):
    junior = make_user("junior", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=days(-800))
    pairing = services.create_pairing(SYSTEM, junior, [cast["w1"]], days(0), days(30), min_years=2)
    assert pairing.mentor_id == junior.id


def test_mentor_without_the_mentor_role_over_the_mentee_is_ineligible(cast, tree):
    senior = make_user("senior", "worker", tree["g1"], hired_on=dt.date(2010, 1, 1))
    with pytest.raises(ValidationError) as exc:
        make_pairing(senior, [cast["w1"]])
    assert _code(exc) == "mentor_ineligible"
    # The demo mentor's role covers township 1 only: not a worker in township 2.
    with pytest.raises(ValidationError) as exc:
        make_pairing(cast["mentor"], [cast["far"]])
    assert _code(exc) == "mentor_ineligible"


def test_mentor_at_capacity_refuses_a_third_mentee(cast):
    make_pairing(cast["mentor"], [cast["w1"], cast["w2"]])
    with pytest.raises(ValidationError) as exc:
        make_pairing(cast["mentor"], [cast["w3"]])
    assert _code(exc) == "mentor_at_capacity"
    # A pairing that does not overlap in time does not take capacity.
    assert make_pairing(cast["mentor"], [cast["w3"]], start=days(151), end=days(200)).id


def test_capacity_is_configurable(cast):
    with pytest.raises(ValidationError) as exc:
        services.create_pairing(SYSTEM, cast["mentor"], [cast["w1"], cast["w2"]], days(0), days(9), capacity=1)
    assert _code(exc) == "mentor_at_capacity"


def test_township_hr_cannot_pair_across_scopes(cast):
    with pytest.raises(Forbidden):
        make_pairing(cast["mentor"], [cast["w1"]], actor=cast["hr2"])
    assert make_pairing(cast["mentor"], [cast["w1"]], actor=cast["hr1"]).id


# --- activities ---------------------------------------------------------------------------------------------

@pytest.fixture
def pairing(cast):
    return make_pairing(cast["mentor"], [cast["w1"]], start=days(-30), end=days(150))


def _refusal(cast, pairing, **fields):
    data = {"kind": "shadowing", "date": days(-1).isoformat(), "minutes": 60, "notes": "入户", **fields}
    with pytest.raises(ValidationError) as exc:
        services.log_activity(cast["mentor"], pairing, data)
    return exc.value


def test_activity_before_the_pairing_is_outside_it(cast, pairing):
    assert _refusal(cast, pairing, date=days(-31).isoformat()).code == "activity_outside_pairing"


def test_activity_after_an_early_end_is_outside_the_pairing(cast, tree):
    pairing = make_pairing(cast["mentor"], [cast["w1"]], start=days(-30), end=days(150))
    services.end_pairing(cast["hr"], pairing, "调岗", now=services.local_start(days(-5)) + dt.timedelta(hours=12))
    db.session.commit()
    assert _refusal(cast, pairing, date=days(-4).isoformat()).code == "activity_outside_pairing"
    assert log(cast["mentor"], pairing, date=days(-5).isoformat()).id


def test_activity_in_the_future_is_refused(cast, pairing):
    error = _refusal(cast, pairing, date=days(1).isoformat())
    assert error.code == "activity_in_future" and "不能晚于今天" in error.message


@pytest.mark.parametrize("minutes", [0, -5, 1441, "abc", None, True, 1.5])
def test_minutes_must_be_between_1_and_1440(cast, pairing, minutes):
    assert _refusal(cast, pairing, minutes=minutes).code == "invalid_minutes"


def test_unknown_kind_lists_the_three_kinds(cast, pairing):
    error = _refusal(cast, pairing, kind="lunch")
    assert error.code == "invalid_kind" and "跟岗学习" in error.message


def test_notes_are_required(cast, pairing):
    assert "活动内容" in _refusal(cast, pairing, notes="   ").message


def test_same_client_id_returns_the_first_activity(cast, pairing):
    first, created = services.log_activity(cast["mentor"], pairing, {
        "kind": "joint_visit", "date": days(-2).isoformat(), "minutes": 45, "notes": "联合走访", "client_id": "abc-1"})
    db.session.commit()
    again, created_again = services.log_activity(cast["mentor"], pairing, {
        "kind": "case_review", "date": days(-1).isoformat(), "minutes": 30, "notes": "重发", "client_id": "abc-1"})
    assert created and not created_again and again.id == first.id
    assert len(pairing.activities) == 1


def test_only_the_pairings_mentor_can_log(cast, pairing, tree):
    other_mentor = make_user("senior2", ["worker", ("mentor", tree["t1"])], tree["g1"], hired_on=dt.date(2010, 1, 1))
    for user in (cast["w1"], cast["hr"], other_mentor):
        with pytest.raises(Forbidden):
            services.log_activity(user, pairing, {"kind": "shadowing", "date": days(-1).isoformat(),
                                                  "minutes": 60, "notes": "x"})


def test_logging_notifies_the_mentee(cast, pairing):
    log(cast["mentor"], pairing)
    titles = [m.title for m in db.session.query(Message).filter_by(user_id=cast["w1"].id)]
    assert any("请确认" in t for t in titles)


def test_confirm_sends_the_signal_for_mentee_and_mentor_and_tells_the_mentor(cast, pairing):
    activity = log(cast["mentor"], pairing)
    received = []

    def listener(sender, **kwargs):
        received.append((sender, kwargs["activity"], kwargs["now"]))

    signals.activity_confirmed.connect(listener)
    try:
        services.confirm_activity(cast["w1"], activity)
    finally:
        signals.activity_confirmed.disconnect(listener)
    assert activity.status == ActivityStatus.confirmed and activity.confirmed_at is not None
    assert [(s.username, a.id) for s, a, _ in received] == [("w1", activity.id),
                                                           (cast["mentor"].username, activity.id)]
    assert db.session.query(Message).filter_by(user_id=cast["mentor"].id).count() == 1


def test_confirming_twice_is_a_conflict(cast, pairing):
    activity = log(cast["mentor"], pairing)
    services.confirm_activity(cast["w1"], activity)
    with pytest.raises(Conflict) as exc:
        services.confirm_activity(cast["w1"], activity)
    assert exc.value.code == "already_confirmed"


def test_nobody_but_the_mentee_can_confirm(cast, pairing):
    activity = log(cast["mentor"], pairing)
    for user in (cast["mentor"], cast["w2"], cast["hr"]):
        with pytest.raises(Forbidden):
            services.confirm_activity(user, activity)
    assert activity.status == ActivityStatus.logged


def test_disputed_activity_cannot_be_confirmed_and_needs_a_reason(cast, pairing):
    activity = log(cast["mentor"], pairing)
    with pytest.raises(ValidationError):
        services.dispute_activity(cast["w1"], activity, "")
    services.dispute_activity(cast["w1"], activity, "那天我在镇里培训")
    with pytest.raises(Conflict) as exc:
        services.confirm_activity(cast["w1"], activity)
    assert exc.value.code == "already_disputed"
    assert activity.dispute_reason == "那天我在镇里培训"


def test_pairing_with_two_mentees_needs_the_mentee_named(cast):
    pairing = make_pairing(cast["mentor"], [cast["w1"], cast["w2"]])
    assert "学员工号" in _refusal(cast, pairing).message
    assert _refusal(cast, pairing, mentee="w3").code == "invalid"
    assert log(cast["mentor"], pairing, mentee="w2").mentee_id == cast["w2"].id


def test_drill_report_id_must_be_a_positive_integer(cast, pairing):
    assert _refusal(cast, pairing, drill_report_id="abc").code == "invalid"
    assert _refusal(cast, pairing, drill_report_id=-3).code == "invalid"


def test_linked_drill_report_must_exist_and_belong_to_mentor_or_mentee(cast, pairing, monkeypatch):
    from lms.mentoring import crossfeature

    owners = {7: cast["w1"].id, 8: cast["w2"].id}
    monkeypatch.setattr(crossfeature, "drill_report_owner_id", lambda rid: owners.get(rid, False))
    assert "不存在" in _refusal(cast, pairing, drill_report_id=99).message
    assert "不属于" in _refusal(cast, pairing, drill_report_id=8).message
    assert log(cast["mentor"], pairing, drill_report_id="7").drill_report_id == 7


def test_without_the_drills_feature_any_report_id_is_stored(cast, pairing, monkeypatch):
    from lms.mentoring import crossfeature

    monkeypatch.setattr(crossfeature, "drill_report_owner_id", lambda rid: None)
    assert log(cast["mentor"], pairing, drill_report_id=12345).drill_report_id == 12345


def test_registries_ignore_a_second_registration(monkeypatch):
    monkeypatch.setattr(eligibility, "_CREDENTIAL_CHECKS", [])
    monkeypatch.setattr(eligibility, "_STAR_SOURCES", [])

    def check(user):
        return False

    eligibility.register_credential_check(check)
    eligibility.register_credential_check(check)
    assert eligibility._CREDENTIAL_CHECKS == [check]
    eligibility.register_star_source(lambda user: 2)
    eligibility.register_star_source(lambda user: 4)
    assert eligibility.star_level(object()) == 4


@pytest.mark.parametrize("hired, today, years", [
    (dt.date(2023, 11, 28), dt.date(2026, 11, 28), 3),
    (dt.date(2023, 11, 29), dt.date(2026, 11, 28), 2),
    (None, dt.date(2026, 11, 28), 0),
    (dt.date(2027, 1, 1), dt.date(2026, 11, 28), 0),
])
def test_years_of_service_count_completed_years(hired, today, years):
    assert eligibility.years_of_service(hired, today) == years


def test_drill_report_lookup_uses_the_drills_model_when_installed(app):
    from lms.mentoring import crossfeature

    if crossfeature._optional("lms.drills.models", "DrillReport") is None:
        pytest.skip("the drills feature is not installed")
    assert crossfeature.drill_report_owner_id(424242) is False


def test_confirmation_awards_the_activity_points_to_mentee_and_mentor_once(cast, pairing):
    from lms.db import utcnow
    from lms.points.models import PointEntry, PointKind, PointRule

    db.session.add(PointRule(kind=PointKind.mentoring_activity, points=4, updated_at=utcnow()))
    db.session.commit()
    activity = log(cast["mentor"], pairing)
    services.confirm_activity(cast["w1"], activity)
    db.session.commit()
    awarded = {(e.user_id, e.points) for e in db.session.query(PointEntry).filter_by(kind=PointKind.mentoring_activity)}
    assert awarded == {(cast["w1"].id, 4), (cast["mentor"].id, 4)}
