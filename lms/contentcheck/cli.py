"""`flask --app lms content check [--courses DIR] [--questions DIR]`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

import lms.contentcheck as cfg
from lms.contentsync import content_cli


def format_report(report) -> list[str]:
    """The findings as path:line: reason, then the summary table (Chinese)."""
    lines = [str(f) + ("" if f.blocking else "（提示）") for f in report.findings]
    counts = report.by_kind()
    lines.append("")
    lines.append("内容检查汇总")
    width = max(len(label) for label in cfg.CHECK_LABELS.values())
    for kind, label in cfg.CHECK_LABELS.items():
        mark = "阻断" if cfg.BLOCKING.get(kind) else "提示"
        lines.append(f"  {label.ljust(width, '　')}  {counts.get(kind, 0):>5}  （{mark}）")
    for label, value in report.figures.items():
        lines.append(f"  {label}：{value}")
    lines.append(f"阻断性问题 {len(report.blocking)} 个，提示 {len(report.findings) - len(report.blocking)} 个")
    return lines


@content_cli.command("check")
@click.option("--courses", "courses_dir", type=click.Path(file_okay=False, path_type=Path),
              help="courses/ 目录（默认：仓库中的）")
@click.option("--questions", "questions_dir", type=click.Path(file_okay=False, path_type=Path),
              help="question_bank/ 目录（默认：仓库中的）")
def check_command(courses_dir: Path | None, questions_dir: Path | None):
    """Check the content files (demo county tree): reachability of programs and question quality."""
    report = cfg.run_checks(courses_dir or Path(current_app.config["COURSES_DIR"]),
                            questions_dir or Path(current_app.config["QUESTIONS_DIR"]))
    for line in format_report(report):
        click.echo(line)
    if report.blocking:
        raise SystemExit(1)
