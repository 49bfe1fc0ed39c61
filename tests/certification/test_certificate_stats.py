"""certificate_stats and certified_share: certificates valid on the period's last day, expiring horizons, subtree."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.accounts.models import UserStatus
from lms.certification import services
from lms.certification.queries import certificate_stats, certified_share
from lms.extensions import db
from lms.reports.stats import org_stats
from tests.certification.factories import NOW, make_certificate, make_program
from tests.factories import make_user

ISSUED = dt.date(2026, 6, 3)  # NOW's local day
DAY = dt.date(2026, 9, 1)  # the statistics' last day in most tests
START = dt.date(2026, 3, 1)


@pytest.fixture
def program(app):
    return make_program("WG-SG", "网格员上岗证", valid_months=36)


def _certificate(user, program, expires: dt.date, *, now=NOW):
    certificate = make_certificate(user, program, now=now)
    certificate.expires_on = expires
    db.session.commit()
    return certificate


def test_expiring_horizons_count_certificates_ending_within_n_days_and_nest(tree, program):
    ends = [DAY, DAY + dt.timedelta(days=30), DAY + dt.timedelta(days=31), DAY + dt.timedelta(days=60),
            DAY + dt.timedelta(days=90), DAY + dt.timedelta(days=91), dt.date(2029, 6, 2)]
    for n, end in enumerate(ends):
        _certificate(make_user(f"w{n}", "worker", tree["g1"]), program, end)
    assert certificate_stats(tree["county"], START, DAY) == {
        "valid": 7, "expiring_30": 2, "expiring_60": 4, "expiring_90": 5}


def test_only_holders_now_in_the_subtree_count(tree, program):
    w1, w2 = make_user("w1", "worker", tree["g1"]), make_user("w2", "worker", tree["g2"])
    _certificate(w1, program, DAY + dt.timedelta(days=10))
    _certificate(w2, program, DAY + dt.timedelta(days=100))
    assert certificate_stats(tree["t1"], START, DAY) == {
        "valid": 1, "expiring_30": 1, "expiring_60": 1, "expiring_90": 1}
    assert certificate_stats(tree["t2"], START, DAY)["valid"] == 1
    assert certificate_stats(tree["county"], START, DAY)["valid"] == 2
    # A transfer takes the certificate along: the holder's HR now sees it.
    w1.org_id = tree["g2"].id
    db.session.commit()
    assert certificate_stats(tree["t1"], START, DAY)["valid"] == 0
    assert certificate_stats(tree["t2"], START, DAY) == {
        "valid": 2, "expiring_30": 1, "expiring_60": 1, "expiring_90": 1}


def test_expired_before_the_last_day_does_not_count(tree, program):
    _certificate(make_user("w1", "worker", tree["g1"]), program, DAY - dt.timedelta(days=1))
    assert certificate_stats(tree["county"], START, DAY)["valid"] == 0
    # On its last day it was still valid, and expiring that very day.
    assert certificate_stats(tree["county"], START, DAY - dt.timedelta(days=1)) == {
        "valid": 1, "expiring_30": 1, "expiring_60": 1, "expiring_90": 1}


def test_a_past_period_reads_certificates_as_they_were(tree, program):
    expired = _certificate(make_user("w1", "worker", tree["g1"]), program, dt.date(2026, 7, 1))
    revoked_later = _certificate(make_user("w2", "worker", tree["g1"]), program, dt.date(2029, 6, 2))
    revoked_before = _certificate(make_user("w3", "worker", tree["g1"]), program, dt.date(2029, 6, 2))
    services.revoke_certificate(None, revoked_later, "违纪", now=dt.datetime(2026, 8, 1, 2, tzinfo=dt.UTC))
    services.revoke_certificate(None, revoked_before, "违纪", now=dt.datetime(2026, 6, 10, 2, tzinfo=dt.UTC))
    assert services.expire_due(now=dt.datetime(2026, 7, 5, tzinfo=dt.UTC)) == 1
    db.session.commit()
    assert expired.status == "expired"
    # On 2026-06-20 the expired one was valid and the later revocation had not happened.
    assert certificate_stats(tree["county"], START, dt.date(2026, 6, 20)) == {
        "valid": 2, "expiring_30": 1, "expiring_60": 1, "expiring_90": 1}
    assert certificate_stats(tree["county"], START, DAY)["valid"] == 0


def test_revoked_on_the_last_day_no_longer_counts(tree, program):
    certificate = _certificate(make_user("w1", "worker", tree["g1"]), program, dt.date(2029, 6, 2))
    # 2026-09-01 08:30 in Shanghai is still 2026-09-01 00:30 UTC.
    services.revoke_certificate(None, certificate, "违纪", now=dt.datetime(2026, 9, 1, 0, 30, tzinfo=dt.UTC))
    db.session.commit()
    assert certificate_stats(tree["county"], START, DAY)["valid"] == 0
    assert certificate_stats(tree["county"], START, DAY - dt.timedelta(days=1))["valid"] == 1


def test_certificates_issued_after_the_last_day_do_not_count(tree, program):
    _certificate(make_user("w1", "worker", tree["g1"]), program, dt.date(2029, 6, 2))
    assert certificate_stats(tree["county"], START, ISSUED - dt.timedelta(days=1))["valid"] == 0
    assert certificate_stats(tree["county"], START, ISSUED)["valid"] == 1


def test_a_renewed_certificate_counts_once_and_is_not_expiring(tree, program):
    old = _certificate(make_user("w1", "worker", tree["g1"]), program, DAY + dt.timedelta(days=20))
    services.renew_certificate(None, old, "到期续发", now=dt.datetime(2026, 8, 20, 2, tzinfo=dt.UTC))
    db.session.commit()
    assert certificate_stats(tree["county"], START, DAY) == {
        "valid": 1, "expiring_30": 0, "expiring_60": 0, "expiring_90": 0}
    # Before the renewal the old one was the valid one, expiring within 60 days.
    assert certificate_stats(tree["county"], START, dt.date(2026, 8, 1)) == {
        "valid": 1, "expiring_30": 0, "expiring_60": 1, "expiring_90": 1}


def test_empty_subtree_gives_zeros(tree, program):
    assert certificate_stats(tree["v2"], START, DAY) == {"valid": 0, "expiring_30": 0, "expiring_60": 0,
                                                         "expiring_90": 0}


def test_org_stats_carries_certificate_stats_for_the_unit_and_children(tree, program):
    _certificate(make_user("w1", "worker", tree["g1"]), program, DAY + dt.timedelta(days=5))
    result = org_stats(tree["county"], START, DAY)
    assert result["certificates"] == {"valid": 1, "expiring_30": 1, "expiring_60": 1, "expiring_90": 1}
    children = {c["org"]["code"]: c["certificates"]["valid"] for c in result["children"]}
    assert children == {"HX01": 1, "HX02": 0}


def test_certified_share_counts_active_grid_workers_holding_a_valid_certificate(tree, program):
    w1 = make_user("w1", "worker", tree["g1"])
    make_user("w2", "worker", tree["g1"])
    leader = make_user("gl1", "grid_leader", tree["v1"])
    left = make_user("w3", "worker", tree["g1"])
    hr = make_user("hr1", "hr", tree["t1"])
    make_user("w4", "worker", tree["g2"])
    for user in (w1, leader, left, hr):
        _certificate(user, program, dt.date(2029, 6, 2))
    # A second certificate of the same holder does not count them twice.
    _certificate(w1, make_program("STAR-1", "一星级网格员", star=1, position=1), dt.date(2027, 6, 2))
    left.status = UserStatus.disabled
    db.session.commit()
    assert certified_share(tree["t1"], DAY) == {"workers": 3, "certified": 2, "share": pytest.approx(2 / 3)}
    assert certified_share(tree["t2"], DAY) == {"workers": 1, "certified": 0, "share": 0.0}
    assert certified_share(tree["t1"], ISSUED - dt.timedelta(days=1))["certified"] == 0


def test_certified_share_of_a_unit_without_workers_is_zero_not_an_error(tree, program):
    assert certified_share(tree["v2"], DAY) == {"workers": 0, "certified": 0, "share": 0.0}
