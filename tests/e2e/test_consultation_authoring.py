"""A county trainer authors a consultation drill (政策答询) from scratch in the form at 1280×800 (rows with chips,
refer and overpromise chips, sources as rows, 检查范文), publishes it, and a worker in scope answers it:
accepted on the first try."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e

TITLE = "交满十五年就能领养老金吗（网页编写）"
POINTS = [("最低缴费年限逐步提高到20年", ["提高到20年", "二十年", "20年"]),
          ("交不够可以继续交或补足", ["继续交", "补足", "补缴"]),
          ("领多少按缴费年限和基数算", ["缴费年限", "缴费基数", "交得越久"])]
MODEL = ("周叔，交满十五年就行是老说法了。国家实行延迟退休，从2030年起，最低缴费年限每年增加半年，逐步提高到20年。"
         "您到退休年龄时如果年限还不够，可以继续交或者一次补足。每月领多少跟缴费年限和缴费基数有关，交得越久领得越多。"
         "具体您带上身份证到镇社保所查一下缴费记录，让他们帮您算。")
PROMISE = MODEL.replace("让他们帮您算。", "我保证您每月能领。")


def _chips(page, selector: str) -> str:
    return page.locator(selector).evaluate("input => input.value")


def test_trainer_authors_a_consultation_and_a_worker_passes_it(live_server, browser):
    base = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        login(page, base, "trainer-county")
        page.goto(base + "/consultations/manage")
        page.get_by_role("link", name="新建政策答询").click()
        page.wait_for_url(base + "/consultations/new")
        page.get_by_label("标题").fill(TITLE)
        page.get_by_label("提问的人").fill("58岁的村民老周")
        page.locator("#c-question").fill("我交到第十三年了，是不是**再交两年**就不用交了？以后每月能领多少？")
        page.locator("[data-markdown-preview] strong").wait_for()  # the sanitised preview beside the Markdown

        points = page.locator('[data-row-editor="point"]')
        for _ in range(len(POINTS) - 1):
            points.get_by_role("button", name="＋ 添加一条").click()
        rows = points.locator("[data-row]")
        assert rows.count() == len(POINTS)
        for index, (name, words) in enumerate(POINTS):
            rows.nth(index).locator('input[name="point_name"]').fill(name)
            rows.nth(index).locator(".chips-input").fill("、".join(words) + "、")
        wrong = page.locator('[data-row-editor="wrong"] [data-row]').first
        wrong.locator('input[name="wrong_name"]').fill("只说交满十五年就行")
        wrong.locator(".chips-input").fill("交满十五年就行")
        wrong.locator(".chips-input").press("Enter")
        page.locator("#c-refer").fill("县社保局、镇社保所、")
        page.locator("#c-over").fill("保证每月能领")
        page.locator("#c-over").press("Enter")
        assert _chips(page, "#c-refer-value") == "县社保局、镇社保所"
        assert _chips(page, "#c-over-value") == "保证每月能领"
        page.locator('[data-row-editor="source"] input[name="source"]').first.fill("《中华人民共和国社会保险法》第十六条")

        # 检查范文 with a promise in the model answer first: the rules say which check fails, nothing is saved.
        page.locator("#c-model").fill(PROMISE)
        page.get_by_role("button", name="检查范文").click()
        page.locator('[data-check-verdict="returned"]').wait_for()
        assert "✗ 不乱承诺" in page.locator("[data-check-result]").inner_text()
        page.locator("#c-model").fill(MODEL)
        page.get_by_role("button", name="检查范文").click()
        page.locator('[data-check-verdict="accepted"]').wait_for()
        assert "✗" not in page.locator("[data-check-result]").inner_text()
        shot(page, "authoring-consultation-01-checked-1280x800")

        page.get_by_role("button", name="保存并发布").click()
        page.wait_for_url(re.compile(r".*/consultations/[a-z0-9-]+/edit$"))
        code = page.url.rsplit("/", 2)[-2]
        assert re.fullmatch(r"jmswnjnlyljm-wybx-\d+", code), code
        assert "并发布" in page.content() and "已发布" in page.content()
        assert _chips(page, '[data-row-editor="point"] [data-row]:first-child input[type=hidden][data-chips]') \
            == "、".join(POINTS[0][1])
        shot(page, "authoring-consultation-02-published-1280x800")
        assert errors == []

        context.clear_cookies()
        login(page, base)
        page.goto(base + "/consultations")
        page.get_by_role("link", name=re.compile(re.escape(TITLE))).click()
        page.wait_for_url(f"{base}/consultations/{code}")
        assert "再交两年" in page.locator("[data-question]").inner_text()
        page.locator("#answer").fill(MODEL)
        page.get_by_role("button", name="提交回答").click()
        page.locator('[data-verdict="accepted"]').wait_for()
        shot(page, "authoring-consultation-03-worker-accepted-1280x800")
        assert errors == []
    finally:
        context.close()


def test_the_consultation_editor_passes_axe(live_server, browser):
    from tests.e2e.test_authoring_drill import main_violations

    # bypass_csp: our CSP forbids injected scripts, which is exactly what axe is.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    try:
        login(page, live_server, "trainer-county")
        page.goto(live_server + "/consultations/new")
        page.locator(".chips").first.wait_for()
        assert main_violations(page) == []
    finally:
        context.close()
