"""The one permission module: every view, API route and CLI command asks here.

A role is held over an org subtree (RoleGrant.org). A permission is granted by
a role; `can(user, perm, target)` holds when some grant carrying perm covers
the target's org unit. Templates only ask `can` whether to show a button.
"""
from __future__ import annotations

import enum
import functools

import sqlalchemy as sa
from flask_login import current_user

from lms.accounts.models import Role, User
from lms.errors import Forbidden, Unauthorized, ValidationError
from lms.org.models import OrgUnit, subtree_clause


class Permission(enum.StrEnum):
    LEARN = "learning:self"
    VIEW_TEAM = "team:view"
    VIEW_PROGRESS = "progress:view"
    VIEW_USERS = "accounts:view"
    RESET_PASSWORD = "accounts:reset_password"
    MANAGE_USERS = "accounts:manage"
    MANAGE_ROLES = "accounts:roles"
    VIEW_PII = "accounts:pii"
    MANAGE_ORG = "org:manage"
    AUTHOR_CONTENT = "content:author"
    ASSIGN = "content:assign"
    RUN_TRAININGS = "trainings:run"
    REVIEW_DRILLS = "drills:review"
    LOG_MENTORING = "mentoring:log"
    MANAGE_PAIRINGS = "mentoring:manage"
    MANAGE_CERTIFICATES = "certificates:manage"
    EXPORT = "reports:export"
    VIEW_STATS = "reports:stats"
    VIEW_AUDIT = "audit:view"
    #: import the grid platform's event outcomes (现场上报结果)
    IMPORT_FIELD = "field:import"
    #: propose and send remediation (补训) for field problems
    REMEDIATE = "field:remediate"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.worker: frozenset({P.LEARN}),
    # VIEW_PROGRESS: a grid leader follows up the team's learning within the grid the role is held over.
    Role.grid_leader: frozenset({P.LEARN, P.VIEW_TEAM, P.VIEW_PROGRESS, P.RESET_PASSWORD}),
    Role.mentor: frozenset({P.LEARN, P.LOG_MENTORING}),
    Role.trainer: frozenset({P.LEARN, P.VIEW_TEAM, P.VIEW_PROGRESS, P.VIEW_USERS, P.AUTHOR_CONTENT, P.ASSIGN,
                             P.RUN_TRAININGS, P.REVIEW_DRILLS, P.VIEW_STATS, P.REMEDIATE}),
    Role.hr: frozenset({P.VIEW_TEAM, P.VIEW_PROGRESS, P.VIEW_USERS, P.RESET_PASSWORD, P.MANAGE_USERS,
                        P.MANAGE_PAIRINGS, P.MANAGE_CERTIFICATES, P.EXPORT, P.VIEW_STATS, P.VIEW_AUDIT,
                        P.IMPORT_FIELD, P.REMEDIATE}),
    # admin: everything but unmasked personal data, which only `pii` grants.
    Role.admin: frozenset(p for p in Permission if p is not P.VIEW_PII),
    Role.pii: frozenset({P.VIEW_PII}),
}

#: roles a grid leader may manage (reset passwords of); anything else needs hr/admin
TEAM_ROLES = frozenset({Role.worker, Role.grid_leader, Role.mentor})

#: roles the holder of a role may grant and revoke within its scope (account creation, the roles page,
#: rosters). `pii` further needs the grantor to hold `pii` there: nobody hands out what they may not see.
GRANTABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.admin: frozenset(Role),
    Role.hr: frozenset({Role.worker, Role.grid_leader, Role.mentor, Role.trainer}),
}

#: permissions that act on an account or its record for someone else: never on one's own (API.md, Accounts)
SELF_EXCLUDED = frozenset({P.RESET_PASSWORD, P.MANAGE_USERS, P.MANAGE_ROLES, P.MANAGE_CERTIFICATES})


class _System:
    """The operator at the console (CLI, cron): may do everything."""

    id = None
    username = "系统"
    name = "系统"
    is_authenticated = True

    def __repr__(self) -> str:
        return "<System>"


SYSTEM = _System()


def _grants(user) -> list:
    return getattr(user, "grants", None) or []


def scope_orgs(user, perm: Permission) -> list[OrgUnit]:
    """The org units whose subtrees user may act on with perm."""
    return [g.org for g in _grants(user) if perm in ROLE_PERMISSIONS[g.role]]


def has_permission(user, perm: Permission) -> bool:
    """perm held anywhere (for menus and route guards before the object is known)."""
    if user is SYSTEM:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(scope_orgs(user, perm))


