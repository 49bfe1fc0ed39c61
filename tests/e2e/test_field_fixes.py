"""What the browser suite found on village tablets and phones (issue #8): the phone menu opens, a shared tablet
keeps no quiz answers of a worker who logged out (and asks first), the drill form reopens offline, the banner
shows when the server is unreachable though the browser thinks it is online, 我的证书 reads at 360 px."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, login, shot, wait_until
from tests.e2e.test_drill import CODE, POOR, _fill, drills_imported  # noqa: F401  (module fixture)
from tests.e2e.test_quiz import _answer_current, _open_quiz, quiz_server  # noqa: F401  (module fixture)

pytestmark = pytest.mark.e2e

QUIZ_USER = "worker3"  # test_quiz.py sits the same quiz as "worker": an open attempt here must not be its
BANNER_SHOWN = "!document.getElementById('offline-banner').hidden"
BANNER_HIDDEN = "document.getElementById('offline-banner').hidden"
KEYS = "Object.keys(localStorage).sort()"


def _context(browser, width=768, height=1024, **options):
    return browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True,
                               **options)


def _wait_for_dialog(page, dialogs: list[str], count: int) -> None:
    for _ in range(150):  # the question comes after the logout guard has tried to send
        if len(dialogs) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no confirmation asked (saw {dialogs})")


def _answer_unsaved(page) -> None:
    """Answer a question not answered before (an option clicked again would change nothing to save)."""
    page.locator(".quiz-map button", has_text="未答").first.click()
    _answer_current(page)
    page.locator('[data-role="save-state"]', has_text="尚未保存").wait_for()


# ------------------------------------------------------------------------------------------ phone menu

def test_phone_menu_opens_and_its_links_navigate(live_server, browser):
    context = _context(browser, 360, 800)
    page = context.new_page()
    try:
        login(page, live_server, "worker")
        toggler = page.get_by_role("button", name="展开菜单")
        link = page.locator("#mainNav").get_by_role("link", name="我的学习")
        assert toggler.is_visible() and not link.is_visible()
        assert toggler.get_attribute("aria-expanded") == "false"

        toggler.tap()
        link.wait_for(state="visible")
        assert toggler.get_attribute("aria-expanded") == "true"
        shot(page, "field-fixes-01-phone-menu-open-360x800")
        toggler.tap()  # closes again
        link.wait_for(state="hidden")
        assert toggler.get_attribute("aria-expanded") == "false"

        toggler.tap()
        link.tap()
        page.wait_for_url(re.compile(r"/learning"))
        assert page.get_by_role("button", name="展开菜单").get_attribute("aria-expanded") == "false"
        # Wider screens show the links without the toggler.
        page.set_viewport_size({"width": 1280, "height": 800})
        assert not page.get_by_role("button", name="展开菜单").is_visible()
        assert page.locator("#mainNav").get_by_role("link", name="我的学习").is_visible()
    finally:
        context.close()


# ------------------------------------------------------------------------- quiz answers on a shared tablet

def test_logout_asks_while_quiz_answers_are_unsynced_and_sends_them_when_it_can(quiz_server, browser):  # noqa: F811
    context = _context(browser)
    page = context.new_page()
    dialogs: list[str] = []
    try:
        login(page, quiz_server, QUIZ_USER)
        wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        _open_quiz(page, quiz_server)
        user = page.evaluate("LMS.user")
        key = f"lms.quiz.{user}.{page.url.rsplit('/', 1)[1]}"
        page.context.set_offline(True)
        _answer_unsaved(page)
        unsaved = f"Object.values(JSON.parse(localStorage.getItem('{key}')).answers).filter(a => !a.saved).length"
        assert page.evaluate(unsaved) == 1

        page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.get_by_role("button", name="退出").click()
        _wait_for_dialog(page, dialogs, 1)
        assert "1 道测验题的答案尚未保存到服务器" in dialogs[0] and "确定退出吗" in dialogs[0]
        assert re.search(r"/attempts/\d+$", page.url) and page.evaluate(unsaved) == 1  # kept: the worker said no
        shot(page, "field-fixes-02-quiz-logout-kept-768x1024")

        # The connection returns: the answer is saved, and logout has nothing left to ask about.
        page.context.set_offline(False)
        wait_until(page, f"{unsaved} === 0", timeout=20000)
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")
        assert len(dialogs) == 1
        assert [k for k in page.evaluate(KEYS) if k.startswith(f"lms.quiz.{user}.")] == []
        assert not [name for name in page.evaluate("caches.keys()") if name.startswith("lms-pages-")]
    finally:
        context.close()


def test_confirmed_logout_leaves_nothing_of_the_worker_and_only_of_that_worker(quiz_server, browser):  # noqa: F811
    """The server is unreachable for answers (the route aborts them): the worker confirms logging out,
    worker2 signs in on the same tablet and finds no key of the first worker; other users' keys stay."""
    base = quiz_server
    # page.route does not see requests that pass through a service worker.
    context = _context(browser, service_workers="block")
    page = context.new_page()
    dialogs: list[str] = []
    try:
        login(page, base, QUIZ_USER)
        user = page.evaluate("LMS.user")
        # Neighbours whose ids share digits with this one: prefix or suffix matching would take them.
        others = [f"lms.quiz.{user}99.7", f"lms.quiz.99{user}.7", f"lms.draft.{user}99.drill.x",
                  f"lms.draft.99{user}.drill.x", f"lms.pending.outbox.{user}99", f"lms.pending.outbox.99{user}"]
        mine = [f"lms.draft.{user}.drill.{CODE}", f"lms.pending.outbox.{user}"]
        page.evaluate("""([others, mine]) => {
            for (const k of others) localStorage.setItem(k, k.includes('pending') ? '[]' : '{"answers": {}}');
            localStorage.setItem(mine[0], JSON.stringify({values: {location: '石桥村'}, saved: Date.now()}));
        }""", [others, mine])
        _open_quiz(page, base)
        key = f"lms.quiz.{user}.{page.url.rsplit('/', 1)[1]}"
        page.route(re.compile(r".*/api/v1/attempts/\d+/answers/.*"), lambda route: route.abort("connectionrefused"))
        _answer_unsaved(page)
        # The browser is online; the failed save alone shows the site-wide banner.
        assert page.evaluate("navigator.onLine")
        wait_until(page, BANNER_SHOWN)
        shot(page, "field-fixes-03-quiz-server-unreachable-768x1024")

        page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")
        assert "1 道测验题的答案尚未保存到服务器" in dialogs[0] and "1 份填写中的草稿" in dialogs[0]
        page.unroute(re.compile(r".*/api/v1/attempts/\d+/answers/.*"))

        login(page, base, "worker2")
        left = page.evaluate(KEYS)
        assert key not in left and not [k for k in left if re.match(rf"lms\.(quiz|draft)\.{user}\.", k)]
        assert not [k for k in left if re.fullmatch(rf"lms\.pending\.[^.]+\.{user}(\..*)?", k)]
        assert set(others) <= set(left)  # not this worker's: untouched
        assert page.locator("#offline-banner").is_hidden()
    finally:
        context.close()


