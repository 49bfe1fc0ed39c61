"""Accounts, role grants, server-side sessions, API tokens, login throttling."""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


class Role(enum.StrEnum):
    worker = "worker"
    grid_leader = "grid_leader"
    mentor = "mentor"
    trainer = "trainer"
    hr = "hr"
    admin = "admin"
    #: not a role but a permission added to one: unmasked personal data
    pii = "pii"


ROLE_LABELS = {Role.worker: "网格员", Role.grid_leader: "网格长", Role.mentor: "导师", Role.trainer: "培训师",
               Role.hr: "人事/综治中心", Role.admin: "系统管理员", Role.pii: "个人信息查看权限"}


class UserStatus(enum.StrEnum):
    active = "active"
    disabled = "disabled"


EDUCATION_LEVELS = ["初中", "高中", "中专", "大专", "本科", "研究生"]


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 工号: the business key of rosters
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: personal information: shown and exported masked unless the viewer has `pii`
    id_card: Mapped[str | None] = mapped_column(sa.String(18))
    phone: Mapped[str | None] = mapped_column(sa.String(11))
    birth_date: Mapped[dt.date | None]
    education: Mapped[str | None] = mapped_column(sa.String(8))
    hired_on: Mapped[dt.date | None]
    status: Mapped[UserStatus] = mapped_column(sa.Enum(UserStatus, native_enum=False, length=16),
                                               default=UserStatus.active)
    password_hash: Mapped[str] = mapped_column(sa.String(200), default="")
    must_change_password: Mapped[bool] = mapped_column(default=True)
    #: demo accounts are the only ones `demo` may coexist with
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[OrgUnit] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                   order_by="RoleGrant.id",
                                                   lazy="selectin")

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.active

    # Flask-Login protocol; the id in the cookie is the server-side session's key.
    is_authenticated = True
    is_anonymous = False
    _session_key = None
    _auth_kind = "session"

    def get_id(self) -> str | None:
        return self._session_key


class RoleGrant(db.Model):
    """A role held over an org subtree."""

    __tablename__ = "role_grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=16))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)

    user: Mapped[User] = relationship(back_populates="grants")
    org: Mapped[OrgUnit] = relationship(lazy="joined")


class OrgMembership(db.Model):
    """Which unit a user belonged to and when: transfers keep their history."""

    __tablename__ = "org_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UserSession(db.Model):
    """Server-side session: logout, disable and timeouts end it for good."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of the random key held in the signed cookie
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    client_addr: Mapped[str] = mapped_column(sa.String(64), default="")

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """Bearer token for integrations; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """One failed login of a username from a client; counted in a sliding window."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_key", "username", "client_addr", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: as typed, lower-cased: unknown usernames are counted alike
    username: Mapped[str] = mapped_column(sa.String(64))
    client_addr: Mapped[str] = mapped_column(sa.String(64))
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lockout(db.Model):
    __tablename__ = "lockouts"
    __table_args__ = (sa.UniqueConstraint("username", "client_addr"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    client_addr: Mapped[str] = mapped_column(sa.String(64))
    locked_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ImportUpload(db.Model):
    """A roster or org list uploaded in the browser: previewed, applied once confirmed.

    A roster's initial-password sheet is kept here until its first download, then dropped (downloads once).
    """

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of the random key carried in the preview and download URLs
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: "roster" or "org"
    kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    #: the uploaded file; dropped once applied
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: counts of the applied import, for the result page
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    #: the initial-password sheet (XLSX); dropped at its first download
    password_sheet: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    sheet_taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


#: read-aloud speeds offered (慢 / 正常 / 快)
SPEECH_RATES = (0.8, 1.0, 1.2)


class UserPreference(db.Model):
    """Reading settings that follow the person, not the device: tablets are shared."""

    __tablename__ = "user_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: 大字; None until the person chooses (the device's own setting applies until then)
    large_text: Mapped[bool | None]
    #: read-aloud speed, one of SPEECH_RATES; None until chosen (1.0)
    speech_rate: Mapped[float | None] = mapped_column(sa.Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
