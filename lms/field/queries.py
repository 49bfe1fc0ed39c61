"""Reads of the field feature: field quality per person and per org unit for any period (pure query functions).

Figures of a set of events: events, returned (and by 退回原因), overdue (超时), duplicates (重复), with their
rates over all events, and the mean satisfaction over the events that carry one. A unit's figures count the
events filed under it or below it (the worker's unit at import).
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lms.accounts.models import User
from lms.db import SHANGHAI
from lms.extensions import db
from lms.field.models import RETURN_REASONS, FieldEvent
from lms.org.models import OrgUnit, subtree_clause


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] local days, both included → aware half-open [since, until)."""
    return (dt.datetime.combine(start, dt.time(0), SHANGHAI),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), SHANGHAI))


#: the counters a set of events adds up to (figures_from turns them into the figures)
_COUNTERS = ("events", "returned", "overdue", "duplicates", "rated", "satisfaction_sum", "r_other",
             *(f"r{i}" for i in range(len(RETURN_REASONS))))
_REASON_KEY = {reason: f"r{i}" for i, reason in enumerate(RETURN_REASONS)}
_RESULT_KEY = {"退回": "returned", "超时": "overdue", "重复": "duplicates"}


def _tally(total: dict, result: str, reason: str | None, count: int, rated: int, satisfaction_sum) -> None:
    """Add one grouped row (result, reason → count, rated count, satisfaction sum) to a counter dict."""
    total["events"] = total.get("events", 0) + count
    if key := _RESULT_KEY.get(result):
        total[key] = total.get(key, 0) + count
    if result == "退回":
        key = _REASON_KEY.get(reason, "r_other")
        total[key] = total.get(key, 0) + count
    total["rated"] = total.get("rated", 0) + rated
    total["satisfaction_sum"] = total.get("satisfaction_sum", 0) + int(satisfaction_sum or 0)


def empty_figures() -> dict:
    return figures_from({})


def figures_from(counters: dict) -> dict:
    """The figures of a counter dict (see _tally)."""
    def get(key: str) -> int:
        return int(counters.get(key) or 0)

    events = get("events")
    by_reason = {reason: get(f"r{i}") for i, reason in enumerate(RETURN_REASONS)}
    if other := get("r_other"):
        by_reason["其他"] = other
    rated = get("rated")

    def rate(part: int) -> float | None:
        return round(part / events, 4) if events else None

    return {"events": events, "returned": get("returned"), "return_rate": rate(get("returned")),
            "by_reason": by_reason, "by_reason_rate": {k: rate(v) for k, v in by_reason.items()},
            "overdue": get("overdue"), "overdue_rate": rate(get("overdue")),
            "duplicates": get("duplicates"), "duplicate_rate": rate(get("duplicates")),
            "rated": rated, "satisfaction": round(get("satisfaction_sum") / rated, 2) if rated else None}


def _grouped(*keys, where, start: dt.date, end: dt.date, join_org: bool = False):
    """One scan of the period's events: rows of (*keys, result, reason, count, rated, satisfaction sum)."""
    since, until = period_bounds(start, end)
    query = sa.select(*keys, FieldEvent.result, FieldEvent.return_reason, sa.func.count(),
                      sa.func.count(FieldEvent.satisfaction), sa.func.sum(FieldEvent.satisfaction))
    if join_org:
        query = query.join(OrgUnit, OrgUnit.id == FieldEvent.org_id)
    query = query.where(*where, FieldEvent.reported_at >= since, FieldEvent.reported_at < until) \
        .group_by(*keys, FieldEvent.result, FieldEvent.return_reason)
    return db.session.execute(query).all()


def person_quality(user, start: dt.date, end: dt.date) -> dict:
    """One worker's field figures for [start, end] (local days, inclusive)."""
    total: dict = {}
    for result, reason, count, rated, satisfaction in _grouped(where=[FieldEvent.user_id == user.id],
                                                               start=start, end=end):
        _tally(total, result, reason, count, rated, satisfaction)
    return figures_from(total)


