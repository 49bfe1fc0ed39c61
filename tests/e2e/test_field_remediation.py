"""In Chromium: a county trainer adjusts and sends the remediation proposal for the demo year (1280×800), the
worker opens 我的补训 from the inbox on a tablet (768×1024); the outcome page reads at 768 px. axe finds no
serious issue on the tablet pages."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import LiveServer, login, shot

pytestmark = pytest.mark.e2e

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def field_server(tmp_path_factory):
    """make run's database: content imported (field_needs.yaml among it) and the demo county's year of events."""
    server = LiveServer(tmp_path_factory.mktemp("fieldneeds")).prepare()
    imported = server.flask("content", "import", check=False)
    assert "现场问题与训练对应：新增 1" in imported.stdout, imported.stdout + imported.stderr
    server.flask("field", "demo")
    server.start()
    yield server
    server.stop()


def test_a_trainer_sends_remediation_and_the_worker_finds_it(field_server, browser):
    base = field_server.base
    reporters = {_demo_name(field_server, u): u for u in ("worker", "worker2", "worker3", "worker4", "leader")}
    desk = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", bypass_csp=True)  # axe is an injected script
    page = desk.new_page()
    try:
        login(page, base, "trainer-county")
        page.goto(f"{base}/field/remediation?org=HX&from={(TODAY - dt.timedelta(days=180)).isoformat()}"
                  f"&to={TODAY.isoformat()}&min_events=5&threshold=5")
        rows = page.locator("tbody tr").all()
        assert len(rows) >= 2, page.content()[:2000]
        # keep one tour account with a password (the first proposed), untick everybody else and its last item
        kept, username = None, None
        for row in rows:
            label = row.locator("th").inner_text().strip()
            if kept is None and label in reporters:
                kept, username = row, reporters[label]
            else:
                row.locator('input[name="person"]').uncheck()
        assert kept is not None, [r.locator("th").inner_text() for r in rows]
        items = kept.locator('input[name="item"]')
        total = items.count()
        assert total >= 1
        if total > 1:
            items.last.uncheck()
        page.get_by_label("截止日期").fill((TODAY + dt.timedelta(days=14)).isoformat())
        shot(page, "field-remediation-proposal")
        assert serious_violations(page) == []  # at 1280 px too, now the operators' menu fits the bar
        page.get_by_role("button", name="发送补训任务").click()
        page.get_by_text("已向 1 人发送补训任务").wait_for()
    finally:
        desk.close()

    tablet = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True,
                                 bypass_csp=True)  # axe is an injected script
    page = tablet.new_page()
    try:
        login(page, base, username)
        page.goto(base + "/inbox")
        page.locator(".list-group-item", has_text="补训任务").get_by_role("link", name="查看").first.click()
        page.wait_for_url("**/field/remediation/mine")
        assert page.get_by_role("heading", name="我的补训").is_visible()
        assert page.locator("main a.btn").count() == max(1, total - 1)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert serious_violations(page) == []
        shot(page, "field-remediation-mine-tablet")
    finally:
        tablet.close()


def test_the_outcome_page_reads_on_a_tablet(field_server, browser):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True,
                                 bypass_csp=True)  # axe is an injected script
    page = context.new_page()
    try:
        login(page, field_server.base, "hr")
        page.goto(field_server.base + "/field/outcomes?org=HX")
        assert page.get_by_role("heading", name="怎么算的").is_visible()
        assert page.locator("[data-analysis]").count() == 3
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert serious_violations(page) == []
        shot(page, "field-outcomes-tablet")
    finally:
        context.close()


def _demo_name(server, username: str) -> str:
    code = ("import sys\nfrom lms import create_app\nfrom lms.accounts.queries import get_user\n"
            "with create_app().app_context():\n    print(get_user(sys.argv[1]).name)\n")
    return server.python(code, username).stdout.strip()
