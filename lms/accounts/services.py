"""Writes to accounts: create, import rosters, roles, disable, passwords, tokens."""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa

from lms.accounts import validation
from lms.accounts.models import (EDUCATION_LEVELS, ApiToken, OrgMembership, Role, RoleGrant, User, UserSession,
                                 UserStatus)
from lms.accounts.passwords import hash_password, one_time_password
from lms.audit.services import record
from lms.db import utcnow
from lms.errors import ValidationError
from lms.extensions import db
from lms.org.models import OrgUnit
from lms.org.queries import get_org
from lms.tabular import read_rows

ROSTER_COLUMNS = ["工号", "姓名", "身份证号", "手机号", "出生日期", "学历", "入职日期", "组织编码", "角色"]
_ROLE_SPLIT = re.compile(r"[,，、;；\s]+")
_ROLE_ALIASES = {label: role for role, label in
                 {Role.worker: "网格员", Role.grid_leader: "网格长", Role.mentor: "导师", Role.trainer: "培训师",
                  Role.hr: "人事", Role.admin: "管理员"}.items()}
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def parse_roles(text: str, home: OrgUnit | None, orgs: dict[str, OrgUnit] | None = None
                ) -> list[tuple[Role, OrgUnit]]:
    """'worker、mentor@HX01,pii@HX' -> [(Role, OrgUnit)]; a bare role is scoped to home."""
    grants: list[tuple[Role, OrgUnit]] = []
    for item in filter(None, _ROLE_SPLIT.split(text.strip())):
        name, _, code = item.partition("@")
        try:
            role = Role(name.strip().lower())
        except ValueError:
            role = _ROLE_ALIASES.get(name.strip())
        if role is None:
            raise ValidationError(f"角色“{name}”无效，应为 worker/grid_leader/mentor/trainer/hr/admin/pii 之一")
        if code:
            org = (orgs or {}).get(code.strip()) or get_org(code.strip())
            if org is None:
                raise ValidationError(f"角色“{item}”中的组织编码 {code} 不存在")
        else:
            org = home
        if org is None:
            raise ValidationError(f"角色“{item}”缺少组织")
        if (role, org) not in grants:
            grants.append((role, org))
    return grants


def set_roles(user: User, grants: list[tuple[Role, OrgUnit]], *, actor=None, client_addr: str = "") -> bool:
    """Replace user's grants; audit what changed. Returns True when something changed."""
    wanted = {(role, org.id) for role, org in grants}
    current = {(g.role, g.org_id): g for g in user.grants}
    removed = [key for key in current if key not in wanted]
    added = [(role, org) for role, org in grants if (role, org.id) not in current]
    for key in removed:
        user.grants.remove(current[key])
    for role, org in added:
        user.grants.append(RoleGrant(role=role, org=org))
    if removed or added:
        codes = {o.id: o.code for o in db.session.scalars(sa.select(OrgUnit).where(
            OrgUnit.id.in_([k[1] for k in removed] + [o.id for _, o in added])))}
        record("roles.change", actor=actor, target_type="user", target=user.username, org=user.org,
               client_addr=client_addr,
               details={"added": [f"{r}@{o.code}" for r, o in added],
                        "removed": [f"{r}@{codes.get(oid, oid)}" for r, oid in removed]})
    return bool(removed or added)


def _move_user(user: User, org: OrgUnit, now) -> None:
    """Transfer: close the old membership and open a new one, keeping history."""
    if user.id is not None and user.org_id == org.id:
        return
    if user.id is not None:
        db.session.execute(sa.update(OrgMembership).where(OrgMembership.user_id == user.id,
                                                          OrgMembership.ended_at.is_(None)).values(ended_at=now))
    user.org = org
    db.session.flush()
    db.session.add(OrgMembership(user_id=user.id, org_id=org.id, started_at=now))


