"""Reading the inbox."""
from __future__ import annotations

import sqlalchemy as sa

from lms.extensions import db
from lms.inbox.models import Message


def list_messages(user, page: int = 1, per_page: int = 50) -> tuple[list[Message], bool]:
    """Newest first; returns (page items, has_next)."""
    rows = list(db.session.scalars(sa.select(Message).where(Message.user_id == user.id)
                                   .order_by(Message.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def count_unread(user) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                             .where(Message.user_id == user.id, Message.read_at.is_(None)))
