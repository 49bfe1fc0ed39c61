"""Every write a worker makes is kept on the tablet while the server is really stopped, shown as "待上传" (on the
page and in the badge on every page), and sent once when the server is back: lesson completion, training
check-in, a drill report, a mentoring confirmation. A form posted in the outage gets a Chinese page, never the
browser's error page."""
from __future__ import annotations

import json

import pytest

from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import ASSIGN_COUNTY_COURSE, ROOT, LiveServer, login, shot, wait_until
from tests.e2e.test_drill import _IMPORT as IMPORT_DRILLS
from tests.e2e.test_drill import CODE as DRILL, MODEL, _fill

pytestmark = pytest.mark.e2e

LESSON = "/courses/county-grid-duties/lessons/duties-and-norms"

# A training today for the worker's township, and a mentoring activity waiting for the worker's confirmation.
SETUP = """
import datetime as dt, json
from lms import create_app
from lms.accounts.models import User
from lms.accounts.permissions import SYSTEM
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.mentoring import services as mentoring
from lms.trainings import services as trainings
import sqlalchemy as sa
app = create_app()
with app.app_context():
    user = lambda name: db.session.scalar(sa.select(User).where(User.username == name))
    today = dt.datetime.now(SHANGHAI).date()
    training = trainings.create_training(SYSTEM, level="township", title="离线签到演练", date=today.isoformat(),
                                         place="青石镇综治中心", hours="2", org="HX01", start="00:00", end="23:59",
                                         trainer=user("trainer-qs"))
    pairing = mentoring.create_pairing(SYSTEM, user("mentor"), [user("worker")], today - dt.timedelta(days=7),
                                       today + dt.timedelta(days=90), "离线确认")
    activity, _ = mentoring.log_activity(user("mentor"), pairing, {
        "kind": "joint_visit", "date": today.isoformat(), "minutes": 60, "notes": "一起走访独居老人"})
    db.session.commit()
    print(json.dumps({"training": training.id, "activity": activity.id}))
"""

CODE_NOW = """
import sys
from lms import create_app
from lms.extensions import db
from lms.trainings import services
from lms.trainings.models import Training
app = create_app()
with app.app_context():
    print(services.current_checkin_code(db.session.get(Training, int(sys.argv[1])))[0])
"""

COUNTS = """
import json
import sqlalchemy as sa
from lms import create_app
from lms.accounts.models import User
from lms.courses.models import LessonProgress
from lms.drills.models import DrillReport
from lms.extensions import db
from lms.mentoring.models import Activity
from lms.trainings.models import Attendance
app = create_app()
with app.app_context():
    me = db.session.scalar(sa.select(User.id).where(User.username == "worker"))
    count = lambda model, *where: db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
    print(json.dumps({
        "lessons": count(LessonProgress, LessonProgress.user_id == me, LessonProgress.completed_at.is_not(None)),
        "attendance": count(Attendance, Attendance.user_id == me),
        "reports": count(DrillReport, DrillReport.user_id == me),
        "confirmed": count(Activity, Activity.mentee_id == me, Activity.status == "confirmed"),
    }))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own: it is stopped and started again."""
    instance = LiveServer(tmp_path_factory.mktemp("outbox")).prepare()
    imported = instance.flask("content", "import", "--courses", str(ROOT / "courses"), check=False)
    assert "课程：新增" in imported.stdout, imported.stdout + imported.stderr
    instance.python(ASSIGN_COUNTY_COURSE)
    instance.python(IMPORT_DRILLS)
    instance.ids = json.loads(instance.python(SETUP).stdout.strip().splitlines()[-1])
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def outage(server):
    """The server, started again after the test whatever happened in it."""
    yield server
    if server.process is None:
        server.start()


@pytest.fixture
def worker(browser, server):
    # bypass_csp: axe is an injected script, which the CSP forbids.
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True,
                                  bypass_csp=True)
    page = context.new_page()
    login(page, server.base)
    wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    wait_until(page, "caches.has('lms-meta')")  # the worker knows whose session this is
    yield page
    context.close()


def _counts(server) -> dict:
    return json.loads(server.python(COUNTS).stdout.strip().splitlines()[-1])


def _badge(page):
    return page.locator("#pending-badge")


def _accessible_in_both_modes(page) -> None:
    """axe: no serious or critical violations, in normal and in 大字 mode."""
    assert serious_violations(page) == []
    page.evaluate("document.documentElement.classList.add('large-text')")
    try:
        assert serious_violations(page) == []
    finally:
        page.evaluate("document.documentElement.classList.remove('large-text')")


