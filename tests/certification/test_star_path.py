"""The shipped star ladder is reachable: one worker of 桃源村第一网格, a year of normal work, each star in order.

Normal work, month by month from January: the courses the grid sees (first two months), their quizzes and the
county quizzes, one or two report-writing drills a month, a two-hour in-person training a month, a mentoring
activity every other month, the annual exam when it opens in December. The cron (`tasks run`) evaluates the rules
after each month.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from lms.accounts.permissions import SYSTEM
from lms.certification import services as cert_services
from lms.certification.models import Certificate
from lms.contentsync import run_import
from lms.courses.models import Course, Lesson
from lms.courses import services as course_services
from lms.db import SHANGHAI
from lms.drills import services as drill_services
from lms.drills.models import Drill, Verdict
from lms.extensions import db
from lms.mentoring import services as mentoring_services
from lms.points.queries import total_points
from lms.quizzes import services as quiz_services
from lms.quizzes.models import Quiz
from lms.trainings import services as training_services
from tests.factories import make_user
from tests.quizzes.factories import right_answers
from tests.trainings.factories import make_training

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)


def month(m: int, day: int = 0, hour: int = 0) -> dt.datetime:
    return START.replace(month=START.month + m) + dt.timedelta(days=day, hours=hour)


def pass_quiz(worker, quiz: Quiz, now: dt.datetime) -> float:
    attempt, _ = quiz_services.start_attempt(worker, quiz, now=now)
    for seq, (qid, answer) in enumerate(right_answers({"id": attempt.id}).items(), 1):
        quiz_services.save_answer(attempt, qid, answer, seq, now=now + dt.timedelta(minutes=1))
    quiz_services.submit_attempt(attempt, now=now + dt.timedelta(minutes=5))
    db.session.commit()
    return attempt.score


def test_a_year_of_normal_work_earns_every_star_in_order(tree):
    report = run_import(ROOT / "courses", ROOT / "question_bank", now=START - dt.timedelta(days=7), actor=SYSTEM)
    assert not report.errors, [str(e) for e in report.errors]
    db.session.commit()

    worker = make_user("w-year", "worker", tree["g1"], name="张小明", hired_on=dt.date(2026, 12, 1))
    trainer = make_user("t-year", "trainer", tree["county"], name="王建国")
    mentor = make_user("m-year", ["worker", ("mentor", tree["t1"])], tree["g1"], name="赵德山",
                       hired_on=dt.date(2015, 6, 1))
    pairing = mentoring_services.create_pairing(SYSTEM, mentor, [worker], dt.date(2027, 1, 4),
                                                dt.date(2027, 12, 31), "熟悉入户走访", now=month(0))
    db.session.commit()

    visible = [c for c in db.session.scalars(sa.select(Course).order_by(Course.code))
               if c.org.code in ("HX", "HX01", "HX0101")]
    quizzes = {q.code: q for q in db.session.scalars(sa.select(Quiz))}
    drills = list(db.session.scalars(sa.select(Drill).where(Drill.is_retired.is_(False)).order_by(Drill.code)))
    assert len(drills) == 12

    issued: list[tuple[str, dt.date]] = []

    def cron(now):
        cert_services.run_periodic(now=now)
        db.session.commit()
        for certificate in db.session.scalars(sa.select(Certificate).where(Certificate.holder_id == worker.id)
                                              .order_by(Certificate.id)):
            if certificate.program.code not in [code for code, _ in issued]:
                issued.append((certificate.program.code, certificate.issued_on))

    for m in range(12):
        now = month(m)
        # Courses: half in January, the rest in February; each with its quiz.
        for course in visible[m * len(visible) // 2:(m + 1) * len(visible) // 2] if m < 2 else []:
            for lesson in db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id,
                                                                     ~Lesson.is_retired)):
                course_services.complete_lesson(worker, course, lesson, now=now)
            db.session.commit()
            if course.quiz_code:
                pass_quiz(worker, quizzes[course.quiz_code], now + dt.timedelta(hours=1))
        # The county quizzes of the topics this grid's courses do not cover, in March.
        if m == 2:
            for code in ("quiz-relocation", "quiz-special-groups"):
                pass_quiz(worker, quizzes[code], now)
        # One drill a month, two in the first three months.
        todo = [d for d in drills if d.code not in _accepted_codes(worker)][: (2 if m < 3 else 1)]
        for i, drill in enumerate(todo):
            report, _ = drill_services.submit_report(worker, drill, dict(drill.definition["model_report"]),
                                                     now=now + dt.timedelta(days=1, hours=i))
            assert report.verdict == Verdict.accepted
        db.session.commit()
        # A two-hour county training every month.
        training = make_training(tree["county"], trainer, level="county", title=f"{m + 1}月业务培训", hours="2",
                                 starts_at=now + dt.timedelta(days=2))
        training_services.record_roll(trainer, training, [worker.username], now=now + dt.timedelta(days=2, hours=1))
        db.session.commit()
        # A mentoring activity every other month, confirmed by the worker.
        if m % 2 == 0:
            day = now + dt.timedelta(days=3)
            activity, _ = mentoring_services.log_activity(
                mentor, pairing, {"kind": "shadowing", "date": day.date().isoformat(), "minutes": 90,
                                  "notes": "跟岗入户走访"}, now=day)
            mentoring_services.confirm_activity(worker, activity, now=day + dt.timedelta(hours=2))
            db.session.commit()
        # The annual exam opens in December.
        if m == 11:
            assert pass_quiz(worker, quizzes["exam-policy-2026"], now + dt.timedelta(days=4)) >= 85
        cron(now + dt.timedelta(days=5))

    assert [code for code, _ in issued] == ["WG-SG", "STAR-1", "STAR-2", "STAR-3", "STAR-4", "STAR-5"], issued
    days = [day for _, day in issued]
    assert days == sorted(days) and days[-1] - START.date() < dt.timedelta(days=365)
    assert days[-1].month == 12  # STAR-5 waits for the annual exam
    assert total_points(worker) >= 160


def _accepted_codes(worker) -> set[str]:
    from lms.drills.models import DrillReport

    return set(db.session.scalars(sa.select(Drill.code).join(DrillReport, DrillReport.drill_id == Drill.id)
                                  .where(DrillReport.user_id == worker.id, DrillReport.verdict == Verdict.accepted)))
