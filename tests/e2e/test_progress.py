"""HR opens the progress of a course, filters to 已逾期, reminds them and sees the count; a worker finds the
reminder in the inbox. At 1280×800 and 768×1024, on a server of its own (a fixed data set)."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, login, shot

pytestmark = pytest.mark.e2e

# Inside the server's environment: a course assigned to the county's workers, overdue since three days; the
# worker 张小明 has read one lesson, 吴海涛 finished it.
SEED = """
import datetime as dt
from lms import create_app
from lms.accounts.queries import get_user
from lms.courses import services
from lms.courses.models import Assignment
from lms.db import utcnow
from lms.extensions import db
from lms.org.queries import get_org
from tests.courses.factories import make_course
app = create_app()
with app.app_context():
    course = make_course("e2e-duties", lessons=2, title="网格员职责与工作规范")
    db.session.add(Assignment(course=course, org=get_org("HX"), role="worker",
                              due_on=utcnow().date() - dt.timedelta(days=3), created_at=utcnow()))
    earlier = utcnow() - dt.timedelta(days=5)
    services.complete_lesson(get_user("worker"), course, course.lessons[0], now=earlier)
    for lesson in course.lessons:
        services.complete_lesson(get_user("worker3"), course, lesson, now=earlier)
    db.session.commit()
"""


@pytest.fixture(scope="module")
def progress_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("progress")).prepare()
    server.python(SEED)
    server.start()
    yield server.base
    server.stop()


@pytest.mark.parametrize("width,height", [(1280, 800), (768, 1024)])
def test_hr_reminds_the_overdue_and_the_worker_reads_it(progress_server, browser, width, height):
    base = progress_server
    hr_ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    worker_ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    try:
        hr = hr_ctx.new_page()
        login(hr, base, "hr")
        hr.goto(base + "/progress")
        hr.get_by_label("课程、测验或认证项目").select_option(label="网格员职责与工作规范")
        hr.get_by_role("button", name="查看").click()
        hr.wait_for_url("**/progress?**")
        assert "课程《网格员职责与工作规范》" in hr.locator("h1").inner_text()
        hr.get_by_role("navigation", name="按状态筛选").get_by_role("link", name="已逾期").click()
        hr.wait_for_url("**status=overdue**")
        table = hr.locator("table.progress-table")
        assert "张小明" in table.inner_text() and "吴海涛" not in table.inner_text()
        assert "1/2 课" in table.inner_text()
        button = hr.get_by_role("button", name="提醒未完成的人")
        box = button.bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= width
        shot(hr, f"progress-overdue-{width}x{height}")
        button.click()
        hr.wait_for_load_state()
        notice = hr.get_by_role("status").filter(has_text="提醒").first
        text = notice.inner_text()
        # the first viewport sends to the overdue workers; the second (same day) finds them already reminded
        assert ("已向" in text and "人发送提醒" in text) or "今天已经提醒过" in text
        shot(hr, f"progress-reminded-{width}x{height}")

        worker = worker_ctx.new_page()
        login(worker, base, "worker")
        worker.goto(base + "/inbox")
        assert "提醒：请尽快完成课程《网格员职责与工作规范》" in worker.locator("main").inner_text()
        assert "已逾期" in worker.locator("main").inner_text()
        shot(worker, f"progress-inbox-{width}x{height}")
    finally:
        hr_ctx.close()
        worker_ctx.close()
