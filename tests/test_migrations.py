"""`db upgrade` on an empty database gives exactly the models' schema (SQLite and PostgreSQL)."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from lms import create_app
from lms.extensions import db
from tests.conftest import TEST_DB_URL, _config, _sqlalchemy_url


@pytest.fixture
def empty_database_url(tmp_path):
    if not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"lms_migcheck_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(_sqlalchemy_url(TEST_DB_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = TEST_DB_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_upgrade_from_empty_matches_the_models(empty_database_url, tmp_path):
    app = create_app(_config(empty_database_url, tmp_path / "instance"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert {t.name for t in db.metadata.sorted_tables} <= tables


def test_every_migration_downgrades_cleanly(empty_database_url, tmp_path):
    from flask_migrate import downgrade

    app = create_app(_config(empty_database_url, tmp_path / "instance"))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert left == set()
