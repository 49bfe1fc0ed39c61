"""Certification programs, certificates and the verification lookup counter."""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


class CertificateStatus(enum.StrEnum):
    valid = "valid"
    expired = "expired"
    revoked = "revoked"


STATUS_LABELS = {CertificateStatus.valid: "有效", CertificateStatus.expired: "已过期",
                 CertificateStatus.revoked: "已撤销"}


class Program(db.Model):
    """A certification program (认证项目) synced from courses/certifications.yaml by code."""

    __tablename__ = "cert_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    valid_months: Mapped[int]
    #: star level 1–5 this certificate gives, None for other programs
    star: Mapped[int | None]
    #: the requires mapping as in the file (courses, quizzes, drills_accepted, …)
    requires: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: gone from the file: no new certificates, existing ones stay
    is_retired: Mapped[bool] = mapped_column(default=False)
    #: position in the file, so lists follow the trainers' order
    position: Mapped[int] = mapped_column(default=0)
    #: the county's wording for this program from courses/certificate-templates.yaml (issuer, seal_text,
    #: signatory, wording, footer); None or a missing key: the LMS_CERTIFICATE_* settings
    template: Mapped[dict | None] = mapped_column(sa.JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Certificate(db.Model):
    """One issued certificate; never deleted (revoked/expired keep their record)."""

    __tablename__ = "certificates"
    __table_args__ = (sa.UniqueConstraint("program_id", "year", "seq"),
                      sa.Index("ix_certificates_status_expires", "status", "expires_on"),
                      sa.Index("ix_certificates_status_index", "status_index", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. WG-SG-2026-000123: program prefix, year of issue, sequence per program and year
    number: Mapped[str] = mapped_column(sa.String(48), unique=True)
    year: Mapped[int]
    seq: Mapped[int]
    #: public verification code (≥ 80 random bits)
    verify_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    holder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("cert_programs.id"), index=True)
    #: the holder's unit at issue (statistics count it there)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    issued_on: Mapped[dt.date] = mapped_column(index=True)
    #: last day of validity (inclusive)
    expires_on: Mapped[dt.date]
    status: Mapped[CertificateStatus] = mapped_column(sa.Enum(CertificateStatus, native_enum=False, length=16),
                                                      default=CertificateStatus.valid)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(500))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: None = issued automatically when the rules held
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: why HR issued it by hand, or 自动发放/自动续发
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    #: the certificate this one renews (history kept)
    renewal_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    reminded_60_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reminded_30_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: its bit in the revocation status list (W3C Bitstring Status List), random so neighbours say nothing
    status_index: Mapped[int | None]

    holder: Mapped[User] = relationship(foreign_keys=[holder_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    program: Mapped[Program] = relationship(lazy="joined")
    org_at_issue: Mapped[OrgUnit] = relationship()
    renewal_of: Mapped[Certificate | None] = relationship(remote_side=[id])

    @property
    def org(self) -> OrgUnit:
        """Scope follows the holder's current unit (a transferred worker's new HR manages it)."""
        return self.holder.org

    def status_on(self, today: dt.date) -> CertificateStatus:
        """The status as of ``today``: a valid one past its last day reads as expired before tasks run."""
        if self.status == CertificateStatus.valid and self.expires_on < today:
            return CertificateStatus.expired
        return self.status


class VerifyLookup(db.Model):
    """One public verification lookup; counted per client address in a sliding window (shared by servers)."""

    __tablename__ = "verify_lookups"
    __table_args__ = (sa.Index("ix_verify_lookups_client_at", "client_addr", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_addr: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskRun(db.Model):
    """When a scheduled command last ran (``tasks run``): `flask doctor` checks cron is alive."""

    __tablename__ = "task_runs"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
