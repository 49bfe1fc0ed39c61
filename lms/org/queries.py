"""Reads of the org tree."""
from __future__ import annotations

import sqlalchemy as sa

from lms.extensions import db
from lms.org.models import OrgUnit, subtree_clause


def get_org(code: str) -> OrgUnit | None:
    """The unit with that code, or None."""
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def get_root() -> OrgUnit | None:
    """The top unit (the county in a county deployment)."""
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1))


def list_subtree(org: OrgUnit, kind=None) -> list[OrgUnit]:
    """Org and everything below it, in path order — one indexed query."""
    query = sa.select(OrgUnit).where(subtree_clause(OrgUnit.path, org.path))
    if kind is not None:
        query = query.where(OrgUnit.kind == kind)
    return list(db.session.scalars(query.order_by(OrgUnit.path)))


def ancestors(org: OrgUnit) -> list[OrgUnit]:
    """Root first, org last."""
    ids = [int(part) for part in org.path.strip("/").split("/") if part]
    units = {u.id: u for u in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [units[i] for i in ids if i in units]


_NAMES = sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(sa.bindparam("ids", expanding=True)))


def path_names(org: OrgUnit) -> str:
    """红溪县 / 青石镇 / 桃源村 — for display and the /me payload (every home page: plain rows, no ORM objects)."""
    ids = [int(part) for part in org.path.strip("/").split("/") if part]
    names = dict(db.session.connection().execute(_NAMES, {"ids": ids}).all())
    return " / ".join(names[i] for i in ids if i in names)
