"""Question banks, questions, quizzes, attempts with their autosaved answers, and the 错题本."""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


class Origin(enum.StrEnum):
    #: from question_bank/ files: `content import` manages it
    file = "file"
    #: created or edited in the browser or by `content import-bank`: import never touches it
    web = "web"


class AttemptStatus(enum.StrEnum):
    open = "open"
    #: the learner submitted it
    submitted = "submitted"
    #: the deadline passed; graded on what was saved in time
    closed = "closed"


ATTEMPT_STATUS_LABELS = {AttemptStatus.open: "答题中", AttemptStatus.submitted: "已交卷",
                         AttemptStatus.closed: "已超时收卷"}


class Bank(db.Model):
    __tablename__ = "quiz_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: question_bank/<code>.yaml
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    #: owning unit: who may edit and see its statistics
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    origin: Mapped[Origin] = mapped_column(sa.Enum(Origin, native_enum=False, length=16), default=Origin.file)
    #: sha256 of the source file's bytes: an unchanged file is skipped before parsing
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    is_retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[OrgUnit] = relationship(lazy="joined")


class Question(db.Model):
    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable id, unique across all banks (URLs, answers, the 错题本)
    qid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    bank_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_banks.id"), index=True)
    #: single | multiple | judge | fill (lms.quizzes.grading.TYPES)
    type: Mapped[str] = mapped_column(sa.String(16))
    stem: Mapped[str] = mapped_column(sa.Text)
    #: markdown | plain (imported plain text is escaped when shown)
    text_format: Mapped[str] = mapped_column(sa.String(16), default="markdown")
    #: {"A": text, …} in key order; {} for judge/fill
    options: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: canonical answer as JSON (lms.quizzes.questions.answer_to_json)
    answer: Mapped[object] = mapped_column(sa.JSON)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    #: the law and article (or rule) the answer rests on
    source: Mapped[str] = mapped_column(sa.Text, default="")
    difficulty: Mapped[int] = mapped_column(default=3)
    tags: Mapped[list] = mapped_column(sa.JSON, default=list)
    origin: Mapped[Origin] = mapped_column(sa.Enum(Origin, native_enum=False, length=16), default=Origin.file)
    #: retired questions leave future draws; past attempts keep their copy
    is_retired: Mapped[bool] = mapped_column(default=False)
    #: Question.fingerprint() of the content
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    #: raised by every change of content; attempts keep the version they were given
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    bank: Mapped[Bank] = relationship()


class Quiz(db.Model):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: [{"bank", "count", "tags": [...], "difficulty": [...]}]; [] for a fixed paper
    draws: Mapped[list] = mapped_column(sa.JSON)
    #: a fixed exam paper: [{"qid", "marks"}] hand-picked in order, marks per question (positive integers);
    #: None: the quiz draws at random (``draws``)
    fixed_paper: Mapped[list | None] = mapped_column(sa.JSON)
    time_limit_minutes: Mapped[int]
    #: 0–100
    pass_score: Mapped[int]
    #: None: unlimited
    max_attempts: Mapped[int | None]
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    #: scheduled exams: no attempt starts outside [opens_at, closes_at)
    opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: 补考 after a wait: once max_attempts (+ grants) are used, a new round opens this many days after the
    #: last attempt started; None: the attempts are for life
    retake_after_days: Mapped[int | None]
    #: open every year between these local days ("MM-DD", both inclusive; may wrap the new year), e.g. an
    #: annual exam; None: no yearly window
    annual_opens: Mapped[str | None] = mapped_column(sa.String(5))
    annual_closes: Mapped[str | None] = mapped_column(sa.String(5))
    is_retired: Mapped[bool] = mapped_column(default=False)
    origin: Mapped[Origin] = mapped_column(sa.Enum(Origin, native_enum=False, length=16), default=Origin.file)
    #: sha256 of the quiz file's bytes
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[OrgUnit] = relationship(lazy="joined")


class Attempt(db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        # A second concurrent start of the same attempt number fails instead of doubling up.
        sa.UniqueConstraint("quiz_id", "user_id", "number"),
        sa.Index("ix_quiz_attempts_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quizzes.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the learner's unit when the attempt started (statistics count it there)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: 1, 2, … per learner and quiz
    number: Mapped[int]
    status: Mapped[AttemptStatus] = mapped_column(sa.Enum(AttemptStatus, native_enum=False, length=16),
                                                  default=AttemptStatus.open)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    graded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: 0–100
    score: Mapped[float | None]
    passed: Mapped[bool | None]
    #: server side only: per item the question as given (version, content), option order and key map
    paper: Mapped[list] = mapped_column(sa.JSON)
    #: server side only: qid → what a saved answer may be ({type, keys | blanks}); autosave reads this small
    #: column instead of the paper. NULL for attempts started before it existed (read from the paper then).
    answer_slots: Mapped[dict | None] = mapped_column(sa.JSON)
    #: {qid: 1 or 0} once graded
    marks: Mapped[dict | None] = mapped_column(sa.JSON)

    quiz: Mapped[Quiz] = relationship()


class AttemptAnswer(db.Model):
    __tablename__ = "quiz_attempt_answers"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "qid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    qid: Mapped[str] = mapped_column(sa.String(64))
    #: as the learner's client sent it (display letters)
    answer: Mapped[object] = mapped_column(sa.JSON)
    #: the client's counter; a save with a seq not above the stored one is stale
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Mistake(db.Model):
    """A question the learner got wrong, practised in Leitner boxes until mastered."""

    __tablename__ = "quiz_mistakes"
    __table_args__ = (sa.UniqueConstraint("user_id", "qid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    qid: Mapped[str] = mapped_column(sa.String(64))
    #: Leitner box 1–5: box n is reviewed 2^(n-1) days after the last answer
    box: Mapped[int] = mapped_column(default=1)
    next_review_on: Mapped[dt.date]
    last_wrong_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: set when answered right in box 5: it leaves the notebook
    mastered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AttemptGrant(db.Model):
    """补考: extra attempts a trainer or HR granted one learner for one quiz; they add to max_attempts."""

    __tablename__ = "quiz_attempt_grants"
    __table_args__ = (sa.Index("ix_quiz_attempt_grants_quiz_id_user_id", "quiz_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quizzes.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: 1 … MAX_EXTRA_ATTEMPTS per grant; every grant of the pair is summed
    extra_attempts: Mapped[int]
    #: why (required; shown in the audit log and the person's record)
    reason: Mapped[str] = mapped_column(sa.String(500))
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
