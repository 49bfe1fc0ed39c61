"""Event outcomes imported from the county grid platform (事件编号 → who reported it, when, and how it ended)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db

#: 结果 values of the platform's export, in the order the pages show them
RESULTS = ("办结", "退回", "超时", "重复")
#: 退回原因 the platform uses; other texts are kept as they are (the platform may add reasons)
RETURN_REASONS = ("描述不清", "要素不全", "信息不实", "分类错误", "部门错误")


class FieldImport(db.Model):
    """One import run of the platform's export (command line, upload page or API): who, which file, the counts."""

    __tablename__ = "field_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for the command line
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    #: "cli", "upload", "api" or "demo"
    source: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: {"added": n, "unchanged": n, "errors": n}
    result: Mapped[dict | None] = mapped_column(sa.JSON)


class FieldEvent(db.Model):
    """One event a worker reported on the grid platform, as the platform's export says it ended.

    Rows whose 工号 is unknown are reported by the import and not stored.
    """

    __tablename__ = "field_events"
    __table_args__ = (
        sa.Index("ix_field_events_user_reported", "user_id", "reported_at"),
        sa.Index("ix_field_events_org_reported", "org_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 事件编号 on the platform (unique: the import is idempotent by it)
    number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: the reporting worker, matched by 工号 (users.username)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: the worker's unit at import (per-unit figures and scope)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    #: 上报时间
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: 事件类型 as the platform names it
    event_type: Mapped[str] = mapped_column(sa.String(64))
    #: 结果: one of RESULTS
    result: Mapped[str] = mapped_column(sa.String(8))
    #: 退回原因 (returned events), else None
    return_reason: Mapped[str | None] = mapped_column(sa.String(32))
    #: 满意度 1–5, when the platform has one
    satisfaction: Mapped[int | None] = mapped_column(sa.SmallInteger)
    import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("field_imports.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
