"""In-person training sessions (线下培训场次) and their attendance roll (签到)."""
from __future__ import annotations

import datetime as dt
import decimal
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from lms.accounts.models import User
from lms.courses.models import Lesson
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


class TrainingLevel(enum.StrEnum):
    county = "county"
    township = "township"
    village = "village"


LEVEL_LABELS = {TrainingLevel.county: "县训", TrainingLevel.township: "乡培", TrainingLevel.village: "村练"}


class AttendanceMethod(enum.StrEnum):
    roll = "roll"
    checkin = "checkin"


METHOD_LABELS = {AttendanceMethod.roll: "点名", AttendanceMethod.checkin: "扫码/签到码"}


class Training(db.Model):
    __tablename__ = "trainings"
    __table_args__ = (sa.Index("ix_trainings_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[TrainingLevel] = mapped_column(sa.Enum(TrainingLevel, native_enum=False, length=16))
    title: Mapped[str] = mapped_column(sa.String(200))
    #: start and end of the session (aware, stored UTC); its date is the local date of starts_at
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(sa.String(200))
    trainer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: 学时 credited to every attendee
    hours: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(5, 1))
    #: the unit whose subtree attends
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: per-session key of the rotating check-in code (with the app secret)
    checkin_secret: Mapped[str] = mapped_column(sa.String(64))
    is_cancelled: Mapped[bool] = mapped_column(default=False)

    org: Mapped[OrgUnit] = relationship()
    trainer: Mapped[User] = relationship(foreign_keys=[trainer_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    attendances: Mapped[list[Attendance]] = relationship(back_populates="training", order_by="Attendance.id")

    def __repr__(self) -> str:
        return f"<Training {self.id} {self.title}>"

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


class Attendance(db.Model):
    """One person at one session: one 人次."""

    __tablename__ = "attendances"
    __table_args__ = (sa.UniqueConstraint("training_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(sa.ForeignKey("trainings.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the attendee's unit when it happened: statistics count it there even after a transfer
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    method: Mapped[AttendanceMethod] = mapped_column(sa.Enum(AttendanceMethod, native_enum=False, length=16))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the tablet's retry key (UUID) of a self check-in
    client_id: Mapped[str | None] = mapped_column(sa.String(64))

    training: Mapped[Training] = relationship(back_populates="attendances")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    org: Mapped[OrgUnit] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class CheckinFailure(db.Model):
    """One wrong check-in code typed by a person: counted over the last minute, so guessing stops at the limit.

    In the database (not process memory) so every app server counts the same tries.
    """

    __tablename__ = "checkin_failures"
    __table_args__ = (sa.Index("ix_checkin_failures_user_failed_at", "user_id", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    training_id: Mapped[int] = mapped_column(sa.ForeignKey("trainings.id", ondelete="CASCADE"))
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaterialKind(enum.StrEnum):
    file = "file"
    lesson = "lesson"


class TrainingMaterial(db.Model):
    """What a session hands out: an uploaded file (kept in the database like course media, so every app server
    has it) or a link to a lesson of a course; attendees see them on the session page before and after."""

    __tablename__ = "training_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(sa.ForeignKey("trainings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MaterialKind] = mapped_column(sa.Enum(MaterialKind, native_enum=False, length=16))
    title: Mapped[str] = mapped_column(sa.String(200))
    #: a file: its name as uploaded (shown and offered on download), type, size and bytes
    filename: Mapped[str | None] = mapped_column(sa.String(200))
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(default=0)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: deferred: the session page lists materials without loading the bytes
    data: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    #: a lesson link
    lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lessons.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    training: Mapped[Training] = relationship()
    lesson: Mapped[Lesson | None] = relationship()


#: the five questions of the evaluation (满意度), each rated 1–5, in the order asked
EVALUATION_QUESTIONS = (("content", "内容实用"), ("clarity", "讲解清楚"), ("schedule", "时间安排"),
                        ("materials", "材料有用"), ("overall", "总体满意"))


class TrainingEvaluation(db.Model):
    """One attendee's evaluation of one session: once per person and session."""

    __tablename__ = "training_evaluations"
    __table_args__ = (sa.UniqueConstraint("training_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(sa.ForeignKey("trainings.id", ondelete="CASCADE"), index=True)
    #: kept so once-only holds; never shown with the answers (the trainer reads comments without their authors)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the person's unit when they answered
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    content: Mapped[int] = mapped_column(sa.SmallInteger)
    clarity: Mapped[int] = mapped_column(sa.SmallInteger)
    schedule: Mapped[int] = mapped_column(sa.SmallInteger)
    materials: Mapped[int] = mapped_column(sa.SmallInteger)
    overall: Mapped[int] = mapped_column(sa.SmallInteger)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    training: Mapped[Training] = relationship()
