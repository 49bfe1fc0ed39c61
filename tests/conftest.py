"""Fixtures: one schema per run, tables emptied between tests, factories that commit.

The database is SQLite in a temporary folder, or the URL in LMS_TEST_DATABASE_URL
(CI runs the suite a second time on PostgreSQL).
"""
from __future__ import annotations

import contextvars
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from lms import create_app
from lms.extensions import db

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TEST_DB_URL = os.environ.get("LMS_TEST_DATABASE_URL")


def _sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One schema per run: a temporary SQLite file, or a private PostgreSQL database.

    On PostgreSQL the run creates its own database next to LMS_TEST_DATABASE_URL's
    and drops it at the end, so parallel runs never see each other's tables.
    """
    if TEST_DB_URL and TEST_DB_URL.startswith("postgresql"):
        name = f"{TEST_DB_URL.rsplit('/', 1)[1]}_run_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(_sqlalchemy_url(TEST_DB_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = f"{TEST_DB_URL.rsplit('/', 1)[0]}/{name}"
    else:
        admin = None
        url = TEST_DB_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _config(url: str, instance: Path, **extra) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        # Cheap hashing in tests; test_passwords checks the production cost separately.
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_TIME_COST": 1,
        "COURSES_DIR": str(ROOT / "tests" / "data" / "courses"),
        "QUESTIONS_DIR": str(ROOT / "tests" / "data" / "question_bank"),
        "PUBLIC_URL": "http://lms.test",
    }
    config.update(extra)
    return config


@pytest.fixture
def app_config(tmp_path):
    """Extra config for the app fixture; override in a test module to change settings."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    Flask reuses an app context that is already pushed (the test's), which would
    share `g`, the logged-in user and the database session between requests.
    The test's own work is committed before the request so the request sees it,
    and its transaction ends afterwards so the test then sees what the request did.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.commit()


@pytest.fixture
def app(database_url, tmp_path, app_config):
    application = create_app(_config(database_url, tmp_path / "instance", **app_config))
    application.test_client_class = IsolatedClient
    application.instance_path = str(tmp_path / "instance")
    with application.app_context():
        yield application
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables():
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories ----------------------------------------------------------------------------------------------

from tests.factories import (  # noqa: E402  (after fixtures on purpose: they import the app package)
    ApiClient, make_org, make_tree, make_user,
)


@pytest.fixture
def tree(app):
    """The demo-shaped tree: county HX → townships HX01/HX02 → villages → grids."""
    return make_tree()


@pytest.fixture
def api(client):
    return ApiClient(client)


__all__ = ["make_org", "make_user", "sa"]
