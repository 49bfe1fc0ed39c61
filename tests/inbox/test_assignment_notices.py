"""A new assignment puts one notice in each concerned person's inbox; `tasks run` reminds 3 days and 1 day before
the due date, once per person per stage, skipping people who have finished."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.courses import services
from lms.courses.models import CourseEnrollment
from lms.db import SHANGHAI
from lms.extensions import db
from lms.inbox.models import Message
from lms.org.queries import get_org
from tests.courses.factories import make_course
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz

#: 10:00 in Shanghai on 2026-12-01
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
DUE = dt.date(2026, 12, 10)


def _messages(username=None, kind=None):
    query = sa.select(Message).order_by(Message.id)
    if username:
        from lms.accounts.queries import get_user
        query = query.where(Message.user_id == get_user(username).id)
    if kind:
        query = query.where(Message.kind == kind)
    return list(db.session.scalars(query))


@pytest.fixture
def world(tree):
    make_course("c1", title="网格员基本职责")
    make_bank()
    make_quiz("exam", max_attempts=1)
    trainer = make_user("tc", "trainer", tree["county"])
    make_user("w1", "worker", tree["g1"])
    make_user("w2", "worker", tree["g1"])
    make_user("gl", "grid_leader", tree["g1"])
    make_user("w3", "worker", tree["g2"])
    gone = make_user("gone", "worker", tree["g1"])
    from lms.accounts.models import UserStatus
    gone.status = UserStatus.disabled
    db.session.commit()
    return {"trainer": trainer, **tree}


def _assign(world, *, course=None, quiz=None, org="HX01", role=None, due=DUE, now=NOW):
    assignment = services.create_assignment(world["trainer"], course_code=course, quiz_code=quiz, org=get_org(org),
                                            role=role, due=due, now=now)
    db.session.commit()
    return assignment


def test_new_course_assignment_notifies_each_person_once_in_chinese(world):
    _assign(world, course="c1")
    notices = _messages(kind=services.ASSIGNMENT_NOTICE_KIND)
    from lms.accounts.queries import get_user
    got = {m.user_id for m in notices}
    assert got == {get_user("w1").id, get_user("w2").id, get_user("gl").id}  # not w3 (other township), not gone
    message = _messages("w1")[0]
    assert "课程《网格员基本职责》" in message.title and "2026年12月10日" in message.title
    assert "2026年12月10日（北京时间）" in message.body and message.link == "/courses/c1"


def test_role_bound_quiz_assignment_reaches_role_holders_only_and_links_to_the_confirmation(world):
    _assign(world, quiz="exam", role="worker")
    names = {m.user_id for m in _messages(kind=services.ASSIGNMENT_NOTICE_KIND)}
    from lms.accounts.queries import get_user
    assert get_user("gl").id not in names and get_user("w1").id in names
    message = _messages("w1")[0]
    assert "考试《测验exam》" in message.title and message.link == "/quizzes/exam/start"


def test_due_date_in_the_notice_is_the_local_day(world):
    # 23:30 UTC on 11-30 is 07:30 on 12-01 in Shanghai: a due date of 12-01 is today there, not in the past.
    late = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    _assign(world, course="c1", due=dt.date(2026, 12, 1), now=late)
    assert "2026年12月1日" in _messages("w1")[0].title


def test_assignment_through_the_api_notifies_too(world, api):
    api.login("tc")
    reply = api.post("/api/v1/assignments", json={"course": "c1", "org": "HX01",
                                                  "due": (dt.datetime.now(SHANGHAI).date()
                                                          + dt.timedelta(days=7)).isoformat()})
    assert reply.status_code == 201, reply.get_json()
    assert len(_messages(kind=services.ASSIGNMENT_NOTICE_KIND)) == 3


def test_reminders_three_days_and_one_day_before_once_each(world):
    _assign(world, course="c1")
    reminders = lambda: _messages(kind=services.ASSIGNMENT_REMINDER_KIND)  # noqa: E731
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=5)) == 0  # 4 days before: nothing yet
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=6)) == 3  # 3 days before
    db.session.commit()
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=6, hours=3)) == 0  # cron again: idempotent
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=7)) == 0  # 2 days before: stage 3 done
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=8)) == 3  # 1 day before
    db.session.commit()
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=9)) == 0  # due day: stage 1 done
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=10)) == 0  # past due: no more
    titles = [m.title for m in reminders() if m.user_id == _messages("w1")[0].user_id]
    assert titles == ["提醒：课程《网格员基本职责》还有 3 天截止", "提醒：课程《网格员基本职责》明天截止"]


def test_people_who_finished_are_not_reminded(world):
    assignment = _assign(world, course="c1")
    from lms.accounts.queries import get_user
    w1 = get_user("w1")
    db.session.add(CourseEnrollment(user_id=w1.id, course_id=assignment.course_id, org_id=w1.org_id,
                                    started_at=NOW, completed_at=NOW))
    db.session.commit()
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=8)) == 2
    assert not _messages("w1", kind=services.ASSIGNMENT_REMINDER_KIND)


def test_quiz_passers_are_not_reminded(world, api):
    from tests.quizzes.factories import right_answers
    _assign(world, quiz="exam", due=dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1),
            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/exam/attempts").get_json()
    for n, (qid, answer) in enumerate(right_answers(attempt).items(), start=1):
        api.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}", json={"answer": answer, "seq": n})
    assert api.post(f"/api/v1/attempts/{attempt['id']}/submit").get_json()["passed"] is True
    assert services.send_assignment_reminders() == 2
    assert not _messages("w1", kind=services.ASSIGNMENT_REMINDER_KIND)


def test_assignment_made_inside_a_stage_skips_that_stage(world):
    # Made 2 days before its due date: the notice says when; the 3-day reminder is not sent, the 1-day one is.
    _assign(world, course="c1", due=dt.date(2026, 12, 3))
    assert services.send_assignment_reminders(now=NOW) == 0
    assert services.send_assignment_reminders(now=NOW + dt.timedelta(days=1)) == 3


def test_tasks_run_sends_the_reminders(world, runner, app):
    _assign(world, course="c1", due=dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1),
            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=5))
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0, result.output
    assert "学习任务截止提醒 3" in result.output
    again = runner.invoke(args=["tasks", "run"])
    assert "学习任务截止提醒 0" in again.output
    assert len(_messages(kind=services.ASSIGNMENT_REMINDER_KIND)) == 3