def _org_of(target) -> OrgUnit | None:
    if target is None or isinstance(target, OrgUnit):
        return target
    org = getattr(target, "org", None)
    if isinstance(org, OrgUnit):
        return org
    raise TypeError(f"cannot find the org unit of {target!r}")


def _is_own(user, target) -> bool:
    """target is user's own account, or a record held by it (a certificate)."""
    user_id = getattr(user, "id", None)
    if user_id is None or target is None:
        return False
    if isinstance(target, User):
        return target.id == user_id
    return getattr(target, "holder_id", None) == user_id


def can(user, perm: Permission, target=None) -> bool:
    """user holds perm over target (an OrgUnit, or anything with `.org`); target None = anywhere."""
    if user is SYSTEM:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if perm in SELF_EXCLUDED and _is_own(user, target):
        return False
    org = _org_of(target)
    for scope in scope_orgs(user, perm):
        if org is None or org.path.startswith(scope.path):
            return True
    return False


def authorize(user, perm: Permission, target=None) -> None:
    """Raise Forbidden (403) unless can(user, perm, target)."""
    if not getattr(user, "is_authenticated", False):
        raise Unauthorized("请先登录")
    if not can(user, perm, target):
        raise Forbidden("没有权限：该操作超出了您的角色或管辖范围", code="forbidden")


def scoped_org(user, perm: Permission, code: str | None) -> OrgUnit | None:
    """The org unit a `?org=` filter names, authorised for perm; None when the filter is blank.

    An unknown code is a 422 naming it; a unit outside the user's scope is a 403.
    """
    from lms.org.queries import get_org  # late: the org feature's queries import nothing of ours, but keep it lazy

    code = (code or "").strip()[:32]
    if not code:
        return None
    org = get_org(code)
    if org is None:
        raise ValidationError(f"组织编码“{code}”不存在", code="unknown_org")
    authorize(user, perm, org)
    return org


def scope_clause(user, perm: Permission, path_column):
    """SQL condition restricting path_column to the subtrees where user holds perm."""
    if user is SYSTEM:
        return sa.true()
    scopes = scope_orgs(user, perm)
    if not scopes:
        return sa.false()
    # Drop scopes nested in another scope: fewer range scans.
    paths = sorted({s.path for s in scopes})
    roots = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    return sa.or_(*(subtree_clause(path_column, p) for p in roots))


def can_grant(actor, role: Role, org: OrgUnit) -> bool:
    """actor may grant (and revoke) role over org's subtree: GRANTABLE_ROLES within scope; `pii` needs `pii`."""
    if actor is SYSTEM:
        return True
    if not getattr(actor, "is_authenticated", False):
        return False
    if not any(role in GRANTABLE_ROLES.get(g.role, ()) and org.path.startswith(g.org.path) for g in _grants(actor)):
        return False
    return role is not Role.pii or can(actor, P.VIEW_PII, org)


def grantable_roles(actor, org: OrgUnit) -> list[Role]:
    """The roles actor may grant over org, in Role order (for the scope picker)."""
    return [role for role in Role if can_grant(actor, role, org)]


def _covers(actor, role: Role, org: OrgUnit) -> bool:
    # Learning is everyone's own and gives no power over others; every other permission the role carries
    # must be the actor's too in that unit, unless the actor may grant that role there anyway.
    needed = ROLE_PERMISSIONS[role] - {P.LEARN}
    return all(can(actor, p, org) for p in needed) or can_grant(actor, role, org)


def can_manage_account(actor, target: User, perm: Permission) -> bool:
    """Acting on another account (reset, edit, roles, disable, enable): never one's own; the target and all its
    grants within actor's scope for perm; and actor holds, in scope, every permission the target holds.

    "Holds" counts a role the actor may grant there (hr grants trainer, so may reset a trainer's password), so
    an hr without `pii` cannot take over a `pii` holder, a grid leader only their team's workers and leaders,
    and only an admin of the whole scope an admin.
    """
    if actor is SYSTEM:
        return True
    if getattr(actor, "id", None) == target.id or not can(actor, perm, target):
        return False
    for grant in target.grants:
        if not can(actor, perm, grant.org) or not _covers(actor, grant.role, grant.org):
            return False
    return True


def sees_pii(user, target=None) -> bool:
    return can(user, P.VIEW_PII, target)


def require(perm: Permission):
    """Route guard: logged in and holding perm somewhere; object checks follow with authorize()."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not getattr(current_user, "is_authenticated", False):
                raise Unauthorized("请先登录")
            if not has_permission(current_user, perm):
                raise Forbidden("没有权限：您的角色不能进行此操作")
            return view(*args, **kwargs)

        wrapped.required_permission = perm
        return wrapped

    return decorator
