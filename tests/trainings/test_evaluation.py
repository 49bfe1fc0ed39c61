"""The evaluation (满意度): attendees only, once, five ratings 1–5 and a plain-text comment ≤ 500; the invitation
in the inbox and on the home page; results per session and per trainer, comments without their authors."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.db import utcnow
from lms.extensions import db
from lms.inbox.models import Message
from lms.trainings import paperwork
from lms.trainings.models import TrainingEvaluation
from tests.factories import make_user
from tests.trainings.factories import attend, make_training

GOOD = {"content": "5", "clarity": "4", "schedule": "3", "materials": "4", "overall": "5"}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html).group(1)


def _count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(TrainingEvaluation))


@pytest.fixture
def ended(people, tree):
    """A session of the township that ended an hour ago, attended by w001 and w002."""
    training = make_training(tree["t1"], people["tt"], title="人民调解实务", starts_at=utcnow() - dt.timedelta(hours=4))
    attend(training, people["w1"])
    attend(training, people["w2"])
    return training


def _post(api, training, data, username="w001"):
    api.login(username)
    page = api.client.get(f"/trainings/{training.id}/evaluation")
    token = _csrf(page.get_data(as_text=True))
    return api.client.post(f"/trainings/{training.id}/evaluation", data={**data, "csrf_token": token})


def test_an_attendee_evaluates_once(api, people, ended):
    api.login("w001")
    page = api.client.get(f"/trainings/{ended.id}/evaluation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and all(label in html for label in ("内容实用", "讲解清楚", "时间安排", "材料有用", "总体满意"))
    response = _post(api, ended, {**GOOD, "comment": "案例很实用"})
    assert response.status_code == 302
    evaluation = db.session.scalar(sa.select(TrainingEvaluation))
    assert (evaluation.content, evaluation.clarity, evaluation.schedule, evaluation.materials, evaluation.overall,
            evaluation.comment) == (5, 4, 3, 4, 5, "案例很实用")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "training.evaluate"))
    assert entry.actor_name == "w001" and "案例很实用" not in str(entry.details)
    again = _post(api, ended, GOOD)
    assert again.status_code == 409 and "只能评价一次" in again.get_data(as_text=True)
    assert _count() == 1
    assert "您已评价本场培训" in api.client.get(f"/trainings/{ended.id}").get_data(as_text=True)


@pytest.mark.parametrize("change,message", [
    ({"content": ""}, "请为“内容实用”打分"),
    ({"overall": "6"}, "“总体满意”的评分应为 1 到 5 的整数"),
    ({"clarity": "0"}, "“讲解清楚”的评分应为 1 到 5 的整数"),
    ({"schedule": "abc"}, "“时间安排”的评分应为 1 到 5 的整数"),
    ({"materials": "2.5"}, "“材料有用”的评分应为 1 到 5 的整数"),
    ({"comment": "长" * 501}, "意见建议不能超过 500 个字（现有 501 个字）"),
])
def test_bad_evaluations_are_refused_in_chinese_and_save_nothing(api, people, ended, change, message):
    response = _post(api, ended, {**GOOD, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count() == 0


def test_a_missing_rating_field_is_refused(api, people, ended):
    data = dict(GOOD)
    del data["overall"]
    response = _post(api, ended, data)
    assert response.status_code == 422 and "请为“总体满意”打分" in response.get_data(as_text=True)


def test_the_form_without_its_csrf_token_is_refused(api, people, ended):
    api.login("w001")
    response = api.client.post(f"/trainings/{ended.id}/evaluation", data=GOOD)
    assert response.status_code == 400 and _count() == 0


def test_only_attendees_evaluate(api, people, ended, tree):
    make_user("w004", "worker", tree["g1"], name="没来的人")
    api.login("w004")
    page = api.client.get(f"/trainings/{ended.id}/evaluation")
    assert page.status_code == 403 and "只有签到出勤的人员才能评价" in page.get_data(as_text=True)
    token = _csrf(api.client.get(f"/trainings/{ended.id}").get_data(as_text=True))
    response = api.client.post(f"/trainings/{ended.id}/evaluation", data={**GOOD, "csrf_token": token})
    assert response.status_code == 403 and _count() == 0
    api.login("w003")  # another township: may not even see the session
    assert api.client.get(f"/trainings/{ended.id}/evaluation").status_code == 403


def test_the_evaluation_opens_near_the_end_and_closes_after_30_days(people, tree):
    now = utcnow()
    running = make_training(tree["t1"], people["tt"], starts_at=now - dt.timedelta(minutes=10))
    attend(running, people["w1"])
    assert paperwork.evaluation_state(people["w1"], running, now) == "not_yet"
    assert paperwork.evaluation_state(people["w1"], running, running.ends_at - dt.timedelta(minutes=29)) == "open"
    assert paperwork.evaluation_state(people["w1"], running, running.ends_at + dt.timedelta(days=31)) == "closed"
    with pytest.raises(Exception) as refused:
        paperwork.submit_evaluation(people["w1"], running, {k: 5 for k in paperwork.QUESTION_KEYS}, now=now)
    assert refused.value.status == 409 and "结束前 30 分钟起" in refused.value.message
    cancelled = make_training(tree["t1"], people["tt"], starts_at=now - dt.timedelta(hours=4), is_cancelled=True)
    attend(cancelled, people["w1"])
    assert paperwork.evaluation_state(people["w1"], cancelled, now) == "cancelled"


def test_attendance_invites_to_evaluate_in_the_inbox_and_on_the_home_page(api, people, tree):
    training = make_training(tree["t1"], people["tt"], title="入户走访要点",
                             starts_at=utcnow() - dt.timedelta(hours=2, minutes=40))
    api.login("tt01")
    assert api.post(f"/api/v1/trainings/{training.id}/attendance", json={"usernames": ["w001"]}).status_code == 200
    api.post(f"/api/v1/trainings/{training.id}/attendance", json={"usernames": ["w001"]})
    messages = list(db.session.scalars(sa.select(Message).where(Message.user_id == people["w1"].id)))
    assert [(m.kind, m.link) for m in messages] == [("training_evaluation", f"/trainings/{training.id}/evaluation")]
    assert "入户走访要点" in messages[0].title
    api.login("w001")
    home = api.client.get("/").get_data(as_text=True)
    assert "评价：入户走访要点" in home
    _post(api, training, GOOD)
    assert "评价：入户走访要点" not in api.client.get("/").get_data(as_text=True)


def _evaluate(training, user, ratings, comment=""):
    paperwork.submit_evaluation(user, training, dict(zip(paperwork.QUESTION_KEYS, ratings)), comment)
    db.session.commit()


def test_session_results_show_averages_and_comments_without_authors(api, people, ended, tree):
    _evaluate(ended, people["w1"], (5, 4, 3, 4, 5), "<script>alert(1)</script>希望多讲案例")
    _evaluate(ended, people["w2"], (4, 4, 5, 2, 4), "")
    api.login("tt01")
    data = api.get(f"/api/v1/trainings/{ended.id}/evaluations").get_json()
    assert data == {"count": 2, "attendance_count": 2, "comments": ["<script>alert(1)</script>希望多讲案例"],
                    "averages": {"content": 4.5, "clarity": 4.0, "schedule": 4.0, "materials": 3.0, "overall": 4.5}}
    page = api.client.get(f"/trainings/{ended.id}/evaluation/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "4.5" in html and "评价 2 份" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;希望多讲案例" in html and "<script>alert(1)" not in html
    assert "张小明" not in html and "w001" not in html and "李四" not in html


def test_results_are_for_trainers_and_hr_in_scope(api, people, ended, tree):
    make_user("hr1", "hr", tree["county"])
    for username, status in [("tt01", 200), ("ct01", 200), ("hr1", 200), ("tt02", 403), ("w001", 403)]:
        api.login(username)
        assert api.client.get(f"/trainings/{ended.id}/evaluation/results").status_code == status, username
        assert api.get(f"/api/v1/trainings/{ended.id}/evaluations").status_code == status, username


def test_results_per_trainer(api, people, ended, tree):
    other = make_training(tree["t2"], people["tt2"], title="城关街道培训", starts_at=utcnow() - dt.timedelta(hours=4))
    attend(other, people["w3"])
    _evaluate(ended, people["w1"], (5, 5, 5, 5, 5), "很好")
    _evaluate(ended, people["w2"], (3, 3, 3, 3, 3))
    _evaluate(other, people["w3"], (1, 1, 1, 1, 1), "太长")
    make_user("hr1", "hr", tree["county"])
    api.login("hr1")
    items = api.get("/api/v1/trainings/evaluations").get_json()["items"]
    assert [(i["trainer"]["username"], i["sessions"], i["count"], i["averages"]["overall"]) for i in items] == [
        ("tt01", 1, 2, 4.0), ("tt02", 1, 1, 1.0)]
    detail = api.get("/api/v1/trainings/evaluations?trainer=tt01").get_json()["items"]
    assert detail[0]["comments"] == ["很好"] and detail[0]["trainings"][0]["title"] == "人民调解实务"
    page = api.client.get("/trainings/evaluations?trainer=tt01").get_data(as_text=True)
    assert "镇培训师" in page and "很好" in page and "太长" not in page
    api.login("tt01")  # a township trainer sees only the sessions of the township
    items = api.get("/api/v1/trainings/evaluations").get_json()["items"]
    assert [i["trainer"]["username"] for i in items] == ["tt01"]


@pytest.mark.parametrize("query,message", [
    ("from=2026-02-30", "起始日期 from格式应为 YYYY-MM-DD"),
    ("from=2026-03-02&to=2026-03-01", "起始日期不能晚于截止日期"),
    ("org=NOPE", "组织编码“NOPE”不存在"),
    ("trainer=nobody", "培训师工号“nobody”不存在"),
])
def test_results_by_trainer_bad_filters(api, people, ended, query, message):
    api.login("tt01")
    page = api.client.get(f"/trainings/evaluations?{query}")
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    response = api.get(f"/api/v1/trainings/evaluations?{query}")
    assert response.status_code == 422 and message in response.get_json()["error"]["message"]


def test_results_by_trainer_out_of_scope(api, people, ended):
    api.login("tt01")
    assert api.client.get("/trainings/evaluations?org=HX02").status_code == 403
    api.login("w001")
    assert api.client.get("/trainings/evaluations").status_code == 403
    assert api.get("/api/v1/trainings/evaluations").status_code == 403
