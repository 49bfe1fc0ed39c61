"""Writes to accounts: create, import rosters, roles, disable, passwords, tokens."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa

from lms.accounts import validation
from lms.accounts.models import (EDUCATION_LEVELS, ROLE_LABELS, SPEECH_RATES, ApiToken, ImportUpload, OrgMembership,
                                 Role, RoleGrant, User, UserPreference, UserSession, UserStatus)
from lms.accounts.passwords import hash_password, one_time_password, verify_typed_password
from lms.accounts.permissions import SYSTEM, Permission, can, can_grant, can_manage_account
from lms.audit.services import record
from lms.db import utcnow
from lms.errors import Forbidden, LMSError, NotFound, ValidationError
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
        names = {o.id: o.name for o in db.session.scalars(sa.select(OrgUnit).where(
            OrgUnit.id.in_([k[1] for k in removed] + [o.id for _, o in added])))}
        added_labels = [role_label(r, o.name) for r, o in added]
        removed_labels = [role_label(r, names.get(oid, "")) for r, oid in removed]
        parts = ([f"授予{'、'.join(added_labels)}"] if added_labels else []) + (
            [f"撤销{'、'.join(removed_labels)}"] if removed_labels else [])
        record("roles.change", actor=actor, target_type="user", target=user.username, org=user.org,
               client_addr=client_addr,
               details={"summary": f"{_actor_name(actor)} 为 {user.name}（{user.username}）{'，'.join(parts)}",
                        "username": user.username, "name": user.name,
                        "added": added_labels, "removed": removed_labels})
    return bool(removed or added)


def role_label(role: Role, org_name: str) -> str:
    """网格员（桃源村第一网格）: a grant as the audit log and pages show it."""
    return f"{ROLE_LABELS[role]}（{org_name}）" if org_name else ROLE_LABELS[role]


def _actor_name(actor) -> str:
    if actor is None or actor is SYSTEM:
        return "系统"
    return getattr(actor, "name", None) or getattr(actor, "username", "系统")


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
    record("accounts.create", actor=actor, target_type="user", target=username, org=org, now=now,
           details={"summary": f"{_actor_name(actor)} 新建了 {org.name} 的账号 {user.name}（{username}）",
                    "username": username, "name": user.name, "org": org.name})
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
           client_addr=client_addr, now=now,
           details={"summary": f"{_actor_name(actor)} 停用了 {user.name}（{user.username}）的账号",
                    "username": user.username, "name": user.name, "org": user.org.name})


def enable_user(user: User, *, actor=None, client_addr: str = "", now=None) -> None:
    """Re-enable a disabled account (a returning worker); its history was never deleted."""
    if user.status == UserStatus.active:
        return
    user.status = UserStatus.active
    user.disabled_at = None
    record("accounts.enable", actor=actor, target_type="user", target=user.username, org=user.org,
           client_addr=client_addr, now=now,
           details={"summary": f"{_actor_name(actor)} 重新启用了 {user.name}（{user.username}）的账号",
                    "username": user.username, "name": user.name, "org": user.org.name})


def reset_password(user: User, *, actor=None, client_addr: str = "", now=None) -> str:
    """Set a one-time password (returned once) that must be changed at next login; every session of the account
    ends and its Bearer tokens are revoked (whoever held them may be whoever got hold of the password)."""
    now = now or utcnow()
    temporary = one_time_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    end_sessions(user, now)
    revoked = revoke_tokens(user, now)
    record("accounts.reset_password", actor=actor, target_type="user", target=user.username, org=user.org,
           client_addr=client_addr, now=now, details={"tokens_revoked": revoked} if revoked else None)
    return temporary


def change_password(user: User, new: str, *, keep_session: str | None = None, client_addr: str = "",
                    now=None) -> None:
    """Set the user's own password: not the current one (nor so the one-time password HR handed out); every
    other session of the account ends (a lost tablet) and its Bearer tokens are revoked. keep_session is the
    key of the session that made the change, which stays."""
    now = now or utcnow()
    problem = validation.check_new_password(new, username=user.username, id_card=user.id_card)
    if problem:
        raise ValidationError(problem, code="weak_password")
    if verify_typed_password(user.password_hash, new, one_time_pending=user.must_change_password) is not None:
        raise ValidationError("新密码不能与原密码（或一次性密码）相同，请换一个", code="password_reused")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    others = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep_session:
        others = others.where(UserSession.key_hash != hash_secret(keep_session))
    ended = db.session.execute(others.values(ended_at=now)).rowcount
    revoked = revoke_tokens(user, now)
    record("accounts.change_password", actor=user, target_type="user", target=user.username, org=user.org,
           client_addr=client_addr, now=now, details={"sessions_ended": ended, "tokens_revoked": revoked})


def create_token(user: User, *, actor=None, now=None) -> str:
    """A new Bearer token; only its hash is kept, so it is shown once."""
    token = "lms_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(token_hash=hash_secret(token), user_id=user.id, created_at=now or utcnow()))
    record("tokens.create", actor=actor, target_type="user", target=user.username, org=user.org, now=now)
    return token


def revoke_tokens(user: User, now=None) -> int:
    """Revoke every live Bearer token of user (password change or reset); how many were live."""
    return db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                              .values(revoked_at=now or utcnow())).rowcount


def revoke_token(token: ApiToken, *, actor=None, now=None) -> bool:
    """Revoke one Bearer token; False when it was revoked already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    record("tokens.revoke", actor=actor, target_type="user", target=token.user.username, org=token.user.org,
           now=now, details={"token": token.id})
    return True


