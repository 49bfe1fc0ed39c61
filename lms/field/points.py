"""积分 from the field: each imported event feeds the points ledger once, traceable to its 事件编号.

Kinds (values in courses/certifications.yaml ``points``): ``field_closed`` per 办结 event, ``field_returned``
deducted per 退回 event, ``field_satisfaction`` per event rated 4 or 5. The ledger's unique key (user, kind,
source) with source ("field_event", 事件编号) makes every run idempotent; each person's programs are evaluated
once per run (star levels that require points).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lms.accounts.models import User
from lms.audit.services import record
from lms.db import utcnow
from lms.extensions import db
from lms.field.models import FieldEvent
from lms.points import services as points
from lms.points.models import PointEntry, PointKind
from lms.points.signals import event_counted

SOURCE = "field_event"
#: satisfaction at or above this earns field_satisfaction
SATISFIED = 4
_BATCH = 2000
FIELD_KINDS = (PointKind.field_closed, PointKind.field_returned, PointKind.field_satisfaction)


def awards_for(result: str, satisfaction: int | None) -> list[tuple[PointKind, int, str]]:
    """(kind, quantity, what) an event earns: pure, for tests and the page that explains points."""
    out = []
    if result == "办结":
        out.append((PointKind.field_closed, 1, "办结"))
    elif result == "退回":
        out.append((PointKind.field_returned, -1, "被退回"))
    if satisfaction is not None and satisfaction >= SATISFIED:
        out.append((PointKind.field_satisfaction, 1, f"群众满意度 {satisfaction} 分"))
    return out


def award_field_points(*, event_ids=None, import_id: int | None = None, now=None, actor=None) -> dict:
    """Award what the field events (all, ``event_ids`` or those of one import run) earn and have not earned yet;
    returns {"entries": n, "people": n}. Called after an import and by `flask --app lms field points` / `tasks run`.

    Events are read in id order by batches and their entries inserted per batch with ON CONFLICT DO NOTHING
    (the ledger's unique key), so a year of a county (200,000 events) is a few hundred statements.
    """
    now = now or utcnow()
    values = {kind: points.point_value(kind) for kind in
              (PointKind.field_closed, PointKind.field_returned, PointKind.field_satisfaction)}
    # the whole ledger key (user, kind, source type, source id): the unique index answers each probe
    counted = sa.exists().where(PointEntry.user_id == FieldEvent.user_id, PointEntry.kind.in_(FIELD_KINDS),
                                PointEntry.source_type == SOURCE, PointEntry.source_id == FieldEvent.number)
    base = (sa.select(FieldEvent.id, FieldEvent.number, FieldEvent.user_id, FieldEvent.org_id, FieldEvent.result,
                      FieldEvent.satisfaction)
            .where(~counted, sa.or_(FieldEvent.result.in_(("办结", "退回")), FieldEvent.satisfaction >= SATISFIED))
            .order_by(FieldEvent.id).limit(_BATCH))
    if event_ids is not None:
        base = base.where(FieldEvent.id.in_(list(event_ids)))
    if import_id is not None:
        base = base.where(FieldEvent.import_id == import_id)
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PointEntry.__table__)
    insert = insert.on_conflict_do_nothing(index_elements=["user_id", "kind", "source_type", "source_id"])
    entries = 0
    people: dict[int, tuple] = {}
    last = 0
    while True:
        rows = db.session.execute(base.where(FieldEvent.id > last)).all()
        if not rows:
            break
        last = rows[-1].id
        batch = []
        for row in rows:
            for kind, quantity, what in awards_for(row.result, row.satisfaction):
                batch.append({"user_id": row.user_id, "kind": kind, "points": values[kind] * quantity,
                              "reason": f"现场事件 {row.number}：{what}"[:200], "source_type": SOURCE,
                              "source_id": row.number, "org_id": row.org_id, "created_at": now})
        if batch:
            done = db.session.execute(insert.returning(PointEntry.__table__.c.user_id,
                                                       PointEntry.__table__.c.kind), batch).all()
            entries += len(done)
            for uid, kind in done:
                people[uid] = kind
    if people:
        users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(list(people))))}
        for uid, kind in people.items():
            # Certification evaluates each person once (star levels requiring points).
            event_counted.send(users[uid], kind=PointKind(kind), entry=None, now=now)
    if entries:
        record("field.points", actor=actor, target_type="points", target=SOURCE, now=now,
               details={"entries": entries, "people": len(people)})
    return {"entries": entries, "people": len(people)}
