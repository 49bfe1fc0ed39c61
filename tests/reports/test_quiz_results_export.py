"""/exports/quiz-results.xlsx: one row per person in scope with best score, attempts, passed, last attempt."""
from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptGrant, AttemptStatus
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz

WHEN = dt.datetime(2026, 9, 1, 2, 5, tzinfo=dt.timezone.utc)  # 10:05 in Shanghai


def _sit(user, quiz, number, score):
    db.session.add(Attempt(quiz_id=quiz.id, user_id=user.id, org_id=user.org_id, number=number,
                           status=AttemptStatus.submitted, started_at=WHEN + dt.timedelta(days=number),
                           deadline=WHEN + dt.timedelta(days=number, minutes=30), score=score,
                           passed=score >= quiz.pass_score, paper=[], answer_slots={}, marks={},
                           submitted_at=WHEN, graded_at=WHEN))
    db.session.commit()


@pytest.fixture
def scores(tree):
    make_bank()
    quiz = make_quiz("county-exam", max_attempts=2, pass_score=60)
    w1 = make_user("w1", "worker", tree["g1"], name="李小红")
    w2 = make_user("w2", "worker", tree["g1"], name="=1+1")
    make_user("w3", "worker", tree["g1"], name="未作答者")
    far = make_user("far", "worker", tree["g2"], name="王五")
    make_user("hr1", "hr", tree["t1"], name="周文斌")
    make_user("hr2", "hr", tree["t2"], name="城关人事")
    make_user("tr1", "trainer", tree["t1"], name="镇培训员")
    _sit(w1, quiz, 1, 50)
    _sit(w1, quiz, 2, 80)
    _sit(w2, quiz, 1, 30)
    _sit(far, quiz, 1, 90)
    db.session.add(AttemptGrant(quiz_id=quiz.id, user_id=w2.id, extra_attempts=1, reason="补考", granted_at=WHEN))
    db.session.commit()
    return quiz


def _rows(response):
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0], {row[1]: dict(zip(rows[0], row)) for row in rows[1:]}


@pytest.mark.parametrize("actor", ["hr1", "tr1"])
def test_one_row_per_person_in_scope(scores, api, actor):
    api.login(actor)
    response = api.get("/exports/quiz-results.xlsx?quiz=county-exam", buffered=True)
    assert response.status_code == 200
    header, rows = _rows(response)
    assert header == ("姓名", "工号", "乡镇(街道)", "村(社区)", "网格", "最高分", "作答次数", "是否通过", "最近作答",
                      "补考次数")
    assert set(rows) == {"w1", "w2", "w3", "tr1"}  # the trainer learns too; HR and the far worker are absent
    w1 = rows["w1"]
    assert (w1["乡镇(街道)"], w1["村(社区)"], w1["网格"]) == ("青石镇", "桃源村", "桃源村第一网格")
    assert w1["最高分"] == 80 and w1["作答次数"] == 2 and w1["是否通过"] == "是"
    assert w1["最近作答"] == dt.datetime(2026, 9, 3, 10, 5)  # Asia/Shanghai
    assert rows["w2"]["姓名"] == "'=1+1" and rows["w2"]["是否通过"] == "否" and rows["w2"]["补考次数"] == 1
    assert rows["w3"]["作答次数"] == 0 and rows["w3"]["是否通过"] == "未作答" and rows["w3"]["最高分"] is None
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.quiz_results"))
    assert entry.details["rows"] == 4 and entry.details["quiz"] == "county-exam"


def test_org_filter_and_scope(scores, api):
    api.login("hr2")
    _, rows = _rows(api.get("/exports/quiz-results.xlsx?quiz=county-exam", buffered=True))
    assert set(rows) == {"far"}
    assert api.get("/exports/quiz-results.xlsx?quiz=county-exam&org=HX01", buffered=True).status_code == 403


@pytest.mark.parametrize("query, status", [("", 422), ("quiz=nope", 404), ("quiz=county-exam&org=NOPE", 422)])
def test_bad_parameters(scores, api, query, status):
    api.login("hr1")
    response = api.get(f"/exports/quiz-results.xlsx?{query}", buffered=True)
    assert response.status_code == status and re.search(r"[\u4e00-\u9fff]", response.get_data(as_text=True))


def test_workers_are_refused(scores, api):
    api.login("w1")
    assert api.get("/exports/quiz-results.xlsx?quiz=county-exam", buffered=True).status_code == 403


def test_results_page_filters_by_status(scores, api):
    api.login("hr1")
    page = api.get("/quizzes/county-exam/results?status=none").get_data(as_text=True)
    assert "未作答者" in page and "李小红" not in page
    page = api.get("/quizzes/county-exam/results?status=passed").get_data(as_text=True)
    assert "李小红" in page and "未作答者" not in page
    page = api.get("/quizzes/county-exam/results?status=failed").get_data(as_text=True)
    assert "=1+1" in page and "李小红" not in page and "含补考 1 次" in page
    assert api.get("/quizzes/county-exam/results?status=bogus").status_code == 422
    assert api.get("/quizzes/nope/results").status_code == 404
    listing = api.get("/quiz-results").get_data(as_text=True)
    assert "/quizzes/county-exam/results" in listing