# --- operators' account actions (the browser and /api/v1/users) ---------------------------------------------

#: Chinese names of the editable personal fields, for messages and the audit log
FIELD_LABELS = {"name": "姓名", "org": "单位", "id_card": "身份证号", "phone": "手机号", "birth_date": "出生日期",
                "education": "学历", "hired_on": "入职日期"}
#: personal information: the audit log names the field, never its value
_PII_FIELDS = frozenset({"id_card", "phone"})


def ensure_can_manage(actor, user: User, perm: Permission = Permission.MANAGE_USERS) -> None:
    """Raise Forbidden unless actor may act on user's account (permissions.can_manage_account)."""
    if getattr(actor, "id", None) is not None and actor.id == user.id:
        raise Forbidden("不能通过人员管理操作自己的账号（修改本人密码请到“修改密码”）", code="self_action")
    if not can_manage_account(actor, user, perm):
        raise Forbidden("没有权限：该账号不在您的管辖范围内，或其拥有您没有的权限")


def ensure_can_grant(actor, grants) -> None:
    """Raise Forbidden naming the first role actor may not grant (or revoke) over its unit."""
    for role, org in grants:
        if not can_grant(actor, role, org):
            raise Forbidden(f"没有权限：您不能在“{org.name}”授予或撤销“{ROLE_LABELS[role]}”角色", code="role_not_grantable")


def generate_username(org: OrgUnit) -> str:
    """The next free 工号 of the unit: its code, a dash and a three-digit serial (HX010101-007)."""
    prefix = f"{org.code}-"
    taken = set(db.session.scalars(sa.select(User.username).where(User.username.like(prefix + "%"))))
    serial = 1
    while f"{prefix}{serial:03d}" in taken:
        serial += 1
    return f"{prefix}{serial:03d}"


def clean_personal_fields(fields: dict) -> dict:
    """Validate and normalise the personal fields given (validation.py); ValidationError names the field.

    Values: strings as typed (dates as 2020-03-01 or 2020年3月1日); an empty string clears an optional field.
    """
    out: dict = {}
    for key, value in fields.items():
        if key not in FIELD_LABELS or key == "org":
            continue
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"{FIELD_LABELS[key]}应为文字", code="invalid_field")
        text = (value or "").strip()
        if key == "name":
            if not text:
                raise ValidationError("姓名不能为空", code="invalid_field")
            if len(text) > 50:
                raise ValidationError("姓名不能超过 50 个字", code="invalid_field")
            out[key] = text
        elif not text:
            out[key] = None
        elif key == "id_card":
            number = validation.normalise_id_card(text)
            if problem := validation.check_id_card(number):
                raise ValidationError(problem, code="invalid_field")
            out[key] = number
        elif key == "phone":
            number = validation.normalise_phone(text)
            if problem := validation.check_phone(number):
                raise ValidationError(problem, code="invalid_field")
            out[key] = number
        elif key == "education":
            if text not in EDUCATION_LEVELS:
                raise ValidationError(f"学历“{text}”无效，应为 {'/'.join(EDUCATION_LEVELS)} 之一", code="invalid_field")
            out[key] = text
        else:
            parsed = validation.parse_date(text)
            if parsed is None or not 1900 <= parsed.year <= 2100:
                raise ValidationError(f"{FIELD_LABELS[key]}“{text}”无法识别，请写成 2020-03-01", code="invalid_field")
            out[key] = parsed
    birth, id_card = out.get("birth_date"), out.get("id_card")
    if birth and id_card and validation.id_card_birth_date(id_card) != birth:
        raise ValidationError("出生日期与身份证号中的出生日期不一致", code="invalid_field")
    return out


