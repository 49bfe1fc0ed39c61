"""Read-aloud sentence by sentence, 大字 and speed per account, certificate progress at three widths.

Chromium here has no Chinese voice: the real no-voice message is checked as it is; the sentence-by-sentence
reading is checked with window.speechSynthesis replaced by a fake that records utterances (the app code is the
real one).
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import LiveServer, login, shot, wait_until

pytestmark = pytest.mark.e2e

# A manually issued certificate for the worker, so 我的证书 shows one (and 证书管理 has a row).
_SETUP = """
import sqlalchemy as sa
from lms import create_app
from lms.accounts.models import User
from lms.certification import services
from lms.certification.models import Program
from lms.db import write_intent
from lms.extensions import db
app = create_app()
with app.app_context(), write_intent():
    worker = db.session.scalar(sa.select(User).where(User.username == "worker"))
    hr = db.session.scalar(sa.select(User).where(User.username == "hr"))
    program = db.session.scalars(sa.select(Program).where(Program.is_retired.is_(False))
                                 .order_by(Program.position.desc())).first()
    services.issue_certificate(hr, worker, program, reason="县综治中心特批：调解成绩突出")
    db.session.commit()
    print(program.title)
"""

FAKE_SPEECH = """(() => {
  const spoken = [];
  let current = null;
  const fake = {
    speaking: false, pending: false, paused: false,
    getVoices: () => [{name: "测试中文语音", lang: "zh-CN", default: true, localService: true, voiceURI: "fake-zh"}],
    speak(u) { spoken.push({text: u.text, rate: u.rate, lang: u.lang}); current = u; },
    cancel() { current = null; },
    pause() {}, resume() {},
    addEventListener() {}, removeEventListener() {},
  };
  Object.defineProperty(window, "speechSynthesis", {value: fake, configurable: true});
  window.__speech = {spoken, finish() { const u = current; current = null; if (u && u.onend) { u.onend(new Event("end")); } }};
})();"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of our own (content imported, one manual certificate): preferences written here stay here."""
    live = LiveServer(tmp_path_factory.mktemp("readaloud")).prepare()
    imported = live.flask("content", "import", check=False)
    assert "课程：新增" in imported.stdout and "认证项目：新增" in imported.stdout, imported.stdout + imported.stderr
    live.manual_program = live.python(_SETUP).stdout.strip().splitlines()[-1]
    live.start()
    yield live
    live.stop()


def _context(browser, width=768, height=1024, fake=False):
    # bypass_csp: our CSP forbids injected scripts, which is exactly what axe is.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True,
                                  bypass_csp=True)
    if fake:
        context.add_init_script(FAKE_SPEECH)
    return context


def _open_first_lesson(page, base):
    page.goto(base + "/courses/county-grid-duties")
    page.get_by_role("link", name=re.compile("^(开始学习|继续学习)")).first.click()
    page.wait_for_url("**/courses/county-grid-duties/lessons/**")


def _preferences(page) -> dict:
    return page.evaluate("fetch('/api/v1/me/preferences', {credentials: 'same-origin'}).then(r => r.json())")


def _highlighted(page) -> str:
    return page.evaluate("Array.from(document.querySelectorAll('#lesson-body .ra-current'))"
                         ".map(e => e.textContent).join('').replace(/\\s+/g, ' ').trim()")


def _spoken(page) -> list[dict]:
    return page.evaluate("window.__speech.spoken")


def test_without_a_chinese_voice_the_reader_says_what_to_install(server, browser):
    context = _context(browser)
    page = context.new_page()
    try:
        login(page, server.base, "worker4")
        _open_first_lesson(page, server.base)
        assert page.evaluate("speechSynthesis.getVoices().filter(v => /^(zh|cmn)/i.test(v.lang)).length") == 0
        page.get_by_role("button", name="朗读").click()
        message = page.locator("[data-readaloud-status]")
        message.wait_for(state="visible")
        text = message.inner_text()
        assert "本机没有中文语音" in text and "设置 → 文字转语音" in text and "安装中文语音包" in text
        # Nothing was started: the button still offers to read, nothing is highlighted.
        assert page.get_by_role("button", name="朗读").get_attribute("aria-pressed") == "false"
        assert page.locator("#lesson-body .ra-current").count() == 0
        shot(page, "readaloud-01-no-chinese-voice-768x1024")
    finally:
        context.close()


