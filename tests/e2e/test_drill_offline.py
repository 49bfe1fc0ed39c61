"""Drill reports on a village tablet with a weak signal: the draft is kept while typing, a report submitted
offline waits on the tablet and is sent once when the connection returns; another user never sees a draft."""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import login, shot, wait_until
from tests.e2e.test_drill import CODE, MODEL, POOR, _fill, drills_imported  # noqa: F401  (module fixture)

pytestmark = pytest.mark.e2e

HISTORY = "[data-history] li:not([data-history-empty])"
DRAFT_KEYS = "Object.keys(localStorage).filter(k => k.startsWith('lms.draft.'))"
QUEUED = "Object.keys(localStorage).filter(k => k.startsWith('lms.pending.')).map(k => JSON.parse(localStorage[k])).flat()"


def _context(browser, **options):
    return browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True, **options)


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_report_written_offline_is_sent_once_when_the_connection_returns(drills_imported, browser):  # noqa: F811
    base = drills_imported
    context = _context(browser)
    page = context.new_page()
    errors = _console_errors(page)
    try:
        login(page, base, "worker4")
        page.goto(f"{base}/drills/{CODE}")
        before = page.locator(HISTORY).count()

        page.context.set_offline(True)
        wait_until(page, "!document.getElementById('offline-banner').hidden")
        _fill(page, MODEL)
        # Kept on the tablet while typing, under this user's key.
        user = page.evaluate("LMS.user")
        draft = page.evaluate(f"localStorage.getItem('lms.draft.{user}.drill.{CODE}')")
        assert json.loads(draft)["values"]["location"] == MODEL["location"]

        page.get_by_role("button", name="提交上报").click()
        page.locator("[data-status]", has_text="已保存在本机").wait_for()
        page.get_by_role("button", name="提交上报").click()  # an impatient second tap: still one report
        queued = page.evaluate(QUEUED)
        assert len(queued) == 1 and queued[0]["body"]["client_id"] and queued[0]["drill"] == CODE
        assert page.locator("[data-verdict]").count() == 0
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "drill-offline-01-queued-768x1024")

        page.context.set_offline(False)
        page.locator('[data-verdict="accepted"]').wait_for(timeout=20000)
        assert "本机保存的上报已提交" in page.locator("[data-status]").inner_text()
        assert page.evaluate(QUEUED) == [] and page.evaluate(DRAFT_KEYS) == []
        assert page.locator(HISTORY).count() == before + 1
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "drill-offline-02-sent-768x1024")

        # Stored exactly once, and it is the report that was queued.
        page.reload()
        assert page.locator(HISTORY).count() == before + 1
        drills = page.request.get(base + "/api/v1/drills?per_page=100").json()["drills"]
        assert next(d for d in drills if d["code"] == CODE)["last"]["verdict"] == "accepted"
        assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    finally:
        context.close()


def test_a_lost_reply_is_retried_with_the_same_client_id(drills_imported, browser):  # noqa: F811
    """The server stores the report but the reply never arrives: the retry must not make a second record."""
    base = drills_imported
    # page.route does not see requests that pass through a service worker.
    context = _context(browser, service_workers="block")
    page = context.new_page()
    try:
        login(page, base, "worker4")
        page.goto(f"{base}/drills/{CODE}")
        before = page.locator(HISTORY).count()
        posts: list[tuple[str, int]] = []

        def drop_first_reply(route):
            response = route.fetch()  # reaches the server, which records the report
            posts.append((json.loads(route.request.post_data)["client_id"], response.status))
            if len(posts) == 1:
                route.abort("connectionreset")
            else:
                route.fulfill(response=response)

        page.route(f"{base}/api/v1/drills/{CODE}/reports", drop_first_reply)
        _fill(page, POOR)
        page.get_by_role("button", name="提交上报").click()
        page.locator('[data-verdict="returned"]').wait_for(timeout=20000)
        assert len(posts) == 2 and posts[0][0] == posts[1][0]
        assert [status for _, status in posts] == [201, 200]  # the second answer is the first record's
        assert page.locator(HISTORY).count() == before + 1
        page.reload()
        assert page.locator(HISTORY).count() == before + 1
    finally:
        context.close()


def test_a_draft_stays_with_its_user_on_a_shared_tablet(drills_imported, browser):  # noqa: F811
    base = drills_imported
    context = _context(browser)
    page = context.new_page()
    errors = _console_errors(page)
    dialogs: list[str] = []
    try:
        login(page, base, "worker")
        page.goto(f"{base}/drills/{CODE}")
        page.locator("#f-location").fill("石桥村3组12号门前")
        page.locator("#f-parties").fill("居民王秀兰反映")
        page.reload()
        assert page.locator("#f-location").input_value() == "石桥村3组12号门前"
        assert "已恢复您在本机保存的草稿" in page.locator("[data-status]").inner_text()
        shot(page, "drill-offline-03-draft-restored-768x1024")

        # The session ends without a logout (idle timeout); the next worker signs in on the same tablet.
        context.clear_cookies()
        login(page, base, "worker2")
        page.goto(f"{base}/drills/{CODE}")
        assert page.locator("#f-location").input_value() == ""
        assert page.locator("#f-parties").input_value() == ""
        assert "石桥村3组12号门前" not in page.content()
        assert page.evaluate(f"LMS.drafts.get('drill.{CODE}')") is None
        assert page.locator("[data-status]").inner_text() == ""
        shot(page, "drill-offline-04-other-user-768x1024")
        page.get_by_role("button", name="退出").click()  # nothing of worker2's to lose: no question asked
        page.wait_for_url("**/login")
        assert dialogs == []

        # The owner comes back: the draft is still there; logging out asks before discarding it.
        login(page, base, "worker")
        page.goto(f"{base}/drills/{CODE}")
        assert page.locator("#f-location").input_value() == "石桥村3组12号门前"

        def answer(dialog, accept):
            dialogs.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", lambda d: answer(d, False))
        page.get_by_role("button", name="退出").click()
        for _ in range(150):  # the question comes after the logout guard's flush
            if dialogs:
                break
            page.wait_for_timeout(100)
        assert "草稿" in dialogs[0] and page.url == f"{base}/drills/{CODE}"
        assert len(page.evaluate(DRAFT_KEYS)) == 1

        page.once("dialog", lambda d: answer(d, True))
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")
        assert len(dialogs) == 2 and page.evaluate(DRAFT_KEYS) == []
        login(page, base, "worker")
        page.goto(f"{base}/drills/{CODE}")
        assert page.locator("#f-location").input_value() == ""
        assert errors == []
    finally:
        context.close()
