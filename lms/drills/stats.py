"""Return-rate statistics of the report drills: plain functions over the stored reports (no HTTP).

The training mirror of the county's 12 %: of the reports submitted, how many
were returned (退回), counted over all attempts and over first attempts only
(a worker's first try at a drill shows what they would send in real life;
revisions show what they learnt). Broken down by rule, by org unit, by ISO
week or month, per worker and per drill.

Conventions:

* a report counts for the org unit its writer belonged to when writing it
  (``DrillReport.org_id``), like every statistic of API.md;
* "returned" is the current verdict, so a trainer's override counts; "failed
  rule" is the automatic check (a trainer overrides the verdict, not a check);
* a rule's rate is the share of reports that failed it (one report can fail
  several rules, so the rates do not add up to the return rate);
* the period is half-open ``[start, end)`` on aware datetimes; weeks and months
  are those of Asia/Shanghai;
* with ``user`` given, only reports made in units where that user holds
  ``perm`` are read (``permissions.scope_clause``), on top of ``org``'s subtree;
* precision by rule (how far trainers agree with a rule): of the reports that
  failed the rule and that a trainer reviewed, those the trainer accepted
  overturned it; precision = upheld / reviewed. A report the checks passed
  but a trainer returned is a miss of the checker (``missed``), no rule's.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import aliased

from lms.accounts.models import User
from lms.accounts.permissions import Permission, scope_clause
from lms.db import SHANGHAI
from lms.drills.content import RULE_NAMES
from lms.drills.models import Drill, DrillReport, DrillReview, Verdict
from lms.extensions import db
from lms.org.models import OrgKind, OrgUnit, subtree_clause

PERIODS = ("month", "week")
#: unit kinds that get a row of their own in by_unit (grids are too many and too small)
UNIT_ROW_KINDS = (OrgKind.township, OrgKind.village)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclasses.dataclass
class Tally:
    """Counts of one group of reports: all attempts and first attempts, failures per rule."""

    reports: int = 0
    returned: int = 0
    first_reports: int = 0
    first_returned: int = 0
    failed: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    first_failed: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    #: reviewed by a trainer, per failed rule; of those, accepted by the trainer (the rule overturned)
    reviewed: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    overturned: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    #: every check passed, yet a trainer returned it
    missed: int = 0

    def add(self, returned: bool, first: bool, rules: Iterable[str], reviewed: bool = False) -> None:
        rules = list(rules)
        self.reports += 1
        self.returned += returned
        self.failed.update(rules)
        if reviewed:
            self.reviewed.update(rules)
            if not returned:
                self.overturned.update(rules)
            elif not rules:
                self.missed += 1
        if first:
            self.first_reports += 1
            self.first_returned += returned
            self.first_failed.update(rules)

    def figures(self) -> dict:
        """The JSON figures of the group (see module doc); rates are None when nothing was submitted."""
        return {
            "reports": self.reports, "returned": self.returned,
            "return_rate": _rate(self.returned, self.reports),
            "first_reports": self.first_reports, "first_returned": self.first_returned,
            "first_return_rate": _rate(self.first_returned, self.first_reports),
            "by_rule": {rule: self.failed.get(rule, 0) for rule in RULE_NAMES},
            "by_rule_rate": {rule: _rate(self.failed.get(rule, 0), self.reports) for rule in RULE_NAMES},
            "first_by_rule": {rule: self.first_failed.get(rule, 0) for rule in RULE_NAMES},
            "first_by_rule_rate": {rule: _rate(self.first_failed.get(rule, 0), self.first_reports)
                                   for rule in RULE_NAMES},
        }


@dataclasses.dataclass(frozen=True)
class Row:
    """One report as the statistics read it."""

    returned: bool
    first: bool
    rules: tuple[str, ...]
    created_at: dt.datetime
    path: str  # the writer's unit at the time
    drill_code: str
    drill_title: str
    user_id: int
    reviewed: bool = False  # a trainer reviewed it (its verdict may be the trainer's)


def failed_rules(checks) -> tuple[str, ...]:
    """The rule names that failed in a report's stored checks (odd entries ignored)."""
    return tuple(c.get("rule") for c in checks or () if isinstance(c, dict) and not c.get("passed")
                 and c.get("rule") in RULE_NAMES)


# The failed rules of a report, as "rule,rule" computed by the database: decoding each report's checks
# (nine messages) in Python costs about six times as much on 50,000 reports.
_FAILED_SQL = {
    "sqlite": "(SELECT group_concat(json_extract(value, '$.rule'), ',') FROM json_each(drill_reports.checks)"
              " WHERE json_extract(CASE WHEN type = 'object' THEN value END, '$.passed') = 0)",
    "postgresql": "(CASE WHEN json_typeof(drill_reports.checks) = 'array' THEN (SELECT string_agg(e ->> 'rule', ',')"
                  " FROM json_array_elements(drill_reports.checks) AS e WHERE e ->> 'passed' = 'false') END)",
}


