"""Reads of the mentoring feature, and the contracts other features call.

Cross-feature contracts (exact names): ``confirmed_activity_count(user)``,
``mentoring_stats(org, start, end)``, ``team_gaps(viewer)``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from lms.accounts.models import Role, RoleGrant, User, UserStatus
from lms.accounts.permissions import Permission, can, scope_clause
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.mentoring import crossfeature, eligibility
from lms.mentoring.models import Activity, ActivityKind, ActivityStatus, Pairing, PairingMentee
from lms.mentoring.services import is_open, last_activity_day, local_start, local_today, mentor_load
from lms.org.models import OrgKind, OrgUnit, subtree_clause

#: the team rule: at least one active member younger than this with one of these educations
TEAM_MAX_AGE = 35
TEAM_EDUCATIONS = ("大专", "本科", "研究生")


def get_pairing(pairing_id: int) -> Pairing | None:
    """The pairing with that id, or None."""
    return db.session.get(Pairing, pairing_id)


def get_activity(activity_id: int) -> Activity | None:
    """The activity with that id, or None."""
    return db.session.get(Activity, activity_id)


def _pairings_in_scope(viewer, perm: Permission, org: OrgUnit | None):
    query = (sa.select(Pairing).join(OrgUnit, OrgUnit.id == Pairing.org_id)
             .where(scope_clause(viewer, perm, OrgUnit.path)))
    if org is not None:
        query = query.where(subtree_clause(OrgUnit.path, org.path))
    return query.order_by(Pairing.start_on.desc(), Pairing.id.desc())


def list_pairings(viewer, perm: Permission = Permission.MANAGE_PAIRINGS, *, org: OrgUnit | None = None) -> list[Pairing]:
    """Pairings owned by units in viewer's scope for perm (and below org), newest first."""
    return list(db.session.scalars(_pairings_in_scope(viewer, perm, org)).unique())


def page_pairings(viewer, perm: Permission = Permission.MANAGE_PAIRINGS, *, org: OrgUnit | None = None,
                  page: int = 1, per_page: int = 50) -> tuple[list[Pairing], bool]:
    """One page of list_pairings; returns (items, has_next)."""
    query = _pairings_in_scope(viewer, perm, org).offset((page - 1) * per_page).limit(per_page + 1)
    rows = list(db.session.scalars(query).unique())
    return rows[:per_page], len(rows) > per_page


