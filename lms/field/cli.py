"""`flask field import FILE`, `flask field demo`, `flask field generate OUT`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.accounts.permissions import SYSTEM, Permission, authorize
from lms.clikit import transactional

field_cli = AppGroup("field", help="现场上报结果（网格平台事件导出）")


@field_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@transactional
def import_command(file: Path):
    """Import the grid platform's event export (CSV/XLSX): 新增/未变/错误, bad rows on stderr (exit 1 if any)."""
    from lms.field import services

    authorize(SYSTEM, Permission.IMPORT_FIELD)
    with file.open("rb") as stream:
        report = services.import_file(stream, file.name, actor=SYSTEM, source="cli")
    click.echo(report.summary)
    if report.unknown:
        names = "、".join(f"{name}（{count} 行）" for name, count in list(report.unknown.items())[:50])
        more = f" 等 {len(report.unknown)} 个" if len(report.unknown) > 50 else ""
        click.echo(f"系统中没有的工号{more}：{names}", err=True)
    for line in report.error_lines:
        click.echo(line, err=True)
    if report.error_count:
        from lms.extensions import db  # late: keep the good rows before exiting non-zero
        db.session.commit()
        raise SystemExit(1)


@field_cli.command("demo")
@transactional
def demo_command():
    """Load a generated year of events for the demo county (once; refuses a database with real accounts)."""
    from lms.field import generate

    authorize(SYSTEM, Permission.IMPORT_FIELD)
    report = generate.load_demo_year()
    click.echo("演示县的一年现场上报：" + (report.summary if report else "已有，未重复写入"))


@field_cli.command("generate")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--events", default=200_000, show_default=True, help="事件数")
@click.option("--workers", default=2000, show_default=True, help="网格员人数（工号 w00001…）")
@click.option("--seed", default=2026, show_default=True)
def generate_command(out: Path, events: int, workers: int, seed: int):
    """Write a generated year of the platform's export as CSV (for benches and trials; no database)."""
    from lms.field import generate

    usernames = [f"w{i:05d}" for i in range(1, workers + 1)]
    with out.open("w", encoding="utf-8", newline="") as stream:
        count = generate.write_csv(stream, generate.year_rows(usernames, events=events, seed=seed))
    click.echo(f"已写入 {count} 行：{out}")
