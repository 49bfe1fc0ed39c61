"""The whole field journey of a grid worker in a real browser, at 768×1024, 1280×800 and 360×800:
login → my learning → lesson → complete → quiz (answer, lose the network, answer, come back, submit: every
answer kept) → drill (returned, revised, accepted) → certificate → public verify page.
Plus HR's certificate export and a mentor's activity confirmed by the worker (one size each).
Every step's screenshot goes to test-artifacts/screenshots/journey-<size>-NN-<step>.png."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, login, shot, wait_until
from tests.e2e.test_drill import CODE as DRILL, MODEL, POOR, _fill
from tests.e2e.test_mentoring import _pair_as_hr
from tests.e2e.test_quiz import _answer_current

pytestmark = pytest.mark.e2e

QUIZ_TITLE = "网格员职责与工作规范测验"  # the county course's own quiz, 10 questions drawn from the shipped bank
PROGRAM = "网格员上岗证"
# One demo worker per size: each journey starts from nothing (no progress, no attempt, no certificate).
SIZES = [pytest.param(768, 1024, "worker", id="768x1024"), pytest.param(1280, 800, "worker2", id="1280x800"),
         pytest.param(360, 800, "worker3", id="360x800")]
UNSAVED = ".quiz-map button.is-unsaved"


def _context(browser, width, height):
    return browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def _issue_as_hr(browser, base, username, width, height, name):
    """HR issues the certificate at the certificate desk (the rules would need 8 training hours and more)."""
    context = _context(browser, width, height)
    try:
        page = context.new_page()
        login(page, base, "hr")
        page.goto(base + "/certificates/manage")
        desk = page.get_by_role("region", name="人工发证")
        desk.get_by_label("工号").fill(username)
        desk.get_by_label("认证项目").select_option(label=PROGRAM)
        desk.get_by_label("发证理由").fill("端到端测试：完成课程、测验和演练后人工发证")
        desk.get_by_role("button", name="预览证书样张").click()  # issuing goes through the sample page first
        page.get_by_role("button", name="确认发证").click()
        page.wait_for_url(base + "/certificates/manage")
        flash = page.get_by_role("status").filter(has_text="证书，编号").inner_text()
        shot(page, name)
        return re.search(r"编号 (\S+)。", flash).group(1)
    finally:
        context.close()


@pytest.mark.parametrize("width, height, username", SIZES)
def test_worker_journey(county_server, browser, width, height, username):
    base, size = county_server.base, f"{width}x{height}"
    context = _context(browser, width, height)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    steps = iter(range(1, 100))

    def step(name):
        _fits(page)
        shot(page, f"journey-{size}-{next(steps):02d}-{name}")

    try:
        # Login → home.
        page.goto(base + "/login")
        page.get_by_label("工号").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        step("login")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(base + "/")
        assert page.get_by_role("heading", name=re.compile("^您好")).is_visible()
        step("home")

        # My learning → the assigned lesson → complete.
        page.locator("main a[href='/learning']").click()
        page.wait_for_url(base + "/learning")
        assert page.get_by_text("进度：已学 0/4 课").is_visible()
        step("my-learning")
        page.get_by_role("link", name=re.compile("^开始学习")).click()
        page.wait_for_url("**/courses/county-grid-duties/lessons/**")
        assert page.locator("#lesson-body h2").first.is_visible()
        step("lesson")
        page.get_by_role("button", name="标记为学完，进入下一课").click()
        page.wait_for_url("**/lessons/duties-and-norms")
        page.get_by_text("已标记为学完。").wait_for()  # the form checks the server is reachable first
        step("lesson-complete")
        page.goto(base + "/learning")
        assert page.get_by_text("进度：已学 1/4 课").is_visible()

        # Quiz: 3 answers online, 3 with the network gone, back online, the rest, submit.
        page.goto(base + "/quizzes")
        page.locator("section", has_text=QUIZ_TITLE).get_by_role("link", name="开始作答").click()
        page.get_by_role("button", name="开始考试").click()  # the confirmation page
        page.wait_for_url(re.compile(r"/attempts/\d+$"))
        attempt_url = page.url
        page.locator('[data-role="question"]').wait_for(state="visible")
        state = page.locator('[data-role="save-state"]')
        total = int(re.search(r"共 (\d+) 题", page.locator('[data-role="qtitle"]').inner_text()).group(1))
        assert total == 10

        def answer(expect):
            _answer_current(page)
            state.filter(has_text=expect).wait_for()

        for _ in range(3):
            answer("已保存")
            page.get_by_role("button", name="下一题").click()
        step("quiz-online")
        page.context.set_offline(True)
        for _ in range(3):
            answer("尚未保存")
            page.get_by_role("button", name="下一题").click()
        assert "网络已断开" in page.locator('[data-role="network"]').inner_text()
        assert page.locator(UNSAVED).count() == 3
        step("quiz-offline")
        page.context.set_offline(False)
        wait_until(page, f"document.querySelectorAll('{UNSAVED}').length === 0", timeout=20000)
        for index in range(6, total):
            answer("已保存")
            if index < total - 1:
                page.get_by_role("button", name="下一题").click()
        page.get_by_role("button", name="交卷").click()
        assert f"全部 {total} 题都已作答" in page.locator('[data-role="confirm-text"]').inner_text()
        step("quiz-confirm")
        page.get_by_role("button", name="确认交卷").click()
        page.wait_for_url(attempt_url + "/result")
        step("quiz-result")
        csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
        graded = page.request.post(attempt_url.replace("/attempts/", "/api/v1/attempts/") + "/submit",
                                   headers={"X-CSRFToken": csrf}).json()  # repeating it returns the same result
        assert len(graded["results"]) == total
        assert all(r["your_answer"] not in (None, [], "") for r in graded["results"]), graded["results"]

        # Drill: a thin report is returned with its faults at the fields; the revised one is accepted.
        page.goto(base + "/drills")
        page.get_by_role("link", name="夜间施工噪声扰民").click()
        page.wait_for_url(f"{base}/drills/{DRILL}")
        step("drill-open")
        _fill(page, POOR)
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="returned"]').wait_for()
        assert "is-invalid" in page.locator("#f-location").get_attribute("class")
        page.evaluate("window.scrollTo(0, 0)")
        step("drill-returned")
        _fill(page, MODEL)
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="accepted"]').wait_for()
        assert page.locator(".drill-form .is-invalid").count() == 0
        page.evaluate("window.scrollTo(0, 0)")
        step("drill-accepted")

        # Certificate: issued by HR, listed for the worker, checked on the public verify page.
        number = _issue_as_hr(browser, base, username, width, height, f"journey-{size}-{next(steps):02d}-hr-issue")
        page.goto(base + "/certificates")
        row = page.locator("tr", has_text=number)
        assert row.get_by_text(PROGRAM).is_visible() and row.get_by_text("有效").is_visible()
        step("my-certificates")
        mine = page.request.get(base + "/api/v1/certificates").json()["certificates"]
        code = next(c["verify_code"] for c in mine if c["number"] == number)
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")
        page.goto(f"{base}/verify/{code}")  # as a resident who scanned the QR code: no session
        facts = page.locator("dl").inner_text()
        assert number in facts and PROGRAM in facts and "有效" in facts
        assert re.search(r"持证人\s*\S\*\S", facts)  # the name is masked
        step("verify")
        assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    finally:
        context.close()


def test_hr_downloads_the_certificate_export(county_server, browser):
    from openpyxl import load_workbook

    base = county_server.base
    number = _issue_as_hr(browser, base, "worker4", 1280, 800, "journey-hr-01-issue-1280x800")
    context = _context(browser, 1280, 800)
    try:
        page = context.new_page()
        login(page, base, "hr")
        page.goto(base + "/certificates/manage")
        with page.expect_download() as download:
            page.get_by_role("link", name="导出 Excel").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
        cells = [str(value) for row in book.active.iter_rows(values_only=True) for value in row if value is not None]
        assert number in cells and "郑佳" in "".join(cells)
        shot(page, "journey-hr-02-export-1280x800")
    finally:
        context.close()


def test_mentor_logs_an_activity_and_the_worker_confirms(county_server, browser):
    base = county_server.base
    _pair_as_hr(browser, base)
    context = _context(browser, 768, 1024)
    try:
        page = context.new_page()
        login(page, base, "mentor")
        page.get_by_role("link", name="我的学员").click()
        page.get_by_role("link", name="记录带教活动").click()
        page.get_by_text("案例复盘", exact=True).click()
        page.get_by_label("时长（分钟）").fill("45")
        page.get_by_label("活动内容").fill("复盘夜间施工噪声扰民的上报单：时间、地点、责任部门要写准")
        shot(page, "journey-mentor-01-log-768x1024")
        page.get_by_role("button", name="保存记录").click()
        assert "等待学员确认" in page.get_by_role("status").first.inner_text()
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")

        login(page, base, "worker")  # the same village tablet
        page.get_by_role("link", name=re.compile(r"^待确认的带教活动（1）")).click()
        assert page.get_by_text("复盘夜间施工噪声扰民的上报单").is_visible()
        shot(page, "journey-mentor-02-confirm-768x1024")
        page.get_by_role("button", name="确认属实").click()
        assert "已确认" in page.get_by_role("status").first.inner_text()
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")

        login(page, base, "mentor")
        page.goto(base + "/mentoring")
        assert page.get_by_text("已确认 1 次").is_visible()
        shot(page, "journey-mentor-03-counted-768x1024")
    finally:
        context.close()