def create_account(actor, *, name: str, org: OrgUnit, grants: list[tuple[Role, OrgUnit]] | None = None,
                   username: str | None = None, fields: dict | None = None, now=None) -> tuple[User, str]:
    """An account made by HR/admin in scope; returns it with its one-time password (shown once)."""
    if not can(actor, Permission.MANAGE_USERS, org):
        raise Forbidden(f"没有权限：“{org.name}”不在您的管辖范围内")
    grants = grants if grants else [(Role.worker, org)]
    ensure_can_grant(actor, grants)
    cleaned = clean_personal_fields({**(fields or {}), "name": name})
    username = (username or "").strip() or generate_username(org)
    user = create_user(username=username, name=cleaned.pop("name"), org=org, roles=grants, password=None,
                       actor=actor, now=now, **cleaned)
    temporary = one_time_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    return user, temporary


def update_account(actor, user: User, changes: dict, *, client_addr: str = "", now=None) -> list[str]:
    """Edit personal fields and the unit (a move keeps the membership history); returns the changed labels."""
    now = now or utcnow()
    ensure_can_manage(actor, user)
    cleaned = clean_personal_fields(changes)
    id_card = cleaned.get("id_card", user.id_card)
    birth = cleaned.get("birth_date", user.birth_date)
    if ("id_card" in cleaned or "birth_date" in cleaned) and id_card and birth and \
            validation.id_card_birth_date(id_card) != birth:
        raise ValidationError("出生日期与身份证号中的出生日期不一致", code="invalid_field")
    changed = [key for key, value in cleaned.items() if getattr(user, key) != value]
    new_org = changes.get("org")
    old_org_name = user.org.name
    if new_org is not None and new_org.id != user.org_id:
        if not can(actor, Permission.MANAGE_USERS, new_org):
            raise Forbidden(f"没有权限：“{new_org.name}”不在您的管辖范围内")
        _move_user(user, new_org, now)
        changed.append("org")
    for key in changed:
        if key != "org":
            setattr(user, key, cleaned[key])
    if changed:
        labels = [FIELD_LABELS[k] for k in changed]
        details = {"summary": f"{_actor_name(actor)} 修改了 {user.name}（{user.username}）的{'、'.join(labels)}",
                   "username": user.username, "name": user.name, "fields": labels}
        if "org" in changed:
            details.update(org_from=old_org_name, org_to=user.org.name)
        # Personal information is named, never copied into the log.
        details["values"] = {FIELD_LABELS[k]: str(cleaned[k]) for k in changed
                             if k not in _PII_FIELDS and k != "org" and cleaned[k] is not None}
        record("accounts.update", actor=actor, target_type="user", target=user.username, org=user.org,
               client_addr=client_addr, now=now, details=details)
    return [FIELD_LABELS[k] for k in changed]


def change_roles(actor, user: User, grants: list[tuple[Role, OrgUnit]], *, client_addr: str = "") -> bool:
    """Replace user's roles: actor may act on the account and grant (or revoke) every role that changes."""
    ensure_can_manage(actor, user)
    if not grants:
        raise ValidationError("至少保留一个角色（离岗人员请停用账号）", code="invalid_roles")
    current = {(g.role, g.org_id): g.org for g in user.grants}
    wanted = {(role, org.id): org for role, org in grants}
    ensure_can_grant(actor, [(key[0], org) for key, org in {**current, **wanted}.items()
                             if (key in current) != (key in wanted)])
    return set_roles(user, grants, actor=actor, client_addr=client_addr)


def set_account_status(actor, user: User, active: bool, *, client_addr: str = "", now=None) -> None:
    """Disable a leaver (never deleted) or re-enable a returning one."""
    ensure_can_manage(actor, user)
    if active:
        enable_user(user, actor=actor, client_addr=client_addr, now=now)
    else:
        disable_user(user, actor=actor, client_addr=client_addr, now=now)


