"""The one-attempt county exam never starts with one tap: at 768×1024 a worker opens its card (from 我的学习 and
from the quiz list), reads the confirmation, goes back — no attempt exists — then starts it for real.
Screenshots: test-artifacts/screenshots/exam-confirm-*.png."""
from __future__ import annotations

import re
import sqlite3

import pytest

from tests.e2e.conftest import LiveServer, login, shot

pytestmark = pytest.mark.e2e

EXAM = "红溪县网格员年度政策知识考试"  # question_bank/quizzes/exam-policy-2026.yaml: 30 minutes, one attempt
# The shipped exam opens every December; the test opens it all year so it runs in any month.
OPEN_ALL_YEAR = """
from lms import create_app
from lms.extensions import db
from lms.quizzes.models import Quiz
app = create_app()
with app.app_context():
    quiz = db.session.execute(db.select(Quiz).where(Quiz.code == "exam-policy-2026")).scalar_one()
    quiz.annual_opens, quiz.annual_closes = "01-01", "12-31"
    db.session.commit()
"""


@pytest.fixture(scope="module")
def exam_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("exam")).prepare()
    server.flask("content", "import")
    server.python(OPEN_ALL_YEAR)
    server.start()
    yield server
    server.stop()


def _attempts(server) -> int:
    with sqlite3.connect(server.database) as conn:
        return conn.execute("SELECT count(*) FROM quiz_attempts JOIN quizzes ON quizzes.id = quiz_attempts.quiz_id"
                            " WHERE quizzes.code = 'exam-policy-2026'").fetchone()[0]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def test_county_exam_asks_before_it_starts(exam_server, tablet):
    page, base = tablet, exam_server.base
    login(page, base)

    # From 我的学习: the scheduled exam is listed with its window; its button leads to the confirmation.
    page.goto(base + "/learning")
    card = page.locator("article", has_text=EXAM)
    assert card.get_by_text("开放时间").is_visible()
    shot(page, "exam-confirm-01-learning-768x1024")
    card.get_by_role("link", name="开始考试").click()
    page.wait_for_url(re.compile(r"/quizzes/exam-policy-2026/start\?from=learning$"))
    assert page.get_by_text("开始后不能暂停").is_visible()
    assert page.get_by_text("30 分钟").is_visible() and page.get_by_text("只有 1 次作答机会").is_visible()
    assert page.get_by_text("断网时答案先保存在这台平板上").is_visible()
    _fits(page)
    shot(page, "exam-confirm-02-confirm-768x1024")
    page.get_by_role("link", name="返回我的学习").click()
    page.wait_for_url(base + "/learning")
    assert _attempts(exam_server) == 0

    # From the quiz list: the card's button is a link to the same page, not a start.
    page.goto(base + "/quizzes")
    page.locator("section", has_text=EXAM).get_by_role("link", name="开始作答").click()
    page.wait_for_url(re.compile(r"/quizzes/exam-policy-2026/start$"))
    page.get_by_role("link", name="返回测验列表").click()
    page.wait_for_url(base + "/quizzes")
    assert _attempts(exam_server) == 0

    # Then the worker means it.
    page.locator("section", has_text=EXAM).get_by_role("link", name="开始作答").click()
    start = page.get_by_role("button", name="开始考试")
    box = start.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    start.click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    page.locator('[data-role="question"]').wait_for(state="visible")
    assert _attempts(exam_server) == 1
    shot(page, "exam-confirm-03-started-768x1024")

    # Coming back to the card continues the same attempt; nothing new is started.
    page.goto(base + "/quizzes")
    page.locator("section", has_text=EXAM).get_by_role("link", name="继续作答").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    assert _attempts(exam_server) == 1


@pytest.mark.parametrize("large_text", [False, True], ids=["normal", "large-text"])
def test_exam_and_practice_pages_pass_axe(exam_server, browser, large_text):
    from tests.e2e.a11y import serious_violations

    # bypass_csp: our CSP forbids injected scripts, which is exactly what axe is.
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", bypass_csp=True)
    try:
        page, base = context.new_page(), exam_server.base
        login(page, base, "worker2")
        if large_text:
            page.get_by_role("button", name="大字").first.click()
        for path in ("/quizzes/exam-policy-2026/start", "/learning", "/practice", "/practice/round?tag=民法典&n=5"):
            page.goto(base + path)
            assert serious_violations(page) == [], path
        page.get_by_role("button", name="交卷看答案").click()  # nothing answered: graded at once all the same
        page.get_by_text("答对 0 /").wait_for()
        assert serious_violations(page) == [], "graded round"
        if large_text:
            shot(page, "exam-confirm-04-practice-result-large-768x1024")
        page.goto(base + "/mistakes")
        assert serious_violations(page) == [], "/mistakes"
    finally:
        context.close()
