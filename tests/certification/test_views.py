"""HR certificate desk pages and the `tasks run` command."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.certification import cli as cert_cli
from lms.certification.models import Certificate, CertificateStatus
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def desk(tree):
    sg = make_program("WG-SG", "网格员上岗证", requires={"drills_accepted": 3})
    w1 = make_user("w1", "worker", tree["g1"], name="李小红")
    w2 = make_user("w2", "worker", tree["g2"], name="王五")
    make_user("hr1", "hr", tree["t1"], name="人事一")
    return {"sg": sg, "w1": w1, "w2": w2, "c1": make_certificate(w1, sg), "c2": make_certificate(w2, sg)}


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_manage_page_lists_scope_and_expiry_windows(client, api, desk):
    api.login("hr1")
    page = client.get("/certificates/manage")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and desk["c1"].number in text and desk["c2"].number not in text
    assert "30 天内到期" in text and "90 天内到期" in text
    assert client.get("/certificates/manage?expiring=30").status_code == 200
    assert client.get("/certificates/manage?expiring=45").status_code == 422
    assert client.get("/certificates/manage?org=HX02").status_code == 403
    assert client.get("/certificates/manage?issued_from=yesterday").status_code == 422


def test_worker_cannot_open_the_desk(client, api, desk):
    api.login("w1")
    assert client.get("/certificates/manage").status_code == 403


def test_revoke_form_needs_a_reason_and_scope(client, api, desk):
    api.login("hr1")
    token = _csrf(client.get("/certificates/manage"))
    url = f"/certificates/{desk['c1'].number}/revoke"
    assert client.post(url, data={"csrf_token": token, "reason": ""}).status_code == 422
    assert client.post(f"/certificates/{desk['c2'].number}/revoke",
                       data={"csrf_token": token, "reason": "x"}).status_code == 403
    response = client.post(url, data={"csrf_token": token, "reason": "离岗"})
    assert response.status_code == 303
    assert db.session.get(Certificate, desk["c1"].id).status == CertificateStatus.revoked
    assert client.post(url, data={"csrf_token": token, "reason": "离岗"}).status_code == 409


def test_issue_and_renew_forms(client, api, desk, tree):
    make_user("w3", "worker", tree["g1"], name="赵六")
    api.login("hr1")
    token = _csrf(client.get("/certificates/manage"))
    bad = client.post("/certificates/issue", data={"csrf_token": token, "username": "w3", "program": "NOPE",
                                                   "reason": "x"})
    assert bad.status_code == 422
    assert client.post("/certificates/issue", data={"csrf_token": token, "username": "ghost", "program": "WG-SG",
                                                    "reason": "x"}).status_code == 404
    ok = client.post("/certificates/issue", data={"csrf_token": token, "username": "w3", "program": "WG-SG",
                                                  "reason": "补发"})
    assert ok.status_code == 303
    renewed = client.post(f"/certificates/{desk['c1'].number}/renew", data={"csrf_token": token, "reason": "复训"})
    assert renewed.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 4


def test_forms_without_csrf_are_refused(client, api, desk):
    api.login("hr1")
    response = client.post(f"/certificates/{desk['c1'].number}/revoke", data={"reason": "x"})
    assert response.status_code == 400


def test_home_offers_certificate_tiles(client, api, desk):
    api.login("w1")
    assert "我的证书与认证进度" in client.get("/").get_data(as_text=True)


def test_tasks_run_expires_and_reports(runner, desk, monkeypatch):
    closed = []
    monkeypatch.setattr(cert_cli, "_close_overdue_attempts", lambda: lambda now: closed.append(now) or 2)
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0, result.output
    assert "关闭超时答卷 2" in result.output and "证书到期 0" in result.output and closed


def test_tasks_run_without_the_quiz_task(runner, desk, monkeypatch):
    monkeypatch.setattr(cert_cli, "_close_overdue_attempts", lambda: None)
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0 and "关闭超时答卷" not in result.output


def test_tasks_run_calls_the_real_quiz_task_when_installed(runner, desk):
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0, result.output
    if cert_cli._close_overdue_attempts() is not None:
        assert "关闭超时答卷 0" in result.output
    assert "自动发证 0" in result.output