# ---------------------------------------------------------------------------------- drill form offline

def test_drill_form_reopens_offline_with_its_draft_for_its_user_only(drills_imported, browser):  # noqa: F811
    base = drills_imported
    context = _context(browser)
    page = context.new_page()
    url = f"{base}/drills/{CODE}"
    try:
        login(page, base, "leader")
        wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        wait_until(page, "caches.has('lms-meta')")
        page.goto(url)
        user = page.evaluate("LMS.user")
        cached = (f"caches.open('lms-pages-{user}').then(c => c.match(location.href)).then(r => !!r)")
        wait_until(page, cached)
        first_id = page.locator("[data-client-id]").input_value()
        page.locator("#f-location").fill("石桥村3组12号门前")

        page.context.set_offline(True)
        page.reload()
        assert page.get_by_role("button", name="提交上报").is_visible()
        assert page.locator("#f-location").input_value() == "石桥村3组12号门前"
        assert "已恢复您在本机保存的草稿" in page.locator("[data-status]").inner_text()
        assert not page.locator("#offline-banner").is_hidden()
        # A kept copy never reuses the id the server may already have recorded a report under.
        assert page.locator("[data-client-id]").input_value() not in ("", first_id)
        shot(page, "field-fixes-04-drill-offline-reload-768x1024")

        # The session ends without a logout; the next worker on the tablet gets nothing of the first from cache.
        page.context.set_offline(False)
        context.clear_cookies()
        login(page, base, "worker2")
        wait_until(page, f"caches.keys().then(ks => !ks.includes('lms-pages-{user}'))")
        page.context.set_offline(True)
        page.goto(url)
        assert page.get_by_role("heading", name="当前没有网络").is_visible()
        assert "石桥村3组12号门前" not in page.content()
        page.context.set_offline(False)
    finally:
        context.close()


