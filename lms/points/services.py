"""Writes of the points ledger: award once per source event, set the point values."""
from __future__ import annotations

import functools
import math

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

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
    """Append the award for one source event; None when that event was already counted.

    One statement: INSERT … ON CONFLICT DO NOTHING RETURNING, the points read from the rule inside it
    (before: look for the entry, read the rule, SAVEPOINT, INSERT, RELEASE). The unique key (user, kind,
    source) makes a repeated or concurrent delivery of the same event count once.
    """
    kind = PointKind(kind)
    if getattr(user, "id", None) is None:
        return None
    values = {"user_id": user.id, "kind": kind, "reason": reason[:200], "source_type": source_type,
              "source_id": str(source_id)[:64], "org_id": user.org_id, "created_at": now or utcnow()}
    dialect = db.session.get_bind().dialect.name
    if quantity == 1:
        row = db.session.connection().execute(_award_statement(dialect, True), {**values, "rule_kind": kind}).first()
    else:
        # The epsilon keeps 1.1 h x 10 from becoming 10.999… -> 10 (same rule as PointRules.award).
        points = math.floor(point_value(kind) * quantity + 1e-9)
        row = db.session.connection().execute(_award_statement(dialect, False), {**values, "points": points}).first()
    if row is None:
        return None
    entry = PointEntry(id=row[0], points=row[1], **values)
    # Persistent without a flush: the row is written; the session knows it as if it had loaded it.
    make_transient_to_detached(entry)
    db.session.add(entry)
    return entry


@functools.cache
def _award_statement(dialect: str, points_from_rule: bool):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, points; built once per dialect (building costs CPU)."""
    table = PointEntry.__table__
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if points_from_rule:
        rule = sa.select(PointRule.points).where(
            PointRule.kind == sa.bindparam("rule_kind", type_=PointRule.__table__.c.kind.type)).scalar_subquery()
        stmt = stmt.values(points=sa.func.coalesce(rule, 0))
    return stmt.on_conflict_do_nothing(index_elements=["user_id", "kind", "source_type", "source_id"]) \
        .returning(table.c.id, table.c.points)
