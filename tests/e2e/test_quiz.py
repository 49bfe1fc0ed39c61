"""A worker sits a quiz on a 768×1024 tablet, loses the network mid-way, keeps answering, submits: nothing lost."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from tests.e2e.conftest import ROOT, shot, wait_until

pytestmark = pytest.mark.e2e

BANK = """\
bank: e2e-bank
title: 端到端测试题库
questions:
  - id: e2e-1
    type: single
    stem: 城乡居民养老保险由谁缴费？
    options: {A: 仅个人, B: 个人缴费、集体补助、政府补贴, C: 仅政府}
    answer: B
    explanation: 三方共同筹资
    source: 《中华人民共和国社会保险法》第二十条
  - id: e2e-2
    type: multiple
    stem: 下列哪些属于社会保险？
    options: {A: 养老保险, B: 商业寿险, C: 医疗保险}
    answer: [A, C]
    explanation: 养老与医疗
    source: 《中华人民共和国社会保险法》第二条
  - id: e2e-3
    type: judge
    stem: 网格员可以代替居民签字。
    answer: false
    explanation: 不得代签
    source: 县网格化管理规定
  - id: e2e-4
    type: fill
    stem: 个人累计缴费满____年可按月领取养老金。
    answer: [[十五, "15"]]
    explanation: 满十五年
    source: 《中华人民共和国社会保险法》第十六条
"""

QUIZ = """\
code: e2e-quiz
title: 端到端政策测验
draw:
  - {bank: e2e-bank, count: 4}
time_limit_minutes: 30
pass_score: 60
shuffle_options: true
"""

IMPORT = """\
import sys
from pathlib import Path
from lms import create_app
from lms.contentsync import SyncContext, SyncReport
from lms.db import utcnow, write_intent
from lms.extensions import db
from lms.quizzes import sync
folder = Path(sys.argv[1])
app = create_app()
with app.app_context(), write_intent():
    ctx = SyncContext(folder / "courses", folder / "question_bank", utcnow())
    report = SyncReport()
    sync.import_banks(ctx, report)
    sync.import_quizzes(ctx, report)
    assert not report.errors, report.errors
    db.session.commit()