def parse_grant_list(items, orgs_by_code=None) -> list[tuple[Role, OrgUnit]]:
    """[{role, org}] from JSON or a form -> [(Role, OrgUnit)]; a Chinese message for a bad item."""
    if not isinstance(items, list):
        raise ValidationError("roles 应为列表，每项为 {role, org}", code="invalid_roles")
    grants: list[tuple[Role, OrgUnit]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("role"), str) or not isinstance(item.get("org"), str):
            raise ValidationError("roles 的每一项应为 {role: 角色, org: 组织编码}", code="invalid_roles")
        try:
            role = Role(item["role"].strip())
        except ValueError:
            role = _ROLE_ALIASES.get(item["role"].strip()) or next(
                (r for r, label in ROLE_LABELS.items() if label == item["role"].strip()), None)
        if role is None:
            raise ValidationError(f"角色“{item['role'][:20]}”无效", code="invalid_roles")
        org = (orgs_by_code or {}).get(item["org"]) or get_org(item["org"].strip())
        if org is None:
            raise ValidationError(f"组织编码“{item['org'][:32]}”不存在", code="invalid_roles")
        if (role, org) not in grants:
            grants.append((role, org))
    return grants


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

    def counts(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "disabled": self.disabled}


@dataclasses.dataclass
class _RosterRow:
    username: str
    name: str
    #: None: the cell was blank, keep what is stored (API.md, Roster re-import)
    id_card: str | None
    phone: str | None
    birth_date: object
    education: str | None
    hired_on: object
    org: OrgUnit
    #: None: 角色 was blank (new accounts get worker in their unit; existing ones keep theirs)
    roles: list | None
    #: None: 状态 was blank (new accounts are 在岗; existing ones keep their status)
    active: bool | None


#: what a planned row will do
ROSTER_ACTIONS = {"create": "新建", "update": "更新", "unchanged": "不变", "disable": "停用"}


@dataclasses.dataclass
class RosterPlanRow:
    row: int
    parsed: _RosterRow
    action: str  # a key of ROSTER_ACTIONS
    #: Chinese labels of what changes (update/disable)
    changes: list[str] = dataclasses.field(default_factory=list)

    @property
    def username(self) -> str:
        return self.parsed.username

    @property
    def name(self) -> str:
        return self.parsed.name

    @property
    def action_label(self) -> str:
        return ROSTER_ACTIONS[self.action]


@dataclasses.dataclass
class RosterPlan:
    """What a roster would do, row by row, before anything is written."""

    filename: str
    rows: list[RosterPlanRow] = dataclasses.field(default_factory=list)
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


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
    elif len(name) > 50:
        problems.append("姓名不能超过 50 个字")
    id_card = validation.normalise_id_card(row["身份证号"]) or None
    if id_card and (msg := validation.check_id_card(id_card)):
        problems.append(msg)
    phone = validation.normalise_phone(row["手机号"]) or None
    if phone and (msg := validation.check_phone(phone)):
        problems.append(msg)
    birth = hired = None
    if row["出生日期"].strip():
        birth = validation.parse_date(row["出生日期"])
        if birth is None or not 1900 <= birth.year <= 2100:
            birth = None
            problems.append(f"出生日期“{row['出生日期']}”无法识别，请写成 1980-05-01")
        elif id_card and not validation.check_id_card(id_card) and validation.id_card_birth_date(id_card) != birth:
            problems.append("出生日期与身份证号中的出生日期不一致")
    if row["入职日期"].strip():
        hired = validation.parse_date(row["入职日期"])
        if hired is None or not 1900 <= hired.year <= 2100:
            hired = None
            problems.append(f"入职日期“{row['入职日期']}”无法识别，请写成 2020-03-01")
    education = row["学历"].strip() or None
    if education and education not in EDUCATION_LEVELS:
        problems.append(f"学历“{education}”无效，应为 {'/'.join(EDUCATION_LEVELS)} 之一")
    org = orgs.get(row["组织编码"].strip())
    if org is None:
        problems.append(f"组织编码“{row['组织编码']}”不存在" if row["组织编码"].strip() else "组织编码为空")
    roles = None
    if (row["角色"] or "").strip():
        try:
            roles = parse_roles(row["角色"], org, orgs)
        except ValidationError as exc:
            problems.append(exc.message)
    status = row.get("状态", "").strip()
    if status not in ("", "在岗", "离岗"):
        problems.append(f"状态“{status}”无效，应为“在岗”或“离岗”")
    if problems:
        raise ValidationError("；".join(problems))
    return _RosterRow(username, name, id_card, phone, birth, education, hired, org, roles,
                      None if not status else status == "在岗")


