"""Reads of accounts, always through the viewer's scope."""
from __future__ import annotations

import sqlalchemy as sa

from lms.accounts.masking import mask_id_card, mask_phone
from lms.accounts.models import ROLE_LABELS, ApiToken, User, UserStatus
from lms.accounts.permissions import Permission, can, scope_clause, sees_pii
from lms.extensions import db
from lms.org.models import OrgUnit


def get_user(username: str) -> User | None:
    """The account with that 工号, or None."""
    return db.session.scalar(sa.select(User).where(User.username == username))


def list_tokens(user: User) -> list[ApiToken]:
    """The user's Bearer tokens, oldest first, revoked ones too."""
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def get_token(token_id: int) -> ApiToken | None:
    """The Bearer token with that id, or None."""
    return db.session.get(ApiToken, token_id)


def count_real_accounts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.is_demo.is_(False)))


def list_users(viewer, perm: Permission, *, org: OrgUnit | None = None, q: str = "", page: int = 1,
               per_page: int = 50) -> tuple[list[User], bool]:
    """Accounts within viewer's scope for perm (and below org), by 工号; returns (page items, has_next)."""
    query = sa.select(User).join(OrgUnit, OrgUnit.id == User.org_id).where(scope_clause(viewer, perm, OrgUnit.path))
    if org is not None:
        query = query.where(OrgUnit.path >= org.path, OrgUnit.path < org.path + "~")
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(User.username.like(like), User.name.like(like)))
    rows = list(db.session.scalars(query.order_by(User.username).offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def user_row(viewer, user: User) -> dict:
    """A user as a table row for viewer: masked personal data unless viewer has `pii` over them."""
    unmasked = sees_pii(viewer, user)
    return {
        "username": user.username,
        "name": user.name,
        "org": user.org.name,
        "roles": "、".join(sorted({ROLE_LABELS[g.role] for g in user.grants})),
        "id_card": (user.id_card or "") if unmasked else mask_id_card(user.id_card),
        "phone": (user.phone or "") if unmasked else mask_phone(user.phone),
        "education": user.education or "",
        "active": user.status == UserStatus.active,
        "must_change_password": user.must_change_password,
        "unmasked": unmasked,
        "can_reset": False,
        "can_disable": False,
    }


def can_view_user(viewer, user: User) -> bool:
    return can(viewer, Permission.VIEW_USERS, user) or can(viewer, Permission.VIEW_TEAM, user)