def create_user(*, username: str, name: str, org: OrgUnit, roles: list[tuple[Role, OrgUnit]] | None = None,
                password: str | None = None, must_change_password: bool | None = None, id_card: str | None = None,
                phone: str | None = None, birth_date=None, education: str | None = None, hired_on=None,
                is_demo: bool = False, actor=None, now=None) -> User:
    """One account; a given password needs no change at first login unless told otherwise."""
    now = now or utcnow()
    username = username.strip()
    if not _USERNAME.fullmatch(username):
        raise ValidationError("工号只能包含字母、数字、点、下划线和短横线，2–64 个字符")
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise ValidationError(f"工号 {username} 已存在")
    if not name.strip():
        raise ValidationError("姓名不能为空")
    if id_card:
        id_card = validation.normalise_id_card(id_card)
        problem = validation.check_id_card(id_card)
        if problem:
            raise ValidationError(problem)
    if phone:
        phone = validation.normalise_phone(phone)
        problem = validation.check_phone(phone)
        if problem:
            raise ValidationError(problem)
    if education and education not in EDUCATION_LEVELS:
        raise ValidationError(f"学历“{education}”无效，应为 {'/'.join(EDUCATION_LEVELS)} 之一")
    if password is not None:
        problem = validation.check_new_password(password, username=username, id_card=id_card)
        if problem:
            raise ValidationError(problem)
    user = User(username=username, name=name.strip(), id_card=id_card or None, phone=phone or None,
                birth_date=birth_date, education=education or None, hired_on=hired_on, is_demo=is_demo,
                password_hash=hash_password(password) if password else "",
                must_change_password=(password is None) if must_change_password is None else must_change_password,
                created_at=now)
    db.session.add(user)
    _move_user(user, org, now)
    set_roles(user, roles if roles is not None else [(Role.worker, org)], actor=actor)
    record("accounts.create", actor=actor, target_type="user", target=username, org=org, now=now)
    return user


def end_sessions(user: User, now=None) -> None:
    """End every live session of user (disable, password reset)."""
    db.session.execute(sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                       .values(ended_at=now or utcnow()))


def disable_user(user: User, *, actor=None, client_addr: str = "", now=None) -> None:
    """Leaver: disabled, never deleted; sessions and tokens stop working at once."""
    now = now or utcnow()
    if user.status == UserStatus.disabled:
        return
    user.status = UserStatus.disabled
    user.disabled_at = now
    end_sessions(user, now)
    db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now))
    record("accounts.disable", actor=actor, target_type="user", target=user.username, org=user.org,
           client_addr=client_addr, now=now)


def enable_user(user: User, *, actor=None, now=None) -> None:
    if user.status == UserStatus.active:
        return
    user.status = UserStatus.active
    user.disabled_at = None
    record("accounts.enable", actor=actor, target_type="user", target=user.username, org=user.org, now=now)


def reset_password(user: User, *, actor=None, client_addr: str = "", now=None) -> str:
    """Set a one-time password (returned once) that must be changed at next login."""
    temporary = one_time_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    end_sessions(user, now)
    record("accounts.reset_password", actor=actor, target_type="user", target=user.username, org=user.org,
           client_addr=client_addr, now=now)
    return temporary


def change_password(user: User, new: str, *, client_addr: str = "", now=None) -> None:
    problem = validation.check_new_password(new, username=user.username, id_card=user.id_card)
    if problem:
        raise ValidationError(problem, code="weak_password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    record("accounts.change_password", actor=user, target_type="user", target=user.username, org=user.org,
           client_addr=client_addr, now=now)


def create_token(user: User, *, actor=None, now=None) -> str:
    """A new Bearer token; only its hash is kept, so it is shown once."""
    token = "lms_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(token_hash=hash_secret(token), user_id=user.id, created_at=now or utcnow()))
    record("tokens.create", actor=actor, target_type="user", target=user.username, org=user.org, now=now)
    return token


# --- roster import -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RosterReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    disabled: int = 0
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    #: (工号, 姓名, initial password) of accounts created by this import
    passwords: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    @property
    def error_lines(self) -> list[str]:
        return [f"row {row}: {message}" for row, message in self.errors]


@dataclasses.dataclass
class _RosterRow:
    username: str
    name: str
    id_card: str | None
    phone: str | None
    birth_date: object
    education: str | None
    hired_on: object
    org: OrgUnit
    roles: list
    active: bool