def _roster_changes(row: _RosterRow, user: User) -> list[str]:
    """Chinese labels of what the row would change on an existing account (blank cells change nothing)."""
    changes = []
    for attr in ("name", "id_card", "phone", "birth_date", "education", "hired_on"):
        value = getattr(row, attr)
        if value is not None and getattr(user, attr) != value:
            changes.append(FIELD_LABELS[attr])
    if user.org_id != row.org.id:
        changes.append(f"单位（{user.org.name} → {row.org.name}）")
    if row.roles is not None and {(r, o.id) for r, o in row.roles} != {(g.role, g.org_id) for g in user.grants}:
        changes.append("角色")
    if row.active is True and user.status == UserStatus.disabled:
        changes.append("重新启用")
    return changes


def _scope_problem(actor, row: _RosterRow, user: User | None) -> str | None:
    """Why actor may not apply this row, or None (SYSTEM and None mean the console: everything)."""
    if actor is None or actor is SYSTEM:
        return None
    if user is not None and user.id == getattr(actor, "id", None):
        return "不能通过导入修改自己的账号"
    if not can(actor, Permission.MANAGE_USERS, row.org):
        return f"组织“{row.org.name}”（{row.org.code}）不在您的管辖范围内"
    if user is not None and not can_manage_account(actor, user, Permission.MANAGE_USERS):
        return f"工号 {user.username} 的账号不在您的管辖范围内，或拥有您没有的权限"
    if row.roles is not None:
        current = {(g.role, g.org_id): g.org for g in user.grants} if user is not None else {}
        wanted = {(r, o.id): o for r, o in row.roles}
        for (role, _), org in {**current, **wanted}.items():
            if ((role, org.id) in current) != ((role, org.id) in wanted) and not can_grant(actor, role, org):
                return f"您不能在“{org.name}”授予或撤销“{ROLE_LABELS[role]}”角色"
    return None


def plan_roster(data: bytes, filename: str, *, actor=None) -> RosterPlan:
    """Read a roster and say what each row would do, listing every bad row; writes nothing."""
    plan = RosterPlan(filename=Path(filename).name)
    rows = read_rows(data, filename, ROSTER_COLUMNS)
    orgs = {o.code: o for o in db.session.scalars(sa.select(OrgUnit))}
    usernames = [r["工号"].strip() for _, r in rows]
    existing = {u.username: u for u in db.session.scalars(sa.select(User).where(User.username.in_(usernames)))}
    first_row: dict[str, int] = {}
    for number, raw in rows:
        key = raw["工号"].strip()
        if key and key in first_row:
            plan.errors.append((number, f"工号 {key} 与第 {first_row[key]} 行重复，已保留第一次出现的行"))
            continue
        try:
            parsed = _parse_roster_row(raw, orgs)
        except ValidationError as exc:
            plan.errors.append((number, exc.message))
            continue
        first_row[key] = number
        user = existing.get(parsed.username)
        if user is not None and parsed.birth_date and not parsed.id_card and user.id_card and \
                validation.id_card_birth_date(user.id_card) != parsed.birth_date:
            plan.errors.append((number, "出生日期与已登记的身份证号中的出生日期不一致"))
            continue
        if problem := _scope_problem(actor, parsed, user):
            plan.errors.append((number, problem))
            continue
        if user is None:
            plan.rows.append(RosterPlanRow(number, parsed, "create"))
            continue
        changes = _roster_changes(parsed, user)
        if parsed.active is False and user.status == UserStatus.active:
            plan.rows.append(RosterPlanRow(number, parsed, "disable", changes))
        else:
            plan.rows.append(RosterPlanRow(number, parsed, "update" if changes else "unchanged", changes))
    plan.errors.sort()
    return plan


