"""A real lost connection: the server process is stopped mid-quiz and mid-report, then started again on the same
port and database. Unlike the browser's offline emulation this also goes through the service worker."""
from __future__ import annotations

import re
import textwrap

import pytest

from tests.e2e.conftest import LiveServer, login, shot, wait_until
from tests.e2e.test_drill import _IMPORT as IMPORT_DRILLS
from tests.e2e.test_drill import CODE, MODEL, _fill
from tests.e2e.test_quiz import BANK, IMPORT as IMPORT_QUIZ, QUIZ, _answer_current

pytestmark = pytest.mark.e2e

UNSAVED = ".quiz-map button.is-unsaved"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own (stopping the session's server would break every other test)."""
    instance = LiveServer(tmp_path_factory.mktemp("outage")).prepare()
    content = tmp_path_factory.mktemp("outage-content")
    (content / "question_bank" / "quizzes").mkdir(parents=True)
    (content / "question_bank" / "e2e-bank.yaml").write_text(textwrap.dedent(BANK), encoding="utf-8")
    (content / "question_bank" / "quizzes" / "e2e-quiz.yaml").write_text(textwrap.dedent(QUIZ), encoding="utf-8")
    instance.python(IMPORT_QUIZ, str(content))
    instance.python(IMPORT_DRILLS)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def outage(server):
    """The server, started again after the test whatever happened in it."""
    yield server
    if server.process is None:
        server.start()


def _browser_page(browser):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    return context, context.new_page()


def test_quiz_answers_survive_a_stopped_server(outage, browser):
    base = outage.base
    context, page = _browser_page(browser)
    try:
        login(page, base)
        wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        wait_until(page, "caches.has('lms-meta')")  # the worker knows whose session this is
        page.goto(base + "/quizzes")
        page.locator("section", has_text="端到端政策测验").get_by_role("link", name="开始作答").click()
        page.get_by_role("button", name="开始考试").click()  # the confirmation page
        page.wait_for_url(re.compile(r"/attempts/\d+$"))
        attempt_url = page.url
        state = page.locator('[data-role="save-state"]')
        network = page.locator('[data-role="network"]')
        page.locator('[data-role="question"]').wait_for(state="visible")
        for _ in range(2):
            _answer_current(page)
            state.filter(has_text="已保存").wait_for()
            page.get_by_role("button", name="下一题").click()
        # The attempt page is kept for this user (it is what a reload during the outage gets).
        wait_until(page, "caches.keys().then(ks => Promise.all(ks.filter(k => k.startsWith('lms-pages-'))"
                         ".map(k => caches.open(k).then(c => c.match(location.href))))).then(rs => rs.some(Boolean))")

        outage.stop()
        _answer_current(page)
        state.filter(has_text="尚未保存").wait_for()
        network.filter(has_text="网络已断开").wait_for()
        page.get_by_role("button", name="下一题").click()
        _answer_current(page)
        state.filter(has_text="尚未保存").wait_for()
        assert page.locator(UNSAVED).count() == 2
        # A reload with the server down: the service worker serves the page, the answers are still there.
        page.reload()
        page.locator('[data-role="question"]').wait_for(state="visible", timeout=15000)
        assert page.url == attempt_url
        assert page.locator(UNSAVED).count() == 2
        assert page.locator(".quiz-map button", has_text="已答").count() == 2
        network.filter(has_text="网络已断开").wait_for()
        shot(page, "outage-01-quiz-server-down-768x1024")

        outage.start()  # same port, same database
        wait_until(page, f"document.querySelectorAll('{UNSAVED}').length === 0", timeout=30000)
        assert network.inner_text() == "网络正常"
        page.get_by_role("button", name="交卷").click()
        assert "全部 4 题都已作答" in page.locator('[data-role="confirm-text"]').inner_text()
        page.get_by_role("button", name="确认交卷").click()
        page.wait_for_url(attempt_url + "/result")
        shot(page, "outage-02-quiz-result-768x1024")
        csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
        result = page.request.post(attempt_url.replace("/attempts/", "/api/v1/attempts/") + "/submit",
                                   headers={"X-CSRFToken": csrf}).json()  # repeating returns the graded result
        assert len(result["results"]) == 4
        assert all(r["your_answer"] not in (None, [], "") for r in result["results"]), result["results"]
    finally:
        context.close()


def test_drill_report_submitted_while_the_server_is_down_is_sent_once(outage, browser):
    base = outage.base
    context, page = _browser_page(browser)
    try:
        login(page, base, "worker4")
        page.goto(f"{base}/drills/{CODE}")
        history = page.locator("[data-history] li:not([data-history-empty])")
        before = history.count()

        outage.stop()
        _fill(page, MODEL)
        page.get_by_role("button", name="提交上报").click()
        page.locator("[data-status]", has_text="已保存在本机").wait_for()
        assert page.locator("[data-verdict]").count() == 0
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "outage-03-drill-queued-768x1024")

        outage.start()
        page.locator('[data-verdict="accepted"]').wait_for(timeout=30000)  # sent by the outbox's retry
        assert history.count() == before + 1
        page.reload()
        assert history.count() == before + 1
        assert page.locator("#f-location").input_value() == ""  # sent: the draft is gone
    finally:
        context.close()


_OPEN_SESSIONS = """
import sys, sqlalchemy as sa
from lms import create_app
from lms.accounts.models import User, UserSession
from lms.extensions import db
with create_app().app_context():
    print(db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).join(User, User.id == UserSession.user_id)
                            .where(User.username == sys.argv[1], UserSession.ended_at.is_(None))))
"""


def test_logout_without_a_connection_ends_the_server_session_when_it_returns(outage, browser):
    """On a shared tablet the cookie outlives a logout the server never received: the next person would be
    let in as the last one. The service worker finishes that logout before anything else reaches the server."""
    base = outage.base
    context, page = _browser_page(browser)
    try:
        login(page, base, "worker3")
        wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        wait_until(page, "caches.has('lms-meta')")
        assert outage.python(_OPEN_SESSIONS, "worker3").stdout.strip() == "1"

        outage.stop()
        page.get_by_role("button", name="退出").click()
        page.get_by_role("heading", name="已在本机退出登录").wait_for()
        shot(page, "outage-04-logout-offline-768x1024")
        # Nothing of worker3's is served from the tablet meanwhile.
        page.goto(base + "/learning")
        assert "worker3" not in page.content() and "已学" not in page.content()

        outage.start()
        page.goto(base + "/")
        page.wait_for_url(re.compile(r"/login"))
        assert page.get_by_label("工号").is_visible()
        assert outage.python(_OPEN_SESSIONS, "worker3").stdout.strip() == "0"
        # The next person signs in normally.
        login(page, base, "worker2")
        assert page.locator('meta[name="lms-user"]').count() == 1
    finally:
        context.close()