def page_activities_for_mentee(mentee: User, *, status: ActivityStatus | None = None, page: int = 1,
                               per_page: int = 50) -> tuple[list[Activity], bool]:
    """One page of the mentee's activities, newest first; returns (items, has_next)."""
    query = sa.select(Activity).where(Activity.mentee_id == mentee.id)
    if status is not None:
        query = query.where(Activity.status == status)
    query = query.order_by(Activity.date.desc(), Activity.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
    rows = list(db.session.scalars(query).unique())
    return rows[:per_page], len(rows) > per_page


def can_view_pairing(user, pairing: Pairing) -> bool:
    """HR/admin over the pairing's unit, its mentor, or one of its mentees."""
    uid = getattr(user, "id", None)
    return (can(user, Permission.MANAGE_PAIRINGS, pairing) or pairing.mentor_id == uid
            or any(pm.mentee_id == uid for pm in pairing.mentees))


def mentor_pairings(mentor: User, *, today: dt.date | None = None, open_only: bool = True) -> list[Pairing]:
    """The mentor's pairings (only those still running unless open_only is False), by start."""
    query = sa.select(Pairing).where(Pairing.mentor_id == mentor.id).order_by(Pairing.start_on, Pairing.id)
    pairings = list(db.session.scalars(query).unique())
    if open_only:
        today = today or local_today()
        pairings = [p for p in pairings if is_open(p, today)]
    return pairings


def current_pairing_of(mentee: User, today: dt.date | None = None) -> Pairing | None:
    """The running pairing the user is a mentee in, or None."""
    today = today or local_today()
    query = (sa.select(Pairing).join(PairingMentee, PairingMentee.pairing_id == Pairing.id)
             .where(PairingMentee.mentee_id == mentee.id, Pairing.ended_at.is_(None), Pairing.end_on >= today)
             .order_by(Pairing.start_on))
    return db.session.scalars(query).unique().first()


# The home page asks this of every worker: one statement, plain values (no ORM objects to count).
_MENTEE_HOME = sa.select(
    sa.select(sa.func.count()).select_from(Activity)
    .where(Activity.mentee_id == sa.bindparam("uid"), Activity.status == ActivityStatus.logged).scalar_subquery(),
    sa.exists().where(PairingMentee.mentee_id == sa.bindparam("uid"), PairingMentee.pairing_id == Pairing.id,
                      Pairing.ended_at.is_(None), Pairing.end_on >= sa.bindparam("today")),
)


def mentee_home_summary(mentee: User, today: dt.date | None = None) -> tuple[int, bool]:
    """(activities waiting for the mentee's confirmation, whether a pairing of theirs is running)."""
    pending, paired = db.session.connection().execute(
        _MENTEE_HOME, {"uid": mentee.id, "today": today or local_today()}).one()
    return pending, bool(paired)


def activities_for_mentee(mentee: User, *, status: ActivityStatus | None = None) -> list[Activity]:
    """The mentee's activities (optionally of one status), newest first."""
    query = sa.select(Activity).where(Activity.mentee_id == mentee.id)
    if status is not None:
        query = query.where(Activity.status == status)
    return list(db.session.scalars(query.order_by(Activity.date.desc(), Activity.id.desc())).unique())


def activities_of_pairing(pairing: Pairing) -> list[Activity]:
    """Every activity of a pairing, newest first."""
    return list(db.session.scalars(sa.select(Activity).where(Activity.pairing_id == pairing.id)
                                   .order_by(Activity.date.desc(), Activity.id.desc())).unique())


def confirmed_activity_count(user) -> int:
    """Confirmed activities the user took part in, as mentor or mentee."""
    query = (sa.select(sa.func.count()).select_from(Activity).join(Pairing, Pairing.id == Activity.pairing_id)
             .where(Activity.status == ActivityStatus.confirmed,
                    sa.or_(Activity.mentee_id == user.id, Pairing.mentor_id == user.id)))
    return db.session.scalar(query) or 0


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    return value


def _mentoring_stats_statement():
    """(pairings, confirmed activities) of the subtree at :org_path for [:first, :last], built once.

    Bind parameters only, so SQLAlchemy compiles it once per process (a township dashboard asks for the
    township and each village), and one round trip for both counts.
    """
    org_path, org_end = sa.bindparam("org_path"), sa.bindparam("org_path_end")
    first, last = sa.bindparam("first"), sa.bindparam("last")
    pairings = (sa.select(sa.func.count()).select_from(Pairing).join(OrgUnit, OrgUnit.id == Pairing.org_id)
                .where(OrgUnit.path >= org_path, OrgUnit.path < org_end, Pairing.start_on <= last,
                       Pairing.end_on >= first,
                       sa.or_(Pairing.ended_at.is_(None), Pairing.ended_at >= sa.bindparam("first_start")))
                .scalar_subquery())
    activities = (sa.select(sa.func.count()).select_from(Activity).join(OrgUnit, OrgUnit.id == Activity.org_id)
                  .where(OrgUnit.path >= org_path, OrgUnit.path < org_end,
                         Activity.status == ActivityStatus.confirmed, Activity.date >= first, Activity.date <= last)
                  .scalar_subquery())
    return sa.select(pairings, activities)


_MENTORING_STATS = _mentoring_stats_statement()


def mentoring_stats(org: OrgUnit, start, end) -> dict:
    """{"pairings": running some day of [start, end] in org's subtree, "activities_confirmed": dated then}.

    start/end are dates or aware datetimes (their local day), both inclusive.
    A pairing counts for the unit that owns it (the mentor's at creation); an
    activity for the mentee's unit on the day it was logged.
    """
    first, last = _as_date(start), _as_date(end)
    if db.session.autoflush:
        db.session.flush()  # the Core connection below does not autoflush like session.execute
    # subtree_clause's range: '~' sorts after the digits and '/' that paths are made of
    pairings, activities = db.session.connection().execute(_MENTORING_STATS, {
        "org_path": org.path, "org_path_end": org.path + "~", "first": first, "last": last,
        "first_start": local_start(first)}).one()
    return {"pairings": pairings or 0, "activities_confirmed": activities or 0}


# --- org helpers --------------------------------------------------------------------------------------------

class _Ancestry:
    """Ancestors of org units by kind, loading each unit once."""

    def __init__(self):
        self._units: dict[int, OrgUnit] = {}

    def _load(self, ids: list[int]) -> None:
        missing = [i for i in ids if i not in self._units]
        if missing:
            for unit in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_(missing))):
                self._units[unit.id] = unit

    def of_kind(self, org: OrgUnit, kind: OrgKind) -> OrgUnit | None:
        ids = [int(p) for p in org.path.strip("/").split("/") if p]
        self._load(ids)
        return next((self._units[i] for i in ids if i in self._units and self._units[i].kind == kind), None)


