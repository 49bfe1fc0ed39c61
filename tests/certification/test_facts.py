"""Holder facts gathered from the other features' query functions, guarded when one is missing."""
from __future__ import annotations

import pytest

from lms.certification import facts
from tests.certification.factories import NOW, make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def worker(tree):
    return make_user("w1", "worker", tree["g1"])


FAKES = {
    "completed_course_codes": lambda user: {"c1", "c2"},
    "completed_credit_hours": lambda user: 6.5,
    "attended_hours": lambda user: 3,
    "best_scores": lambda user: {"q1": 80.0},
    "accepted_count": lambda user: 4,
    "confirmed_activity_count": lambda user: 2,
}


def test_facts_combine_every_source_and_own_tables(worker, monkeypatch):
    monkeypatch.setattr(facts, "_source", lambda module, name: FAKES[name])
    make_certificate(worker, make_program("WG-SG"))
    result = facts.holder_facts(worker, today=NOW.date())
    assert result.completed_courses == frozenset({"c1", "c2"})
    assert result.training_hours == 9.5  # online course hours + in-person hours
    assert result.quiz_scores == {"q1": 80.0} and result.drills_accepted == 4 and result.mentoring_activities == 2
    assert result.valid_certificates == frozenset({"WG-SG"}) and result.points == 0


def test_missing_module_or_function_counts_as_no_data(worker, monkeypatch):
    monkeypatch.setattr(facts, "SOURCES", facts.SOURCES + (("lms.nonexistent.queries", "anything"),
                                                           ("lms.points.queries", "not_there")))
    assert facts._source("lms.nonexistent.queries", "anything") is None
    assert facts._source("lms.points.queries", "not_there") is None
    assert {"lms.nonexistent.queries.anything", "lms.points.queries.not_there"} <= set(facts.missing_sources())


def test_a_missing_source_gives_the_empty_fact(worker, monkeypatch):
    monkeypatch.setattr(facts, "_source", lambda module, name: None)
    result = facts.holder_facts(worker, today=NOW.date())
    assert result.completed_courses == frozenset() and result.training_hours == 0 and result.quiz_scores == {}


def test_every_source_of_this_build_is_present():
    """All features are in this build: none of the six query functions should be missing."""
    assert facts.missing_sources() == []
