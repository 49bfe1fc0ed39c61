"""`flask org …`"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.accounts.permissions import SYSTEM, Permission, authorize
from lms.audit.services import record
from lms.clikit import transactional
from lms.org.services import import_orgs

org_cli = AppGroup("org", help="组织架构")


@org_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@transactional
def import_command(file: Path):
    """Import an org list (CSV/XLSX: 编码,名称,类型,上级编码,户数,网格类型)."""
    authorize(SYSTEM, Permission.MANAGE_ORG)
    report = import_orgs(file.read_bytes(), file.name)
    record("org.import", actor=SYSTEM, target_type="file", target=file.name,
           details={"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                    "errors": len(report.errors)})
    click.echo(f"新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，错误 {len(report.errors)}")
    for line in report.error_lines:
        click.echo(line, err=True)
    if report.errors:
        # Good rows are committed; the exit status tells scripts that some rows need fixing.
        from lms.extensions import db  # late: commit before exiting non-zero
        db.session.commit()
        raise SystemExit(1)
