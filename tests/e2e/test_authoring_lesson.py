"""A township trainer creates a course without typing a code and writes a lesson with the toolbar (heading, list,
table, callout, image uploaded from the editor) beside its live preview, at tablet widths."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.e2e.a11y import AXE
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e


def main_violations(page) -> list[str]:
    """axe's serious WCAG 2.1 A/AA findings inside <main> (the editor; the shared header is checked elsewhere)."""
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; animation: none !important; }")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => await axe.run({include: [['#main']]}, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    return [f"{v['id']}: {n['target']}" for v in result["violations"] if v["impact"] in ("serious", "critical")
            for n in v["nodes"]]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("width, height", [(1280, 800), (768, 1024)])
def test_trainer_writes_a_lesson_with_the_toolbar_and_an_uploaded_image(live_server, browser, width, height):
    base = live_server
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        login(page, base, "trainer-qs")
        page.goto(base + "/author/courses/new")
        page.get_by_label("课程标题").fill("矛盾纠纷调解")
        # The blank code field shows the code the title will give; nothing has to be typed there.
        code_field = page.get_by_label("课程编码")
        # (CSP forbids wait_for_function's eval: poll the attribute instead)
        for _ in range(50):
            if (code_field.get_attribute("placeholder") or "").startswith("留空将生成 mdjftj-"):
                break
            page.wait_for_timeout(100)
        assert re.fullmatch(r"留空将生成 mdjftj-\d+", code_field.get_attribute("placeholder") or "")
        assert code_field.input_value() == ""
        page.get_by_label("学时").fill("1")
        page.get_by_role("button", name="创建课程").click()
        page.wait_for_url(re.compile(r".*/author/courses/mdjftj-\d+$"))
        code = page.url.rsplit("/", 1)[-1]
        page.get_by_role("link", name="新增课时").click()
        page.get_by_label("课时标题").fill("调解的步骤")
        slug = page.get_by_label("课时短名")
        for _ in range(50):
            if slug.get_attribute("placeholder"):
                break
            page.wait_for_timeout(100)
        assert slug.get_attribute("placeholder") == "留空将生成 tjdbz-1"
        page.get_by_label("预计学习分钟数").fill("5")
        editor = page.get_by_label("正文（Markdown）")
        toolbar = page.get_by_role("toolbar", name="正文格式")
        editor.fill("调解前先了解情况")
        toolbar.get_by_role("button", name="标题", exact=True).click()
        editor.press("End")
        editor.press("Enter")
        editor.type("\n听取双方陈述\n核实事实")
        editor.evaluate("el => { const at = el.value.indexOf('听取'); el.setSelectionRange(at, el.value.length); }")
        toolbar.get_by_role("button", name="列表", exact=True).click()
        toolbar.get_by_role("button", name="表格").click()
        toolbar.get_by_role("button", name="提示框").click()
        with page.expect_file_chooser() as chooser:
            toolbar.get_by_role("button", name="图片…").click()
        chooser.value.set_files({"name": "steps.png", "mimeType": "image/png", "buffer": _png()})
        page.get_by_text("已插入图片 steps.png").wait_for()
        preview = page.locator("#preview")
        preview.locator("img").wait_for()
        assert preview.locator("h2").inner_text() == "调解前先了解情况"
        assert preview.locator("ul li").all_inner_texts() == ["听取双方陈述", "核实事实"]
        assert preview.locator("table th").all_inner_texts() == ["项目", "说明"]
        assert preview.locator("blockquote strong").inner_text() == "提示："
        assert preview.locator("img").get_attribute("src") == f"/courses/{code}/assets/steps.png"
        assert preview.locator("img").evaluate("img => img.complete && img.naturalWidth") == 120
        # Side by side at tablet width: the preview is right of the text, not below it.
        text_box, preview_box = editor.bounding_box(), preview.bounding_box()
        assert preview_box["x"] >= text_box["x"] + text_box["width"] - 1 and abs(preview_box["y"] - text_box["y"]) < 120
        # A file that is not an image is refused in Chinese before anything is sent.
        with page.expect_file_chooser() as chooser:
            toolbar.get_by_role("button", name="图片…").click()
        chooser.value.set_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"x"})
        page.get_by_text("只能插入 PNG、JPEG、GIF 或 WebP 图片").wait_for()
        shot(page, f"authoring-lesson-toolbar-{width}x{height}")
        page.get_by_role("button", name="保存课时").click()
        page.wait_for_url(re.compile(rf".*/author/courses/{code}/lessons/tjdbz-1$"))
        assert page.get_by_text("课时已保存（新版本）。").is_visible()
        assert errors == []
    finally:
        context.close()
    # bypass_csp: our CSP forbids injected scripts, which is exactly what axe is.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    try:
        login(page, base, "trainer-qs")
        page.goto(f"{base}/author/courses/{code}/lessons/tjdbz-1")
        page.get_by_role("toolbar", name="正文格式").wait_for()
        page.locator("#preview img").wait_for()
        assert main_violations(page) == []
    finally:
        context.close()