def _checks_column():
    """(column, reader): the failed rules as text where the database can, else the checks decoded here."""
    sql = _FAILED_SQL.get(db.session.get_bind().dialect.name)
    if sql is None:  # pragma: no cover - the app runs on SQLite or PostgreSQL
        return DrillReport.checks, failed_rules
    return sa.literal_column(sql), _split_rules


def _split_rules(text, _known: dict = {}) -> tuple[str, ...]:  # noqa: B006 - a deliberate memo
    # Few distinct combinations occur, so each text is split once per process.
    rules = _known.get(text)
    if rules is None:
        rules = tuple(rule for rule in (text or "").split(",") if rule in RULE_NAMES)
        if len(_known) < 4096:
            _known[text] = rules
    return rules


def _base(org: OrgUnit, start, end, user, perm, checks_column):
    reviewed = sa.exists().where(DrillReview.report_id == DrillReport.id)
    query = (sa.select(DrillReport.verdict, DrillReport.attempt, checks_column, DrillReport.created_at,
                       OrgUnit.path, Drill.code, Drill.title, DrillReport.user_id, reviewed)
             .join(OrgUnit, OrgUnit.id == DrillReport.org_id).join(Drill, Drill.id == DrillReport.drill_id)
             .where(subtree_clause(OrgUnit.path, org.path)))
    if user is not None:
        query = query.where(scope_clause(user, perm, OrgUnit.path))
    if start is not None:
        query = query.where(DrillReport.created_at >= start)
    if end is not None:
        query = query.where(DrillReport.created_at < end)
    return query


def _request_cache() -> dict | None:
    # GET /api/v1/stats asks for a unit, each child and the breakdown: one read serves them all. Only within a
    # request (a read-only statistics request), so a test or a task that writes between two calls sees its writes.
    if not has_request_context():
        return None
    if "drill_stats_rows" not in g:
        g.drill_stats_rows = {}
    return g.drill_stats_rows


def report_rows(org: OrgUnit, start=None, end=None, *, user=None, perm: Permission = Permission.VIEW_STATS
                ) -> list[Row]:
    """Reports made in org's subtree (unit at the time) in [start, end), within user's scope when given."""
    cache = _request_cache()
    key = (org.path, start, end, getattr(user, "id", None), perm)
    if cache is not None:
        for (path, c_start, c_end, c_user, c_perm), rows in cache.items():
            if (c_start, c_end, c_user, c_perm) == key[1:] and org.path.startswith(path):
                return rows if path == org.path else [r for r in rows if r.path.startswith(org.path)]
    column, read = _checks_column()
    rows = [Row(verdict == Verdict.returned, attempt == 1, read(checks), created_at, path, code, title, user_id,
                bool(reviewed))
            for verdict, attempt, checks, created_at, path, code, title, user_id, reviewed
            in db.session.execute(_base(org, start, end, user, perm, column))]
    if cache is not None:
        cache[key] = rows
    return rows


def tally(rows: Iterable[Row]) -> Tally:
    total = Tally()
    for row in rows:
        total.add(row.returned, row.first, row.rules, row.reviewed)
    return total


def summary(org: OrgUnit, start=None, end=None, *, user=None, perm: Permission = Permission.VIEW_STATS) -> dict:
    """Figures of org's subtree: all attempts, first attempts, failures and rates by rule."""
    return tally(report_rows(org, start, end, user=user, perm=perm)).figures()


def by_rule(rows: Iterable[Row]) -> list[dict]:
    """One row per rule in API order: reports failing it and its share, over all and over first attempts;
    of those a trainer reviewed, how many the trainer overturned, and the rule's precision (None: none reviewed)."""
    counts = tally(rows)
    figures = counts.figures()
    return [{"rule": rule, "failed": figures["by_rule"][rule], "rate": figures["by_rule_rate"][rule],
             "first_failed": figures["first_by_rule"][rule], "first_rate": figures["first_by_rule_rate"][rule],
             "reviewed": counts.reviewed[rule], "overturned": counts.overturned[rule],
             "precision": _rate(counts.reviewed[rule] - counts.overturned[rule], counts.reviewed[rule])}
            for rule in RULE_NAMES]


def checker_missed(rows: Iterable[Row]) -> int:
    """Reports every check passed that a trainer returned: what no rule caught."""
    return tally(rows).missed


def unit_rows(org: OrgUnit) -> list[OrgUnit]:
    """The townships and villages under org (org itself excluded), in tree order."""
    return list(db.session.scalars(
        sa.select(OrgUnit).where(subtree_clause(OrgUnit.path, org.path), OrgUnit.id != org.id,
                                 OrgUnit.kind.in_(UNIT_ROW_KINDS)).order_by(OrgUnit.path)))


