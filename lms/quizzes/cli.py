"""`flask content import-bank / export-bank` and `flask quizzes close-overdue`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.accounts.permissions import SYSTEM, Permission, authorize
from lms.audit.services import record
from lms.clikit import transactional
from lms.contentfile import ContentErrors
from lms.contentsync import content_cli
from lms.errors import NotFound
from lms.quizzes.formats import EXPORT_FORMATS, IMPORT_FORMATS, export_questions
from lms.quizzes.queries import get_bank
from lms.quizzes.sync import bank_questions, import_question_file
from lms.quizzes.tasks import close_overdue_attempts

quizzes_cli = AppGroup("quizzes", help="测验与考试")


@content_cli.command("import-bank")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_code", required=True, help="题库编码（不存在时新建）")
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS), help="文件格式（默认按扩展名）")
def import_bank_command(file: Path, bank_code: str, fmt: str | None):
    """Import a question file (xlsx, GIFT, Aiken) into a bank; malformed: nothing imported, exit 1."""

    @transactional
    def run():
        authorize(SYSTEM, Permission.AUTHOR_CONTENT)
        counts, warnings = import_question_file(file.read_bytes(), str(file), bank_code, fmt)
        record("quizzes.import_bank", actor=SYSTEM, target_type="bank", target=bank_code,
               details={"file": file.name, **counts, "warnings": len(warnings)})
        return counts, warnings

    try:
        counts, warnings = run()
    except ContentErrors as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo("文件有错误，未导入任何题目", err=True)
        raise SystemExit(1) from None
    for warning in warnings:
        click.echo(f"{warning.path}:{warning.line}: 警告：{warning.message}", err=True)
    click.echo(f"题库 {bank_code}：新增 {counts.get('new', 0)}，更新 {counts.get('updated', 0)}，"
               f"未变 {counts.get('unchanged', 0)}，跳过 {len(warnings)}")


@content_cli.command("export-bank")
@click.argument("bank_code")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="gift 或 xlsx")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="输出文件")
@transactional
def export_bank_command(bank_code: str, fmt: str, output: Path):
    """Export a bank's live questions as GIFT (with `// lms:` metadata) or Excel."""
    authorize(SYSTEM, Permission.AUTHOR_CONTENT)
    bank = get_bank(bank_code)
    if bank is None:
        raise NotFound(f"题库 {bank_code} 不存在")
    questions = bank_questions(bank)
    output.write_bytes(export_questions(questions, fmt))
    record("quizzes.export_bank", actor=SYSTEM, target_type="bank", target=bank_code,
           details={"format": fmt, "questions": len(questions)})
    click.echo(f"已导出题库 {bank_code} 的 {len(questions)} 道题到 {output}")


@quizzes_cli.command("close-overdue")
@transactional
def close_overdue_command():
    """Close and grade attempts past their deadline and grace (what `tasks run` does for quizzes)."""
    closed = close_overdue_attempts()
    click.echo(f"已收卷 {closed} 份超时作答")
