"""Reads of trainings, and the contracts other features call: attended_hours, training_stats."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms.accounts.models import User, UserStatus
from lms.accounts.permissions import Permission, scope_clause
from lms.db import SHANGHAI
from lms.extensions import db
from lms.org.models import OrgUnit, subtree_clause
from lms.trainings.models import Attendance, Training


def get_training(training_id) -> Training | None:
    """The training with that id, or None (also for ids that are not numbers)."""
    try:
        key = int(training_id)
    except (TypeError, ValueError):
        return None
    if not 0 < key < 2 ** 63:
        return None
    return db.session.get(Training, key)


def period_bounds(start, end) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] as dates (local days, inclusive) or aware datetimes -> half-open UTC range."""
    def edge(value, next_day):
        if isinstance(value, dt.datetime):
            return value
        day = value + dt.timedelta(days=1) if next_day else value
        return dt.datetime.combine(day, dt.time(0), SHANGHAI)
    return edge(start, False), edge(end, True)


def _viewer_clause(viewer):
    """Trainings viewer may see: those in their training or statistics scope, and those they may attend."""
    ancestor_ids = [int(part) for part in viewer.org.path.strip("/").split("/") if part]
    return sa.or_(scope_clause(viewer, Permission.RUN_TRAININGS, OrgUnit.path),
                  scope_clause(viewer, Permission.VIEW_STATS, OrgUnit.path),
                  Training.org_id.in_(ancestor_ids))


def list_trainings(viewer, *, org: OrgUnit | None = None, start=None, end=None, page: int = 1,
                   per_page: int = 50) -> tuple[list[Training], bool]:
    """Trainings visible to viewer (below org, within the period), newest first; (items, has_next)."""
    query = (sa.select(Training).join(OrgUnit, OrgUnit.id == Training.org_id).where(_viewer_clause(viewer))
             .options(joinedload(Training.org), joinedload(Training.trainer)))
    if org is not None:
        query = query.where(subtree_clause(OrgUnit.path, org.path))
    if start is not None:
        query = query.where(Training.starts_at >= period_bounds(start, start)[0])
    if end is not None:
        query = query.where(Training.starts_at < period_bounds(end, end)[1])
    rows = list(db.session.scalars(query.order_by(Training.starts_at.desc(), Training.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


# On every home page: plain rows of what the check-in tile shows, not ORM objects.
_OPEN_FOR = (sa.select(Training.id, Training.title, Training.starts_at, Training.place, Training.hours)
             .where(Training.org_id.in_(sa.bindparam("org_ids", expanding=True)), Training.is_cancelled.is_(False),
                    Training.starts_at <= sa.bindparam("opens_by"), Training.ends_at >= sa.bindparam("now"),
                    # once checked in, the 签到 tile has done its job
                    ~sa.exists().where(Attendance.training_id == Training.id,
                                       Attendance.user_id == sa.bindparam("user_id")))
             .order_by(Training.starts_at))


def open_trainings_for(user, now: dt.datetime, opens_before: dt.timedelta) -> list:
    """Trainings user may check in to right now (their unit lies in the training's org) and has not checked in
    to yet: rows with id, title, starts_at, place, hours."""
    ancestor_ids = [int(part) for part in user.org.path.strip("/").split("/") if part]
    return db.session.connection().execute(
        _OPEN_FOR, {"org_ids": ancestor_ids, "opens_by": now + opens_before, "now": now, "user_id": user.id}).all()


def roster(training: Training) -> list[tuple[User, Attendance | None]]:
    """Active users of the training's org subtree, with their attendance when recorded."""
    present = {a.user_id: a for a in db.session.scalars(
        sa.select(Attendance).where(Attendance.training_id == training.id))}
    users = list(db.session.scalars(
        sa.select(User).join(OrgUnit, OrgUnit.id == User.org_id)
        .where(subtree_clause(OrgUnit.path, training.org.path), User.status == UserStatus.active)
        .options(joinedload(User.org)).order_by(OrgUnit.path, User.username)))
    listed = {u.id for u in users}
    # People recorded earlier who have since left or moved still belong on the roll.
    extra = [a.user for a in present.values() if a.user_id not in listed]
    return [(u, present.get(u.id)) for u in users + extra]


def get_attendance(training: Training, user) -> Attendance | None:
    """user's attendance at training, or None."""
    return db.session.scalar(sa.select(Attendance).where(Attendance.training_id == training.id,
                                                         Attendance.user_id == user.id))


def count_attendance(training: Training) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                             .where(Attendance.training_id == training.id)) or 0


def attended_hours(user) -> float:
    """学时 earned in in-person trainings: the hours of every non-cancelled session attended."""
    total = db.session.scalar(
        sa.select(sa.func.sum(Training.hours)).join(Attendance, Attendance.training_id == Training.id)
        .where(Attendance.user_id == user.id, Training.is_cancelled.is_(False)))
    return float(total or 0)


def _training_stats_statement():
    """(sessions, attendances, hours) of the subtree at :org_path for sessions in [:since, :until), built once.

    Bind parameters only, so SQLAlchemy compiles it once per process: a township dashboard asks for the
    township and each village, and building the statement anew each time cost more than running it.
    """
    org_path, org_end = sa.bindparam("org_path"), sa.bindparam("org_path_end")
    since, until = sa.bindparam("since"), sa.bindparam("until")
    in_period = sa.and_(Training.is_cancelled.is_(False), Training.starts_at >= since, Training.starts_at < until)
    sessions = (sa.select(sa.func.count()).select_from(Training).join(OrgUnit, OrgUnit.id == Training.org_id)
                .where(in_period, OrgUnit.path >= org_path, OrgUnit.path < org_end).scalar_subquery())
    attended = (sa.select(sa.func.count(Attendance.id).label("attendances"), sa.func.sum(Training.hours).label("hours"))
                .join(Training, Training.id == Attendance.training_id).join(OrgUnit, OrgUnit.id == Attendance.org_id)
                .where(in_period, OrgUnit.path >= org_path, OrgUnit.path < org_end).subquery("attended"))
    return sa.select(sessions, attended.c.attendances, attended.c.hours).select_from(attended)


_TRAINING_STATS = _training_stats_statement()


def training_stats(org: OrgUnit, start, end) -> dict:
    """场次, 人次 and 学时 of org's subtree for sessions starting within [start, end] (dates inclusive).

    sessions: trainings held for a unit in the subtree (a session counts once, however many attend);
    attendances: one per person per session, counted for the unit the person belonged to when it happened;
    hours: the sessions' hours summed over those attendances. Cancelled sessions count nowhere.
    """
    since, until = period_bounds(start, end)
    if db.session.autoflush:
        db.session.flush()  # the Core connection below does not autoflush like session.execute
    # subtree_clause's range: '~' sorts after the digits and '/' that paths are made of
    sessions, attendances, hours = db.session.connection().execute(_TRAINING_STATS, {
        "org_path": org.path, "org_path_end": org.path + "~", "since": since, "until": until}).one()
    return {"sessions": int(sessions or 0), "attendances": int(attendances or 0), "hours": float(hours or 0)}
