"""`flask content import`: one command that syncs every content folder, feature by feature.

Features register an importer here (courses, question banks, quizzes, drills,
certifications); this module imports no feature. Each importer parses files
purely, rejects a bad file whole (its errors are collected as path:line) and
imports the good files beside it, inside savepoints of the command's one
transaction.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.contentfile import ContentError, ContentErrors, escaping_symlinks, missing_org_hint
from lms.db import utcnow

OUTCOMES = ("new", "updated", "unchanged", "retired", "skipped")


@dataclasses.dataclass
class SyncContext:
    courses_dir: Path
    questions_dir: Path
    now: dt.datetime
    actor: object = None
    #: shared between importers, e.g. {"quiz_codes": {...}} for cross-file checks
    known: dict = dataclasses.field(default_factory=dict)

    def relative(self, path: Path) -> str:
        """A path as trainers see it in error messages: relative to the content root."""
        for root in (self.courses_dir.parent, self.questions_dir.parent):
            try:
                return str(path.relative_to(root))
            except ValueError:
                continue
        return str(path)


@dataclasses.dataclass
class SyncReport:
    counts: dict[str, collections.Counter] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    errors: list[ContentError] = dataclasses.field(default_factory=list)
    #: e.g. "课程 x 已在网页中编辑，导入时跳过"
    notes: list[str] = dataclasses.field(default_factory=list)

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        assert outcome in OUTCOMES, outcome
        self.counts[kind][outcome] += n

    def reject(self, exc: ContentErrors) -> None:
        self.errors.extend(exc.errors)

    def summary_lines(self) -> list[str]:
        lines = []
        for kind, counter in self.counts.items():
            parts = [f"{label} {counter[key]}" for key, label in
                     (("new", "新增"), ("updated", "更新"), ("unchanged", "未变"), ("retired", "停用"),
                      ("skipped", "跳过")) if counter[key] or key in ("new", "updated", "unchanged")]
            lines.append(f"{kind}：" + "，".join(parts))
        return lines


Importer = Callable[[SyncContext, SyncReport], None]
_IMPORTERS: list[tuple[int, str, Importer]] = []


def register_importer(order: int, name: str, importer: Importer) -> None:
    """Add an importer; lower order runs first (banks before quizzes before courses)."""
    if all(existing != name for _, existing, _ in _IMPORTERS):
        _IMPORTERS.append((order, name, importer))
        _IMPORTERS.sort(key=lambda item: item[0])


def run_import(courses_dir: Path, questions_dir: Path, *, now=None, actor=None) -> SyncReport:
    """Run every registered importer in order; the caller commits."""
    context = SyncContext(Path(courses_dir), Path(questions_dir), now or utcnow(), actor)
    report = SyncReport()
    escaping = escaping_symlinks(context.courses_dir) + escaping_symlinks(context.questions_dir)
    if escaping:
        # A link out of the content folder would import whatever it points at (say /etc/passwd as a lesson):
        # nothing is imported until the links are replaced by the files themselves.
        report.errors.extend(ContentError(context.relative(link), 1, f"符号链接指向内容文件夹之外（{target}），"
                                          "已拒绝导入：请放入文件本身，而不是链接") for link, target in escaping)
        return report
    refused = _unreachable_programs(context)
    for _, name, importer in _IMPORTERS:
        if name == "certifications" and refused:
            # A program some grid cannot meet is refused (the stored programs stay as they were).
            report.errors.extend(refused)
            continue
        importer(context, report)
    report.errors.sort(key=lambda e: (e.path, e.line))
    return report


def _unreachable_programs(context: SyncContext) -> list[ContentError]:
    """The reachability findings of `content check` against the database's org tree, as errors."""
    if not (context.courses_dir / "certifications.yaml").exists():
        return []
    from lms.contentcheck import reachability  # late: imports every feature's parser
    from lms.contentcheck.model import OrgNode
    from lms.extensions import db
    from lms.org.models import OrgUnit

    import sqlalchemy as sa

    parent = sa.orm.aliased(OrgUnit)
    rows = db.session.execute(sa.select(OrgUnit.code, parent.code, OrgUnit.kind)
                              .outerjoin(parent, parent.id == OrgUnit.parent_id)).all()
    if not rows:
        return []
    tree = [OrgNode(code, parent_code, str(kind)) for code, parent_code, kind in rows]
    return [ContentError(f.path, f.line, f.reason) for f in reachability(context.courses_dir,
                                                                          context.questions_dir, tree)
            if f.blocking and f.kind == "program"]


content_cli = AppGroup("content", help="课程、题库、演练等内容")


@content_cli.command("import")
@click.option("--courses", "courses_dir", type=click.Path(file_okay=False, path_type=Path),
              help="courses/ 目录（默认：仓库中的）")
@click.option("--questions", "questions_dir", type=click.Path(file_okay=False, path_type=Path),
              help="question_bank/ 目录（默认：仓库中的）")
def import_command(courses_dir: Path | None, questions_dir: Path | None):
    """Sync courses/ and question_bank/ into the database (idempotent)."""
    from lms.accounts.permissions import SYSTEM, Permission, authorize  # late: accounts registers after us
    from lms.audit.services import record
    from lms.clikit import transactional

    from lms.org.queries import get_root

    @transactional
    def run():
        authorize(SYSTEM, Permission.AUTHOR_CONTENT)
        tree_is_empty = get_root() is None
        report = run_import(courses_dir or Path(current_app.config["COURSES_DIR"]),
                            questions_dir or Path(current_app.config["QUESTIONS_DIR"]), actor=SYSTEM)
        if tree_is_empty and any(e.missing_org is not None for e in report.errors):
            # Every file belongs to an org unit: without a tree nothing can land, so write nothing and say
            # once what to do rather than one error per file.
            raise _NoOrgTree(report)
        record("content.import", actor=SYSTEM, target_type="content", target="files",
               details={kind: dict(counter) for kind, counter in report.counts.items()}
               | {"errors": len(report.errors)})
        return report

    try:
        report = run()
    except _NoOrgTree as exc:
        codes = sorted({e.missing_org for e in exc.report.errors if e.missing_org is not None})
        click.echo(missing_org_hint(codes[0] if codes else ""), err=True)
        raise SystemExit(1) from None
    for line in report.summary_lines():
        click.echo(line)
    for note in report.notes:
        click.echo(note)
    for error in report.errors:
        click.echo(str(error), err=True)
    for code in sorted({e.missing_org for e in report.errors if e.missing_org is not None}):
        click.echo(missing_org_hint(code), err=True)
    if report.errors:
        raise SystemExit(1)


class _NoOrgTree(Exception):
    def __init__(self, report: SyncReport):
        super().__init__("no org tree")
        self.report = report


def init_app(app) -> None:
    from lms.contentcheck import cli as _check_cli  # noqa: F401  (adds `content check` to content_cli)

    app.cli.add_command(content_cli)
