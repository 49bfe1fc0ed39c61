"""Simultaneous submits and saves from real threads, each on its own database connection."""
from __future__ import annotations

import threading

import pytest

from lms import signals
from lms.accounts.queries import get_user
from lms.db import utcnow, write_intent
from lms.extensions import db
from lms.quizzes import queries, services
from lms.quizzes.models import Attempt, AttemptAnswer, AttemptStatus, Mistake
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz

THREADS = 6


def _in_threads(app, count, work):
    """Run work(i) in `count` threads released together; each has its own app context and session."""
    barrier = threading.Barrier(count)
    outcomes, errors = [None] * count, []

    def run(i):
        try:
            with app.app_context(), write_intent():
                barrier.wait(timeout=10)
                outcomes[i] = work(i)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(repr(exc))
        finally:
            with app.app_context():
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # End the test's own read transaction: on SQLite (WAL) it still sees the snapshot from before the threads.
    db.session.rollback()
    return outcomes, errors


@pytest.fixture
def started(app, tree):
    make_bank()
    quiz = make_quiz(pass_score=0, max_attempts=1, shuffle_options=False)
    user = make_user("w1", "worker", tree["g1"])
    attempt, _ = services.start_attempt(user, quiz, now=utcnow())
    db.session.commit()
    return attempt.id


def test_simultaneous_submits_grade_once_and_use_one_attempt(app, started):
    passed = []

    def count(sender, **kwargs):
        passed.append(kwargs["attempt_id"])

    signals.quiz_passed.connect(count)
    try:
        def submit(_):
            attempt = queries.get_attempt(started)
            graded = services.submit_attempt(attempt, now=utcnow())
            return graded, attempt.score, attempt.status

        outcomes, errors = _in_threads(app, THREADS, submit)
    finally:
        signals.quiz_passed.disconnect(count)
    assert errors == []
    assert [o[0] for o in outcomes].count(True) == 1
    assert {(o[1], o[2]) for o in outcomes} == {(0.0, AttemptStatus.submitted)}
    assert passed == [started]
    assert db.session.query(Attempt).count() == 1
    assert db.session.query(Mistake).count() == 4


def test_simultaneous_saves_of_different_questions_are_all_kept(app, started):
    qids = ["t-single", "t-multiple", "t-judge", "t-fill"]
    answers = {"t-single": "A", "t-multiple": ["A", "B"], "t-judge": True, "t-fill": ["十五"]}

    def save(i):
        qid = qids[i % 4]
        attempt = queries.get_attempt(started, lock=True)
        # Seqs interleave across questions: a lower seq of one question must not lose to another's higher one.
        return services.save_answer(attempt, qid, answers[qid], 10 - i, now=utcnow())

    outcomes, errors = _in_threads(app, 8, save)
    assert errors == []
    rows = {r.qid: r for r in db.session.query(AttemptAnswer)}
    assert set(rows) == set(qids)
    # Per question the highest seq wins whatever the arrival order.
    assert {q: rows[q].seq for q in qids} == {"t-single": 10, "t-multiple": 9, "t-judge": 8, "t-fill": 7}


def test_simultaneous_starts_make_one_attempt(app, tree):
    make_bank()
    make_quiz(code="q2")

    def start(_):
        user = get_user("w9")
        attempt, created = services.start_attempt(user, queries.get_quiz("q2"), now=utcnow())
        return attempt.id, created

    make_user("w9", "worker", tree["g1"])
    outcomes, errors = _in_threads(app, 4, start)
    assert errors == []
    assert len({o[0] for o in outcomes}) == 1
    assert [o[1] for o in outcomes].count(True) == 1


def test_simultaneous_http_submits_return_one_result_and_grade_once(app, tree, api, client):
    from flask.testing import FlaskClient

    make_bank()
    make_quiz(pass_score=0, max_attempts=1)
    make_user("w5", "worker", tree["g1"])
    api.login("w5")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    cookie = client.get_cookie("lms_session").value
    graded = []

    def count(sender, **kwargs):
        graded.append(kwargs["attempt_id"])

    barrier = threading.Barrier(THREADS)
    replies, errors = [None] * THREADS, []

    def submit(i):
        try:
            own = FlaskClient(app, use_cookies=True)
            own.set_cookie("lms_session", cookie)
            barrier.wait(timeout=10)
            reply = own.post(f"/api/v1/attempts/{attempt['id']}/submit", headers={"X-CSRFToken": api.csrf})
            replies[i] = (reply.status_code, reply.get_json())
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(repr(exc))

    signals.quiz_passed.connect(count)
    try:
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        signals.quiz_passed.disconnect(count)
    db.session.rollback()
    assert errors == []
    assert {status for status, _ in replies} == {200}
    assert all(body == replies[0][1] for _, body in replies)
    assert graded == [attempt["id"]]
    assert api.post("/api/v1/quizzes/test-quiz/attempts").get_json()["error"]["code"] == "attempts_exhausted"