def test_reads_sentence_by_sentence_pauses_resumes_and_keeps_the_place(server, browser):
    context = _context(browser, fake=True)
    page = context.new_page()
    try:
        login(page, server.base, "worker")
        _open_first_lesson(page, server.base)
        sentences = page.evaluate("LMSReadAloud.sentences")
        assert len(sentences) >= 4
        for sentence in sentences:
            # Split on 。！？； and line breaks: no terminator inside a sentence, only at its end.
            inner = sentence.rstrip("”’」』）)】》\"'")[:-1]
            assert not any(mark in inner for mark in "。！？；"), sentence
        page.get_by_role("button", name="朗读").click()
        wait_until(page, "window.__speech.spoken.length >= 1")
        assert _spoken(page)[-1]["text"] == sentences[0] and _spoken(page)[-1]["lang"].startswith("zh")
        assert _highlighted(page) == sentences[0]
        assert page.get_by_role("button", name="暂停朗读").get_attribute("aria-pressed") == "true"

        page.evaluate("window.__speech.finish()")
        assert _spoken(page)[-1]["text"] == sentences[1]
        assert _highlighted(page) == sentences[1]
        shot(page, "readaloud-02-second-sentence-highlighted-768x1024")

        page.get_by_role("button", name="暂停朗读").click()
        resume = page.get_by_role("button", name=f"继续朗读（第 2/{len(sentences)} 句）")
        assert resume.is_visible()
        assert len(_spoken(page)) == 2
        # The place survives leaving the page.
        page.reload()
        assert resume.is_visible() and page.get_by_role("button", name="从头读").is_visible()
        assert _highlighted(page) == sentences[1]

        page.get_by_role("button", name="快 1.2×").click()
        assert page.get_by_role("button", name="快 1.2×").get_attribute("aria-pressed") == "true"
        wait_until(page, "fetch('/api/v1/me/preferences').then(r => r.json()).then(p => p.speech_rate === 1.2)")
        resume.click()
        spoken = _spoken(page)
        assert spoken[-1]["text"] == sentences[1] and spoken[-1]["rate"] == pytest.approx(1.2)

        page.get_by_role("button", name="暂停朗读").click()
        page.get_by_role("button", name="从头读").click()
        assert _spoken(page)[-1]["text"] == sentences[0]
        page.get_by_role("button", name="暂停朗读").click()
        assert not page.locator("[data-readaloud-status]").is_visible()
    finally:
        context.close()


def test_large_text_and_speed_follow_the_account_to_another_tablet(server, browser):
    first = _context(browser, fake=True)
    page = first.new_page()
    try:
        login(page, server.base, "worker2")
        _open_first_lesson(page, server.base)
        assert "large-text" not in (page.get_attribute("html", "class") or "")
        page.locator("main").get_by_role("button", name="大字").click()
        page.get_by_role("button", name="慢 0.8×").click()
        wait_until(page, "fetch('/api/v1/me/preferences').then(r => r.json())"
                         ".then(p => p.large_text === true && p.speech_rate === 0.8)")
        assert "large-text" in page.get_attribute("html", "class")
        assert serious_violations(page) == []
        shot(page, "readaloud-03-large-text-768x1024")
        # Signed out, the shared tablet's login screen does not keep worker2's 大字.
        page.locator("form[data-logout] button").click()
        page.wait_for_url("**/login**")
        assert "large-text" not in (page.get_attribute("html", "class") or "")
    finally:
        first.close()

    # Another tablet, never used by this person: the settings come with the login.
    second = _context(browser, width=1280, height=800, fake=True)
    page = second.new_page()
    try:
        page.goto(server.base + "/login")
        assert "large-text" not in (page.get_attribute("html", "class") or "")
        login(page, server.base, "worker2")
        assert "large-text" in page.get_attribute("html", "class")
        _open_first_lesson(page, server.base)
        assert page.get_attribute("html", "data-speech-rate") == "0.8"
        assert page.get_by_role("button", name="慢 0.8×").get_attribute("aria-pressed") == "true"
        page.get_by_role("button", name="朗读").click()
        wait_until(page, "window.__speech.spoken.length >= 1")
        assert _spoken(page)[-1]["rate"] == pytest.approx(0.8)
        page.get_by_role("button", name="暂停朗读").click()
        # The next person on this tablet gets their own (unchosen) settings, not worker2's.
        page.locator("form[data-logout] button").click()
        page.wait_for_url("**/login**")
        login(page, server.base, "worker3")
        assert "large-text" not in (page.get_attribute("html", "class") or "")
        assert _preferences(page) == {"large_text": None, "speech_rate": 1}
    finally:
        second.close()


