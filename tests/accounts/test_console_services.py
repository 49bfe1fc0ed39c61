"""Services and permission rules behind the accounts console: who may act on whom, grant what; roster plans."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.accounts import services
from lms.accounts.models import Role, User
from lms.accounts.permissions import SYSTEM, Permission, can, can_grant, can_manage_account, grantable_roles
from lms.audit.models import AuditEntry
from lms.errors import Forbidden, ValidationError
from lms.extensions import db
from tests.factories import make_user

HEADER = "工号,姓名,身份证号,手机号,出生日期,学历,入职日期,组织编码,角色,状态"


def roster(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


@pytest.fixture
def people(tree):
    return {
        "hr": make_user("hr-t1", "hr", tree["t1"], name="周敏"),
        "hr_pii": make_user("hr-pii", ["hr", ("pii", tree["t1"])], tree["t1"]),
        "admin": make_user("adm", "admin", tree["county"]),
        "admin_pii": make_user("adm-pii", ["admin", ("pii", tree["county"])], tree["county"]),
        "leader": make_user("lead", ["worker", "grid_leader"], tree["g1"]),
        "worker": make_user("w001", "worker", tree["g1"], name="张小明"),
        "trainer": make_user("tr", "trainer", tree["v1"]),
        "mentor": make_user("men", ["worker", "mentor"], tree["g1"]),
        "pii_worker": make_user("pw", ["worker", ("pii", tree["g1"])], tree["g1"]),
        "hr_peer": make_user("hr-t1b", "hr", tree["t1"]),
    }


@pytest.mark.parametrize("actor,target,allowed", [
    ("hr", "worker", True),
    ("hr", "trainer", True),       # hr may grant trainer, so may act on one
    ("hr", "mentor", True),
    ("hr", "hr_peer", True),       # holds every hr permission there
    ("hr", "pii_worker", False),   # issue 13 item 1: no pii, no takeover of a pii holder
    ("hr", "hr_pii", False),
    ("hr_pii", "pii_worker", True),
    ("admin", "pii_worker", False),
    ("admin_pii", "pii_worker", True),
    ("leader", "worker", True),
    ("leader", "mentor", False),   # a mentor logs activities; a grid leader cannot
    ("leader", "trainer", False),
    ("hr", "hr", False),           # never one's own account
])
def test_can_manage_account_requires_every_permission_the_target_holds(people, actor, target, allowed):
    perm = Permission.RESET_PASSWORD if actor == "leader" else Permission.MANAGE_USERS
    assert can_manage_account(people[actor], people[target], perm) is allowed


def test_the_permission_table_decides_who_grants_what(people, tree):
    assert grantable_roles(people["hr"], tree["g1"]) == [Role.worker, Role.grid_leader, Role.mentor, Role.trainer]
    assert grantable_roles(people["hr"], tree["g2"]) == []
    assert Role.pii not in grantable_roles(people["admin"], tree["g1"])
    assert grantable_roles(people["admin_pii"], tree["g1"]) == list(Role)
    assert not can_grant(people["leader"], Role.worker, tree["g1"])
    assert can_grant(SYSTEM, Role.admin, tree["county"])


def test_nobody_certifies_or_manages_themself(people):
    hr = people["hr"]
    assert not can(hr, Permission.MANAGE_CERTIFICATES, hr)
    assert can(hr, Permission.MANAGE_CERTIFICATES, people["worker"])
    assert can(hr, Permission.VIEW_USERS, hr)  # seeing oneself is not acting on oneself


def test_generated_usernames_follow_the_unit_code(people, tree):
    make_user("HX010101-001", "worker", tree["g1"])
    make_user("HX010101-003", "worker", tree["g1"])
    assert services.generate_username(tree["g1"]) == "HX010101-002"


def test_create_account_defaults_to_worker_and_audits_in_chinese(people, tree):
    user, password = services.create_account(people["hr"], name="王五", org=tree["g1"])
    db.session.commit()
    assert [(g.role, g.org.code) for g in user.grants] == [(Role.worker, "HX010101")]
    assert user.must_change_password and len(password) == 9 and password[4] == "-"  # 4827-KMPX
    roles = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "roles.change",
                                                          AuditEntry.target == user.username))
    assert roles.details["added"] == ["网格员（桃源村第一网格）"]


def test_update_account_checks_birth_against_the_stored_id_card(people, tree):
    target = make_user("w9", "worker", tree["g1"], id_card="11010519491231002X")
    with pytest.raises(ValidationError, match="不一致"):
        services.update_account(people["hr"], target, {"birth_date": "1980-01-01"})
    assert services.update_account(people["hr"], target, {"birth_date": "1949-12-31"}) == ["出生日期"]


def test_change_roles_refuses_to_revoke_what_the_actor_could_not_grant(people, tree):
    target = make_user("w10", ["worker", ("trainer", tree["t2"])], tree["g1"])
    with pytest.raises(Forbidden):
        services.change_roles(people["hr"], target, [(Role.worker, tree["g1"])])


def test_plan_writes_nothing_and_says_what_each_row_would_do(people, tree):
    people["worker"].education = "高中"
    db.session.commit()
    plan = services.plan_roster(roster("W100,新人,,,,,,HX010101,,", "w001,张小明,,,,本科,,HX010101,,",
                                       "lead,孙,,,,,,HX010101,,离岗", "men,赵,,,,,,HX010101,,",
                                       "W101,坏,,1,,,,HX010101,,"), "r.csv", actor=people["hr"])
    assert [(r.row, r.action) for r in plan.rows] == [(2, "create"), (3, "update"), (4, "disable"), (5, "update")]
    assert plan.rows[1].changes == ["学历"]
    assert [row for row, _ in plan.errors] == [6]
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.username == "W100")) is None
    assert db.session.scalar(sa.select(User.education).where(User.username == "w001")) == "高中"


def test_roster_rows_about_oneself_are_refused(people, tree):
    plan = services.plan_roster(roster("hr-t1,周敏,,,,,,HX01,,"), "r.csv", actor=people["hr"])
    assert plan.errors == [(2, "不能通过导入修改自己的账号")]


def test_a_password_sheet_is_taken_once(people, app):
    upload, _ = services.store_upload(people["hr"], "roster", b"x", "r.csv")
    upload.password_sheet = services.password_sheet_xlsx([("W1", "甲", "abcdefgh")])
    db.session.commit()
    assert services.take_password_sheet(upload, actor=people["hr"])[:2] == b"PK"
    db.session.commit()
    with pytest.raises(Exception) as excinfo:
        services.take_password_sheet(upload, actor=people["hr"])
    assert getattr(excinfo.value, "status", None) == 410


def test_unconfirmed_uploads_expire(people):
    old, _ = services.store_upload(people["hr"], "roster", b"x", "r.csv",
                                   now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    db.session.commit()
    services.store_upload(people["hr"], "roster", b"y", "r.csv", now=dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc))
    db.session.commit()
    db.session.refresh(old)
    assert old.data is None
