"""One worker's year of learning, written as real rows: courses, trainings, quizzes, drills, mentoring,
certificates and points; plus colleagues and operators around them."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.courses.models import CourseEnrollment, LessonProgress
from lms.db import utcnow
from lms.drills.models import Drill, DrillOrigin, DrillReport, Verdict
from lms.extensions import db
from lms.mentoring import services as mentoring
from lms.points.models import PointEntry, PointKind
from lms.quizzes.models import Attempt, AttemptGrant, AttemptStatus
from tests.certification.factories import make_certificate, make_program
from tests.courses.factories import make_course
from tests.factories import make_user
from tests.mentoring.factories import days, log, make_pairing
from tests.quizzes.factories import make_bank, make_quiz
from tests.trainings.factories import attend, make_training

T0 = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai


def enrol(user, course, *, completed: bool):
    lessons = course.lessons
    db.session.add(CourseEnrollment(user_id=user.id, course_id=course.id, org_id=user.org_id, started_at=T0,
                                    completed_at=T0 + dt.timedelta(days=3) if completed else None,
                                    completed_org_id=user.org_id if completed else None))
    for lesson in lessons if completed else lessons[:1]:
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, course_id=course.id, org_id=user.org_id,
                                      last_opened_at=T0, completed_at=T0))
    db.session.commit()


def sit(user, quiz, number: int, score: float, *, when=T0):
    db.session.add(Attempt(quiz_id=quiz.id, user_id=user.id, org_id=user.org_id, number=number,
                           status=AttemptStatus.submitted, started_at=when, deadline=when + dt.timedelta(minutes=30),
                           submitted_at=when + dt.timedelta(minutes=20), graded_at=when + dt.timedelta(minutes=20),
                           score=score, passed=score >= quiz.pass_score, paper=[], answer_slots={}, marks={}))
    db.session.commit()


def make_drill(code: str, title: str, org) -> Drill:
    drill = Drill(code=code, title=title, org_id=org.id, definition={}, scenario_html="", origin=DrillOrigin.web,
                  is_published=True)
    db.session.add(drill)
    db.session.commit()
    return drill


def report(user, drill, verdict: Verdict, score: int, *, when=T0):
    db.session.add(DrillReport(drill_id=drill.id, drill_version=1, user_id=user.id, org_id=user.org_id, fields={},
                               verdict=verdict, score=score, checks=[], created_at=when))
    db.session.commit()


def points(user, n: int, kind=PointKind.lesson_complete):
    db.session.add(PointEntry(user_id=user.id, kind=kind, points=n, reason="测试", source_type="test",
                              source_id=str(n), org_id=user.org_id, created_at=utcnow()))
    db.session.commit()


@pytest.fixture
def county(tree):
    hr_county = make_user("hr", "hr", tree["county"], name="县人事")
    hr1 = make_user("hr1", "hr", tree["t1"], name="周文斌")
    hr2 = make_user("hr2", "hr", tree["t2"], name="城关人事")
    trainer = make_user("tr1", "trainer", tree["t1"], name="镇培训员")
    w1 = make_user("w1", "worker", tree["g1"], name="李小红", hired_on=dt.date(2025, 3, 1))
    w2 = make_user("w2", "worker", tree["g1"], name="张大山", hired_on=dt.date(2019, 5, 1))
    far = make_user("far", "worker", tree["g2"], name="王五", hired_on=dt.date(2025, 4, 1))
    mentor = make_user("mentor", ["worker", ("mentor", tree["t1"])], tree["g1"], name="赵德山",
                       hired_on=dt.date(2015, 6, 1))

    county_course = make_course("county-basics", level="county", hours=4, title="网格员基础职责")
    township_course = make_course("town-mediation", level="township", org="HX01", hours=2.5, title="矛盾纠纷调解")
    village_course = make_course("village-app", level="village", org="HX0101", hours=1, title="网格通操作")
    enrol(w1, county_course, completed=True)
    enrol(w1, township_course, completed=True)
    enrol(w1, village_course, completed=False)
    enrol(w2, county_course, completed=True)

    session = make_training(tree["t1"], trainer, level="township", title="矛盾调解实务培训", hours="3",
                            starts_at=T0)
    cancelled = make_training(tree["t1"], trainer, level="county", title="已取消的培训", hours="5", starts_at=T0,
                              is_cancelled=True)
    attend(session, w1)
    attend(cancelled, w1)
    attend(session, far)

    make_bank()
    exam = make_quiz("county-exam", max_attempts=2, pass_score=60)
    sit(w1, exam, 1, 50)
    sit(w1, exam, 2, 75)
    sit(far, exam, 1, 40)
    db.session.add(AttemptGrant(quiz_id=exam.id, user_id=w1.id, extra_attempts=1, reason="测试补考",
                                granted_by_id=hr1.id, granted_at=T0))
    db.session.commit()

    drill = make_drill("noise-night", "夜间施工噪声扰民", tree["county"])
    other = make_drill("fire-lane", "消防通道堵塞", tree["county"])
    report(w1, drill, Verdict.returned, 40)
    report(w1, drill, Verdict.accepted, 85)
    report(w1, other, Verdict.returned, 30)

    pairing = make_pairing(mentor, [w1], start=days(-30), end=days(150))
    activity = log(mentor, pairing, minutes=90)
    mentoring.confirm_activity(w1, activity)
    db.session.commit()
    log(mentor, pairing, minutes=60, date=days(-2).isoformat())  # not confirmed: never counts

    sg = make_program("WG-SG", "网格员上岗证")
    star = make_program("STAR-1", "一星网格员", star=1)
    make_certificate(w1, sg)
    make_certificate(w1, star)
    make_certificate(far, sg)
    points(w1, 30)
    points(w1, 12, PointKind.quiz_pass)
    return {"hr": hr_county, "hr1": hr1, "hr2": hr2, "trainer": trainer, "w1": w1, "w2": w2, "far": far,
            "mentor": mentor, "exam": exam, **tree}
