"""Learning from the model on a tablet and a phone: after the second return the worker's report sits beside
the model report, field by field, the differences marked; readable at 768×1024 and 360×800."""
from __future__ import annotations

import pytest

from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import login, shot
from tests.e2e.test_drill import _fill, drills_imported  # noqa: F401  (fixture: the shipped drills imported)

pytestmark = pytest.mark.e2e

CODE = "street-vending"  # no other browser test reports on it: the demo worker starts with no report here
HURRIED = {"event_type": "环境卫生", "occurred_at": "今天早上", "location": "菜市场门口", "parties": "摊贩",
           "description": "菜市场门口很多摊贩占道，很乱，居民有意见。", "demand": "要求处理", "measures": "已上报",
           "department": "城管局（综合行政执法局）", "urgency": "一般"}


def _sides(compare, field: str) -> tuple[dict, dict]:
    """The worker's and the model's boxes of one field, read in one go (a smooth scroll may be under way)."""
    return compare.locator(f'[data-compare-field="{field}"]').evaluate(
        "row => [...row.querySelectorAll('.compare-side')].map(s => {"
        " const r = s.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })")


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_model_report_appears_beside_the_workers_after_the_second_return(drills_imported, browser):  # noqa: F811
    base = drills_imported
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True,
                                  bypass_csp=True)  # axe is an injected script, which our CSP forbids
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        login(page, base)
        page.goto(f"{base}/drills/{CODE}")
        _fill(page, HURRIED)
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="returned"]').wait_for()
        rules = page.locator("[data-failed] li").evaluate_all("items => items.map(i => i.dataset.rule)")
        for rule in ("event_type", "demand_specific", "measures_specific"):  # the lesson's 写得不好 column
            assert rule in rules, rules
        assert page.locator("[data-compare-link]").count() == 0  # one return: the model stays hidden

        _fill(page, HURRIED | {"location": "解放路56号南关菜市场北门外"})
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="returned"] >> nth=0').wait_for()
        page.locator("[data-compare-link]").wait_for()
        page.locator("[data-compare-link]").click()
        page.wait_for_url(f"{base}/drills/{CODE}?report=*#model-compare")
        compare = page.locator("[data-model-compare]")
        compare.wait_for()
        assert compare.locator("[data-compare-field]").count() == 9
        assert compare.locator('[data-compare-field="event_type"]').get_attribute("data-compare-status") == "different"
        assert compare.locator('[data-compare-field="department"]').get_attribute("data-compare-status") == "same"
        assert compare.locator("mark.compare-mark").count() > 5
        assert "占道经营" in compare.locator('[data-compare-field="event_type"] .compare-model').inner_text()
        assert "群众诉求太笼统" in compare.locator('[data-compare-field="demand"]').inner_text()
        # side by side on the tablet: the model's column starts level with the worker's, to its right
        mine, model = _sides(compare, "measures")
        assert model["x"] > mine["x"] + mine["width"] - 1 and abs(model["y"] - mine["y"]) < 2
        assert _no_sideways_scroll(page)
        assert serious_violations(page) == []
        compare.scroll_into_view_if_needed()
        shot(page, "drill-model-compare-768x1024")
        assert errors == []
    finally:
        context.close()

    phone = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN", has_touch=True,
                                  bypass_csp=True)  # axe is an injected script, which our CSP forbids
    page = phone.new_page()
    try:
        login(page, base)
        page.goto(f"{base}/drills/{CODE}#model-compare")  # the latest report, compared
        compare = page.locator("[data-model-compare]")
        compare.wait_for()
        assert compare.locator("[data-compare-field]").count() == 9
        # stacked on the phone: the model's block under the worker's, as wide
        mine, model = _sides(compare, "description")
        assert model["y"] >= mine["y"] + mine["height"] - 1 and abs(model["x"] - mine["x"]) < 2
        assert _no_sideways_scroll(page)
        assert serious_violations(page) == []
        compare.scroll_into_view_if_needed()
        shot(page, "drill-model-compare-360x800")
    finally:
        phone.close()
