"""On a tablet and a laptop: HR runs accounts in the browser — create (one-time password shown once), edit, grant a
role, disable and re-enable; upload a roster with a bad row, read the preview, confirm, download the password sheet."""
from __future__ import annotations

import io

import openpyxl
import pytest

from tests.e2e.conftest import LiveServer, login, shot

pytestmark = pytest.mark.e2e

VIEWPORTS = {"1280x800": (1280, 800), "768x1024": (768, 1024)}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A server of this module's own: the accounts it creates must not change other modules' teams."""
    server = LiveServer(tmp_path_factory.mktemp("accounts")).prepare().start()
    yield server.base
    server.stop()


@pytest.fixture(params=list(VIEWPORTS))
def hr_page(browser, live_server, request):
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True,
                                  accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the 停用/启用 confirmations
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server, "hr")
    yield page, request.param, errors
    context.close()


def test_hr_creates_edits_grants_disables_and_re_enables_an_account(hr_page, live_server):
    page, size, errors = hr_page
    name = f"测试{'甲' if size == '1280x800' else '乙'}"
    page.goto(live_server + "/users")
    page.get_by_role("link", name="新建账号").click()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("所在单位").select_option("HX010101")
    page.get_by_label("角色").select_option("worker")
    page.get_by_label("手机号（可不填）").fill("13812345678")
    page.get_by_role("button", name="创建账号").click()

    password_box = page.locator("[data-field=one-time-password]")
    password = password_box.inner_text().strip()
    assert len(password) >= 8 and not set(password) & set("0O1Il")
    assert float(password_box.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 28  # large, readable
    username = page.locator("[data-field=username]").inner_text().strip()
    assert username.startswith("HX010101-")

    page.get_by_role("link", name="返回人员名单").click()
    page.get_by_role("link", name="编辑").first.click()
    page.get_by_label("学历（可不填）").select_option("本科")
    page.get_by_role("button", name="保存修改").click()
    page.get_by_text(f"已保存 {name}（{username}）的学历。").wait_for()  # after the redirect, not before it

    page.goto(f"{live_server}/users?q={username}")
    page.get_by_role("link", name="角色").first.click()
    page.get_by_label("新增角色").select_option("mentor")
    page.get_by_label("管辖范围（该单位及其下级）").select_option("HX01")
    page.get_by_role("button", name="保存角色").click()
    page.get_by_label("导师（青石镇）").wait_for()
    assert page.get_by_label("导师（青石镇）").is_checked()

    page.goto(f"{live_server}/users?q={username}")
    page.get_by_role("button", name="停用").first.click()
    page.get_by_text("已停用", exact=True).first.wait_for()
    page.get_by_role("button", name="启用").first.click()
    page.goto(f"{live_server}/users?q={username}")
    assert page.get_by_role("button", name="停用").first.is_visible()
    assert not errors, errors


def test_hr_uploads_a_roster_sees_the_bad_row_confirms_and_downloads_the_sheet_once(hr_page, live_server, tmp_path):
    page, size, errors = hr_page
    prefix = "RA" if size == "1280x800" else "RB"
    roster = tmp_path / "名单.csv"
    roster.write_text("工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色\n"
                      f"{prefix}001,赵一,,,,大专,,HX010101,网格员\n"
                      f"{prefix}002,钱二,,1381234,,,,HX010101,\n"
                      f"{prefix}003,孙三,,,,,,HX020101,网格员\n", encoding="utf-8")
    page.goto(live_server + "/users")
    page.get_by_role("link", name="导入名单").click()
    page.get_by_label("名单文件（XLSX 或 CSV）").set_input_files(str(roster))
    page.get_by_role("button", name="上传并预览").click()

    errors_table = page.locator("#roster-errors")
    assert "第 3 行" in errors_table.inner_text() and "手机号应为 11 位" in errors_table.inner_text()
    changes = page.locator("#roster-changes").inner_text()
    assert f"{prefix}001" in changes and f"{prefix}003" in changes and "新建" in changes
    shot(page, f"accounts-roster-preview-{size}")

    page.get_by_role("button", name="确认导入 2 条正确的行").click()
    assert "新建 2 人" in page.locator("main, body").first.inner_text()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载初始密码表").click()
    with open(download_info.value.path(), "rb") as handle:
        data = handle.read()
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "初始密码") and [r[0] for r in rows[1:]] == [f"{prefix}001", f"{prefix}003"]
    page.reload()
    assert page.get_by_text("初始密码表已下载").is_visible()
    assert not errors, errors
