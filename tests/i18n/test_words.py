"""Every page each demo role can reach shows words people use: titles and Chinese labels, never codes.

The demo county (`flask demo`) with the shipped content imported and a little activity (assignments, a lesson
done, a quiz sat, a drill report, a pairing, a training, a certificate) is built once for the module; each role
logs in and walks every GET page reachable from its menu and the links on its pages (see tests/i18n/crawler.py).
A page fails on ASCII identifiers (`word-word`, `snake_case`, `dotted.codes`), `key=value` dumps, Python
literals and English sentences outside <code>/<pre>. Usernames (工号) are data people type, so they pass.
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.accounts.demo import DEMO_PASSWORD, ensure_demo
from lms.accounts.models import User
from lms.accounts.queries import get_user
from lms.certification.queries import get_program
from lms.certification.services import issue_manually
from lms.contentsync import run_import
from lms.courses.queries import get_course
from lms.courses.services import complete_lesson, create_assignment
from lms.drills.queries import get_drill
from lms.drills.services import submit_report
from lms.extensions import db
from lms.mentoring.services import create_pairing
from lms.org.queries import get_org
from lms.quizzes.queries import get_quiz
from lms.quizzes.services import start_attempt, submit_attempt
from lms.trainings.services import create_training, record_roll
from tests.conftest import ROOT, IsolatedClient, _config, _empty_tables
from tests.factories import ApiClient
from tests.i18n.crawler import crawl, leaks, parse

ROLES = ["worker", "leader", "mentor", "trainer-county", "trainer-qs", "trainer-ty", "hr", "hr-qs", "admin"]


def _activity() -> None:
    """A little of everything, so the pages that list things have rows to show."""

    today = dt.date.today()
    trainer, hr, worker = get_user("trainer-county"), get_user("hr"), get_user("worker")
    create_assignment(trainer, course_code="county-event-reporting", quiz_code=None, org=get_org("HX"), role=None,
                      due=today + dt.timedelta(days=20))
    create_assignment(trainer, course_code=None, quiz_code="quiz-grid-duties", org=get_org("HX0101"),
                      role="worker", due=today + dt.timedelta(days=30))
    course = get_course("county-grid-duties")
    complete_lesson(worker, course, course.lessons[0])
    attempt, _ = start_attempt(worker, get_quiz("quiz-grid-duties"))
    submit_attempt(attempt)
    submit_report(worker, get_drill("night-construction-noise"),
                  {"event_type": "噪声扰民", "description": "工地夜间施工", "place": "桃源村"})
    create_pairing(hr, get_user("mentor"), [get_user("worker2")], today, today + dt.timedelta(days=90))
    training = create_training(trainer, level="county", title="网格员岗前培训", date=today.isoformat(),
                               place="县综治中心", hours="2", org=get_org("HX"))
    record_roll(trainer, training, ["worker", "worker2"])
    program = get_program("WG-SG")
    if program is not None:  # absent while courses/certifications.yaml does not import
        issue_manually(hr, get_user("worker3"), program, "示范发证")


def _operators(app) -> None:
    """What operators do through the JSON routes (API.md's contract): a reminder, a 补考 grant, a batch issue.

    Routes that have not landed yet answer 404 and leave their pages without these rows.
    """

    hr = ApiClient(app.test_client())
    assert hr.login("hr", DEMO_PASSWORD).status_code == 200
    hr.post("/api/v1/reminders", json={"kind": "course", "code": "county-event-reporting", "org": "HX"})
    hr.post("/api/v1/quizzes/quiz-grid-duties/grants", json={"username": "worker", "extra_attempts": 1,
                                                              "reason": "病假补考"})
    hr.post("/api/v1/certificates/batch", json={"usernames": ["worker", "worker4"], "program": "WG-SG",
                                                "reason": "年度集中发证"})


@pytest.fixture(scope="module")
def county(database_url, tmp_path_factory):

    app = create_app(_config(database_url, tmp_path_factory.mktemp("words"),
                             COURSES_DIR=str(ROOT / "courses"), QUESTIONS_DIR=str(ROOT / "question_bank")))
    app.test_client_class = IsolatedClient
    with app.app_context():
        ensure_demo()
        db.session.commit()
        # Bad files are another test's failure (tests/content); here the rest of the content is enough.
        run_import(ROOT / "courses", ROOT / "question_bank")
        db.session.commit()
        _activity()
        db.session.commit()
        _operators(app)
        usernames = frozenset(db.session.scalars(sa.select(User.username)))
        try:
            yield app, usernames
        finally:
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


def test_the_checker_sees_what_a_reader_sees():
    html = ("<h1>结业测验：quiz-event-reporting 未通过</h1><code>quiz_x</code><input name='required_fields' "
            "value='a-b'><p title='x_y'>必填要素（required_fields）</p><pre>a-b</pre><script>var a_b;</script>"
            "<td>assignment.create</td><td>course=None</td><p>Permission denied for this user</p>"
            "<p>导出 XLSX 或 GIFT；见 trainings.xlsx 与 https://lms.test/verify/ab-cd</p>")
    text, _ = parse(html)
    found = leaks(text)
    for token in ("quiz-event-reporting", "required_fields", "course=None", "None", "assignment.create"):
        assert token in found
    assert any(f.endswith("Permission denied for this user") for f in found)
    assert not [f for f in found if any(ok in f for ok in ("XLSX", "GIFT", "trainings", "lms", "quiz_x", "a-b"))]
    assert leaks("层级 county，状态 valid") == ["county", "valid"]
    assert leaks("工号 trainer-county", frozenset({"trainer-county"})) == []


@pytest.mark.parametrize("username", ROLES)
def test_every_page_reads_in_chinese(county, username):

    app, usernames = county
    client = app.test_client()
    assert ApiClient(client).login(username, DEMO_PASSWORD).status_code == 200
    visited, findings = crawl(client, ["/"], allowed_values=usernames, limit=800)
    assert len(visited) > 5, visited
    assert not findings, f"{username} saw {len(findings)} leaks:\n" + "\n".join(map(str, findings))


def test_final_quiz_shows_its_title_and_not_taken(county):

    app, _ = county
    client = app.test_client()
    ApiClient(client).login("worker", DEMO_PASSWORD)
    text, _ = parse(client.get("/courses/county-event-reporting").get_data(as_text=True))
    assert "quiz-event-reporting" not in text
    assert "结业测验： 《事件上报" in text and "未参加" in text and "未通过" not in text


def test_audit_log_reads_in_chinese(county):

    app, _ = county
    client = app.test_client()
    ApiClient(client).login("hr", DEMO_PASSWORD)
    text, _ = parse(client.get("/audit").get_data(as_text=True))
    assert "王建国 给 桃源村 的网格员 指派了测验《" in text
    assert "李红梅 为导师 赵德山 结对了新网格员 杨秀英" in text
    assert "assignment.create" not in text and "None" not in text
    only_pairings, _ = parse(client.get("/audit?action=建立结对").get_data(as_text=True))
    assert "结对了新网格员" in only_pairings and "指派了" not in only_pairings

