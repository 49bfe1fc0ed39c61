"""A worker who attended a session fills its evaluation (满意度) on a tablet at 768×1024; the trainer reads the
results without the author."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, login, shot

pytestmark = pytest.mark.e2e

# Runs against the live server's database: a session of the demo worker's township that ended an hour ago, the
# worker on its roll (through the service, which posts the inbox invitation) and a PDF among its materials.
_SESSION = """
import datetime as dt, decimal, secrets
import sqlalchemy as sa
from lms import create_app
from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.org.models import OrgKind, OrgUnit
from lms.trainings import paperwork, services
from lms.trainings.models import Training, TrainingLevel
app = create_app()
with app.app_context():
    worker = db.session.scalar(sa.select(User).where(User.username == "worker"))
    trainer = db.session.scalar(sa.select(User).where(User.username == "trainer-qs"))
    ids = [int(p) for p in worker.org.path.strip("/").split("/") if p]
    township = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.id.in_(ids), OrgUnit.kind == OrgKind.township))
    now = utcnow()
    training = Training(level=TrainingLevel.township, title="矛盾纠纷排查化解实务", starts_at=now - dt.timedelta(hours=4),
                        ends_at=now - dt.timedelta(hours=1), place="镇综治中心会议室", trainer=trainer,
                        hours=decimal.Decimal("3"), org=township, created_by=trainer,
                        checkin_secret=secrets.token_hex(16))
    db.session.add(training)
    db.session.flush()
    services.record_roll(trainer, training, ["worker"], now=now - dt.timedelta(hours=3))
    paperwork.add_file(trainer, training, "调解流程.pdf", b"%PDF-1.4\\n%%EOF\\n", "调解流程图")
    db.session.commit()
    print(training.id)
"""


@pytest.fixture(scope="module")
def session_id(live_server, tmp_path_factory):
    databases = sorted(Path(tmp_path_factory.getbasetemp()).glob("live*/lms.sqlite3"))
    assert databases, "live_server database not found"
    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{databases[-1]}", "LMS_SECRET_KEY": "e2e-secret"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", _SESSION], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_worker_evaluates_a_session_on_a_tablet(live_server, browser, session_id):
    base = live_server
    errors = []
    worker_ctx = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    trainer_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        page = worker_ctx.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        login(page, base)
        # the invitation on the home page
        page.get_by_role("link", name="评价：矛盾纠纷排查化解实务").click()
        page.wait_for_url(f"{base}/trainings/{session_id}/evaluation")
        assert page.evaluate("document.documentElement.scrollWidth") <= 768  # nothing runs off the side
        for label in ("内容实用", "讲解清楚", "时间安排", "材料有用", "总体满意"):
            group = page.get_by_role("radiogroup", name=label)
            assert group.is_visible()
            button = group.locator("label", has_text="4 分")
            box = button.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, label  # a finger's target
        shot(page, "training-evaluation-01-form-768x1024")

        # submitting with one question unanswered is refused, naming the question; nothing is lost
        for label, score in (("内容实用", "5 分"), ("讲解清楚", "4 分"), ("时间安排", "3 分"), ("材料有用", "4 分")):
            page.get_by_role("radiogroup", name=label).locator("label", has_text=score).click()
        page.get_by_label("意见建议").fill("案例贴近实际，<b>希望</b>多安排分组演练")
        page.get_by_role("button", name="提交评价").click()
        assert "请为“总体满意”打分" in page.get_by_role("alert").first.inner_text()
        assert page.get_by_label("意见建议").input_value() == "案例贴近实际，<b>希望</b>多安排分组演练"
        assert page.locator("#content-5").is_checked()
        shot(page, "training-evaluation-02-refused-768x1024")

        page.get_by_role("radiogroup", name="总体满意").locator("label", has_text="5 分").click()
        page.get_by_role("button", name="提交评价").click()
        page.wait_for_url(f"{base}/trainings/{session_id}")
        assert "感谢您的评价" in page.get_by_role("status").first.inner_text()
        assert page.get_by_text("您已评价本场培训").is_visible()
        assert page.get_by_role("link", name="调解流程图").is_visible()  # the session's materials
        shot(page, "training-evaluation-03-done-768x1024")

        trainer = trainer_ctx.new_page()
        login(trainer, base, "trainer-qs")
        trainer.goto(f"{base}/trainings/{session_id}/evaluation/results")
        assert "评价 1 份" in trainer.content()
        comment = trainer.locator(".comment-text").first
        assert comment.inner_text() == "案例贴近实际，<b>希望</b>多安排分组演练"  # shown as typed, not as markup
        assert "worker" not in trainer.locator("main").inner_text()
        shot(trainer, "training-evaluation-04-results-1280x800")
        # the session page of its trainer: materials with the upload and lesson picker, the paperwork buttons
        trainer.goto(f"{base}/trainings/{session_id}")
        assert trainer.get_by_role("link", name="调解流程图").is_visible()
        assert trainer.get_by_role("combobox", name="关联课程章节").is_visible()
        sheet = trainer.request.get(base + trainer.get_by_role("link", name="打印签到表（PDF）").get_attribute("href"))
        assert sheet.status == 200 and sheet.headers["content-type"] == "application/pdf"
        assert sheet.body().startswith(b"%PDF-")
        shot(trainer, "training-paperwork-05-trainer-1280x800")
        assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    finally:
        worker_ctx.close()
        trainer_ctx.close()
