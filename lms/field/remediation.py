"""Remediation (补训): each person's most frequent field problems → the training field_needs.yaml maps to them.

``propose`` is pure (counts in, proposal out). ``proposal_for`` reads the events of an org subtree over a period;
``send`` writes what the trainer kept (remediations with items and due dates, an inbox notice each, one audit
entry). ``drill_order_key`` puts the drills of a worker's own field problems first in their 上报演练 list.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt

import sqlalchemy as sa

from lms.accounts.models import User
from lms.accounts.permissions import Permission, authorize
from lms.audit.services import record
from lms.db import SHANGHAI, utcnow
from lms.errors import ValidationError
from lms.extensions import db
from lms.field.models import FieldEvent
from lms.field.needs import KIND_LABELS, NEEDS, Training, needs_map
from lms.field.remediation_models import Remediation, RemediationItem
from lms.inbox.services import post
from lms.org.models import OrgUnit
from lms.org.models import subtree_clause

#: defaults of the proposal form and the API
MIN_EVENTS = 10
THRESHOLD = 0.10
#: at most this many problems per person (the most frequent ones) are trained at once
MAX_PROBLEMS = 2
#: default due date: this many days after sending
DUE_DAYS = 30
#: the longest period a proposal may read
MAX_PERIOD_DAYS = 366
INBOX_KIND = "field_remediation"


@dataclasses.dataclass(frozen=True)
class Problem:
    need: str
    count: int
    rate: float


@dataclasses.dataclass
class PersonProposal:
    user_id: int
    events: int
    problems: list[Problem]
    #: (kind, code, need) in order: the first problem's drills, consultations, courses, then the next problem's
    items: list[tuple[str, str, str]]


def problem_counts(result: str, return_reason: str | None) -> str | None:
    """The need an event shows: its 退回原因 (returned), 超时 or 重复; None for 办结 (and unknown reasons)."""
    if result == "退回":
        return return_reason if return_reason in NEEDS else None
    if result in ("超时", "重复"):
        return result
    return None


def propose(counts: dict[int, tuple[int, dict[str, int]]], needs: dict[str, Training], *, min_events: int,
            threshold: float, max_problems: int = MAX_PROBLEMS) -> list[PersonProposal]:
    """For each person with at least ``min_events`` events, the problems whose share of their events is at least
    ``threshold`` (most frequent first, at most ``max_problems``) and the training mapped to them (each item once).

    ``counts``: user id → (events, {need: count}). People with no problem above the threshold, or whose problems
    have no training mapped, are left out.
    """
    proposals = []
    for user_id, (events, by_need) in counts.items():
        if events < min_events or events <= 0:
            continue
        problems = sorted((Problem(need, n, n / events) for need, n in by_need.items()
                           if n > 0 and n / events >= threshold and need in needs),
                          key=lambda p: (-p.count, NEEDS.index(p.need) if p.need in NEEDS else 99))[:max_problems]
        items: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for problem in problems:
            for kind, code in needs[problem.need].items():
                if (kind, code) not in seen:
                    seen.add((kind, code))
                    items.append((kind, code, problem.need))
        if items:
            proposals.append(PersonProposal(user_id, events, problems, items))
    return proposals


# --- reads --------------------------------------------------------------------------------------------------------

def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) Beijing time, as aware datetimes."""
    return (dt.datetime.combine(start, dt.time.min, SHANGHAI),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, SHANGHAI))


def local_today(now=None) -> dt.date:
    return (now or utcnow()).astimezone(SHANGHAI).date()


def check_period(start, end, *, today: dt.date | None = None) -> None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValidationError("请填写起止日期（YYYY-MM-DD）", code="invalid_period")
    if end < start:
        raise ValidationError("结束日期不能早于开始日期", code="invalid_period")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValidationError(f"统计期间最长 {MAX_PERIOD_DAYS} 天", code="invalid_period")


def event_counts(org: OrgUnit, start: dt.date, end: dt.date, user_ids=None) -> dict[int, tuple[int, dict[str, int]]]:
    """user id → (events, {need: count}) for the active accounts' events reported in the period under org."""
    low, high = local_bounds(start, end)
    query = (sa.select(FieldEvent.user_id, FieldEvent.result, FieldEvent.return_reason, sa.func.count())
             .join(OrgUnit, OrgUnit.id == FieldEvent.org_id)
             .where(subtree_clause(OrgUnit.path, org.path), FieldEvent.reported_at >= low,
                    FieldEvent.reported_at < high)
             .group_by(FieldEvent.user_id, FieldEvent.result, FieldEvent.return_reason))
    if user_ids is not None:
        query = query.where(FieldEvent.user_id.in_(list(user_ids)))
    totals: dict[int, int] = collections.Counter()
    needs: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for user_id, result, reason, n in db.session.execute(query):
        totals[user_id] += n
        need = problem_counts(result, reason)
        if need:
            needs[user_id][need] += n
    return {uid: (total, dict(needs[uid])) for uid, total in totals.items()}


