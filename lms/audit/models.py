"""Audit entries are append-only."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import PathString, UTCDateTime, utcnow
from lms.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: None for the system (CLI, cron) and anonymous visitors
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: username as typed or known at the time (kept even for unknown usernames)
    actor_name: Mapped[str] = mapped_column(sa.String(100), default="")
    #: dotted verb, e.g. "auth.login", "auth.login_failed", "roles.grant", "export.certificates"
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(32), default="")
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    #: org path of the target, so HR can read the log of their own subtree
    org_path: Mapped[str | None] = mapped_column(PathString, index=True)
    client_addr: Mapped[str] = mapped_column(sa.String(64), default="")
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
