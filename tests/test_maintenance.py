"""backup / restore: a restored instance holds every record of the original."""
from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
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


def _rows(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        with db.engine.connect() as conn:
            rows = {t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                    for t in db.metadata.sorted_tables}
        db.session.remove()
        db.engine.dispose()
    return rows


def _populated(app) -> dict[str, list[tuple]]:
    """The bench's tiny province (progress, attempts, drills, certificates, trainings, mentoring) in app's database."""
    from bench.province import Shape, generate

    with app.app_context():
        db.create_all()
        generate(Shape(cities=1, counties_per_city=1, townships_per_county=1, villages_per_township=2,
                       grids_per_village=2, users=30, progress=120, attempts=60, drill_reports=20,
                       trainings_per_township=2, workers_per_pairing=10), seed=5)
        db.session.remove()
    rows = _rows(app)
    empty = {name for name, table_rows in rows.items() if not table_rows}
    assert {"lesson_progress", "quiz_attempts", "drill_reports", "certificates", "attendances"}.isdisjoint(empty)
    return rows


def test_a_restored_backup_holds_every_record_of_a_populated_instance(tmp_path):
    original = _sqlite_app(tmp_path / "a.sqlite3", tmp_path / "ia")
    before = _populated(original)
    backup = tmp_path / "b.sqlite3"
    assert original.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
    fresh = _sqlite_app(tmp_path / "fresh.sqlite3", tmp_path / "ib")
    result = fresh.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert _rows(fresh) == before  # every row, every column, not only the counts


@pytest.mark.skipif(not (TEST_DB_URL or "").startswith("postgresql") or shutil.which("pg_dump") is None,
                    reason="PostgreSQL runs only (LMS_TEST_DATABASE_URL) with pg_dump/pg_restore installed")
def test_pg_dump_and_pg_restore_as_the_readme_says_keep_every_record(tmp_path):
    from tests.factories import make_user

    base = TEST_DB_URL.rsplit("/", 1)
    names = [f"{base[1]}_backup_{uuid.uuid4().hex[:8]}", f"{base[1]}_restore_{uuid.uuid4().hex[:8]}"]
    admin = sa.create_engine("postgresql+psycopg://" + TEST_DB_URL.split("://", 1)[1], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    source_url, target_url = (f"{base[0]}/{name}" for name in names)
    try:
        source = create_app(_config(source_url, tmp_path / "ia"))
        before = _populated(source)
        dump = tmp_path / "lms.dump"
        subprocess.run(["pg_dump", "-Fc", "-d", source_url, "-f", str(dump)], check=True, capture_output=True)
        subprocess.run(["pg_restore", "--no-owner", "-d", target_url, str(dump)], check=True, capture_output=True)
        restored = create_app(_config(target_url, tmp_path / "ib"))
        assert _rows(restored) == before
        with restored.app_context():  # the sequences came along: new records do not collide with restored ones
            from lms.org.queries import get_org

            make_user("after-restore", "worker", get_org("HX11"))
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