def titles(items) -> dict[tuple[str, str], str]:
    """(kind, code) → title, for the codes that exist (drills, courses; consultations when that table exists)."""
    from lms.courses.models import Course  # noqa: PLC0415
    from lms.drills.models import Drill  # noqa: PLC0415

    codes = collections.defaultdict(set)
    for kind, code, *_ in items:
        codes[kind].add(code)
    found: dict[tuple[str, str], str] = {}
    for kind, model in (("drills", Drill), ("courses", Course)):
        if codes[kind]:
            found.update({(kind, c): t for c, t in db.session.execute(
                sa.select(model.code, model.title).where(model.code.in_(codes[kind])))})
    table = db.metadata.tables.get("consultations")
    if codes["consultations"] and table is not None and "code" in table.c and "title" in table.c:
        found.update({("consultations", c): t for c, t in db.session.execute(
            sa.select(table.c.code, table.c.title).where(table.c.code.in_(codes["consultations"])))})
    return found


def item_link(kind: str, code: str) -> str:
    return {"drills": f"/drills/{code}", "courses": f"/courses/{code}",
            "consultations": f"/consultations/{code}"}[kind]


def in_progress(user_ids, today: dt.date) -> dict[int, Remediation]:
    """Each person's remediation still running (due today or later), the latest."""
    found = {}
    ids = list(user_ids)
    for chunk in range(0, len(ids), 500):
        for rem in db.session.scalars(sa.select(Remediation).where(
                Remediation.user_id.in_(ids[chunk:chunk + 500]), Remediation.due_on >= today)
                .order_by(Remediation.started_on)):
            found[rem.user_id] = rem
    return found


def proposal_for(org: OrgUnit, start: dt.date, end: dt.date, *, min_events: int, threshold: float,
                 now=None) -> list[dict]:
    """The proposal for the active workers of org's subtree (people with training still running are left out)."""
    check_params(min_events, threshold)
    check_period(start, end)
    counts = event_counts(org, start, end)
    people = {u.id: u for u in _active_users(counts)}
    counts = {uid: c for uid, c in counts.items() if uid in people}
    running = in_progress(counts, local_today(now))
    proposals = [p for p in propose(counts, needs_map(), min_events=min_events, threshold=threshold)
                 if p.user_id not in running]
    names = titles([i for p in proposals for i in p.items])
    rows = []
    for p in sorted(proposals, key=lambda p: (people[p.user_id].org.path, people[p.user_id].username)):
        user = people[p.user_id]
        rows.append({"user": user, "events": p.events,
                     "problems": [dataclasses.asdict(x) for x in p.problems],
                     "items": [{"kind": k, "kind_label": KIND_LABELS[k], "code": c, "need": n,
                                "title": names.get((k, c), c)} for k, c, n in p.items]})
    return rows


def _active_users(counts) -> list[User]:
    from lms.accounts.models import UserStatus  # noqa: PLC0415

    ids = list(counts)
    users = []
    for chunk in range(0, len(ids), 500):
        users.extend(db.session.scalars(sa.select(User).where(User.id.in_(ids[chunk:chunk + 500]),
                                                              User.status == UserStatus.active)))
    return users


def check_params(min_events, threshold) -> None:
    if isinstance(min_events, bool) or not isinstance(min_events, int) or not 1 <= min_events <= 10000:
        raise ValidationError("最少事件数须是 1 到 10000 的整数", code="invalid_min_events")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValidationError("问题占比阈值须大于 0、不超过 1（例如 0.1 表示 10%）", code="invalid_threshold")


# --- writes -------------------------------------------------------------------------------------------------------