#: up to this many units in a subtree, its events are read through the (org_id, reported_at) index by their ids
#: (the planner misjudges a path range joined to the events and scans them all); past it, through the join
IN_LIST_UNITS = 5000


def unit_quality(org: OrgUnit, start: dt.date, end: dt.date, *, people: bool = True
                 ) -> tuple[dict, list[dict], list[dict] | None]:
    """org's figures, each direct child's (code order) and, when asked, each worker's (most returned first):
    all from one grouped scan of the events filed under org's subtree in [start, end]."""
    children = sorted(org.children, key=lambda c: c.code)
    units = db.session.execute(sa.select(OrgUnit.id, OrgUnit.path).where(subtree_clause(OrgUnit.path, org.path))
                               .limit(IN_LIST_UNITS + 1)).all()
    if len(units) <= IN_LIST_UNITS:
        unit_key, where, join_org = FieldEvent.org_id, [FieldEvent.org_id.in_([u.id for u in units])], False
        path_of = {u.id: u.path for u in units}
    else:
        unit_key, where, join_org = OrgUnit.path, [subtree_clause(OrgUnit.path, org.path)], True
        path_of = None
    keys = (unit_key, FieldEvent.user_id) if people else (unit_key,)
    total: dict = {}
    per_child: dict[int, dict] = {c.id: {} for c in children}
    per_user: dict[int, dict] = {}
    child_of: dict = {}
    for row in _grouped(*keys, where=where, start=start, end=end, join_org=join_org):
        unit, *rest = row
        user_id = rest.pop(0) if people else None
        result, reason, count, rated, satisfaction = rest
        _tally(total, result, reason, count, rated, satisfaction)
        if unit not in child_of:
            path = path_of[unit] if path_of is not None else unit
            child_of[unit] = next((c for c in children if path.startswith(c.path)), None)
        if (child := child_of[unit]) is not None:
            _tally(per_child[child.id], result, reason, count, rated, satisfaction)
        if people:
            _tally(per_user.setdefault(user_id, {}), result, reason, count, rated, satisfaction)
    child_figures = [{"org": unit_json(child), **figures_from(per_child[child.id])} for child in children]
    if not people:
        return figures_from(total), child_figures, None
    users = {uid: (username, name) for uid, username, name in db.session.execute(
        sa.select(User.id, User.username, User.name).where(User.id.in_(list(per_user))))}
    people_figures = [{"username": users[uid][0], "name": users[uid][1], **figures_from(counters)}
                      for uid, counters in per_user.items()]
    people_figures.sort(key=lambda p: (-(p["return_rate"] or 0), p["username"]))
    return figures_from(total), child_figures, people_figures


def org_quality(org: OrgUnit, start: dt.date, end: dt.date) -> dict:
    """The figures of every event filed under org's subtree in [start, end]."""
    return unit_quality(org, start, end, people=False)[0]


def children_quality(org: OrgUnit, start: dt.date, end: dt.date) -> list[dict]:
    """Each direct child unit of org (code order) with its figures."""
    return unit_quality(org, start, end, people=False)[1]


def people_quality(org: OrgUnit, start: dt.date, end: dt.date) -> list[dict]:
    """Each worker with events filed under org's subtree in [start, end], most returned first."""
    return unit_quality(org, start, end)[2]


def unit_json(org: OrgUnit) -> dict:
    return {"code": org.code, "name": org.name, "kind": org.kind.value}


def has_events(user) -> bool:
    """The worker has any imported event (their home tile shows then)."""
    return db.session.scalar(sa.select(FieldEvent.id).where(FieldEvent.user_id == user.id).limit(1)) is not None


def latest_event_day(user=None) -> dt.date | None:
    """The local day of the latest event (of user, or of all), for a default period that holds data."""
    query = sa.select(sa.func.max(FieldEvent.reported_at))
    if user is not None:
        query = query.where(FieldEvent.user_id == user.id)
    value = db.session.scalar(query)
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(SHANGHAI).date()
