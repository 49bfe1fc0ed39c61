"""On tablets: the demo mentor (赵德山) logs an activity for the new worker (张小明), who confirms it."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e

PASSWORD = "Demo@2026"


def _pair_as_hr(browser, base: str) -> int:
    """HR creates the pairing through the JSON API, as the county's scripts would."""
    context = browser.new_context()
    try:
        session = context.request.post(base + "/api/v1/session", data={"username": "hr", "password": PASSWORD})
        assert session.status == 200, session.text()
        csrf = session.json()["csrf_token"]
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        response = context.request.post(base + "/api/v1/pairings", headers={"X-CSRFToken": csrf}, data={
            "mentor": "mentor", "mentees": ["worker"], "start": (today - dt.timedelta(days=7)).isoformat(),
            "end": (today + dt.timedelta(days=90)).isoformat(), "goals": "三个月内独立完成入户走访和事件上报"})
        assert response.status == 201, response.text()
        return response.json()["id"]
    finally:
        context.close()



def test_mentor_logs_an_activity_and_the_worker_confirms_it(live_server, browser, tablet):
    _pair_as_hr(browser, live_server)
    errors = []
    tablet.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # The mentor, on the village office's tablet.
    page = tablet
    login(page, live_server, "mentor")
    page.get_by_role("link", name="我的学员").click()
    assert page.get_by_text("张小明").first.is_visible()
    page.get_by_role("link", name="记录带教活动").click()
    page.get_by_text("联合走访", exact=True).click()
    page.get_by_label("时长（分钟）").fill("90")
    page.get_by_label("地点（可不填）").fill("桃源村 3 组")
    page.get_by_label("活动内容").fill("一起走访 3 组独居老人，示范如何核实诉求并当场上报")
    shot(page, "mentoring-01-log-768x1024")
    page.get_by_role("button", name="保存记录").click()
    assert "等待学员确认" in page.get_by_role("status").first.inner_text()
    page.get_by_role("button", name="退出").click()

    # The worker, on their own tablet.
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    try:
        worker = context.new_page()
        worker.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        login(worker, live_server, "worker")
        worker.get_by_role("link", name="待确认的带教活动（1）").click()
        assert worker.get_by_text("一起走访 3 组独居老人").is_visible()
        confirm = worker.get_by_role("button", name="确认属实")
        box = confirm.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        shot(worker, "mentoring-02-confirm-768x1024")
        confirm.click()
        assert "已确认" in worker.get_by_role("status").first.inner_text()
        assert worker.get_by_text("没有待确认的活动").is_visible()
    finally:
        context.close()

    # Back on the mentor's tablet the activity now counts.
    login(page, live_server, "mentor")
    page.goto(live_server + "/mentoring")
    assert page.get_by_text("已确认 1 次").is_visible()
    shot(page, "mentoring-03-dashboard-768x1024")
    assert errors == []


@pytest.mark.parametrize("viewport", ["phone", "tablet-landscape"])
def test_hr_mentoring_and_team_pages_fit_the_screen(live_server, browser, viewport):
    from tests.e2e.conftest import VIEWPORTS

    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    errors = []
    try:
        page = context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        login(page, live_server, "hr")
        for path, heading in [("/mentoring/pairings", "老带新结对"), ("/mentoring/outcomes", "结对成效"),
                              ("/teams/gaps", "未达配置要求的网格"), ("/teams/HX010101", "桃源村第一网格")]:
            page.goto(live_server + path)
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
            shot(page, f"mentoring-hr{path.replace('/', '-')}-{width}x{height}")
            # Wide tables scroll inside their own box; the page itself never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    finally:
        context.close()
    assert errors == []
