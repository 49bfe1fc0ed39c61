"""Certification answers mentoring's questions: a valid 星级 certificate makes a mentor eligible."""
from __future__ import annotations

import datetime as dt

from lms.mentoring import eligibility
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


def test_a_valid_star_certificate_makes_a_junior_worker_eligible_and_ranks_by_star(app, tree):
    today = dt.date.today()
    junior = make_user("j1", "worker", tree["g1"], hired_on=today - dt.timedelta(days=400))
    assert not eligibility.is_eligible(junior, today)
    assert eligibility.star_level(junior) == 0
    star2 = make_program("STAR-2", "二星级网格员", valid_months=36, star=2)
    make_certificate(junior, star2, now=dt.datetime.now(dt.timezone.utc))
    assert eligibility.is_eligible(junior, today)
    assert eligibility.star_level(junior) == 2


def test_a_certificate_without_a_star_is_not_a_mentoring_credential(app, tree):
    today = dt.date.today()
    junior = make_user("j2", "worker", tree["g1"], hired_on=today - dt.timedelta(days=100))
    make_certificate(junior, make_program("WG-SG", valid_months=36), now=dt.datetime.now(dt.timezone.utc))
    assert not eligibility.is_eligible(junior, today)
