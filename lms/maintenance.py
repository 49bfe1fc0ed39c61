"""`flask backup FILE` / `flask restore FILE`: consistent SQLite copies while serving.

PostgreSQL deployments use pg_dump / pg_restore (README); these commands say so.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import click
from flask.cli import with_appcontext
import sqlalchemy as sa

from lms.extensions import db


def _sqlite_path() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException(
            "此命令只用于 SQLite 数据库。PostgreSQL 请用：pg_dump -Fc 数据库名 > 备份.dump；"
            "恢复：pg_restore -d 新的空数据库 --no-owner 备份.dump")
    return Path(url.database)


def backup_to(target: Path) -> int:
    """Online backup of the live SQLite database into target; returns the number of pages copied."""
    source = _sqlite_path()
    if target.exists():
        raise click.ClickException(f"{target} 已存在：请换一个文件名，避免覆盖旧备份")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
    src.close()
    dst.close()
    if check != "ok":
        target.unlink()
        raise click.ClickException(f"备份文件完整性检查失败：{check}")
    return pages


def restore_from(source: Path) -> None:
    """Copy a backup into this instance's database, which must be empty (no accounts)."""
    target = _sqlite_path()
    if not source.exists():
        raise click.ClickException(f"找不到备份文件 {source}")
    with sqlite3.connect(source) as probe:
        tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        ok = probe.execute("PRAGMA integrity_check").fetchone()[0]
    probe.close()
    if "users" not in tables or ok != "ok":
        raise click.ClickException(f"{source} 不是网格学堂的完整备份（缺少数据表或文件已损坏）")
    inspector = sa.inspect(db.engine)
    if "users" in inspector.get_table_names():
        with db.engine.connect() as conn:
            if conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar():
                raise click.ClickException("当前数据库已有数据：恢复只能在空的实例中进行（请先换一个空的实例目录或数据库文件）")
    db.session.remove()
    db.engine.dispose()
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path):
    """Consistent copy of the database while it serves (SQLite online backup)."""
    pages = backup_to(file)
    click.echo(f"已备份到 {file}（{pages} 页）")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(file: Path):
    """Restore a backup into an empty instance."""
    restore_from(file)
    click.echo(f"已从 {file} 恢复。请执行 flask --app lms db upgrade 以确保数据库结构为最新。")


def init_app(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
