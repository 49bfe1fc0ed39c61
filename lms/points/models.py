"""Points ledger (积分): append-only entries, and the point values per event kind."""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class PointKind(enum.StrEnum):
    lesson_complete = "lesson_complete"
    quiz_pass = "quiz_pass"
    drill_accepted = "drill_accepted"
    consultation_accepted = "consultation_accepted"
    training_hour = "training_hour"
    mentoring_activity = "mentoring_activity"
    #: field results imported from the grid platform (lms.field.points), one entry per 事件编号
    field_closed = "field_closed"
    field_returned = "field_returned"
    field_satisfaction = "field_satisfaction"


KIND_LABELS = {
    PointKind.lesson_complete: "完成课时",
    PointKind.quiz_pass: "通过测验",
    PointKind.drill_accepted: "模拟上报被采纳",
    PointKind.consultation_accepted: "政策答询回答通过",
    PointKind.training_hour: "培训学时",
    PointKind.mentoring_activity: "老带新活动",
    PointKind.field_closed: "现场事件办结",
    PointKind.field_returned: "现场事件被退回",
    PointKind.field_satisfaction: "群众评价满意",
}


class PointEntry(db.Model):
    """One award; never updated or deleted. A source event awards at most once per kind."""

    __tablename__ = "point_entries"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", "source_type", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[PointKind] = mapped_column(sa.Enum(PointKind, native_enum=False, length=32))
    #: points awarded (0 is kept too: the event happened while its rule gave nothing)
    points: Mapped[int]
    #: shown to the worker, e.g. 完成课时《…》
    reason: Mapped[str] = mapped_column(sa.String(200))
    #: what earned it, e.g. ("lesson", "42"); with kind and user the idempotency key
    source_type: Mapped[str] = mapped_column(sa.String(32))
    source_id: Mapped[str] = mapped_column(sa.String(64))
    #: the unit the person belonged to when it happened (statistics by unit)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()


class PointRule(db.Model):
    """Points per event kind, synced from courses/certifications.yaml by the certification importer."""

    __tablename__ = "point_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PointKind] = mapped_column(sa.Enum(PointKind, native_enum=False, length=32), unique=True)
    points: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