def send(actor, org: OrgUnit, start: dt.date, end: dt.date, *, min_events: int, threshold: float,
         due: dt.date | None = None, keep: dict[int, set[tuple[str, str]]] | None = None, now=None,
         client_addr: str = "") -> list[Remediation]:
    """Send the proposal (or the part of it ``keep`` names: user id → kept (kind, code)); audited once.

    The proposal is computed again here, so what is sent is never more than what the data supports.
    """
    authorize(actor, Permission.REMEDIATE, org)
    now = now or utcnow()
    today = local_today(now)
    due = due or today + dt.timedelta(days=DUE_DAYS)
    if not isinstance(due, dt.date) or due < today:
        raise ValidationError("截止日期不能早于今天", code="due_in_past")
    rows = proposal_for(org, start, end, min_events=min_events, threshold=threshold, now=now)
    sent: list[Remediation] = []
    for row in rows:
        user = row["user"]
        items = row["items"]
        if keep is not None:
            kept = keep.get(user.id)
            if not kept:
                continue
            items = [i for i in items if (i["kind"], i["code"]) in kept]
            if not items:
                continue
        needs_kept = {i["need"] for i in items}
        rem = Remediation(user_id=user.id, org_id=user.org_id, started_on=today, due_on=due, period_from=start,
                          period_to=end, events=row["events"],
                          problems=[p for p in row["problems"] if p["need"] in needs_kept],
                          created_by_id=getattr(actor, "id", None), created_at=now,
                          items=[RemediationItem(kind=i["kind"], code=i["code"], need=i["need"]) for i in items])
        db.session.add(rem)
        db.session.flush()
        problems = "、".join(p["need"] for p in rem.problems)
        listing = "；".join(f"{i['kind_label']}《{i['title']}》" for i in items)
        post(user, kind=INBOX_KIND, title=f"补训任务：针对“{problems}”，{due.year}年{due.month}月{due.day}日截止",
             body=(f"根据您{start.isoformat()}至{end.isoformat()}在网格平台上报的事件，退回或超时、重复较多的问题是"
                   f"“{problems}”。请在截止日期前完成：{listing}。"),
             link="/field/remediation/mine", dedupe_key=f"field_remediation:{rem.id}", now=now)
        sent.append(rem)
    if sent:
        record("field.remediation", actor=actor, target_type="org", target=org.code, org=org,
               client_addr=client_addr, now=now,
               details={"org": org.code, "from": start.isoformat(), "to": end.isoformat(),
                        "min_events": min_events, "threshold": threshold, "due": due.isoformat(),
                        "people": len(sent), "items": sum(len(r.items) for r in sent)})
    return sent


def assigned_json(rems: list[Remediation]) -> list[dict]:
    names = titles([(i.kind, i.code) for r in rems for i in r.items])
    return [{"username": r.user.username, "name": r.user.name, "started": r.started_on.isoformat(),
             "due": r.due_on.isoformat(), "events": r.events, "problems": r.problems,
             "items": [{"kind": i.kind, "code": i.code, "title": names.get((i.kind, i.code), i.code),
                        "need": i.need} for i in r.items]} for r in rems]


def my_remediations(user) -> list[dict]:
    """A worker's own remediations, latest first, with each item's title and link."""
    rems = list(db.session.scalars(sa.select(Remediation).where(Remediation.user_id == user.id)
                                   .order_by(Remediation.started_on.desc(), Remediation.id.desc())))
    names = titles([(i.kind, i.code) for r in rems for i in r.items])
    return [{"remediation": r, "items": [{"kind_label": KIND_LABELS.get(i.kind, i.kind), "need": i.need,
                                          "title": names.get((i.kind, i.code), i.code),
                                          "link": item_link(i.kind, i.code)} for i in r.items]} for r in rems]


# --- the drill list -----------------------------------------------------------------------------------------------

#: the 上报演练 list looks at this many days of the worker's field events
DRILL_ORDER_DAYS = 365


def drill_order_key(user, now=None):
    """Sort key for the rows of a worker's 上报演练 list (dicts or objects with ``code``): the drills mapped to
    the problems of their own field events come first (most frequent problem first); the rest keep their order."""
    rank: dict[str, tuple[int, int]] = {}
    if getattr(user, "id", None) is not None and "field_events" in db.metadata.tables:
        today = local_today(now)
        low, high = local_bounds(today - dt.timedelta(days=DRILL_ORDER_DAYS), today)
        counts: collections.Counter = collections.Counter()
        for result, reason, n in db.session.execute(
                sa.select(FieldEvent.result, FieldEvent.return_reason, sa.func.count())
                .where(FieldEvent.user_id == user.id, FieldEvent.reported_at >= low, FieldEvent.reported_at < high)
                .group_by(FieldEvent.result, FieldEvent.return_reason)):
            need = problem_counts(result, reason)
            if need:
                counts[need] += n
        if counts:
            needs = needs_map()
            for order, (need, _) in enumerate(sorted(counts.items(), key=lambda kv: -kv[1])):
                for position, code in enumerate(needs.get(need, Training()).drills):
                    rank.setdefault(code, (order, position))

    def key(row):
        code = row["code"] if isinstance(row, dict) else getattr(row, "code", None)
        return (0, *rank[code]) if code in rank else (1, 0, 0)

    return key


def has_remediation(user) -> bool:
    return db.session.scalar(sa.select(sa.literal(True)).where(
        sa.exists().where(Remediation.user_id == user.id))) or False
