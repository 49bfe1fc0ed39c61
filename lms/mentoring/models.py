"""Mentor pairings (老带新), their mentees and the activity log the mentees confirm."""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


class ActivityKind(enum.StrEnum):
    shadowing = "shadowing"
    joint_visit = "joint_visit"
    case_review = "case_review"


KIND_LABELS = {ActivityKind.shadowing: "跟岗学习", ActivityKind.joint_visit: "联合走访",
               ActivityKind.case_review: "案例复盘"}


class ActivityStatus(enum.StrEnum):
    logged = "logged"
    confirmed = "confirmed"
    disputed = "disputed"


STATUS_LABELS = {ActivityStatus.logged: "待确认", ActivityStatus.confirmed: "已确认",
                 ActivityStatus.disputed: "有异议"}


class Pairing(db.Model):
    """One mentor with one or more mentees for a period; ended early pairings keep their history."""

    __tablename__ = "pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    start_on: Mapped[dt.date]
    end_on: Mapped[dt.date]
    goals: Mapped[str] = mapped_column(sa.Text, default="")
    #: the unit that owns the pairing: the mentor's unit at creation (scope and statistics)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: set when ended early; the pairing then covers dates up to this moment's local date
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(sa.Text, default="")

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id], lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    org: Mapped[OrgUnit] = relationship(lazy="joined")
    mentees: Mapped[list[PairingMentee]] = relationship(back_populates="pairing", order_by="PairingMentee.id",
                                                        cascade="all, delete-orphan", lazy="selectin")
    activities: Mapped[list[Activity]] = relationship(back_populates="pairing", order_by="Activity.id",
                                                      cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Pairing {self.id} mentor={self.mentor_id}>"


class PairingMentee(db.Model):
    __tablename__ = "pairing_mentees"
    __table_args__ = (sa.UniqueConstraint("pairing_id", "mentee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(sa.ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    mentee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    pairing: Mapped[Pairing] = relationship(back_populates="mentees")
    mentee: Mapped[User] = relationship(lazy="joined")


class Activity(db.Model):
    """A mentoring activity logged by the mentor; it counts only once the mentee confirms it."""

    __tablename__ = "mentoring_activities"
    __table_args__ = (sa.UniqueConstraint("logged_by_id", "client_id"),
                      sa.Index("ix_mentoring_activities_mentee_status", "mentee_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(sa.ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    mentee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the mentee's unit when it happened: statistics count it there even after a transfer
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    kind: Mapped[ActivityKind] = mapped_column(sa.Enum(ActivityKind, native_enum=False, length=16))
    #: the local (Asia/Shanghai) day it took place
    date: Mapped[dt.date] = mapped_column(index=True)
    minutes: Mapped[int]
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: drill_reports.id, no foreign key: the drills feature may not be installed
    drill_report_id: Mapped[int | None]
    status: Mapped[ActivityStatus] = mapped_column(sa.Enum(ActivityStatus, native_enum=False, length=16),
                                                   default=ActivityStatus.logged)
    dispute_reason: Mapped[str] = mapped_column(sa.Text, default="")
    logged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    logged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disputed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the tablet's idempotency key for retried saves (unique per mentor)
    client_id: Mapped[str | None] = mapped_column(sa.String(64))

    pairing: Mapped[Pairing] = relationship(back_populates="activities", lazy="joined")
    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id], lazy="joined")
    logged_by: Mapped[User] = relationship(foreign_keys=[logged_by_id])
    org: Mapped[OrgUnit] = relationship()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]
