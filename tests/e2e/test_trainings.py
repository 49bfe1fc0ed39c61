"""A trainer shows the rotating code on the tablet; a worker checks in by typing the 6 digits."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from lms.db import SHANGHAI
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e



def test_trainer_shows_the_code_and_a_worker_checks_in(live_server, browser):
    errors = []
    trainer_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    worker_ctx = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    try:
        trainer = trainer_ctx.new_page()
        trainer.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        login(trainer, live_server, "trainer-qs")
        trainer.goto(live_server + "/trainings/new")
        trainer.get_by_label("培训层级").select_option("township")
        trainer.get_by_label("培训主题").fill("网格事件上报要素实训")
        trainer.get_by_label("日期").fill(dt.datetime.now(SHANGHAI).date().isoformat())
        trainer.get_by_label("开始时间（默认 08:00）").fill("00:00")
        trainer.get_by_label("结束时间（默认 18:00）").fill("23:59")
        trainer.get_by_label("培训地点").fill("青石镇综治中心")
        trainer.get_by_label("学时").fill("2")
        trainer.get_by_label("参训组织（其下属全部人员）").select_option("HX01")
        trainer.get_by_role("button", name="创建").click()
        trainer.wait_for_url(re.compile(r".*/trainings/\d+$"))
        training_url = trainer.url
        trainer.get_by_role("link", name="显示签到码（二维码）").click()
        code_el = trainer.locator(".checkin-code")
        code = code_el.inner_text().strip()
        assert re.fullmatch(r"\d{6}", code)
        # The QR is an SVG image the server draws: it must load and render (no inline styles for the CSP to block).
        assert trainer.locator(".checkin-qr").evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        shot(trainer, "trainings-01-screen-1280x800")

        worker = worker_ctx.new_page()
        worker.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        login(worker, live_server, "worker")
        worker.goto(training_url + "/checkin")
        box = worker.get_by_label("签到码（6 位数字）")
        assert box.get_attribute("inputmode") == "numeric"
        box.fill(trainer.locator(".checkin-code").inner_text().strip())
        worker.get_by_role("button", name="签到").click()
        assert "签到成功" in worker.get_by_role("status").first.inner_text()
        assert worker.get_by_text("您已签到本场培训").is_visible()
        shot(worker, "trainings-02-checked-in-768x1024")

        trainer.goto(training_url)
        assert trainer.get_by_text("出勤 1 /").is_visible()
        assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    finally:
        trainer_ctx.close()
        worker_ctx.close()
