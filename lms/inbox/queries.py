"""Reading the inbox."""
from __future__ import annotations

import sqlalchemy as sa

from lms.extensions import db
from lms.inbox.models import Message

_MESSAGES = Message.__table__


def list_messages(user, page: int = 1, per_page: int = 50) -> tuple[list[Message], bool]:
    """Newest first; returns (page items, has_next)."""
    rows = list(db.session.scalars(sa.select(Message).where(Message.user_id == user.id)
                                   .order_by(Message.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def count_unread(user) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                             .where(Message.user_id == user.id, Message.read_at.is_(None)))


def unread_count_column(user_id_column):
    """A scalar subquery counting user_id_column's unread messages (ix_messages_user_unread answers it alone).

    The session statement (lms.accounts.auth) selects it with the signed-in user, so the menu's badge costs
    no statement of its own on any page.
    """
    return (sa.select(sa.func.count()).select_from(_MESSAGES)
            .where(_MESSAGES.c.user_id == user_id_column, _MESSAGES.c.read_at.is_(None))
            .scalar_subquery().label("inbox_unread"))


def nav_unread(user) -> int | None:
    """The menu badge: unread messages as loaded with the session (None outside a browser session: no badge)."""
    count = getattr(user, "_inbox_unread", None)
    return count or None
