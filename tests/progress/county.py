"""One county for the progress and one-computation tests: three townships, workers, assignments due inside and
outside the default window, completions and attempts. Dates are relative to today (the pages use the clock)."""
from __future__ import annotations

import datetime as dt

from lms.courses import services as course_services
from lms.courses.models import Assignment
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptStatus
from tests.courses.factories import make_course
from tests.factories import make_org, make_tree, make_user
from tests.quizzes.factories import make_bank, make_quiz


def today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def _attempt(quiz, user, number: int, score: float, days_ago: int = 2) -> Attempt:
    at = utcnow() - dt.timedelta(days=days_ago)
    attempt = Attempt(quiz_id=quiz.id, user_id=user.id, org_id=user.org_id, number=number,
                      status=AttemptStatus.submitted, started_at=at - dt.timedelta(minutes=20), deadline=at,
                      submitted_at=at, graded_at=at, score=score, passed=score >= quiz.pass_score, paper=[])
    db.session.add(attempt)
    return attempt


def build_county() -> dict:
    """The county, its people, two courses, a quiz and their assignments; returns everything by name."""
    tree = make_tree()
    t3 = make_org("HX03", "township", tree["county"], name="石门乡")
    v3 = make_org("HX0301", "village", t3, name="石门村")
    g3 = make_org("HX030101", "grid", v3, name="石门村第一网格")
    people = {
        "hr": make_user("hr01", "hr", tree["county"], name="周文斌"),
        "hr_t1": make_user("hr02", "hr", tree["t1"], name="李青"),
        "trainer": make_user("tt01", "trainer", tree["t1"], name="王训"),
        "leader": make_user("gl01", ["worker", "grid_leader"], tree["g1"], name="赵组长"),
        "w1": make_user("w001", "worker", tree["g1"], name="张一"),
        "w2": make_user("w002", "worker", tree["g1"], name="张二"),
        "w3": make_user("w003", "worker", tree["g1"], name="=SUM(A1)"),
        "w4": make_user("w004", "worker", tree["g2"], name="刘四"),
        "w5": make_user("w005", "worker", tree["g2"], name="刘五"),
        "w6": make_user("w006", "worker", g3, name="石六"),
        "gone": make_user("w007", "worker", tree["g1"], name="离岗"),
    }
    from lms.accounts.models import UserStatus
    people["gone"].status = UserStatus.disabled
    c1 = make_course("c-duties", lessons=2, title="网格员职责")
    c2 = make_course("c-ss", level="township", org="HX01", lessons=1, title="社保政策")
    make_bank()
    quiz = make_quiz("q-exam", count=4, max_attempts=3)
    now = utcnow()
    a1 = Assignment(course=c1, org=tree["county"], role="worker", due_on=today() - dt.timedelta(days=5),
                    created_at=now - dt.timedelta(days=30))
    # due after the default window (last six months up to today): counts in the period it is due in
    a2 = Assignment(course=c2, org=tree["t1"], role=None, due_on=today() + dt.timedelta(days=60), created_at=now)
    a3 = Assignment(quiz_code=quiz.code, org=tree["county"], role="worker", due_on=today() + dt.timedelta(days=10),
                    created_at=now)
    db.session.add_all([a1, a2, a3])
    db.session.flush()
    earlier = now - dt.timedelta(days=3)
    for key in ("w1", "w4"):
        for lesson in c1.lessons:
            course_services.complete_lesson(people[key], c1, lesson, now=earlier)
    course_services.complete_lesson(people["w2"], c1, c1.lessons[0], now=earlier)
    course_services.complete_lesson(people["w5"], c1, c1.lessons[0], now=earlier)
    course_services.complete_lesson(people["w1"], c2, c2.lessons[0], now=earlier)
    _attempt(quiz, people["w1"], 1, 75)
    _attempt(quiz, people["w2"], 1, 25)
    _attempt(quiz, people["w4"], 1, 50, days_ago=3)
    _attempt(quiz, people["w4"], 2, 100)
    db.session.commit()
    return {"tree": {**tree, "t3": t3, "v3": v3, "g3": g3}, "people": people, "c1": c1, "c2": c2, "quiz": quiz,
            "a1": a1, "a2": a2, "a3": a3}
