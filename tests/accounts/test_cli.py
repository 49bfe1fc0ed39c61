"""users create / disable / reset-password, tokens create, demo."""
from __future__ import annotations

import sqlalchemy as sa

from lms.accounts.models import User, UserStatus
from lms.extensions import db
from tests.factories import make_user


def test_users_create_with_scoped_roles(runner, tree):
    result = runner.invoke(args=["users", "create", "--username", "T100", "--name", "陈晓燕", "--org", "HX01",
                                 "--role", "trainer", "--role", "pii@HX01", "--password", "Trainer-Pass-1",
                                 "--hired", "2015-08-01", "--phone", "13900001111"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "T100"))
    assert {(g.role.value, g.org.code) for g in user.grants} == {("trainer", "HX01"), ("pii", "HX01")}
    assert not user.must_change_password


def test_users_create_bad_input_is_a_chinese_message(runner, tree):
    result = runner.invoke(args=["users", "create", "--username", "T1", "--name", "某", "--org", "NOPE",
                                 "--password", "Some-Pass-123"])
    assert result.exit_code == 1 and "组织编码 NOPE 不存在" in result.stderr
    result = runner.invoke(args=["users", "create", "--username", "T1", "--name", "某", "--org", "HX",
                                 "--password", "Some-Pass-123", "--id-card", "110105194912310021"])
    assert result.exit_code == 1 and "校验位" in result.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_disable_and_reset_password(runner, tree):
    make_user("w1", "worker", tree["g1"])
    assert runner.invoke(args=["users", "disable", "w1"]).exit_code == 0
    assert db.session.scalar(sa.select(User.status)) == UserStatus.disabled
    result = runner.invoke(args=["users", "reset-password", "w1"])
    assert result.exit_code == 0
    temporary = result.output.strip().splitlines()[-1]
    assert len(temporary) == 9 and temporary[4] == "-"  # 4827-KMPX
    assert db.session.scalar(sa.select(User.must_change_password))
    assert runner.invoke(args=["users", "disable", "ghost"]).exit_code == 1


def test_token_is_alone_on_the_last_line_and_works(runner, client, tree):
    make_user("svc", "hr", tree["county"])
    result = runner.invoke(args=["tokens", "create", "--username", "svc"])
    token = result.output.strip().splitlines()[-1]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["username"] == "svc"


def test_demo_prints_accounts_that_log_in_and_is_repeatable(runner, api):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo@2026" in first.output and "trainer-county" in first.output
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert api.login("worker", "Demo@2026").status_code == 200
    assert api.get("/api/v1/me").get_json()["org"]["code"] == "HX010101"


def test_demo_refuses_a_database_with_real_accounts(runner, tree):
    make_user("real1", "worker", tree["g1"])
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1 and "正式账号" in result.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
