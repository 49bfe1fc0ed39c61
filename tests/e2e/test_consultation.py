"""The demo worker answers a resident's question (政策答询) on a tablet and a phone: returned, revised, accepted,
then reads the model answer beside their own."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import ROOT, login, shot

pytestmark = pytest.mark.e2e

POOR = "老哥，交满十五年就行，你再交两年就不用交了，到时候保证每月能领，放心好了。"

_IMPORT = """
from lms import create_app
from lms.consultations import importer
from lms.contentsync import SyncContext, SyncReport
from lms.db import utcnow
from lms.extensions import db
from pathlib import Path
app = create_app()
with app.app_context():
    ctx = SyncContext(Path(app.config["COURSES_DIR"]), Path(app.config["QUESTIONS_DIR"]), utcnow())
    report = SyncReport()
    importer.import_consultations(ctx, report)
    assert not report.errors, report.errors
    db.session.commit()
"""


def _model(code: str) -> str:
    path = ROOT / "question_bank" / "consultations" / f"{code}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["model_answer"]


@pytest.fixture(scope="module")
def consultations_imported(live_server, tmp_path_factory):
    """The shipped consultations in the live server's database (the fixture imports no content)."""
    databases = sorted(Path(tmp_path_factory.getbasetemp()).glob("live*/lms.sqlite3"))
    assert databases, "live_server database not found"
    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{databases[-1]}", "LMS_SECRET_KEY": "e2e-secret"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", _IMPORT], env=env, cwd=ROOT, check=True, capture_output=True)
    return live_server


# One consultation per viewport: the demo worker's answers to one do not change what the other shows.
@pytest.mark.parametrize("width, height, code, title", [
    (768, 1024, "pension-minimum-years", "养老保险交满十五年就够了吗"),
    (360, 800, "unemployment-benefit", "被厂里裁了能不能领失业金"),
])
def test_worker_answers_a_consultation_and_compares_with_the_model(consultations_imported, browser, width, height,
                                                                   code, title):
    base = consultations_imported
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        login(page, base)
        page.goto(base + "/consultations")
        page.get_by_role("link", name=title).click()
        page.wait_for_url(f"{base}/consultations/{code}")
        bubble = page.locator("[data-question]")
        assert bubble.is_visible() and "问：" in bubble.inner_text()
        box = page.locator("#answer")
        assert box.bounding_box()["width"] >= width * 0.8  # a big box, the page's full width
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off the side
        assert page.locator("[data-compare]").count() == 0  # no model answer before trying
        shot(page, f"consultation-01-open-{width}x{height}")

        box.fill(POOR)
        page.get_by_role("button", name="提交回答").click()
        page.locator('[data-verdict="returned"]').wait_for()
        assert page.locator('[data-passed="false"]').count() >= 2
        assert "需修改" in page.locator("[data-checks]").inner_text()
        assert page.locator("#answer").input_value().startswith("老哥")  # kept to revise
        assert page.locator("[data-compare]").count() == 0
        shot(page, f"consultation-02-returned-{width}x{height}")

        page.locator("#answer").fill(_model(code))
        page.get_by_role("button", name="提交回答").click()
        page.locator('[data-verdict="accepted"]').wait_for()
        compare = page.locator("[data-compare]")
        assert compare.is_visible()
        assert page.locator("[data-model]").inner_text().strip() == _model(code).strip()
        assert page.locator("[data-mine]").inner_text().strip() == _model(code).strip()
        # Both boxes in one evaluation: the page may still be scrolling to #result between two separate reads.
        mine, model = page.evaluate("""() => ['[data-mine]', '[data-model]'].map(s => {
            const r = document.querySelector(s).getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        })""")
        if width >= 700:  # side by side on a tablet, one above the other on a phone
            assert mine["x"] + mine["width"] <= model["x"] and abs(mine["y"] - model["y"]) < 5
        else:
            assert mine["y"] + mine["height"] <= model["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        compare.scroll_into_view_if_needed()
        shot(page, f"consultation-03-model-answer-{width}x{height}")
        assert errors == []
    finally:
        context.close()


def test_an_answer_written_offline_waits_on_the_tablet_and_is_graded_when_the_network_returns(
        consultations_imported, browser):
    base, code = consultations_imported, "dibao-application"
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    try:
        login(page, base)
        page.goto(f"{base}/consultations/{code}")
        context.set_offline(True)
        try:
            page.locator("#answer").fill(_model(code))
            page.get_by_role("button", name="提交回答").click()
            page.get_by_text("回答已保存在本机（待上传）").wait_for()
            shot(page, "consultation-04-offline-pending-768x1024")
        finally:
            context.set_offline(False)
        page.get_by_text("回答已上传，刷新本页查看检查结果").wait_for(timeout=40000)
        page.reload()
        history = page.locator("#history-title + ol li")
        assert history.count() == 1 and "通过" in history.first.inner_text()
        assert page.locator("[data-compare]").is_visible()  # accepted: the model answer beside theirs
    finally:
        context.close()
