"""Time windows: within_months on counted facts, 补考 after a wait, the annual exam window, 12-month stars lapse."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.certification import facts, rules, services
from lms.certification.content import Program, Requirements
from lms.certification.models import Certificate, CertificateStatus
from lms.contentsync import run_import
from lms.db import SHANGHAI
from lms.drills import services as drill_services
from lms.errors import Forbidden
from lms.extensions import db
from lms.quizzes import retake
from lms.quizzes import services as quiz_services
from lms.quizzes.models import AttemptGrant
from tests.certification.factories import make_program
from tests.drills.factories import NOISE, import_noise, model_report
from lms.drills import queries as drill_queries
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz
from tests.trainings.factories import attend, make_training

NOW = dt.datetime(2027, 6, 15, 10, 0, tzinfo=SHANGHAI)
DAY = dt.timedelta(days=1)


# --- pure rules -----------------------------------------------------------------------------------------

def _star(**requires) -> Program:
    return Program(code="STAR-1", title="一星级网格员", valid_months=12, star=1, requires=Requirements(**requires))


def test_windowed_program_counts_only_the_recent_facts():
    program = _star(within_months=12, drills_accepted=5, training_hours=8, quizzes={"q": 80}, points=10)
    old_and_new = rules.HolderFacts(quiz_scores={"q": 95}, drills_accepted=9, training_hours=30, points=50,
                                    windows={12: rules.Counted(quiz_scores={"q": 70}, drills_accepted=2,
                                                               training_hours=4)})
    evaluation = rules.evaluate(program, old_and_new)
    assert not evaluation.met
    assert [(i.label_zh, i.actual) for i in evaluation.missing] == [
        ("近 12 个月测验《q》成绩达到 80 分", 70), ("近 12 个月模拟事件上报被采纳 5 次", 2),
        ("近 12 个月培训学时达到 8 学时", 4)]
    # Points accumulate: never windowed.
    assert all(i.met for i in evaluation.items if i.kind == rules.POINTS)
    recent = rules.HolderFacts(points=50, windows={12: rules.Counted({"q": 85}, 5, 8, 0)})
    assert rules.evaluate(program, recent).met
    # Without a window every fact counts, as before.
    assert rules.evaluate(_star(drills_accepted=5), old_and_new).met


def test_retake_rounds():
    t0 = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    wait = dt.timedelta(days=30)
    starts = [t0, t0 + DAY, t0 + 2 * DAY]
    assert retake.may_start(starts[:2], 3, wait, t0 + 3 * DAY) == (True, None)
    assert retake.may_start(starts, 3, wait, t0 + 10 * DAY) == (False, t0 + 32 * DAY)
    assert retake.may_start(starts, 3, wait, t0 + 32 * DAY) == (True, None)
    # A new round of three, then the wait again from its last start.
    second = starts + [t0 + 40 * DAY, t0 + 41 * DAY, t0 + 42 * DAY]
    assert retake.current_round(second, 3, wait) == (3, t0 + 72 * DAY)
    assert retake.may_start(second[:4], 3, wait, t0 + 43 * DAY) == (True, None)


@pytest.mark.parametrize(("opens", "closes", "day", "open_"), [
    ("12-01", "12-31", dt.date(2027, 12, 1), True), ("12-01", "12-31", dt.date(2028, 12, 31), True),
    ("12-01", "12-31", dt.date(2027, 11, 30), False), ("11-15", "01-15", dt.date(2028, 1, 10), True),
    ("11-15", "01-15", dt.date(2028, 2, 1), False), (None, None, dt.date(2027, 5, 1), True)])
def test_annual_window(opens, closes, day, open_):
    assert retake.in_window(opens, closes, day) is open_


# --- quizzes: 补考 after a wait, grants kept, the annual exam -------------------------------------------

def _start_and_close(worker, quiz, now):
    attempt, created = quiz_services.start_attempt(worker, quiz, now=now)
    assert created
    quiz_services.submit_attempt(attempt, now=now + dt.timedelta(minutes=5))
    db.session.commit()
    return attempt


def test_used_attempts_open_again_after_the_wait_and_grants_still_count(tree):
    worker = make_user("w-retake", "worker", tree["g1"])
    make_bank()
    quiz = make_quiz(max_attempts=2)
    quiz.retake_after_days = 30
    db.session.commit()
    for i in range(2):
        _start_and_close(worker, quiz, NOW + i * DAY)
    with pytest.raises(Forbidden) as refused:
        quiz_services.start_attempt(worker, quiz, now=NOW + 10 * DAY)
    assert refused.value.code == "attempts_exhausted" and "2027-07-16 10:00" in refused.value.message
    db.session.rollback()
    # HR's 补考 grant gives one more now; after it the wait applies from the last start.
    db.session.add(AttemptGrant(quiz_id=quiz.id, user_id=worker.id, extra_attempts=1, reason="病假补考",
                                granted_at=NOW))
    db.session.commit()
    third = _start_and_close(worker, quiz, NOW + 10 * DAY)
    assert third.number == 3
    with pytest.raises(Forbidden):
        quiz_services.start_attempt(worker, quiz, now=NOW + 20 * DAY)
    db.session.rollback()
    fourth = _start_and_close(worker, quiz, NOW + 41 * DAY)
    assert fourth.number == 4


def test_lifetime_attempts_without_retake_stay_used_up(tree):
    worker = make_user("w-life", "worker", tree["g1"])
    make_bank()
    quiz = make_quiz(max_attempts=1)
    _start_and_close(worker, quiz, NOW)
    with pytest.raises(Forbidden):
        quiz_services.start_attempt(worker, quiz, now=NOW + 400 * DAY)


def test_annual_exam_opens_every_december(tree):
    worker = make_user("w-exam", "worker", tree["g1"])
    make_bank()
    quiz = make_quiz(max_attempts=1)
    quiz.retake_after_days, quiz.annual_opens, quiz.annual_closes = 300, "12-01", "12-31"
    db.session.commit()
    with pytest.raises(Forbidden) as refused:
        quiz_services.start_attempt(worker, quiz, now=NOW)
    assert refused.value.code == "quiz_not_open" and "每年 12 月 1 日至 12 月 31 日" in refused.value.message
    db.session.rollback()
    _start_and_close(worker, quiz, dt.datetime(2027, 12, 3, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(Forbidden):  # one a year
        quiz_services.start_attempt(worker, quiz, now=dt.datetime(2027, 12, 20, 9, 0, tzinfo=SHANGHAI))
    db.session.rollback()
    _start_and_close(worker, quiz, dt.datetime(2028, 12, 4, 9, 0, tzinfo=SHANGHAI))


def test_quiz_file_keys_are_imported(tree, tmp_path):
    bank = tmp_path / "question_bank"
    (bank / "quizzes").mkdir(parents=True)
    (bank / "b.yaml").write_text("bank: b\ntitle: 题库\norg: HX\nquestions:\n  - id: b-1\n    type: judge\n"
                                 "    stem: 对吗\n    answer: true\n", encoding="utf-8")
    (bank / "quizzes" / "exam.yaml").write_text(
        "code: exam\ntitle: 年度考试\norg: HX\ndraw: [{bank: b, count: 1}]\ntime_limit_minutes: 30\npass_score: 60\n"
        'max_attempts: 1\nretake_after_days: 300\nannual_window: {opens: "12-01", closes: "12-31"}\n',
        encoding="utf-8")
    report = run_import(tmp_path / "courses", bank, now=NOW)
    assert not report.errors
    from lms.quizzes.queries import get_quiz

    quiz = get_quiz("exam")
    assert (quiz.retake_after_days, quiz.annual_opens, quiz.annual_closes) == (300, "12-01", "12-31")


# --- facts over a window and stars that lapse -----------------------------------------------------------

def test_counted_since_counts_recent_drills_and_hours_only(tree, tmp_path):
    import_noise(tmp_path)
    worker = make_user("w-win", "worker", tree["g1"])
    trainer = make_user("t-win", "trainer", tree["county"])
    drill = drill_queries.get_drill(NOISE)
    drill_services.submit_report(worker, drill, model_report(), now=NOW - 400 * DAY)
    attend(make_training(tree["county"], trainer, hours="3", starts_at=NOW - 400 * DAY), worker)
    attend(make_training(tree["county"], trainer, hours="2", starts_at=NOW - 30 * DAY), worker)
    db.session.commit()
    since = facts.window_start(NOW.date(), 12)
    assert since == dt.datetime(2026, 6, 16, tzinfo=SHANGHAI)
    recent = facts.counted_since(worker, since)
    assert (recent.drills_accepted, recent.training_hours) == (0, 2.0)
    every = facts.holder_facts(worker, today=NOW.date(), windows={12})
    assert (every.drills_accepted, every.training_hours) == (1, 5.0)
    assert every.windows[12] == recent


def test_a_12_month_star_lapses_when_its_window_passes_without_work(tree, tmp_path):
    import_noise(tmp_path)
    worker = make_user("w-lapse", "worker", tree["g1"])
    program = make_program("STAR-1", "一星级网格员", valid_months=12, star=1,
                           requires={"within_months": 6, "drills_accepted": 1})
    drill = drill_queries.get_drill(NOISE)
    drill_services.submit_report(worker, drill, model_report(), now=NOW)  # issued on the spot (points signal)
    db.session.commit()
    [certificate] = db.session.scalars(sa.select(Certificate).where(Certificate.holder_id == worker.id)).all()
    assert certificate.expires_on == dt.date(2028, 6, 14)
    # Nothing new in the last 6 months before it ends: not renewed, and it expires after its last day.
    assert services.auto_renew(now=NOW + 350 * DAY) == []
    assert services.expire_due(now=NOW + 367 * DAY) == 1
    db.session.commit()
    assert certificate.status == CertificateStatus.expired
    assert services.evaluate_holder(worker, now=NOW + 367 * DAY) == []
    # The same work done again inside the window earns it again.
    drill_services.submit_report(worker, drill, model_report(), now=NOW + 368 * DAY)
    db.session.commit()
    again = db.session.scalars(sa.select(Certificate).where(Certificate.holder_id == worker.id,
                                                           Certificate.status == CertificateStatus.valid)).all()
    assert [(c.program.code, c.renewal_of_id) for c in again] == [("STAR-1", certificate.id)]


def test_quiz_list_shows_the_retake_date_then_lets_the_worker_start_again(client, api, tree):
    from unittest import mock

    worker = make_user("w-page", "worker", tree["g1"])
    make_bank()
    quiz = make_quiz(max_attempts=1)
    quiz.retake_after_days, quiz.annual_opens, quiz.annual_closes = 30, "11-15", "01-15"
    db.session.commit()
    exam_day = dt.datetime(2027, 12, 1, 9, 0, tzinfo=SHANGHAI)
    _start_and_close(worker, quiz, exam_day)
    api.login("w-page")
    with mock.patch("lms.quizzes.views.utcnow", return_value=exam_day + 5 * DAY):
        page = client.get("/quizzes").get_data(as_text=True)
    assert "1 / 1（2027-12-31 09:00 起可补考）" in page
    assert "每年 11 月 15 日至次年 1 月 15 日" in page
    with mock.patch("lms.quizzes.views.utcnow", return_value=exam_day + 31 * DAY):
        page = client.get("/quizzes").get_data(as_text=True)
    assert "0 / 1" in page
