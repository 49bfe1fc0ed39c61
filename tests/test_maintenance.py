"""backup / restore: a restored instance holds every record of the original."""
from __future__ import annotations

import sqlalchemy as sa

from lms import create_app
from lms.extensions import db
from tests.conftest import TEST_DB_URL, _config


def _sqlite_app(path, instance):
    return create_app(_config(f"sqlite:///{path}", instance))


def test_backup_then_restore_into_an_empty_instance_keeps_every_row(tmp_path):
    if TEST_DB_URL and TEST_DB_URL.startswith("postgresql"):
        # The SQLite online backup is what these commands do; PostgreSQL uses pg_dump (README).
        pass
    original = _sqlite_app(tmp_path / "a.sqlite3", tmp_path / "ia")
    with original.app_context():
        db.create_all()
    runner = original.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    with original.app_context():
        counts = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
                  for t in db.metadata.sorted_tables}
        db.session.remove()
    assert counts["users"] == 12
    backup = tmp_path / "backups" / "b.sqlite3"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 1  # never overwrites

    fresh = _sqlite_app(tmp_path / "b.sqlite3", tmp_path / "ib")
    result = fresh.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        restored = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
                    for t in db.metadata.sorted_tables}
        db.session.remove()
        db.engine.dispose()
    assert restored == counts
    # Restoring over data is refused.
    again = fresh.test_cli_runner().invoke(args=["restore", str(backup)])
    assert again.exit_code == 1 and "空的实例" in again.output
    with original.app_context():
        db.engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    app = _sqlite_app(tmp_path / "x.sqlite3", tmp_path / "ix")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    result = app.test_cli_runner().invoke(args=["restore", str(junk)])
    assert result.exit_code == 1
    with app.app_context():
        db.engine.dispose()
