"""What a passing submit sets off: points once, a course final quiz noted, a certificate only when reachable."""
from __future__ import annotations

import sqlalchemy as sa

from lms.certification.models import Certificate
from lms.courses.services import complete_lesson
from lms.extensions import db
from lms.points.models import PointEntry
from lms.points.services import set_point_rules
from tests.certification.factories import make_certificate, make_program
from tests.courses.factories import make_course
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz, right_answers

RULES = {"lesson_complete": 1, "quiz_pass": 5, "drill_accepted": 3, "training_hour": 2, "mentoring_activity": 4}


def _pass(api, code="test-quiz") -> dict:
    attempt = api.post(f"/api/v1/quizzes/{code}/attempts").get_json()
    for seq, (qid, answer) in enumerate(right_answers(attempt).items(), start=1):
        assert api.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}",
                       json={"answer": answer, "seq": seq}).status_code == 200
    result = api.post(f"/api/v1/attempts/{attempt['id']}/submit").get_json()
    assert result["passed"] is True
    return result


def _certificates() -> list[str]:
    db.session.rollback()
    return sorted(c.program.code for c in db.session.scalars(sa.select(Certificate)))


def _setup(tree):
    set_point_rules(RULES)
    make_bank()
    make_quiz()
    make_quiz("other-quiz")
    make_quiz("third-quiz")
    db.session.commit()
    return make_user("w1", "worker", tree["g1"])


def test_pass_issues_a_program_that_requires_the_quiz_and_awards_points_once(tree, api):
    _setup(tree)
    make_program("QZ", "测验达人", valid_months=12, requires={"quizzes": {"test-quiz": 60}})
    api.login("w1")
    first = _pass(api)
    assert _certificates() == ["QZ"]
    again = api.post(f"/api/v1/attempts/{first['id']}/submit").get_json()
    assert again["score"] == first["score"]
    entries = list(db.session.scalars(sa.select(PointEntry)))
    assert [(e.points, e.source_type, e.source_id) for e in entries] == [(5, "quiz", "test-quiz")]
    # Passing the same quiz again (attempts left) earns nothing more.
    _pass(api)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry)) == 1


def test_pass_of_an_unrelated_quiz_issues_nothing_it_cannot_and_points_reach_a_held_prerequisite(tree, api):
    worker = _setup(tree)
    base = make_program("BASE", "上岗证", requires={"courses": ["never-done"]})
    make_program("PTS", "积分达人", valid_months=12, requires={"certificates": ["BASE"], "points": 10}, position=1)
    make_program("QZ", "测验达人", valid_months=12, requires={"quizzes": {"test-quiz": 60}}, position=2)
    api.login("w1")
    _pass(api, "other-quiz")  # 5 points; PTS needs BASE, which cannot be met now; QZ needs the other quiz
    assert _certificates() == []
    make_certificate(worker, base)
    _pass(api, "other-quiz")  # passed already: no more points, PTS still short
    assert _certificates() == ["BASE"]
    _pass(api, "third-quiz")  # 10 points and BASE held: PTS is reachable and now met
    assert _certificates() == ["BASE", "PTS"]
    _pass(api, "test-quiz")
    assert _certificates() == ["BASE", "PTS", "QZ"]


def test_pass_that_completes_a_course_issues_the_program_requiring_that_course(tree, api):
    worker = _setup(tree)
    course = make_course("c-final", lessons=1, quiz="other-quiz")
    for lesson in course.lessons:
        complete_lesson(worker, course, lesson)
    db.session.commit()
    make_program("CRS", "课程结业", valid_months=12, requires={"courses": ["c-final"]})
    api.login("w1")
    _pass(api, "test-quiz")  # not the course's final quiz: nothing to issue
    assert _certificates() == []
    _pass(api, "other-quiz")
    assert _certificates() == ["CRS"]
