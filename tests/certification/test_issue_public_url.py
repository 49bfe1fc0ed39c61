"""Issuing waits for a reachable LMS_PUBLIC_URL (a loopback one prints QR codes nobody can open), except the demo."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.certification import codes, services
from lms.certification.models import Certificate
from lms.extensions import db
from tests.certification.factories import make_program
from tests.factories import make_user

LOOPBACK = {"PUBLIC_URL": "http://127.0.0.1:8000"}


@pytest.mark.parametrize("base, public", [
    ("https://lms.hx.gov.cn", True), ("http://10.2.3.4:8000", True), ("http://lms.test", True),
    ("http://127.0.0.1:8000", False), ("http://localhost", False), ("http://[::1]:8000/", False),
    ("http://0.0.0.0", False), ("http://app.localhost", False), ("", False), (None, False),
    ("ftp://lms.hx.gov.cn", False), ("lms.hx.gov.cn", False), ("http://[bad", False)])
def test_public_base_urls(base, public):
    assert codes.is_public_base_url(base) is public


@pytest.fixture
def people(tree):
    program = make_program()
    worker = make_user("w001", "worker", tree["g1"], name="张小明")
    hr = make_user("hr1", "hr", tree["county"], name="人事")
    return {"program": program, "worker": worker, "hr": hr}


@pytest.mark.parametrize("app_config", [LOOPBACK])
def test_hr_is_told_what_to_set_and_nothing_is_issued(api, people, app_config):
    api.login("hr1")
    response = api.post("/api/v1/certificates", json={"username": "w001", "program": "WG-SG", "reason": "补发"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "public_url_not_set"
    assert "LMS_PUBLIC_URL" in error["message"] and "127.0.0.1" in error["message"] and "暂不能发证" in error["message"]
    batch = api.post("/api/v1/certificates/batch", json={"usernames": ["w001"], "program": "WG-SG", "reason": "补发"})
    assert batch.status_code == 422 and batch.get_json()["error"]["code"] == "public_url_not_set"
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


@pytest.mark.parametrize("app_config", [LOOPBACK])
def test_the_batch_page_shows_the_reason(api, people, app_config):
    api.login("hr1")
    page = api.post("/certificates/batch", data={"program": "WG-SG", "usernames": "w001", "reason": "补发"})
    assert page.status_code == 422 and "LMS_PUBLIC_URL" in page.get_data(as_text=True)
    desk = api.get("/certificates/manage").get_data(as_text=True)
    assert "暂不能发证" in desk and "<code>LMS_PUBLIC_URL</code>" in desk


@pytest.mark.parametrize("app_config", [LOOPBACK])
def test_automatic_issue_waits_and_tasks_run_says_so_once(app, runner, tree, app_config):
    make_program(requires={})
    for n in range(3):
        make_user(f"w{n}", "worker", tree["g1"])
    assert services.evaluate_holder(make_user("w9", "worker", tree["g1"])) == []
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0, result.output
    assert result.output.count("暂不能发证") == 1
    assert "本次未自动发证" in result.output


@pytest.mark.parametrize("app_config", [LOOPBACK])
def test_the_demo_may_issue_on_a_loopback_url(app, tree, app_config):
    program = make_program()
    worker = make_user("d1", "worker", tree["g1"], is_demo=True)
    make_user("w1", "worker", tree["g1"])  # someone trying the demo adds an account: still the demo
    db.session.commit()
    assert services.issuing_blocked_reason() is None
    certificate = services.issue_certificate(None, worker, program, reason="演示")
    assert certificate.verify_code


def test_a_public_url_lets_issuing_start(app, people):
    assert services.issuing_blocked_reason() is None