def by_unit(org: OrgUnit, rows: Iterable[Row]) -> list[dict]:
    """A row per township and village under org (its whole subtree counted), units without reports included."""
    units = unit_rows(org)
    tallies = {unit.path: Tally() for unit in units}
    for row in rows:
        # A report at a grid counts for its village and its township: every listed ancestor of its unit.
        for path in _ancestor_paths(row.path):
            if path in tallies:
                tallies[path].add(row.returned, row.first, row.rules)
    codes = {u.id: u.code for u in units} | {org.id: org.code}
    return [{"key": unit.code, "label": unit.name, "kind": unit.kind.value, "depth": unit.depth - org.depth,
             "parent": codes.get(unit.parent_id), **tallies[unit.path].figures()} for unit in units]


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def period_key(when: dt.datetime, period: str) -> tuple[str, str]:
    """(key, label) of the local ISO week ("2026-W23", "2026年第23周") or month ("2026-06", "2026年6月")."""
    local = when.astimezone(SHANGHAI)
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}", f"{year}年第{week}周"
    if period == "month":
        return f"{local.year}-{local.month:02d}", f"{local.year}年{local.month}月"
    raise ValueError(f"unknown period {period!r}")


def _period_starts(first: dt.datetime, last: dt.datetime, period: str) -> Iterable[dt.datetime]:
    day = first.astimezone(SHANGHAI).date()
    day = day.replace(day=1) if period == "month" else day - dt.timedelta(days=day.weekday())
    end = last.astimezone(SHANGHAI).date()
    while day <= end:
        yield dt.datetime.combine(day, dt.time(12), SHANGHAI)
        if period == "month":
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            day += dt.timedelta(days=7)


def over_time(rows: Iterable[Row], period: str = "month", start=None, end=None) -> list[dict]:
    """A row per ISO week or month, oldest first; within [start, end) every period is listed, empty ones too."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    rows = list(rows)
    tallies: dict[tuple[str, str], Tally] = {}
    first = start or min((r.created_at for r in rows), default=None)
    last = (end - dt.timedelta(microseconds=1)) if end else max((r.created_at for r in rows), default=None)
    if first is not None and last is not None and first <= last:
        for moment in _period_starts(first, last, period):
            tallies.setdefault(period_key(moment, period), Tally())
    for row in rows:
        tallies.setdefault(period_key(row.created_at, period), Tally()).add(row.returned, row.first, row.rules)
    return [{"key": key, "label": label, **t.figures()} for (key, label), t in sorted(tallies.items())]


def by_drill(rows: Iterable[Row]) -> list[dict]:
    """A row per drill that has reports, by code."""
    tallies: dict[tuple[str, str], Tally] = collections.defaultdict(Tally)
    for row in rows:
        tallies[(row.drill_code, row.drill_title)].add(row.returned, row.first, row.rules)
    return [{"key": code, "label": title, **t.figures()} for (code, title), t in sorted(tallies.items())]


@dataclasses.dataclass(frozen=True)
class Worker:
    """A worker as the per-worker rows show them (their current unit)."""

    id: int
    username: str
    name: str
    phone: str | None
    org_id: int
    org_code: str
    org_name: str


def workers(ids: Iterable[int]) -> dict[int, Worker]:
    """The workers with these ids and their current units, by id."""
    ids = sorted(set(ids))
    unit = aliased(OrgUnit)
    found = {}
    for start in range(0, len(ids), 500):  # bounded IN lists
        query = (sa.select(User.id, User.username, User.name, User.phone, unit.id, unit.code, unit.name)
                 .join(unit, unit.id == User.org_id).where(User.id.in_(ids[start:start + 500])))
        for row in db.session.execute(query):
            found[row[0]] = Worker(*row)
    return found


def by_worker(rows: Iterable[Row]) -> list[dict]:
    """A row per worker with reports, by 工号; ``org`` is the worker's current unit."""
    tallies: dict[int, Tally] = collections.defaultdict(Tally)
    for row in rows:
        tallies[row.user_id].add(row.returned, row.first, row.rules)
    people = workers(tallies)
    out = []
    for user_id, t in tallies.items():
        person = people.get(user_id)
        if person is None:  # pragma: no cover - reports keep their user (foreign key)
            continue
        out.append({"key": person.username, "label": person.name, "org": person.org_name,
                    "org_code": person.org_code, **t.figures()})
    return sorted(out, key=lambda r: r["key"])


def breakdown(org: OrgUnit, start=None, end=None, *, user=None, perm: Permission = Permission.VIEW_STATS,
              periods: Iterable[str] = PERIODS) -> dict:
    """Everything of the stats page from one read: total, by rule, by unit, per period, per drill, per worker."""
    rows = report_rows(org, start, end, user=user, perm=perm)
    out = {"total": tally(rows).figures(), "by_rule": by_rule(rows), "missed": checker_missed(rows),
           "by_unit": by_unit(org, rows),
           "by_drill": by_drill(rows), "by_worker": by_worker(rows)}
    for period in periods:
        out[f"by_{period}"] = over_time(rows, period, start, end)
    return out


def detail(org: OrgUnit, start=None, end=None) -> dict:
    """The breakdown rows that GET /api/v1/stats adds to the requested unit's ``drills`` figures."""
    data = breakdown(org, start, end)
    return {key: data[key] for key in ("by_unit", "by_month", "by_week", "by_drill", "by_worker")}