# --- suggestions --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Suggestion:
    mentee: User
    mentors: list[dict]  # {"user", "tier": "同村"|"同镇", "star", "return_rate", "load"}


def new_workers_without_mentor(viewer, *, today: dt.date | None = None) -> list[User]:
    """Active workers in viewer's pairing scope hired under a year ago and in no running pairing."""
    today = today or local_today()
    year_ago = _years_before(today, 1)
    running = (sa.select(PairingMentee.mentee_id).join(Pairing, Pairing.id == PairingMentee.pairing_id)
               .where(Pairing.ended_at.is_(None), Pairing.end_on >= today))
    workers = sa.select(RoleGrant.user_id).where(RoleGrant.role == Role.worker)
    query = (sa.select(User).join(OrgUnit, OrgUnit.id == User.org_id)
             .where(scope_clause(viewer, Permission.MANAGE_PAIRINGS, OrgUnit.path), User.status == UserStatus.active,
                    User.hired_on.is_not(None), User.hired_on > year_ago, User.id.not_in(running),
                    User.id.in_(workers))
             .order_by(User.hired_on, User.username))
    return list(db.session.scalars(query))


def suggest_mentors(viewer, *, min_years: int, capacity: int, today: dt.date | None = None,
                    limit: int = 3) -> list[Suggestion]:
    """For each new worker without a mentor: eligible mentors with free capacity, same village first, then township.

    Ranked by tier, then star level (high first), then drill return rate (low first, unknown last).
    """
    today = today or local_today()
    ancestry = _Ancestry()
    grantees = list(db.session.scalars(
        sa.select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == Role.mentor, User.status == UserStatus.active)).unique())
    candidates = []
    end = today + dt.timedelta(days=365)
    for user in grantees:
        if not eligibility.is_eligible(user, today, min_years):
            continue
        load = mentor_load(user, today, end)
        if load >= capacity:
            continue
        candidates.append({"user": user, "load": load, "star": eligibility.star_level(user),
                           "return_rate": crossfeature.return_rate(user),
                           "village": ancestry.of_kind(user.org, OrgKind.village),
                           "township": ancestry.of_kind(user.org, OrgKind.township)})
    results = []
    for mentee in new_workers_without_mentor(viewer, today=today):
        village = ancestry.of_kind(mentee.org, OrgKind.village)
        township = ancestry.of_kind(mentee.org, OrgKind.township)
        ranked = []
        for cand in candidates:
            if cand["user"].id == mentee.id or not can(cand["user"], Permission.LOG_MENTORING, mentee):
                continue
            if village is not None and cand["village"] is not None and cand["village"].id == village.id:
                tier = 0
            elif township is not None and cand["township"] is not None and cand["township"].id == township.id:
                tier = 1
            else:
                continue
            rate = cand["return_rate"]
            ranked.append(((tier, -cand["star"], rate is None, rate or 0.0, cand["user"].username),
                           {"user": cand["user"], "tier": "同村（社区）" if tier == 0 else "同乡镇（街道）",
                            "star": cand["star"], "return_rate": rate, "load": cand["load"]}))
        ranked.sort(key=lambda item: item[0])
        results.append(Suggestion(mentee=mentee, mentors=[entry for _, entry in ranked[:limit]]))
    return results


# --- dashboard and outcomes ---------------------------------------------------------------------------------

PENDING_OVERDUE_DAYS = 7
QUIET_OVERDUE_DAYS = 30


