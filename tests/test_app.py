"""The factory: LMS_* configuration, SQLite pragmas, BEGIN IMMEDIATE for writers, secret key."""
from __future__ import annotations

import sqlalchemy as sa

from lms import create_app
from lms.db import write_intent
from lms.extensions import db


def test_config_comes_from_lms_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_IDLE_TIMEOUT_MINUTES", "5")
    monkeypatch.setenv("LMS_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 5
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite3")


def test_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    monkeypatch.setenv("LMS_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    first = create_app()
    first_key = first.config["SECRET_KEY"]
    assert len(first_key) == 64
    second = create_app()
    assert second.config["SECRET_KEY"] == first_key


def test_postgres_urls_use_psycopg3(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://u@127.0.0.1/db", "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_sqlite_runs_wal_with_foreign_keys_and_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_writers_begin_immediate_and_readers_deferred(app):
    if db.engine.dialect.name != "sqlite":
        return
    seen = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda conn, cur, stmt, *a: seen.append(stmt))
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        conn.rollback()
    with write_intent(), db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        conn.rollback()
    begins = [s for s in seen if s.startswith("BEGIN")]
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]


def test_post_requests_run_with_write_intent(app, client, tree):
    if db.engine.dialect.name != "sqlite":
        return
    seen = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda conn, cur, stmt, *a: seen.append(stmt))
    client.post("/api/v1/session", json={"username": "nobody", "password": "x"})
    assert "BEGIN IMMEDIATE" in seen


def test_foreign_keys_are_enforced(app):
    from lms.accounts.models import RoleGrant
    db.session.add(RoleGrant(user_id=999, role="worker", org_id=999))
    try:
        db.session.flush()
        raised = False
    except sa.exc.IntegrityError:
        raised = True
    db.session.rollback()
    assert raised


def test_a_post_does_not_leave_later_reads_writing(app, tree):
    from flask.testing import FlaskClient

    from lms.db import _write_intent
    # A plain client runs the request in this thread's context, as a gunicorn worker does.
    FlaskClient(app).post("/api/v1/session", json={"username": "nobody", "password": "x"})
    assert _write_intent.get() is False
