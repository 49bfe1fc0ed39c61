"""Consultation drills (政策答询): the residents' questions with their keys, workers' answers, trainers' reviews."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import UTCDateTime, utcnow
# One verdict vocabulary for both drill kinds (statistics and the inbox read them alike).
from lms.drills.models import VERDICT_LABELS, Verdict  # noqa: F401  (re-exported for views)
from lms.extensions import db
from lms.org.models import OrgUnit


class Consultation(db.Model):
    """A resident's question; `definition` is everything the file holds (answer key included)."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    #: owning unit: whose members (this unit's subtree) answer it
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: the parsed file as JSON (lms.consultations.content.to_definition); never sent to learners before they may see
    #: the model answer
    definition: Mapped[dict] = mapped_column(sa.JSON)
    #: the question rendered and sanitised once per version
    question_html: Mapped[str] = mapped_column(sa.Text, default="")
    #: sha256 of the file text: unchanged files are skipped
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    #: relative path of the source file, for notes and errors
    source_path: Mapped[str] = mapped_column(sa.String(300), default="")
    version: Mapped[int] = mapped_column(default=1)
    #: gone from the files: no new answers, history kept
    is_retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[OrgUnit] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Consultation {self.code} v{self.version}>"


class ConsultationAnswer(db.Model):
    """One attempt of a worker at a consultation: the answer as typed and the automatic checks."""

    __tablename__ = "consultation_answers"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_id"),
                      sa.Index("ix_consultation_answers_user_consultation", "user_id", "consultation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultations.id"), index=True)
    #: the consultation version the answer was graded against
    consultation_version: Mapped[int]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the worker's unit when answering: statistics count it there even after a transfer
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: the answer as typed (cut at 10,000 characters)
    answer: Mapped[str] = mapped_column(sa.Text)
    #: current verdict and score (a trainer's override replaces the automatic ones)
    verdict: Mapped[Verdict] = mapped_column(sa.Enum(Verdict, native_enum=False, length=16))
    score: Mapped[int]
    #: the automatic checks: [{rule, passed, message}]
    checks: Mapped[list] = mapped_column(sa.JSON)
    #: the tablet's idempotency key for retried submits (unique per user)
    client_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: 1 for the worker's first answer to this consultation, 2 for the next, …
    attempt: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    consultation: Mapped[Consultation] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")
    org: Mapped[OrgUnit] = relationship(lazy="joined")
    reviews: Mapped[list[ConsultationReview]] = relationship(
        back_populates="answer_row", order_by="ConsultationReview.id", cascade="all, delete-orphan")


class ConsultationReview(db.Model):
    """A trainer's override of an answer's verdict and score, with a comment the worker reads."""

    __tablename__ = "consultation_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("consultation_answers.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verdict: Mapped[Verdict] = mapped_column(sa.Enum(Verdict, native_enum=False, length=16))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    answer_row: Mapped[ConsultationAnswer] = relationship(back_populates="reviews")
    reviewer: Mapped[User | None] = relationship()
