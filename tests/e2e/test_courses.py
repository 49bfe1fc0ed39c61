"""A worker on a tablet: 我的学习 → a county course → a lesson → mark complete → progress shows."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import ASSIGN_COUNTY_COURSE as _ASSIGN
from tests.e2e.conftest import ROOT, login, shot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def courses_loaded(live_server, tmp_path_factory):
    """`flask content import` and one assignment, against the live server's SQLite database."""
    databases = sorted(tmp_path_factory.getbasetemp().glob("live*/lms.sqlite3"))
    assert databases, "live server database not found"
    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{databases[-1]}", "LMS_SECRET_KEY": "e2e-secret"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "lms", "content", "import",
                             "--courses", str(ROOT / "courses")], env=env, cwd=ROOT, capture_output=True, text=True)
    # Other features' files may still be in progress; the courses must have imported.
    assert "课程：新增" in result.stdout, result.stdout + result.stderr
    subprocess.run([sys.executable, "-c", _ASSIGN], env=env, cwd=ROOT, check=True, capture_output=True)
    return live_server



def test_worker_learns_a_county_lesson_at_768x1024(courses_loaded, tablet):
    page, base = tablet, courses_loaded
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, base)
    page.get_by_role("link", name="我的学习").first.click()
    page.wait_for_url(base + "/learning")
    assert page.get_by_role("heading", name="网格员职责与工作规范").is_visible()
    shot(page, "courses-01-my-learning-768x1024")
    page.get_by_role("link", name="开始学习").click()
    page.wait_for_url("**/courses/county-grid-duties/lessons/**")
    assert page.locator("#lesson-body h2").first.is_visible()
    assert page.get_by_role("button", name="朗读").is_visible()  # Chromium has speech synthesis
    # Readable typography: 18px+ body text, ~1.8 line height, ~40em measure.
    size, line = page.evaluate("""() => { const s = getComputedStyle(document.getElementById('lesson-body'));
        return [parseFloat(s.fontSize), parseFloat(s.lineHeight) / parseFloat(s.fontSize)]; }""")
    assert size >= 18 and 1.7 <= line <= 1.9
    shot(page, "courses-02-lesson-768x1024")
    page.get_by_role("button", name="标记为学完，进入下一课").click()
    page.wait_for_url("**/lessons/duties-and-norms")
    page.get_by_text("已标记为学完。").wait_for()  # the form checks the server is reachable first
    page.get_by_role("link", name="我的学习").first.click()
    assert page.get_by_text("进度：已学 1/4 课").is_visible()
    assert page.get_by_role("link", name="继续学习").is_visible()
    shot(page, "courses-03-progress-768x1024")
    assert errors == []


def test_catalog_to_lesson_on_a_phone_360x800(courses_loaded, browser):
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN", has_touch=True)
    # A browser without speech synthesis: the read-aloud button must stay hidden.
    context.add_init_script("Object.defineProperty(window, 'speechSynthesis', {value: undefined, configurable: true})")
    page = context.new_page()
    try:
        login(page, courses_loaded, "worker3")
        page.goto(courses_loaded + "/courses?level=township")
        assert page.get_by_role("heading", name="房屋征收与补偿政策解读").is_visible()
        assert page.get_by_text("矛盾纠纷排查与人民调解").count() == 0  # 青石镇's course: not for 城关街道
        page.get_by_role("link", name="房屋征收与补偿政策解读").click()
        page.get_by_role("link", name="开始学习").click()
        assert page.locator('[data-action="read-aloud"]').is_hidden()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
        page.get_by_role("button", name="标记为学完，进入下一课").click()
        page.get_by_text("已标记为学完。").wait_for()  # the form checks the server is reachable first
        shot(page, "courses-04-lesson-360x800")
    finally:
        context.close()


def test_trainer_sees_a_sanitised_live_preview(courses_loaded, tablet):
    page, base = tablet, courses_loaded
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, base, "trainer-qs")
    page.goto(base + "/author/courses/new")
    page.get_by_label("课程编码").fill("qs-e2e-course")
    page.get_by_label("课程标题").fill("青石镇测试课")
    page.get_by_label("学时").fill("1")
    page.get_by_role("button", name="创建课程").click()
    page.wait_for_url("**/author/courses/qs-e2e-course")
    page.get_by_role("link", name="新增课时").click()
    page.get_by_label("课时短名").fill("first")
    page.get_by_label("课时标题").fill("第一课")
    page.get_by_label("预计学习分钟数").fill("5")
    page.get_by_label("正文（Markdown）").fill("## 预览标题\n\n<img src=x onerror=\"document.title='pwned'\">**加粗**")
    preview = page.locator("#preview")
    preview.locator("h2").wait_for()
    assert preview.locator("h2").inner_text() == "预览标题"
    assert preview.locator("strong").inner_text() == "加粗"
    assert "onerror" not in preview.inner_html()
    assert page.title() != "pwned"
    shot(page, "courses-05-author-preview-768x1024")
    page.get_by_role("button", name="保存课时").click()
    page.wait_for_url("**/author/courses/qs-e2e-course/lessons/first")
    assert page.get_by_text("课时已保存（新版本）。").is_visible()
    assert [e for e in errors if "404" not in e] == []  # the hostile <img src=x> points at a missing asset