def test_banner_shows_while_the_server_is_unreachable_and_the_queued_report_goes_when_it_is_back(
        drills_imported, browser):  # noqa: F811
    base = drills_imported
    context = _context(browser, service_workers="block")
    page = context.new_page()
    try:
        login(page, base, "mentor")
        page.goto(f"{base}/drills/{CODE}")
        assert page.locator("#offline-banner").is_hidden()
        everything = re.compile(re.escape(base) + "/.*")
        page.route(everything, lambda route: route.abort("connectionrefused"))
        _fill(page, POOR)
        page.get_by_role("button", name="提交上报").click()
        page.locator("[data-status]", has_text="已保存在本机").wait_for()
        assert page.evaluate("navigator.onLine")
        wait_until(page, BANNER_SHOWN)
        assert "当前离线" in page.locator("#offline-banner").inner_text()
        shot(page, "field-fixes-05-server-unreachable-768x1024")

        page.unroute(everything)
        page.locator('[data-verdict="returned"]').wait_for(timeout=30000)
        wait_until(page, BANNER_HIDDEN)
        assert page.evaluate("LMS.outbox.pending()") == 0
    finally:
        context.close()


# ------------------------------------------------------------------------------------ 我的证书 at 360 px

_CERTIFICATES = """
import sqlalchemy as sa
from lms import create_app
from lms.accounts.models import User
from lms.certification import services
from lms.certification.models import Certificate, Program
from lms.db import write_intent
from lms.extensions import db
app = create_app()
with app.app_context(), write_intent():
    holder = db.session.scalar(sa.select(User).where(User.username == "leader"))
    impossible = {"courses": [], "quizzes": {}, "drills_accepted": 0, "training_hours": 0,
                  "mentoring_activities": 0, "points": 999999, "certificates": []}
    # Retired programs: their certificates stay listed, nobody else's progress page shows them.
    for code, title in (("E2E-SG", "网格员上岗证（端到端）"), ("E2E-STAR-2", "二星网格员（端到端）")):
        program = db.session.scalar(sa.select(Program).where(Program.code == code))
        if program is None:
            program = Program(code=code, title=title, valid_months=36, star=None, requires=impossible,
                              is_retired=True, position=90)
            db.session.add(program)
            db.session.flush()
        held = db.session.scalar(sa.select(Certificate.id).where(Certificate.program_id == program.id,
                                                                 Certificate.holder_id == holder.id))
        if held is None:
            services.issue_certificate(None, holder, program, reason="端到端测试：证书列表排版")
    db.session.commit()
"""


@pytest.fixture(scope="module")
def certificates_issued(live_server, tmp_path_factory):
    databases = sorted(Path(tmp_path_factory.getbasetemp()).glob("live*/lms.sqlite3"))
    assert databases, "live_server database not found"
    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{databases[-1]}", "LMS_SECRET_KEY": "e2e-secret"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", _CERTIFICATES], env=env, cwd=ROOT, check=True, capture_output=True)
    return live_server


# Every shown cell of the list: its width, its font size, and on how many lines its text sits (text nodes only,
# lines told apart by a vertical gap of more than half the font size).
_CELLS = """() => Array.from(document.querySelectorAll('.cert-table tbody tr > *'))
    .filter(e => e.offsetParent !== null)
    .map(e => {
        const font = parseFloat(getComputedStyle(e).fontSize);
        const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
        const tops = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(node);
            for (const r of range.getClientRects()) { if (r.width > 0) tops.push(r.top); }
        }
        tops.sort((a, b) => a - b);
        const lines = tops.filter((t, i) => i === 0 || t - tops[i - 1] > font / 2).length;
        return {text: e.innerText.trim(), width: e.getBoundingClientRect().width, font: font, lines: lines};
    })"""


@pytest.mark.parametrize("width, height", [(360, 800), (768, 1024)])
def test_my_certificates_read_at_phone_and_tablet_width(certificates_issued, browser, width, height):
    from tests.e2e.a11y import serious_violations

    context = _context(browser, width, height, bypass_csp=True)  # axe is an injected script
    page = context.new_page()
    try:
        login(page, certificates_issued, "leader")
        page.goto(certificates_issued + "/certificates")
        rows = page.locator(".cert-table tbody tr")
        assert rows.count() >= 2
        assert rows.first.get_by_text("有效").is_visible()
        cells = page.evaluate(_CELLS)
        assert len(cells) >= 12
        # A cell narrower than four characters only when its whole text fits on one line (2-character 有效).
        squeezed = [c for c in cells if c["width"] < 4 * c["font"] and c["lines"] > 1]
        assert squeezed == [], squeezed
        # Numbers and dates are never broken over lines (one character per line was the bug).
        values = [c for c in cells if re.search(r"\d{4}-\d{2}-\d{2}|-\d{4}-", c["text"])]
        assert values and all(c["lines"] == 1 for c in values), values
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        targets = page.locator(".cert-table a.btn")
        assert all(targets.nth(i).bounding_box()["height"] >= 44 for i in range(targets.count()))
        assert serious_violations(page) == []
        shot(page, f"field-fixes-06-my-certificates-{width}x{height}")
    finally:
        context.close()