def test_lesson_reader_has_no_serious_accessibility_issues(server, browser):
    context = _context(browser, fake=True)
    page = context.new_page()
    try:
        login(page, server.base, "mentor")
        _open_first_lesson(page, server.base)
        page.get_by_role("button", name="朗读").click()
        wait_until(page, "window.__speech.spoken.length >= 1")
        assert serious_violations(page) == []
    finally:
        context.close()


_NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"
# Every ✓/✗ mark on one line (it used to wrap "✗ 未达" onto two).
_MARK_LINES = """() => Array.from(document.querySelectorAll('.cert-progress-item .mark')).filter(e => e.offsetParent)
    .map(e => { const r = document.createRange(); r.selectNodeContents(e);
                return new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top))).size; })"""


@pytest.mark.parametrize("width, height", [(360, 800), (768, 1024), (1280, 800)])
def test_certificate_progress_reads_at_each_width(server, browser, width, height):
    context = _context(browser, width, height)
    page = context.new_page()
    try:
        login(page, server.base, "worker")
        page.goto(server.base + "/certificates")
        assert page.get_by_role("heading", name="认证进度").is_visible()
        assert page.evaluate(_NO_SIDEWAYS), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        marks = page.evaluate(_MARK_LINES)
        assert marks and set(marks) == {1}, marks
        manual = page.get_by_text("已由人工发放：县综治中心特批：调解成绩突出")
        assert manual.is_visible()
        assert page.locator("section.cert-progress", has_text=server.manual_program) \
            .get_by_text("已持有").count() == 0
        # A missing requirement links to the thing to do next.
        assert page.locator(".cert-progress-missing a.next").count() >= 1
        shot(page, f"certificates-progress-{width}x{height}")
        assert serious_violations(page) == []
        _set_large_text(page, True)
        assert page.evaluate(_NO_SIDEWAYS) and set(page.evaluate(_MARK_LINES)) == {1}
        assert serious_violations(page) == []
        shot(page, f"certificates-progress-large-text-{width}x{height}")
        _set_large_text(page, False)
    finally:
        context.close()


def _set_large_text(page, on: bool) -> None:
    """Bring the worker's 大字 to `on` through the header button, whatever an earlier width left it at."""
    if page.evaluate("document.documentElement.classList.contains('large-text')") != on:
        page.locator("header").get_by_role("button", name="大字").click()
    wanted = "true" if on else "false"
    wait_until(page, f"fetch('/api/v1/me/preferences').then(r => r.json()).then(p => p.large_text === {wanted})")
    wait_until(page, f"document.documentElement.classList.contains('large-text') === {wanted}")


@pytest.mark.parametrize("width, height", [(360, 800), (768, 1024), (1280, 800)])
def test_certificate_desk_does_not_scroll_sideways(server, browser, width, height):
    context = _context(browser, width, height)
    page = context.new_page()
    try:
        login(page, server.base, "hr")
        page.goto(server.base + "/certificates/manage")
        assert page.get_by_role("heading", name="证书管理").is_visible()
        assert page.locator(".cert-manage-table tbody tr").count() >= 1
        assert page.evaluate(_NO_SIDEWAYS), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        # Nothing inside scrolls sideways either (the table used to, inside its scroll box).
        assert page.evaluate("Array.from(document.querySelectorAll('main *'))"
                             ".every(e => !['auto', 'scroll'].includes(getComputedStyle(e).overflowX) || e.scrollWidth <= e.clientWidth + 1)")
        shot(page, f"certificates-manage-{width}x{height}")
        assert serious_violations(page) == []
    finally:
        context.close()


def test_reader_controls_fit_a_phone_in_large_text(server, browser):
    context = _context(browser, 360, 800, fake=True)
    page = context.new_page()
    try:
        login(page, server.base, "worker4")
        _open_first_lesson(page, server.base)
        page.locator("main").get_by_role("button", name="大字").click()
        wait_until(page, "fetch('/api/v1/me/preferences').then(r => r.json()).then(p => p.large_text === true)")
        page.get_by_role("button", name="朗读").click()
        wait_until(page, "window.__speech.spoken.length >= 1")
        assert page.get_by_role("button", name="快 1.2×").is_visible()
        assert page.evaluate(_NO_SIDEWAYS), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        shot(page, "readaloud-04-phone-large-text-360x800")
        assert serious_violations(page) == []
    finally:
        context.close()