def mentee_overview(pairing: Pairing, mentee: User, *, now: dt.datetime | None = None) -> dict:
    """One mentee's line on the mentor dashboard: progress, scores, return rate, this month, overdue."""
    now = now or utcnow()
    today = local_today(now)
    month_start = today.replace(day=1)
    activities = [a for a in activities_for_mentee(mentee) if a.pairing_id == pairing.id]
    this_month = [a for a in activities if a.date >= month_start]
    overdue = []
    stale = [a for a in activities if a.status == ActivityStatus.logged
             and a.logged_at.astimezone(SHANGHAI).date() <= today - dt.timedelta(days=PENDING_OVERDUE_DAYS)]
    if stale:
        overdue.append(f"{len(stale)} 次活动记录超过 {PENDING_OVERDUE_DAYS} 天未确认")
    last = max((a.date for a in activities if a.status != ActivityStatus.disputed), default=None)
    if today >= pairing.start_on + dt.timedelta(days=QUIET_OVERDUE_DAYS) and (
            last is None or last <= today - dt.timedelta(days=QUIET_OVERDUE_DAYS)):
        overdue.append(f"已超过 {QUIET_OVERDUE_DAYS} 天没有带教活动")
    progress = crossfeature.course_progress(mentee, today)
    if isinstance(progress, dict):
        for item in progress.get("overdue") or []:
            overdue.append(f"课程逾期：{item}")
    return {
        "mentee": mentee,
        "pairing": pairing,
        "progress": format_progress(progress),
        "scores": format_scores(crossfeature.best_scores(mentee)),
        "return_rate": format_rate(crossfeature.return_rate(mentee)),
        "month_total": len(this_month),
        "month_confirmed": sum(1 for a in this_month if a.status == ActivityStatus.confirmed),
        "month_minutes": sum(a.minutes for a in this_month if a.status != ActivityStatus.disputed),
        "overdue": overdue,
    }


def format_rate(rate: float | None) -> str:
    """A 0–1 rate as a percentage, "—" when unknown."""
    return "—" if rate is None else f"{rate * 100:.0f}%"


def format_progress(progress) -> str:
    """The courses feature's summary in a few words ("—" when it is not available)."""
    if isinstance(progress, dict) and progress.get("total") == 0:
        return "暂无指派课程"
    if isinstance(progress, dict) and "done" in progress and "total" in progress:
        return f"已完成 {progress['done']}/{progress['total']} 门指派课程"
    return "—" if progress is None else str(progress)


def format_scores(scores) -> str:
    """Best quiz scores as "考试 分数" pairs ("—" when none or not available)."""
    if not scores:
        return "—"
    if isinstance(scores, dict):
        return "；".join(f"{k} {v}" for k, v in scores.items())
    parts = []
    for item in scores:
        if isinstance(item, dict):
            parts.append(f"{item.get('title') or item.get('code') or item.get('quiz', '')} {item.get('score', '')}")
        elif isinstance(item, (tuple, list)) and len(item) >= 2:
            parts.append(f"{item[0]} {item[1]}")
        else:
            parts.append(str(item))
    return "；".join(parts)


def pairing_outcomes(pairing: Pairing, *, now: dt.datetime | None = None) -> list[dict]:
    """Per mentee: drill return rate before vs during the pairing, confirmed activities by kind."""
    now = now or utcnow()
    today = local_today(now)
    start = local_start(pairing.start_on)
    last = min(last_activity_day(pairing), today)
    during_end = local_start(last + dt.timedelta(days=1))
    # "Before" = a window as long as the pairing so far, right before it.
    length = max(during_end - start, dt.timedelta(days=1))
    counts = _kind_counts(pairing)
    rows = []
    for pm in pairing.mentees:
        mentee = pm.mentee
        by_kind = {kind: counts.get((mentee.id, kind), (0, 0))[0] for kind in ActivityKind}
        minutes = sum(counts.get((mentee.id, kind), (0, 0))[1] for kind in ActivityKind)
        rows.append({
            "mentee": mentee,
            "before": crossfeature.return_rate(mentee, start - length, start),
            "during": crossfeature.return_rate(mentee, start, during_end) if start <= now else None,
            "by_kind": by_kind,
            "confirmed": sum(by_kind.values()),
            "minutes": minutes,
        })
    return rows


def _kind_counts(pairing: Pairing) -> dict:
    rows = db.session.execute(
        sa.select(Activity.mentee_id, Activity.kind, sa.func.count(), sa.func.sum(Activity.minutes))
        .where(Activity.pairing_id == pairing.id, Activity.status == ActivityStatus.confirmed)
        .group_by(Activity.mentee_id, Activity.kind)).all()
    return {(mentee_id, ActivityKind(kind)): (n, int(minutes or 0)) for mentee_id, kind, n, minutes in rows}


PAIRING_STATE_LABELS = {"upcoming": "未开始", "active": "进行中", "finished": "已到期", "ended": "提前结束"}


def pairing_state(pairing: Pairing, today: dt.date) -> str:
    """upcoming | active | finished | ended (ended early)."""
    if pairing.ended_at is not None:
        return "ended"
    if pairing.end_on < today:
        return "finished"
    if pairing.start_on > today:
        return "upcoming"
    return "active"


def pairing_status(pairing: Pairing, today: dt.date) -> str:
    """进行中 / 未开始 / 已到期 / 提前结束."""
    return PAIRING_STATE_LABELS[pairing_state(pairing, today)]


