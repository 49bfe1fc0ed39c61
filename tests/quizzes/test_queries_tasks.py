"""Cross-feature reads (best_scores, quiz_stats), closing overdue attempts, and quizzes reached by assignment."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import queries, services
from lms.quizzes.models import Attempt, AttemptStatus
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz


@pytest.fixture
def quiz(tree):
    make_bank()
    return make_quiz(pass_score=50, shuffle_options=False)


def _sit(user, quiz, answers: dict, now):
    attempt, _ = services.start_attempt(user, quiz, now=now)
    for seq, (qid, answer) in enumerate(answers.items(), start=1):
        services.save_answer(attempt, qid, answer, seq, now=now)
    services.submit_attempt(attempt, now=now)
    db.session.commit()
    return attempt


def test_best_scores_and_quiz_stats_count_attempts_where_the_person_was(tree, quiz):
    now = utcnow()
    w1 = make_user("w1", "worker", tree["g1"])
    w2 = make_user("w2", "worker", tree["g2"])
    _sit(w1, quiz, {"t-single": "B"}, now)                                        # 25
    _sit(w1, quiz, {"t-single": "B", "t-judge": False, "t-fill": ["15"]}, now)   # 75, passed
    _sit(w2, quiz, {}, now)                                                       # 0
    assert queries.best_scores(w1) == {"test-quiz": 75.0}
    assert queries.best_scores(w2) == {"test-quiz": 0.0}
    # w1 moves to the other township: past attempts stay counted where they happened.
    w1.org = tree["g2"]
    db.session.commit()
    assert queries.quiz_stats(tree["t1"]) == {"attempts": 2, "passed": 1, "pass_rate": 0.5}
    assert queries.quiz_stats(tree["county"]) == {"attempts": 3, "passed": 1, "pass_rate": pytest.approx(1 / 3)}
    today = now.date()
    assert queries.quiz_stats(tree["county"], today - dt.timedelta(days=1), today + dt.timedelta(days=1))["attempts"] == 3
    assert queries.quiz_stats(tree["county"], now + dt.timedelta(hours=1), None)["attempts"] == 0
    assert queries.quiz_stats(tree["v2"]) == {"attempts": 1, "passed": 0, "pass_rate": 0.0}


def test_close_overdue_grades_what_was_saved_in_time_via_the_cli(tree, quiz, runner):
    now = utcnow()
    worker = make_user("w1", "worker", tree["g1"])
    attempt, _ = services.start_attempt(worker, quiz, now=now - dt.timedelta(minutes=40))
    services.save_answer(attempt, "t-single", "B", 1, now=now - dt.timedelta(minutes=35))
    services.save_answer(attempt, "t-judge", False, 2, now=now - dt.timedelta(minutes=34))
    fresh, _ = services.start_attempt(make_user("w2", "worker", tree["g1"]), quiz, now=now)
    db.session.commit()
    result = runner.invoke(args=["quizzes", "close-overdue"])
    assert result.exit_code == 0 and "1" in result.output
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert (closed.status, closed.score, closed.passed) == (AttemptStatus.closed, 50.0, True)
    assert db.session.get(Attempt, fresh.id).status == AttemptStatus.open
    assert services.close_overdue_attempts(utcnow()) == 0


def test_an_assigned_quiz_of_another_unit_may_be_sat(tree, api):
    from lms.courses.models import Assignment

    make_bank()
    make_quiz(code="t2-exam", org=tree["t2"])
    worker = make_user("w1", "worker", tree["g1"])
    api.login("w1")
    assert api.post("/api/v1/quizzes/t2-exam/attempts").status_code == 403
    db.session.add(Assignment(quiz_code="t2-exam", org=tree["t1"], due_on=dt.date(2026, 12, 31)))
    db.session.commit()
    assert queries.assigned_quiz_codes(worker) == {"t2-exam": dt.date(2026, 12, 31)}
    assert api.post("/api/v1/quizzes/t2-exam/attempts").status_code == 201


def test_tasks_run_closes_overdue_attempts(tree, quiz, runner):
    now = utcnow()
    worker = make_user("w1", "worker", tree["g1"])
    attempt, _ = services.start_attempt(worker, quiz, now=now - dt.timedelta(hours=2))
    db.session.commit()
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0, result.output
    assert "关闭超时答卷 1" in result.output
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status == AttemptStatus.closed