def apply_roster(plan: RosterPlan, *, actor=None, client_addr: str = "", now=None) -> RosterReport:
    """Write the good rows of a plan (each in a savepoint); audited once for the file."""
    now = now or utcnow()
    report = RosterReport(errors=list(plan.errors))
    existing = {u.username: u for u in db.session.scalars(
        sa.select(User).where(User.username.in_([r.username for r in plan.rows])))}
    for planned in plan.rows:
        try:
            with db.session.begin_nested():
                outcome = _apply_roster_row(planned.parsed, existing.get(planned.username), report, actor, now)
        except (ValidationError, sa.exc.IntegrityError) as exc:
            message = exc.message if isinstance(exc, ValidationError) else "与已有数据冲突"
            report.errors.append((planned.row, message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.errors.sort()
    counts = report.counts()
    record("accounts.import", actor=actor, target_type="roster", target=plan.filename, now=now,
           client_addr=client_addr,
           details={**counts, "errors": len(report.errors), "file": plan.filename,
                    "summary": f"{_actor_name(actor)} 导入人员名单《{plan.filename}》：新建 {report.created} 人，"
                               f"更新 {report.updated} 人，停用 {report.disabled} 人，未变 {report.unchanged} 人，"
                               f"错误 {len(report.errors)} 行"})
    return report


def import_roster(data: bytes, filename: str, *, actor=None, client_addr: str = "", now=None) -> RosterReport:
    """Sync accounts from a roster (API.md); idempotent by 工号, bad rows reported, good rows kept."""
    return apply_roster(plan_roster(data, filename, actor=actor), actor=actor, client_addr=client_addr, now=now)


def _apply_roster_row(row: _RosterRow, user: User | None, report: RosterReport, actor, now) -> str:
    if user is None:
        password = one_time_password()
        user = create_user(username=row.username, name=row.name, org=row.org, roles=row.roles, password=None,
                           id_card=row.id_card, phone=row.phone, birth_date=row.birth_date,
                           education=row.education, hired_on=row.hired_on, actor=actor, now=now)
        user.password_hash = hash_password(password)
        user.must_change_password = True
        if row.active is False:
            disable_user(user, actor=actor, now=now)
        report.passwords.append((row.username, row.name, password))
        return "created"
    changed = False
    for attr in ("name", "id_card", "phone", "birth_date", "education", "hired_on"):
        value = getattr(row, attr)
        # A blank cell leaves the stored value as it is (API.md, Roster re-import).
        if value is not None and getattr(user, attr) != value:
            setattr(user, attr, value)
            changed = True
    if user.org_id != row.org.id:
        _move_user(user, row.org, now)
        changed = True
    if row.roles is not None:
        changed |= set_roles(user, row.roles, actor=actor)
    if row.active is False and user.status == UserStatus.active:
        disable_user(user, actor=actor, now=now)
        report.disabled += 1
        return "updated"
    if row.active is True and user.status == UserStatus.disabled:
        enable_user(user, actor=actor, now=now)
        changed = True
    return "updated" if changed else "unchanged"


PASSWORD_SHEET_COLUMNS = ("工号", "姓名", "初始密码")


def password_sheet_xlsx(passwords: list[tuple[str, str, str]]) -> bytes:
    """The initial-password sheet as XLSX: every cell a string, formulas neutralised (reports.exports)."""
    from lms.reports.exports import write_xlsx  # late: the pure export writer; only sheets need it
    buffer = io.BytesIO()
    write_xlsx(PASSWORD_SHEET_COLUMNS, [tuple(str(v) for v in row) for row in passwords], buffer,
               sheet_name="初始密码", widths=(18, 12, 16))
    return buffer.getvalue()


def write_password_sheet(path: Path, passwords: list[tuple[str, str, str]]) -> None:
    """Write new accounts' initial passwords for HR to hand out (owner-only XLSX); rows of an earlier sheet
    at that path are kept, so a second import never loses passwords not yet handed out."""
    earlier: list[tuple[str, str, str]] = []
    if path.exists():
        earlier = [(r.get("工号", ""), r.get("姓名", ""), r.get("初始密码", ""))
                   for _, r in read_rows(path.read_bytes(), path.name, list(PASSWORD_SHEET_COLUMNS))]
    data = password_sheet_xlsx(earlier + list(passwords))
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


# --- uploads previewed in the browser ------------------------------------------------------------------------

#: an upload not confirmed within this long is refused (and its file dropped by the next upload)
UPLOAD_TTL_HOURS = 24


def store_upload(actor, kind: str, data: bytes, filename: str, *, now=None) -> tuple[ImportUpload, str]:
    """Keep an uploaded file for its preview; returns the row and the key for its URLs (shown once)."""
    now = now or utcnow()
    key = secrets.token_urlsafe(24)
    # Files never confirmed are dropped: the table holds only what a preview may still apply.
    db.session.execute(sa.update(ImportUpload).where(
        ImportUpload.created_at < now - _ttl(), ImportUpload.data.is_not(None)).values(data=None))
    db.session.execute(sa.update(ImportUpload).where(
        ImportUpload.created_at < now - _ttl(), ImportUpload.password_sheet.is_not(None)).values(password_sheet=None))
    upload = ImportUpload(key_hash=hash_secret(key), kind=kind, actor_id=actor.id, filename=Path(filename).name[:200],
                          data=data, created_at=now)
    db.session.add(upload)
    db.session.flush()
    return upload, key


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=UPLOAD_TTL_HOURS)


def get_upload(actor, key: str, kind: str) -> ImportUpload:
    """The actor's own upload with that key, or NotFound (someone else's key is as unknown as a wrong one)."""
    upload = db.session.scalar(sa.select(ImportUpload).where(ImportUpload.key_hash == hash_secret(key),
                                                             ImportUpload.kind == kind))
    if upload is None or upload.actor_id != getattr(actor, "id", None):
        raise NotFound("找不到这次上传（链接有误，或不是您上传的）")
    return upload


def take_password_sheet(upload: ImportUpload, *, actor=None, client_addr: str = "", now=None) -> bytes:
    """The password sheet, once: a second request is 410; audited."""
    now = now or utcnow()
    claimed = db.session.execute(
        sa.update(ImportUpload).where(ImportUpload.id == upload.id, ImportUpload.sheet_taken_at.is_(None),
                                      ImportUpload.password_sheet.is_not(None))
        .values(sheet_taken_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise LMSError("初始密码表只能下载一次，已被下载或已过期；如有遗失，请为相关人员重置密码",
                       code="gone", status=410)
    data = db.session.scalar(sa.select(ImportUpload.password_sheet).where(ImportUpload.id == upload.id))
    db.session.execute(sa.update(ImportUpload).where(ImportUpload.id == upload.id).values(password_sheet=None)
                       .execution_options(synchronize_session=False))
    record("accounts.password_sheet", actor=actor, target_type="roster", target=upload.filename, client_addr=client_addr,
           now=now, details={"file": upload.filename,
                             "summary": f"{_actor_name(actor)} 下载了《{upload.filename}》的初始密码表"})
    return data


def confirm_roster_upload(actor, upload: ImportUpload, *, client_addr: str = "", now=None) -> RosterReport:
    """Apply the good rows of a previewed roster (planned again: the database may have changed since)."""
    now = now or utcnow()
    if upload.applied_at is not None or upload.data is None:
        raise ValidationError("这份名单已经导入过（或已过期），请重新上传", code="already_applied")
    report = import_roster(upload.data, upload.filename, actor=actor, client_addr=client_addr, now=now)
    upload.applied_at = now
    upload.data = None
    upload.result = {**report.counts(), "errors": [[r, m] for r, m in report.errors]}
    if report.passwords:
        upload.password_sheet = password_sheet_xlsx(report.passwords)
    return report


_UNSET = object()


def set_preferences(user: User, *, large_text=_UNSET, speech_rate=_UNSET, now=None) -> UserPreference:
    """Store the person's 大字 and read-aloud speed (None clears a choice); values were checked by the caller."""
    pref = db.session.get(UserPreference, user.id)
    if pref is None:
        pref = UserPreference(user_id=user.id)
        db.session.add(pref)
    if large_text is not _UNSET:
        pref.large_text = large_text
    if speech_rate is not _UNSET:
        if speech_rate is not None and speech_rate not in SPEECH_RATES:
            raise ValidationError("朗读速度只能是 0.8、1 或 1.2 倍", code="invalid_speech_rate")
        pref.speech_rate = speech_rate
    pref.updated_at = now or utcnow()
    user.__dict__.pop("_reading_prefs", None)  # the copy loaded with the request's user is stale now
    return pref
