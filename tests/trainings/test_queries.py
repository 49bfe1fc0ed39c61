"""The cross-feature contracts: attended_hours and training_stats count like the county report."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.db import SHANGHAI
from lms.trainings.queries import attended_hours, training_stats
from tests.factories import make_user
from tests.trainings.factories import attend, make_training

MAR = dt.date(2026, 3, 1)
AUG = dt.date(2026, 8, 31)


def _at(day: int, month: int = 3, hour: int = 9):
    return dt.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def held(people, tree):
    """Three sessions with 5 attendances in March, one cancelled session, one in September."""
    county = make_training(tree["county"], people["ct"], level="county", hours="3", starts_at=_at(2))
    township = make_training(tree["t1"], people["tt"], hours="2", starts_at=_at(10))
    street = make_training(tree["t2"], people["tt2"], hours="1.5", starts_at=_at(12))
    cancelled = make_training(tree["t1"], people["tt"], hours="4", starts_at=_at(20), is_cancelled=True)
    later = make_training(tree["t1"], people["tt"], hours="2", starts_at=_at(5, month=9))
    for training, who in ((county, ("w1", "w2", "w3")), (township, ("w1",)), (street, ("w3",)),
                          (cancelled, ("w1",)), (later, ("w2",))):
        for key in who:
            attend(training, people[key])
    return {"county": county, "township": township, "street": street}


def test_county_totals_count_each_session_once_and_each_person_per_session(held, tree):
    assert training_stats(tree["county"], MAR, AUG) == {"sessions": 3, "attendances": 5, "hours": 3 * 3 + 2 + 1.5}


def test_township_counts_its_own_sessions_and_its_people_at_any_session(held, tree):
    # The county session was held for the county, so it is not a 青石镇 session; its 青石镇 attendees still count.
    assert training_stats(tree["t1"], MAR, AUG) == {"sessions": 1, "attendances": 3, "hours": 3 + 3 + 2}
    assert training_stats(tree["g2"], MAR, AUG) == {"sessions": 0, "attendances": 2, "hours": 4.5}


def test_period_is_inclusive_local_days(held, people, tree):
    assert training_stats(tree["county"], dt.date(2026, 3, 10), dt.date(2026, 3, 10))["sessions"] == 1
    assert training_stats(tree["county"], dt.date(2026, 3, 11), dt.date(2026, 3, 11))["sessions"] == 0
    # 00:30 in Shanghai on 1 March is still 28 February in UTC: it belongs to March.
    make_training(tree["t1"], people["tt"], starts_at=dt.datetime(2026, 3, 1, 0, 30, tzinfo=SHANGHAI))
    assert training_stats(tree["t1"], MAR, MAR)["sessions"] == 1
    assert training_stats(tree["t1"], dt.date(2026, 2, 28), dt.date(2026, 2, 28))["sessions"] == 0


def test_attendance_counts_for_the_unit_at_the_time_after_a_transfer(held, people, tree):
    mover = make_user("mv01", "worker", tree["g1"])
    attend(held["township"], mover)
    mover.org = tree["g2"]  # transferred to 城关街道 afterwards
    from lms.extensions import db
    db.session.commit()
    assert training_stats(tree["t1"], MAR, AUG)["attendances"] == 4
    assert training_stats(tree["t2"], MAR, AUG)["attendances"] == 2


def test_empty_unit_has_zero_figures(tree):
    assert training_stats(tree["v2"], MAR, AUG) == {"sessions": 0, "attendances": 0, "hours": 0.0}


def test_attended_hours_sum_non_cancelled_sessions(held, people):
    assert attended_hours(people["w1"]) == 5.0    # 3 + 2; the cancelled 4 h session does not count
    assert attended_hours(people["w2"]) == 5.0    # 3 + 2 in September
    assert attended_hours(people["tt"]) == 0.0
    assert isinstance(attended_hours(people["w3"]), float)
