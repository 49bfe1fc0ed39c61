"""Model base, constraint naming, UTC time helpers and SQLite connection setup."""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Stable constraint names so Alembic migrations can drop/alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite has no time zones, PostgreSQL would convert."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; pass an aware one")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)


# Path columns compare byte-wise: PostgreSQL's locale collations ignore '/', which
# would break the materialised-path range scans.
PathString = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")


def utcnow() -> dt.datetime:
    """Aware current time in UTC (the only clock the app reads)."""
    return dt.datetime.now(dt.timezone.utc)


def local(value: dt.datetime | None) -> dt.datetime | None:
    """Aware datetime in Asia/Shanghai for display."""
    return value.astimezone(SHANGHAI) if value else None


# --- SQLite: WAL, busy timeout, foreign keys, BEGIN IMMEDIATE for writes ---

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("lms_write_intent", default=False)


def set_write_intent(value: bool) -> contextvars.Token:
    """Mark the current request/command as a writer: its SQLite transactions begin IMMEDIATE."""
    return _write_intent.set(value)


def is_write_intent() -> bool:
    return _write_intent.get()


def reset_write_intent(token: contextvars.Token) -> None:
    _write_intent.reset(token)


_reads_first: contextvars.ContextVar[bool] = contextvars.ContextVar("lms_reads_first", default=False)


def set_reads_first(value: bool) -> contextvars.Token:
    """Mark the current request as one that reads before it writes (see begin_writing)."""
    return _reads_first.set(value)


def reset_reads_first(token: contextvars.Token) -> None:
    _reads_first.reset(token)


def begin_writing() -> None:
    """Turn a request that has only read so far into a writer: its read transaction ends (objects keep their
    loaded state) and the next one begins IMMEDIATE on SQLite, waiting its turn for the write lock.

    Only in requests to endpoints registered with lms.web.reads_first (elsewhere it does nothing): they do their
    reading and CPU work (a login checks a hash, a quiz start draws a paper) without holding SQLite's one write
    lock, then write in a short transaction. What they
    read may have changed meanwhile; their writes must tolerate that (a unique key, a conditional UPDATE).
    """
    if _write_intent.get() or not _reads_first.get():
        return
    from lms.extensions import db  # late: lms.extensions imports this module

    session = db.session()
    if session.in_transaction():
        keep = session.expire_on_commit
        session.expire_on_commit = False
        try:
            session.commit()  # nothing written yet: ends the read
        finally:
            session.expire_on_commit = keep
    _write_intent.set(True)


@contextlib.contextmanager
def write_intent():
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred and late).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    # A writer that starts deferred can fail to upgrade its lock under load
    # (SQLITE_BUSY without waiting); IMMEDIATE waits on busy_timeout instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")
