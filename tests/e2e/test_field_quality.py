"""我的上报质量 and 现场上报质量 on a tablet (real Chromium against gunicorn): the demo county's year loaded as
`make run` does, reached from the drills list and the menu; fits 768 and 360 px, no serious axe violations."""
from __future__ import annotations

import re

import pytest

from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import LiveServer, login, shot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def field_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("fieldyear")).prepare()
    loaded = server.flask("field", "demo")
    assert "新增" in loaded.stdout, loaded.stdout + loaded.stderr
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tablet(browser):
    """768×1024, zh-CN; bypass_csp: our CSP forbids injected scripts, which is exactly what axe is."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True,
                                  bypass_csp=True)
    yield context.new_page()
    context.close()


def test_worker_opens_my_quality_from_the_drills_list(field_server, tablet):
    page = tablet
    login(page, field_server.base, "worker")
    page.goto(field_server.base + "/drills")
    page.get_by_role("link", name=re.compile("我的上报质量")).click()
    page.wait_for_url(re.compile(r".*/field/mine$"))
    assert page.get_by_role("heading", name="我的上报质量").is_visible()
    summary = page.locator("#field-summary").inner_text()
    assert re.search(r"上报 \d+ 件，退回率", summary), summary
    chart = page.locator("svg[role=img]")
    assert chart.count() == 1 and "退回·描述不清" in chart.inner_html()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.get_by_role("button", name="查看").bounding_box()["height"] >= 44
    assert serious_violations(page) == []
    shot(page, "field-01-mine-768x1024")
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "field-02-mine-360")


def test_hr_sees_a_chart_per_township_and_the_people_of_one(field_server, tablet):
    page = tablet
    login(page, field_server.base, "hr")
    page.locator("header summary", has_text="管理").click()  # the operators' pages sit in the 管理 menu
    page.locator("header").get_by_role("link", name="上报质量").click()
    page.wait_for_url(re.compile(r".*/field/quality$"))
    assert page.get_by_role("heading", name="现场上报质量").is_visible()
    assert page.locator("figure svg[role=img]").count() == 2  # 青石镇, 城关街道
    assert page.get_by_role("heading", name="青石镇").is_visible()
    assert serious_violations(page) == []
    shot(page, "field-03-county-768x1024")
    page.get_by_role("link", name="青石镇").click()
    page.wait_for_url(re.compile(r".*org=HX01.*"))
    assert page.locator("#field-people tbody tr").count() >= 10
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
