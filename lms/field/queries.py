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


def _aggregates():
    returned = sa.func.count().filter(FieldEvent.result == "退回")
    return [sa.func.count().label("events"),
            returned.label("returned"),
            sa.func.count().filter(FieldEvent.result == "超时").label("overdue"),
            sa.func.count().filter(FieldEvent.result == "重复").label("duplicates"),
            sa.func.count(FieldEvent.satisfaction).label("rated"),
            sa.func.sum(FieldEvent.satisfaction).label("satisfaction_sum")]


def _reason_aggregates():
    return [sa.func.count().filter(FieldEvent.return_reason == reason).label(f"r{i}")
            for i, reason in enumerate(RETURN_REASONS)] + \
        [sa.func.count().filter(FieldEvent.result == "退回", FieldEvent.return_reason.not_in(RETURN_REASONS))
         .label("r_other")]


def empty_figures() -> dict:
    return figures_from({})


def figures_from(row) -> dict:
    """The figures dict from one aggregate row (a mapping of the labels above)."""
    get = (lambda key: int(row.get(key) or 0)) if isinstance(row, dict) else (lambda key: int(getattr(row, key) or 0))
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


def _add(total: dict, row) -> None:
    for key in ("events", "returned", "overdue", "duplicates", "rated", "satisfaction_sum", "r_other",
                *(f"r{i}" for i in range(len(RETURN_REASONS)))):
        total[key] = total.get(key, 0) + int(getattr(row, key) or 0)


def _period(query, start: dt.date, end: dt.date):
    since, until = period_bounds(start, end)
    return query.where(FieldEvent.reported_at >= since, FieldEvent.reported_at < until)


def person_quality(user, start: dt.date, end: dt.date) -> dict:
    """One worker's field figures for [start, end] (local days, inclusive)."""
    query = _period(sa.select(*_aggregates(), *_reason_aggregates()).where(FieldEvent.user_id == user.id), start, end)
    return figures_from(db.session.execute(query).one())


def _in_org(query, org: OrgUnit):
    return query.join(OrgUnit, OrgUnit.id == FieldEvent.org_id).where(subtree_clause(OrgUnit.path, org.path))


def org_quality(org: OrgUnit, start: dt.date, end: dt.date) -> dict:
    """The figures of every event filed under org's subtree in [start, end]."""
    query = _in_org(sa.select(*_aggregates(), *_reason_aggregates()), org)
    return figures_from(db.session.execute(_period(query, start, end)).one())


def children_quality(org: OrgUnit, start: dt.date, end: dt.date) -> list[dict]:
    """Each direct child unit of org (code order) with its figures: one grouped query, rolled up by path."""
    children = sorted(org.children, key=lambda c: c.code)
    query = _in_org(sa.select(OrgUnit.path, *_aggregates(), *_reason_aggregates()), org).group_by(OrgUnit.path)
    totals: dict[int, dict] = {c.id: {} for c in children}
    for row in db.session.execute(_period(query, start, end)):
        for child in children:
            if row.path.startswith(child.path):
                _add(totals[child.id], row)
                break
    return [{"org": unit_json(child), **figures_from(totals[child.id])} for child in children]


def people_quality(org: OrgUnit, start: dt.date, end: dt.date) -> list[dict]:
    """Each worker with events filed under org's subtree in [start, end], most returned first."""
    query = _in_org(sa.select(FieldEvent.user_id, *_aggregates(), *_reason_aggregates()), org) \
        .group_by(FieldEvent.user_id)
    rows = db.session.execute(_period(query, start, end)).all()
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([r.user_id for r in rows])))}
    people = []
    for row in rows:
        user = users[row.user_id]
        people.append({"username": user.username, "name": user.name, **figures_from(row)})
    people.sort(key=lambda p: (-(p["return_rate"] or 0), p["username"]))
    return people


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