def test_lesson_completed_in_an_outage_is_uploaded_once(outage, worker):
    page = worker
    before = _counts(outage)["lessons"]
    page.goto(outage.base + LESSON)
    outage.stop()
    page.get_by_role("button", name="标记为学完").click()
    page.get_by_text("已学完（待上传）").wait_for()
    _badge(page).filter(has_text="1 项待上传").wait_for()
    assert not page.get_by_role("button", name="标记为学完").is_visible()  # not tapped twice
    shot(page, "offline-writes-pending-badge-768x1024")
    _accessible_in_both_modes(page)
    # Another page the worker opened before: the badge is there too (the page comes from the tablet).
    page.reload()
    _badge(page).filter(has_text="1 项待上传").wait_for()
    page.get_by_text("已学完（待上传）").wait_for()
    outage.start()
    page.get_by_text("已学完（已上传）").wait_for(timeout=40000)
    wait_until(page, "document.getElementById('pending-badge').hidden")
    assert _counts(outage)["lessons"] == before + 1
    page.goto(outage.base + LESSON)
    assert page.get_by_text("✓ 已学完").is_visible()


def test_check_in_typed_in_an_outage_is_uploaded_once(outage, worker):
    page = worker
    training = outage.ids["training"]
    page.goto(f"{outage.base}/trainings/{training}/checkin")
    page.get_by_label("签到码（6 位数字）").wait_for()
    outage.stop()
    code = outage.python(CODE_NOW, str(training)).stdout.strip()
    page.get_by_label("签到码（6 位数字）").fill(code)
    page.get_by_role("button", name="签到").click()
    page.get_by_text("已签到（待上传）").wait_for()
    _badge(page).filter(has_text="1 项待上传").wait_for()
    _accessible_in_both_modes(page)
    outage.start()
    page.get_by_text("签到成功（已上传）").wait_for(timeout=40000)
    assert _counts(outage)["attendance"] == 1
    page.reload()
    assert page.get_by_text("您已签到本场培训").is_visible()


def test_drill_report_made_in_an_outage_is_uploaded_once(outage, worker):
    page = worker
    before = _counts(outage)["reports"]
    page.goto(f"{outage.base}/drills/{DRILL}")
    page.locator("[data-drill-form]").wait_for()
    outage.stop()
    _fill(page, MODEL)
    page.get_by_role("button", name="提交上报").click()
    page.get_by_text("待上传").first.wait_for()
    _badge(page).filter(has_text="1 项待上传").wait_for()
    outage.start()
    page.locator("[data-feedback] [data-verdict]").wait_for(timeout=40000)
    wait_until(page, "document.getElementById('pending-badge').hidden")
    assert _counts(outage)["reports"] == before + 1


def test_mentoring_confirmation_made_in_an_outage_is_uploaded_once(outage, worker):
    page = worker
    page.goto(outage.base + "/mentoring/confirm")
    page.get_by_text("一起走访独居老人").wait_for()
    outage.stop()
    page.get_by_role("button", name="确认属实").click()
    page.get_by_text("已确认（待上传）").wait_for()
    _badge(page).filter(has_text="1 项待上传").wait_for()
    _accessible_in_both_modes(page)
    outage.start()
    page.get_by_text("已确认（已上传）").wait_for(timeout=40000)
    assert _counts(outage)["confirmed"] == 1
    page.reload()
    assert page.get_by_text("没有待确认的活动").is_visible()


def test_a_form_posted_in_an_outage_gets_a_chinese_page(outage, worker):
    page = worker
    page.goto(outage.base + LESSON)
    outage.stop()
    # A form without the page script's help (as a browser without JavaScript would post it).
    page.evaluate("""() => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = location.pathname + "/complete";
        const token = document.createElement("input");
        token.type = "hidden"; token.name = "csrf_token";
        token.value = document.querySelector('meta[name="csrf-token"]').content;
        form.appendChild(token);
        document.body.appendChild(form);
        form.submit();
    }""")
    page.get_by_role("heading", name="没有提交成功：没有连上服务器").wait_for()
    assert "网格学堂" in page.title()
    page.get_by_role("link", name="返回刚才的页面").click()
    page.get_by_role("heading", name="履职").or_(page.locator("#lesson-title")).first.wait_for()


def test_browser_offline_lesson_is_sent_from_another_page_when_the_network_returns(server, worker):
    # The tablet's own network goes (navigator.onLine false): the write is queued at once, and sent from
    # whichever page is open when the network returns; that page says what was uploaded.
    page = worker
    course = "/courses/county-grid-duties"
    page.goto(server.base + course)
    page.goto(server.base + course + "/lessons/patrol-and-collection")
    page.context.set_offline(True)
    try:
        page.get_by_role("button", name="标记为学完").click()
        page.get_by_text("已学完（待上传）").wait_for()
        page.goto(server.base + course)  # kept on the tablet when it was opened
        _badge(page).filter(has_text="1 项待上传").wait_for()
        row = page.locator("li", has=page.locator("a.lesson-link[href$='/patrol-and-collection']"))
        row.get_by_text("已学完（待上传）").wait_for()
    finally:
        page.context.set_offline(False)
    page.get_by_text("已上传。").wait_for(timeout=40000)
    wait_until(page, "document.getElementById('pending-badge').hidden")
    row.get_by_text("✓ 已学完").wait_for()
