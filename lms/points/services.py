"""Writes of the points ledger: award once per source event, set the point values."""
from __future__ import annotations

import math

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.db import utcnow
from lms.extensions import db
from lms.points.models import PointEntry, PointKind, PointRule


def point_value(kind: PointKind) -> int:
    """Points per event of ``kind`` as last imported (0 when no rule exists)."""
    return db.session.scalar(sa.select(PointRule.points).where(PointRule.kind == PointKind(kind))) or 0


def set_point_rules(values: dict[str, int], *, now=None) -> dict[str, str]:
    """Store points per kind; returns kind -> new|updated|unchanged."""
    now = now or utcnow()
    outcome = {}
    existing = {rule.kind: rule for rule in db.session.scalars(sa.select(PointRule))}
    for kind in PointKind:
        value = int(values.get(kind.value, 0))
        rule = existing.get(kind)
        if rule is None:
            db.session.add(PointRule(kind=kind, points=value, updated_at=now))
            outcome[kind.value] = "new"
        elif rule.points != value:
            rule.points, rule.updated_at = value, now
            outcome[kind.value] = "updated"
        else:
            outcome[kind.value] = "unchanged"
    db.session.flush()
    return outcome


def award(user, kind: PointKind | str, *, quantity: float = 1, reason: str, source_type: str, source_id,
          now=None) -> PointEntry | None:
    """Append the award for one source event; None when that event was already counted."""
    kind = PointKind(kind)
    if getattr(user, "id", None) is None:
        return None
    source_id = str(source_id)[:64]
    key = (PointEntry.user_id == user.id, PointEntry.kind == kind, PointEntry.source_type == source_type,
           PointEntry.source_id == source_id)
    if db.session.scalar(sa.select(PointEntry.id).where(*key)) is not None:
        return None
    # The epsilon keeps 1.1 h x 10 from becoming 10.999… -> 10 (same rule as PointRules.award).
    points = math.floor(point_value(kind) * quantity + 1e-9)
    entry = PointEntry(user_id=user.id, kind=kind, points=points, reason=reason[:200], source_type=source_type,
                       source_id=source_id, org_id=user.org_id, created_at=now or utcnow())
    # A signal delivered twice at the same moment (two workers) hits the unique constraint: count once.
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        return None
    return entry