"""


@pytest.fixture(scope="module")
def quiz_server(live_server, tmp_path_factory):
    """The live server's database (the fixture's folder) with one quiz imported through the quiz importers."""
    databases = sorted(tmp_path_factory.getbasetemp().glob("live*/lms.sqlite3"))
    if not databases:
        pytest.skip("the live server's SQLite file was not found (tests/e2e/conftest.py changed?)")
    folder = tmp_path_factory.mktemp("quiz-content")
    (folder / "question_bank" / "quizzes").mkdir(parents=True)
    (folder / "question_bank" / "e2e-bank.yaml").write_text(textwrap.dedent(BANK), encoding="utf-8")
    (folder / "question_bank" / "quizzes" / "e2e-quiz.yaml").write_text(textwrap.dedent(QUIZ), encoding="utf-8")
    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{databases[-1]}", "LMS_SECRET_KEY": "e2e-secret"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", IMPORT, str(folder)], env=env, cwd=ROOT, check=True, capture_output=True)
    return live_server


def _answer_current(page) -> str:
    title = page.locator('[data-role="qtitle"]').inner_text()
    if "填空" in title:
        box = page.locator("input.blank-input").first
        box.fill("十五")
        box.press("Tab")
    else:
        page.locator("label.choice").first.click()
    return title


def test_offline_answers_are_kept_and_submitted(quiz_server, tablet):
    page = tablet
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(quiz_server + "/login")
    page.get_by_label("工号").fill("worker")
    page.get_by_label("密码").fill("Demo@2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(quiz_server + "/")
    page.goto(quiz_server + "/quizzes")
    shot(page, "quiz-00-list-768x1024")
    page.locator("section", has_text="端到端政策测验").get_by_role("link", name="开始作答").click()
    page.get_by_role("button", name="开始考试").click()  # the confirmation page
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    attempt_id = page.url.rsplit("/", 1)[1]
    state = page.locator('[data-role="save-state"]')
    countdown = page.locator('[data-role="countdown"]')
    page.locator('[data-role="question"]').wait_for(state="visible")
    assert re.fullmatch(r"(29|30):\d\d", countdown.inner_text())

    # Online: two answers, each saved.
    for _ in range(2):
        _answer_current(page)
        state.filter(has_text="已保存").wait_for()
        page.get_by_role("button", name="下一题").click()
    shot(page, "quiz-01-online-768x1024")

    # Offline: the next two stay on the tablet, marked as not saved yet.
    page.context.set_offline(True)
    _answer_current(page)
    state.filter(has_text="尚未保存").wait_for()
    assert "网络已断开" in page.locator('[data-role="network"]').inner_text()
    page.get_by_role("button", name="下一题").click()
    _answer_current(page)
    state.filter(has_text="尚未保存").wait_for()
    assert page.locator(".quiz-map button", has_text="待保存").count() == 2
    shot(page, "quiz-02-offline-768x1024")

    # Back online: the queue flushes by itself.
    page.context.set_offline(False)
    state.filter(has_text="已保存").wait_for(timeout=15000)
    wait_until(page, "document.querySelectorAll('.quiz-map button.is-unsaved').length === 0", timeout=15000)
    stored = page.request.get(f"{quiz_server}/api/v1/attempts/{attempt_id}").json()
    assert len(stored["answers"]) == 4 and all(a["answer"] not in (None, []) for a in stored["answers"].values())

    page.get_by_role("button", name="交卷").click()
    assert "全部 4 题都已作答" in page.locator('[data-role="confirm-text"]').inner_text()
    page.get_by_role("button", name="确认交卷").click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"))
    assert page.get_by_text("依据：").count() == 4
    shot(page, "quiz-03-result-768x1024")
    result = page.request.post(f"{quiz_server}/api/v1/attempts/{attempt_id}/submit",
                               headers={"X-CSRFToken": page.locator('meta[name="csrf-token"]').get_attribute("content")}).json()
    assert len([r for r in result["results"] if r["your_answer"] not in (None, [])]) == 4
    # Failed requests while offline are logged by the browser itself; anything else is a script error.
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_reload_without_network_reopens_the_quiz_with_unsaved_answers(quiz_server, tablet):
    page = tablet
    page.goto(quiz_server + "/login")
    page.get_by_label("工号").fill("worker")
    page.get_by_label("密码").fill("Demo@2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(quiz_server + "/")
    # The service worker takes control, then learns whose session this is (it caches pages per user).
    wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15000)
    page.goto(quiz_server + "/quizzes")
    page.wait_for_timeout(500)
    card = page.locator("section", has_text="端到端政策测验")
    start = card.get_by_role("link", name="开始作答")
    if start.count():
        start.click()
        page.get_by_role("button", name="开始考试").click()  # the confirmation page
    else:
        card.get_by_role("link", name="继续作答").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    page.locator('[data-role="question"]').wait_for(state="visible")
    state = page.locator('[data-role="save-state"]')
    _answer_current(page)
    state.filter(has_text="已保存").wait_for()

    page.context.set_offline(True)
    page.get_by_role("button", name="下一题").click()
    _answer_current(page)
    state.filter(has_text="尚未保存").wait_for()
    page.reload()
    page.locator('[data-role="question"]').wait_for(state="visible", timeout=15000)
    assert page.locator(".quiz-map button", has_text="待保存").count() == 1
    assert page.locator(".quiz-map button", has_text="已答").count() == 1
    shot(page, "quiz-04-offline-reload-768x1024")

    page.context.set_offline(False)
    wait_until(page, "document.querySelectorAll('.quiz-map button.is-unsaved').length === 0", timeout=20000)
    attempt_id = page.url.rsplit("/", 1)[1]
    stored = page.request.get(f"{quiz_server}/api/v1/attempts/{attempt_id}").json()
    assert len([a for a in stored["answers"].values() if a["answer"] not in (None, [])]) == 2


def _open_quiz(page, base):
    page.goto(base + "/quizzes")
    card = page.locator("section", has_text="端到端政策测验")
    start = card.get_by_role("link", name="开始作答")
    if start.count():
        start.click()
        page.get_by_role("button", name="开始考试").click()  # the confirmation page
    else:
        card.get_by_role("link", name="继续作答").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    page.locator('[data-role="question"]').wait_for(state="visible")


@pytest.mark.parametrize("width, height", [(360, 800), (768, 1024), (1280, 800)])
def test_quiz_pages_fit_the_screen_and_pass_axe(quiz_server, browser, width, height):
    from tests.e2e.a11y import serious_violations

    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(quiz_server + "/login")
        page.get_by_label("工号").fill("worker")
        page.get_by_label("密码").fill("Demo@2026")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(quiz_server + "/")
        _open_quiz(page, quiz_server)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        targets = page.evaluate("""Array.from(document.querySelectorAll('#quiz-app button:not([hidden]), label.choice'))
            .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().height)""")
        assert targets and min(targets) >= 44
        assert serious_violations(page) == []
        shot(page, f"quiz-05-answering-{width}x{height}")
        for path in ("/quizzes", "/mistakes"):
            page.goto(quiz_server + path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
            assert serious_violations(page) == [], path
    finally:
        context.close()


def test_trainer_pages_pass_axe(quiz_server, browser):
    from tests.e2e.a11y import serious_violations

    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(quiz_server + "/login")
        page.get_by_label("工号").fill("trainer-county")
        page.get_by_label("密码").fill("Demo@2026")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(quiz_server + "/")
        for path in ("/quizzes/banks", "/quizzes/banks/e2e-bank", "/quizzes/questions/e2e-1/edit",
                     "/quizzes/manage/new", "/quizzes/e2e-quiz/edit", "/quizzes/e2e-quiz/stats"):
            page.goto(quiz_server + path)
            assert page.locator("h1").count() == 1, path
            assert serious_violations(page) == [], path
        shot(page, "quiz-06-stats-768x1024")
    finally:
        context.close()
