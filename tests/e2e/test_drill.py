"""The demo worker practises the night-construction-noise report on a tablet: returned, revised, accepted."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import ROOT, login, shot

pytestmark = pytest.mark.e2e

CODE = "night-construction-noise"
MODEL = yaml.safe_load((ROOT / "question_bank" / "drills" / f"{CODE}.yaml").read_text(encoding="utf-8"))["model_report"]
POOR = {"event_type": "噪声扰民", "occurred_at": "晚上", "location": "工地", "parties": "",
        "description": "工地很吵，居民有意见。", "demand": "", "measures": "",
        "department": "城管局（综合行政执法局）", "urgency": "一般"}
SELECTS = ("event_type", "department", "urgency")

_IMPORT = """
from lms import create_app
from lms.contentsync import SyncContext, SyncReport
from lms.db import utcnow
from lms.drills import importer
from lms.extensions import db
from pathlib import Path
app = create_app()
with app.app_context():
    bank = Path(app.config["QUESTIONS_DIR"])
    ctx, report = SyncContext(Path(app.config["COURSES_DIR"]), bank, utcnow()), SyncReport()
    importer.import_taxonomy(ctx, report)
    importer.import_drills(ctx, report)
    assert not report.errors, report.errors
    db.session.commit()
"""


@pytest.fixture(scope="module")
def drills_imported(live_server, tmp_path_factory):
    """The shipped taxonomy and drills in the live server's database (the fixture imports no content)."""
    databases = sorted(Path(tmp_path_factory.getbasetemp()).glob("live*/lms.sqlite3"))
    assert databases, "live_server database not found"
    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{databases[-1]}", "LMS_SECRET_KEY": "e2e-secret"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    # Only the drills' importers: the other features' content is not what this test is about.
    subprocess.run([sys.executable, "-c", _IMPORT], env=env, cwd=ROOT, check=True, capture_output=True)
    return live_server



def _fill(page, report):
    for name, value in report.items():
        control = page.locator(f"#f-{name}")
        if name in SELECTS:
            control.select_option(value)
        else:
            control.fill(value)


@pytest.mark.parametrize("width, height", [(768, 1024), (1280, 800)])
def test_worker_revises_a_returned_report_until_it_is_accepted(drills_imported, browser, width, height):
    base = drills_imported
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        login(page, base)
        page.goto(base + "/drills")
        page.get_by_role("link", name="夜间施工噪声扰民").click()
        page.wait_for_url(f"{base}/drills/{CODE}")
        scenario = page.locator(".drill-scenario").bounding_box()
        form = page.locator(".drill-form-pane").bounding_box()
        if width >= 1024:  # landscape: side by side
            assert scenario["x"] + scenario["width"] <= form["x"] + 1 and abs(scenario["y"] - form["y"]) < 40
        else:  # portrait: the scenario above the form
            assert scenario["y"] + scenario["height"] <= form["y"] + 1
        shot(page, f"drill-01-open-{width}x{height}")

        _fill(page, POOR)
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="returned"]').wait_for()
        assert page.url == f"{base}/drills/{CODE}"  # answered in place through the API
        for name in ("location", "department", "occurred_at"):
            assert "is-invalid" in page.locator(f"#f-{name}").get_attribute("class")
            assert "需修改" in page.locator(f"#f-{name}-msg").inner_text()
        assert page.locator("[data-failed] li").count() >= 4
        page.evaluate("window.scrollTo(0, 0)")  # the sticky scenario is drawn where the page was scrolled
        shot(page, f"drill-02-returned-{width}x{height}")

        _fill(page, MODEL)
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="accepted"]').wait_for()
        assert page.locator("[data-score]").inner_text() == "100"
        assert page.locator(".drill-form .is-invalid").count() == 0
        assert page.locator("[data-history] li").count() >= 2
        assert page.locator("[data-history] li").first.inner_text().count("通过") == 1
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"drill-03-accepted-{width}x{height}")
        # Every attempt is kept on the server too.
        page.reload()
        assert page.locator("[data-history] li").count() >= 2
        assert errors == []
    finally:
        context.close()


def test_form_works_without_javascript(drills_imported, browser):
    base = drills_imported
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, base)
        page.goto(f"{base}/drills/{CODE}")
        _fill(page, POOR)
        page.get_by_role("button", name="提交上报").click()
        page.wait_for_url(f"{base}/drills/{CODE}?report=*")
        assert page.locator('[data-verdict="returned"]').is_visible()
        assert page.locator("#f-location").get_attribute("aria-invalid") == "true"
        assert page.locator("#f-location").input_value() == "工地"
        shot(page, "drill-04-no-js-returned-768x1024")
    finally:
        context.close()



def test_village_trainer_reviews_a_report_and_a_county_trainer_previews_a_scenario(drills_imported, browser):
    base = drills_imported
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base, "worker")
        page.goto(f"{base}/drills/{CODE}")
        _fill(page, POOR)
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="returned"]').wait_for()
        context.clear_cookies()

        login(page, base, "trainer-ty")
        page.goto(base + "/drills/review?verdict=returned")
        page.get_by_role("link", name="查看").first.click()
        page.get_by_label("通过").check()
        page.get_by_label("分数（0–100）").fill("70")
        page.get_by_label("评语（网格员可以看到）").fill("地点还要写到门牌号，这次先通过。")
        shot(page, "drill-05-review-1280x800")
        page.get_by_role("button", name="保存复核").click()
        assert page.get_by_text("已保存复核结论").is_visible()
        assert page.get_by_text("地点还要写到门牌号，这次先通过。").first.is_visible()
        context.clear_cookies()

        login(page, base, "trainer-county")
        page.goto(base + "/drills/new")
        page.get_by_label("情景", exact=True).fill("**夜里**十一点，石桥村3组12号传出争吵声。")
        page.locator("[data-markdown-preview] strong").wait_for()
        assert page.locator("[data-markdown-preview]").inner_text().startswith("夜里")
        shot(page, "drill-06-editor-1280x800")
    finally:
        context.close()
