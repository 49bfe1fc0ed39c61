"""Reads of the points ledger."""
from __future__ import annotations

import sqlalchemy as sa

from lms.extensions import db
from lms.points.models import PointEntry


def total_points(user) -> int:
    """The holder's points: the sum of their ledger."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointEntry.points), 0))
                                 .where(PointEntry.user_id == user.id)) or 0)


def totals_subquery():
    """(user_id, points) for every user with entries, for joins in lists and exports."""
    return (sa.select(PointEntry.user_id.label("user_id"), sa.func.sum(PointEntry.points).label("points"))
            .group_by(PointEntry.user_id).subquery("point_totals"))


def list_entries(user, page: int = 1, per_page: int = 50) -> tuple[list[PointEntry], bool]:
    """A page of the holder's entries, newest first, and whether a next page exists."""
    rows = list(db.session.scalars(
        sa.select(PointEntry).where(PointEntry.user_id == user.id)
        .order_by(PointEntry.created_at.desc(), PointEntry.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page
