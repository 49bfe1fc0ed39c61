"""Tables of training needs and remediation (补训): the imported mapping, and what was assigned to whom, when."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


class FieldNeed(db.Model):
    """One training item for one field problem, as last imported from question_bank/field_needs.yaml."""

    __tablename__ = "field_needs"
    __table_args__ = (sa.UniqueConstraint("need", "kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a 退回原因, 超时 or 重复 (lms.field.needs.NEEDS)
    need: Mapped[str] = mapped_column(sa.String(16))
    #: drills, consultations or courses
    kind: Mapped[str] = mapped_column(sa.String(16))
    code: Mapped[str] = mapped_column(sa.String(80))
    #: order within (need, kind), from the file
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Remediation(db.Model):
    """Training sent to one person for their field problems; its start date is what outcomes compare around.

    The courses' ``Assignment`` targets an org subtree (members found at read time), so a person's own
    training is held here, item by item, and shown in their 补训 list and inbox.
    """

    __tablename__ = "field_remediations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the person's unit when it was sent (scope)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: the day the remediation starts (Beijing date it was sent)
    started_on: Mapped[dt.date] = mapped_column(index=True)
    due_on: Mapped[dt.date]
    #: the field period whose events it rests on
    period_from: Mapped[dt.date]
    period_to: Mapped[dt.date]
    #: [{"need": "描述不清", "count": 5, "rate": 0.25}, …] most frequent first
    problems: Mapped[list] = mapped_column(sa.JSON)
    events: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    org: Mapped[OrgUnit] = relationship(lazy="joined")
    items: Mapped[list[RemediationItem]] = relationship(back_populates="remediation",
                                                        order_by="RemediationItem.id",
                                                        cascade="all, delete-orphan")


class RemediationItem(db.Model):
    """One drill, consultation or course of a remediation."""

    __tablename__ = "field_remediation_items"
    __table_args__ = (sa.UniqueConstraint("remediation_id", "kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remediation_id: Mapped[int] = mapped_column(sa.ForeignKey("field_remediations.id", ondelete="CASCADE"),
                                                index=True)
    #: drills, consultations or courses
    kind: Mapped[str] = mapped_column(sa.String(16))
    code: Mapped[str] = mapped_column(sa.String(80))
    #: the problem it answers
    need: Mapped[str] = mapped_column(sa.String(16))

    remediation: Mapped[Remediation] = relationship(back_populates="items")
