"""Attendance export (XLSX): one row per person and session, with the session's 学时.

Rows come from one streaming query; the workbook is written by lms.reports.exports.iter_xlsx, which makes
every string formula-safe. Scope: sessions of units where the viewer runs trainings or exports.
"""
from __future__ import annotations

import sqlalchemy as sa

from lms.accounts.models import User
from lms.accounts.permissions import Permission, scope_clause
from lms.db import local
from lms.extensions import db
from lms.org.models import OrgKind, OrgUnit, subtree_clause
from lms.trainings.models import LEVEL_LABELS, METHOD_LABELS, Attendance, Training
from lms.trainings.queries import period_bounds

COLUMNS = ("培训日期", "开始", "结束", "培训主题", "层级", "地点", "培训师", "参训组织", "姓名", "工号",
           "乡镇(街道)", "村(社区)", "网格", "签到方式", "签到时间", "学时")
WIDTHS = (12, 8, 8, 28, 8, 20, 10, 14, 10, 12, 14, 14, 18, 12, 18, 8)
#: a period export covers at most this many days
MAX_PERIOD_DAYS = 366


def export_scope(viewer):
    """SQL condition on OrgUnit.path (the session's unit): where viewer runs trainings or exports."""
    return sa.or_(scope_clause(viewer, Permission.RUN_TRAININGS, OrgUnit.path),
                  scope_clause(viewer, Permission.EXPORT, OrgUnit.path))


class _Units:
    """Names of the township, village and grid above (or at) a unit, from one read of the org tree."""

    def __init__(self):
        self.units = {row.id: row for row in db.session.execute(
            sa.select(OrgUnit.id, OrgUnit.kind, OrgUnit.name, OrgUnit.path))}

    def names(self, org_id: int) -> tuple[str, str, str]:
        unit = self.units.get(org_id)
        found = {}
        for part in (unit.path.strip("/").split("/") if unit else []):
            above = self.units.get(int(part)) if part.isdigit() else None
            if above is not None:
                found[OrgKind(above.kind)] = above.name
        return found.get(OrgKind.township, ""), found.get(OrgKind.village, ""), found.get(OrgKind.grid, "")


def _statement(where):
    trainer = sa.orm.aliased(User)
    session_org = sa.orm.aliased(OrgUnit)
    return (sa.select(Training.starts_at, Training.ends_at, Training.title, Training.level, Training.place,
                      trainer.name.label("trainer"), session_org.name.label("session_org"), User.name,
                      User.username, Attendance.org_id, Attendance.method, Attendance.recorded_at, Training.hours)
            .select_from(Attendance).join(Training, Training.id == Attendance.training_id)
            .join(User, User.id == Attendance.user_id).join(trainer, trainer.id == Training.trainer_id)
            .join(session_org, session_org.id == Training.org_id)
            .join(OrgUnit, OrgUnit.id == Training.org_id)
            .where(where)
            .order_by(Training.starts_at, Training.id, User.username))


def _rows(statement):
    units = _Units()
    for row in db.session.execute(statement.execution_options(yield_per=500)):
        starts, ends = local(row.starts_at), local(row.ends_at)
        township, village, grid = units.names(row.org_id)
        yield [starts.date(), f"{starts:%H:%M}", f"{ends:%H:%M}", row.title, LEVEL_LABELS[row.level], row.place,
               row.trainer, row.session_org, row.name, row.username, township, village, grid,
               METHOD_LABELS[row.method], f"{local(row.recorded_at):%Y-%m-%d %H:%M}", float(row.hours)]


def session_rows(training: Training):
    """Rows of one session (the caller has checked the viewer may export it)."""
    return _rows(_statement(Training.id == training.id))


def count_session_rows(training: Training) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                             .where(Attendance.training_id == training.id)) or 0


def _period_where(viewer, start, end, org: OrgUnit | None):
    since, until = period_bounds(start, end)
    conditions = [export_scope(viewer), Training.is_cancelled.is_(False), Training.starts_at >= since,
                  Training.starts_at < until]
    if org is not None:
        conditions.append(subtree_clause(OrgUnit.path, org.path))
    return sa.and_(*conditions)


def period_rows(viewer, start, end, org: OrgUnit | None = None):
    """Rows of every non-cancelled session starting in [start, end] (local dates) held for a unit in viewer's
    scope (and below org)."""
    return _rows(_statement(_period_where(viewer, start, end, org)))


def count_period_rows(viewer, start, end, org: OrgUnit | None = None) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Attendance).join(Training, Training.id == Attendance.training_id)
        .join(OrgUnit, OrgUnit.id == Training.org_id).where(_period_where(viewer, start, end, org))) or 0