def _parse_roster_row(row: dict, orgs: dict[str, OrgUnit]) -> _RosterRow:
    problems = []
    username = row["工号"].strip()
    if not username:
        problems.append("工号为空")
    elif not _USERNAME.fullmatch(username):
        problems.append(f"工号“{username}”只能包含字母、数字、点、下划线和短横线")
    name = row["姓名"].strip()
    if not name:
        problems.append("姓名为空")
    id_card = validation.normalise_id_card(row["身份证号"]) or None
    if id_card and (msg := validation.check_id_card(id_card)):
        problems.append(msg)
    phone = validation.normalise_phone(row["手机号"]) or None
    if phone and (msg := validation.check_phone(phone)):
        problems.append(msg)
    birth = hired = None
    if row["出生日期"].strip():
        birth = validation.parse_date(row["出生日期"])
        if birth is None:
            problems.append(f"出生日期“{row['出生日期']}”无法识别，请写成 1980-05-01")
        elif id_card and not validation.check_id_card(id_card) and validation.id_card_birth_date(id_card) != birth:
            problems.append("出生日期与身份证号中的出生日期不一致")
    if row["入职日期"].strip():
        hired = validation.parse_date(row["入职日期"])
        if hired is None:
            problems.append(f"入职日期“{row['入职日期']}”无法识别，请写成 2020-03-01")
    education = row["学历"].strip() or None
    if education and education not in EDUCATION_LEVELS:
        problems.append(f"学历“{education}”无效，应为 {'/'.join(EDUCATION_LEVELS)} 之一")
    org = orgs.get(row["组织编码"].strip())
    if org is None:
        problems.append(f"组织编码“{row['组织编码']}”不存在" if row["组织编码"].strip() else "组织编码为空")
    roles = []
    try:
        roles = parse_roles(row["角色"] or "worker", org, orgs)
    except ValidationError as exc:
        problems.append(exc.message)
    status = row.get("状态", "").strip() or "在岗"
    if status not in ("在岗", "离岗"):
        problems.append(f"状态“{status}”无效，应为“在岗”或“离岗”")
    if problems:
        raise ValidationError("；".join(problems))
    return _RosterRow(username, name, id_card, phone, birth, education, hired, org, roles, status == "在岗")


def import_roster(data: bytes, filename: str, *, actor=None, now=None) -> RosterReport:
    """Sync accounts from a roster (API.md); idempotent by 工号, bad rows reported, good rows kept."""
    now = now or utcnow()
    report = RosterReport()
    rows = read_rows(data, filename, ROSTER_COLUMNS)
    orgs = {o.code: o for o in db.session.scalars(sa.select(OrgUnit))}
    usernames = [r["工号"].strip() for _, r in rows]
    existing = {u.username: u for u in db.session.scalars(sa.select(User).where(User.username.in_(usernames)))}
    first_row: dict[str, int] = {}
    for number, raw in rows:
        key = raw["工号"].strip()
        if key and key in first_row:
            report.errors.append((number, f"工号 {key} 与第 {first_row[key]} 行重复，已保留第一次出现的行"))
            continue
        try:
            parsed = _parse_roster_row(raw, orgs)
        except ValidationError as exc:
            report.errors.append((number, exc.message))
            continue
        first_row[key] = number
        try:
            with db.session.begin_nested():
                outcome = _apply_roster_row(parsed, existing.get(parsed.username), report, actor, now)
        except (ValidationError, sa.exc.IntegrityError) as exc:
            message = exc.message if isinstance(exc, ValidationError) else "与已有数据冲突"
            report.errors.append((number, message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    record("accounts.import", actor=actor, target_type="roster", target=Path(filename).name, now=now,
           details={"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                    "disabled": report.disabled, "errors": len(report.errors)})
    return report


def _apply_roster_row(row: _RosterRow, user: User | None, report: RosterReport, actor, now) -> str:
    if user is None:
        password = one_time_password()
        user = create_user(username=row.username, name=row.name, org=row.org, roles=row.roles, password=None,
                           id_card=row.id_card, phone=row.phone, birth_date=row.birth_date,
                           education=row.education, hired_on=row.hired_on, actor=actor, now=now)
        user.password_hash = hash_password(password)
        user.must_change_password = True
        if not row.active:
            disable_user(user, actor=actor, now=now)
        report.passwords.append((row.username, row.name, password))
        return "created"
    changed = False
    for attr in ("name", "id_card", "phone", "birth_date", "education", "hired_on"):
        if getattr(user, attr) != getattr(row, attr):
            setattr(user, attr, getattr(row, attr))
            changed = True
    if user.org_id != row.org.id:
        _move_user(user, row.org, now)
        changed = True
    changed |= set_roles(user, row.roles, actor=actor)
    if not row.active and user.status == UserStatus.active:
        disable_user(user, actor=actor, now=now)
        report.disabled += 1
        return "updated"
    if row.active and user.status == UserStatus.disabled:
        enable_user(user, actor=actor, now=now)
        changed = True
    return "updated" if changed else "unchanged"


def write_password_sheet(path: Path, passwords: list[tuple[str, str, str]]) -> None:
    """Append new accounts' initial passwords for HR to hand out (owner-only file)."""
    new_file = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8-sig" if new_file else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new_file:
            writer.writerow(["工号", "姓名", "初始密码"])
        writer.writerows(passwords)
