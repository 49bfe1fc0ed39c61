"""Posting to and reading the inbox."""
from __future__ import annotations

import sqlalchemy as sa

from lms.db import utcnow
from lms.errors import ValidationError
from lms.extensions import db
from lms.inbox.models import Message


def post(user, *, kind: str, title: str, body: str = "", link: str | None = None, dedupe_key: str | None = None,
         now=None) -> Message:
    """Put a message in user's inbox; with dedupe_key, posting again returns the first message."""
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValidationError("消息链接必须是本站路径")
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(Message).where(Message.user_id == user.id,
                                                              Message.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    message = Message(user_id=user.id, kind=kind, title=title[:200], body=body, link=link, dedupe_key=dedupe_key,
                      created_at=now or utcnow())
    db.session.add(message)
    db.session.flush()
    return message


def mark_read(user, message_ids: list[int] | None = None, now=None) -> int:
    """Mark the given messages (or all) of user read; returns how many changed."""
    query = sa.update(Message).where(Message.user_id == user.id, Message.read_at.is_(None))
    if message_ids is not None:
        query = query.where(Message.id.in_(message_ids))
    return db.session.execute(query.values(read_at=now or utcnow())).rowcount