def outcome_rows(viewer, perm: Permission, *, now: dt.datetime | None = None) -> list[dict]:
    """Every pairing × mentee in viewer's scope for perm with its outcome and where it belongs."""
    now = now or utcnow()
    today = local_today(now)
    ancestry = _Ancestry()
    rows = []
    for pairing in list_pairings(viewer, perm):
        township = ancestry.of_kind(pairing.org, OrgKind.township)
        for outcome in pairing_outcomes(pairing, now=now):
            mentee = outcome["mentee"]
            village = ancestry.of_kind(mentee.org, OrgKind.village)
            rows.append({**outcome, "pairing": pairing, "mentor": pairing.mentor,
                         "township": township.name if township else "", "village": village.name if village else "",
                         "status": pairing_status(pairing, today)})
    return rows


def township_rollup(rows: list[dict]) -> list[dict]:
    """The outcome rows summed per township: pairings, mentees, activities by kind, mean rates."""
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.setdefault(row["township"], {"township": row["township"] or "（未归属乡镇）",
                                                    "pairings": set(), "mentees": 0,
                                                    "by_kind": {k: 0 for k in ActivityKind}, "before": [],
                                                    "during": []})
        group["pairings"].add(row["pairing"].id)
        group["mentees"] += 1
        for kind, n in row["by_kind"].items():
            group["by_kind"][kind] += n
        for key in ("before", "during"):
            if row[key] is not None:
                group[key].append(row[key])
    result = []
    for name in sorted(groups):
        g = groups[name]
        result.append({"township": g["township"], "pairings": len(g["pairings"]), "mentees": g["mentees"],
                       "by_kind": g["by_kind"], "confirmed": sum(g["by_kind"].values()),
                       "before": sum(g["before"]) / len(g["before"]) if g["before"] else None,
                       "during": sum(g["during"]) / len(g["during"]) if g["during"] else None})
    return result


# --- grid teams ---------------------------------------------------------------------------------------------

def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_on(birth: dt.date | None, today: dt.date) -> int | None:
    """Completed years of age, None when the birth date is unknown."""
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def meets_team_rule(user: User, today: dt.date) -> bool:
    """Under 35 with 大专 or higher (the member who satisfies the team rule)."""
    age = age_on(user.birth_date, today)
    return age is not None and age < TEAM_MAX_AGE and user.education in TEAM_EDUCATIONS


def grids_in_scope(viewer, perm: Permission = Permission.VIEW_TEAM) -> list[OrgUnit]:
    """Grids in viewer's scope for perm, in tree order."""
    return list(db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.grid, scope_clause(viewer, perm, OrgUnit.path))
        .order_by(OrgUnit.path)))


def team_gaps(viewer, *, today: dt.date | None = None, perm: Permission = Permission.VIEW_TEAM) -> list[OrgUnit]:
    """Grids in viewer's scope without an active member under 35 with 大专 or higher."""
    today = today or local_today()
    cutoff = _years_before(today, TEAM_MAX_AGE)
    qualified = (sa.select(User.org_id).where(User.status == UserStatus.active, User.education.in_(TEAM_EDUCATIONS),
                                              User.birth_date.is_not(None), User.birth_date > cutoff))
    grid = aliased(OrgUnit)
    return list(db.session.scalars(
        sa.select(grid).where(grid.kind == OrgKind.grid, scope_clause(viewer, perm, grid.path),
                              grid.id.not_in(qualified)).order_by(grid.path)))


def team(grid: OrgUnit, *, today: dt.date | None = None) -> dict:
    """A grid's 1+N team: active members with roles, the grid leaders, whether the team rule holds."""
    today = today or local_today()
    members = list(db.session.scalars(
        sa.select(User).where(User.org_id == grid.id, User.status == UserStatus.active).order_by(User.username)))
    leaders = list(db.session.scalars(
        sa.select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == Role.grid_leader, RoleGrant.org_id == grid.id, User.status == UserStatus.active)
        .order_by(User.username)).unique())
    leader_ids = {u.id for u in leaders}
    rows = [{"user": u, "age": age_on(u.birth_date, today), "education": u.education or "—",
             "is_leader": u.id in leader_ids, "meets_rule": meets_team_rule(u, today),
             "roles": sorted({g.role for g in u.grants})} for u in members]
    rows.sort(key=lambda r: (not r["is_leader"], r["user"].username))
    return {"grid": grid, "members": rows, "leaders": leaders, "rule_met": any(r["meets_rule"] for r in rows)}
