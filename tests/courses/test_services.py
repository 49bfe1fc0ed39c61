"""Services and cross-feature queries: completion with quizzes, credit hours, statistics, authoring scope."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.accounts.permissions import SYSTEM
from lms.courses import queries, services
from lms.courses.models import Assignment, CourseLevel
from lms.courses.queries import get_course, get_lesson
from lms.errors import Forbidden
from lms.extensions import db
from lms.org.queries import get_org
from lms.signals import quiz_passed
from tests.courses.factories import NOW, make_course
from tests.factories import make_user


@pytest.fixture
def world(tree):
    return {"w1": make_user("w1", "worker", tree["g1"]), "w2": make_user("w2", "worker", tree["g2"]),
            "lead": make_user("lead", ["worker", "grid_leader"], tree["g1"]), **tree}


def _complete_all(user, code):
    course = get_course(code)
    result = False
    for lesson in queries.active_lessons(course):
        result = services.complete_lesson(user, course, lesson, now=NOW)
    db.session.commit()
    return result


def test_course_without_quiz_completes_when_every_lesson_is_done(world):
    make_course("c1", lessons=2, hours=3)
    course = get_course("c1")
    assert services.complete_lesson(world["w1"], course, get_lesson(course, "l1"), now=NOW) is False
    assert services.complete_lesson(world["w1"], course, get_lesson(course, "l2"), now=NOW) is True
    db.session.commit()
    assert queries.completed_course_codes(world["w1"]) == {"c1"}
    assert queries.completed_credit_hours(world["w1"]) == 3.0
    assert queries.completed_course_codes(world["w2"]) == set()


def test_course_with_quiz_needs_the_quiz_passed_signal(world):
    make_course("c1", lessons=1, quiz="quiz-x", hours=2)
    make_course("c2", lessons=1, hours=1.5)
    assert _complete_all(world["w1"], "c1") is False
    _complete_all(world["w1"], "c2")
    quiz_passed.send(world["w1"], quiz_code="quiz-x", score=90, now=NOW)
    db.session.commit()
    assert queries.completed_course_codes(world["w1"]) == {"c1", "c2"}
    assert queries.completed_credit_hours(world["w1"]) == 3.5


def test_quiz_passed_before_reading_completes_on_the_last_lesson(world):
    make_course("c1", lessons=1, quiz="quiz-x")
    quiz_passed.send(world["w1"], quiz_code="quiz-x", score=80, now=NOW)
    db.session.commit()
    assert queries.completed_course_codes(world["w1"]) == set()
    assert _complete_all(world["w1"], "c1") is True


def test_quiz_passed_for_an_unrelated_quiz_changes_nothing(world):
    make_course("c1", lessons=1, quiz="quiz-x")
    _complete_all(world["w1"], "c1")
    quiz_passed.send(world["w1"], quiz_code="other", score=100, now=NOW)
    assert queries.completed_course_codes(world["w1"]) == set()


def test_retired_lessons_do_not_count_toward_completion(world):
    make_course("c1", lessons=2)
    course = get_course("c1")
    get_lesson(course, "l2").is_retired = True
    db.session.commit()
    assert _complete_all(world["w1"], "c1") is True
    assert queries.progress_by_course(world["w1"], [course.id]) == {course.id: (1, 1)}


def test_assignments_for_includes_quiz_assignments_and_filters_by_role(world):
    db.session.add_all([
        Assignment(quiz_code="county-exam", org=world["county"], due_on=dt.date(2099, 1, 1)),
        Assignment(quiz_code="leaders-exam", org=world["county"], role="grid_leader", due_on=dt.date(2099, 1, 1)),
        Assignment(quiz_code="hx02-exam", org=world["t2"], due_on=dt.date(2099, 1, 1)),
    ])
    db.session.commit()
    assert {a.quiz_code for a in queries.assignments_for(world["w1"])} == {"county-exam"}
    assert {a.quiz_code for a in queries.assignments_for(world["lead"])} == {"county-exam", "leaders-exam"}
    assert {a.quiz_code for a in queries.assignments_for(world["w2"])} == {"county-exam", "hx02-exam"}


def test_course_stats_counts_assigned_pairs_and_completions_in_the_subtree(world):
    make_course("c1", lessons=1)
    make_course("c2", lessons=1)
    db.session.add_all([
        Assignment(course=get_course("c1"), org=world["county"], due_on=dt.date(2026, 12, 31)),
        Assignment(course=get_course("c2"), org=world["t1"], due_on=dt.date(2026, 12, 31)),
        Assignment(course=get_course("c2"), org=world["t1"], due_on=dt.date(2027, 6, 30)),  # same pairs again
    ])
    db.session.commit()
    _complete_all(world["w1"], "c1")
    whole = queries.course_stats(world["county"], dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    # c1: w1, w2, lead; c2 (HX01 only): w1, lead
    assert whole == {"assigned": 5, "completed": 1, "completion_rate": 0.2}
    assert queries.course_stats(world["t2"], dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == \
        {"assigned": 1, "completed": 0, "completion_rate": 0.0}
    assert queries.course_stats(world["county"], dt.date(2027, 1, 1), dt.date(2027, 12, 31))["assigned"] == 2


def test_course_stats_counts_completions_up_to_the_end_of_the_period(world):
    make_course("c1", lessons=1)
    db.session.add(Assignment(course=get_course("c1"), org=world["v1"], due_on=dt.date(2026, 11, 10)))
    db.session.commit()
    _complete_all(world["w1"], "c1")  # on NOW, 2026-11-20
    assert queries.course_stats(world["county"], dt.date(2026, 11, 1), dt.date(2026, 11, 15)) == \
        {"assigned": 2, "completed": 0, "completion_rate": 0.0}
    assert queries.course_stats(world["county"], dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == \
        {"assigned": 2, "completed": 1, "completion_rate": 0.5}


def test_course_stats_without_assignments_is_zero(world):
    assert queries.course_stats(world["county"], None, None) == {"assigned": 0, "completed": 0, "completion_rate": 0.0}


@pytest.mark.parametrize("role_org, level, course_org, allowed", [
    ("county", "county", "county", True),
    ("county", "township", "t1", False),
    ("t1", "township", "t1", True),
    ("t1", "township", "t2", False),
    ("t1", "county", "county", False),
    ("t1", "village", "v1", False),
    ("v1", "village", "v1", True),
    ("g1", "village", "g1", True),
    ("v1", "village", "v2", False),
])
def test_trainer_authoring_scope_matches_level_and_subtree(world, role_org, level, course_org, allowed):
    trainer = make_user("tr", "trainer", world[role_org])
    assert services.can_author(trainer, level, world[course_org]) is allowed


def test_admin_may_author_any_level_in_scope_and_system_everything(world):
    admin = make_user("adm", "admin", world["county"])
    assert all(services.can_author(admin, lv, world["v1"]) for lv in CourseLevel)
    assert services.can_author(SYSTEM, "village", world["v2"])
    assert services.author_levels(admin) == list(CourseLevel)


def test_worker_may_not_author(world):
    assert not services.can_author(world["w1"], "village", world["g1"])
    with pytest.raises(Forbidden):
        services.create_course(world["w1"], code="x", title="x", level="village", org=get_org("HX010101"))


def test_save_lesson_with_same_text_keeps_the_version(world):
    make_course("c1", lessons=1)
    trainer = make_user("tc", "trainer", world["county"])
    course = get_course("c1")
    services.save_lesson(trainer, course, slug="l1", title="新标题", minutes=9, markdown="## 第1课\n\n正文 1", now=NOW)
    db.session.commit()
    lesson = get_lesson(course, "l1")
    assert lesson.version == 1 and lesson.title == "新标题"


def test_progress_is_kept_across_new_versions(world):
    make_course("c1", lessons=1)
    trainer = make_user("tc", "trainer", world["county"])
    _complete_all(world["w1"], "c1")
    services.save_lesson(trainer, get_course("c1"), slug="l1", title="改", minutes=5, markdown="全新正文", now=NOW)
    db.session.commit()
    course = get_course("c1")
    assert queries.progress_by_course(world["w1"], [course.id]) == {course.id: (1, 1)}


def test_progress_summary_counts_assigned_courses_and_overdue_titles(world):
    make_course("c1", lessons=1, title="甲课")
    make_course("c2", lessons=1, title="乙课")
    db.session.add_all([Assignment(course=get_course("c1"), org=world["county"], due_on=dt.date(2026, 11, 1)),
                        Assignment(course=get_course("c2"), org=world["county"], due_on=dt.date(2026, 12, 31))])
    db.session.commit()
    _complete_all(world["w1"], "c2")
    assert queries.progress_summary(world["w1"], dt.date(2026, 11, 20)) == {"done": 1, "total": 2,
                                                                           "overdue": ["甲课"]}


def test_quizzes_signal_with_extra_kwargs_is_accepted(world):
    make_course("c1", lessons=1, quiz="quiz-x")
    _complete_all(world["w1"], "c1")
    quiz_passed.send(world["w1"], quiz_code="quiz-x", score=100, attempt_id=7, now=NOW)
    assert queries.completed_course_codes(world["w1"]) == {"c1"}
