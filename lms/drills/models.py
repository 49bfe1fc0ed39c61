"""Report drills: the county taxonomy, drills with their versions, workers' reports and trainers' reviews."""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


class TaxonomyKind(enum.StrEnum):
    event_type = "event_type"
    department = "department"
    urgency = "urgency"


class DrillOrigin(enum.StrEnum):
    file = "file"
    web = "web"


class Verdict(enum.StrEnum):
    accepted = "accepted"
    returned = "returned"


VERDICT_LABELS = {Verdict.accepted: "通过", Verdict.returned: "退回"}


class TaxonomyItem(db.Model):
    """One entry of the county's drill-form lists; the whole set is replaced on import."""

    __tablename__ = "drill_taxonomy_items"
    __table_args__ = (sa.UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaxonomyKind] = mapped_column(sa.Enum(TaxonomyKind, native_enum=False, length=16))
    #: order in the file (urgencies run from least to most urgent)
    position: Mapped[int] = mapped_column(default=0)
    value: Mapped[str] = mapped_column(sa.String(100))


class Drill(db.Model):
    """A report-writing drill; `definition` is everything the drill file holds (answer key included)."""

    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    #: owning unit: who may edit it, and whose members see it (this unit's subtree)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: the parsed drill as JSON (see lms.drills.definition); never sent to learners
    definition: Mapped[dict] = mapped_column(sa.JSON)
    #: scenario rendered and sanitised once per version
    scenario_html: Mapped[str] = mapped_column(sa.Text, default="")
    origin: Mapped[DrillOrigin] = mapped_column(sa.Enum(DrillOrigin, native_enum=False, length=16))
    #: sha256 of the file text (file drills): unchanged files are skipped
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    #: relative path of the source file, for notes and errors
    source_path: Mapped[str] = mapped_column(sa.String(300), default="")
    version: Mapped[int] = mapped_column(default=1)
    is_published: Mapped[bool] = mapped_column(default=False)
    #: gone from the files: no new reports, history kept
    is_retired: Mapped[bool] = mapped_column(default=False)
    #: a file drill edited in the browser: the importer leaves it alone
    is_detached: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[OrgUnit] = relationship(lazy="joined")
    versions: Mapped[list[DrillVersion]] = relationship(back_populates="drill", order_by="DrillVersion.version",
                                                        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Drill {self.code} v{self.version}>"


class DrillVersion(db.Model):
    """A saved state of a drill: reports are graded against, and keep, the version they were written for."""

    __tablename__ = "drill_versions"
    __table_args__ = (sa.UniqueConstraint("drill_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(sa.ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    definition: Mapped[dict] = mapped_column(sa.JSON)
    scenario_html: Mapped[str] = mapped_column(sa.Text, default="")
    #: None: the content importer
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    drill: Mapped[Drill] = relationship(back_populates="versions")


class DrillReport(db.Model):
    """One attempt of a worker at a drill: the fields as typed and the automatic checks."""

    __tablename__ = "drill_reports"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_id"),
                      sa.Index("ix_drill_reports_user_drill", "user_id", "drill_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(sa.ForeignKey("drills.id"), index=True)
    #: the drill version the report was graded against
    drill_version: Mapped[int]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the worker's unit when reporting: statistics count it there even after a transfer
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: the nine form fields, as typed
    fields: Mapped[dict] = mapped_column(sa.JSON)
    #: current verdict and score (a trainer's override replaces the automatic ones)
    verdict: Mapped[Verdict] = mapped_column(sa.Enum(Verdict, native_enum=False, length=16))
    score: Mapped[int]
    #: the automatic checks: [{rule, passed, message, field}]
    checks: Mapped[list] = mapped_column(sa.JSON)
    #: the tablet's idempotency key for retried submits (unique per user)
    client_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: 1 for the worker's first report on this drill, 2 for the revision, …
    attempt: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    drill: Mapped[Drill] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")
    org: Mapped[OrgUnit] = relationship(lazy="joined")
    reviews: Mapped[list[DrillReview]] = relationship(back_populates="report", order_by="DrillReview.id",
                                                      cascade="all, delete-orphan")


class DrillReview(db.Model):
    """A trainer's override of a report's verdict and score, with a comment the worker reads."""

    __tablename__ = "drill_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("drill_reports.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verdict: Mapped[Verdict] = mapped_column(sa.Enum(Verdict, native_enum=False, length=16))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[DrillReport] = relationship(back_populates="reviews")
    reviewer: Mapped[User | None] = relationship()
