"""积分 from the field: configurable values per kind, one ledger entry per 事件编号 and kind, idempotent runs,
the CLI, deductions for returned events, and the audit entry."""
from __future__ import annotations

import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.field.points import awards_for, award_field_points
from lms.points.models import PointEntry, PointKind
from lms.points.services import set_point_rules
from tests.factories import make_user
from tests.field.needs_factories import add_events

RULES = {"lesson_complete": 1, "field_closed": 2, "field_returned": 3, "field_satisfaction": 1}


def test_what_an_event_earns():
    assert awards_for("办结", 5) == [(PointKind.field_closed, 1, "办结"),
                                     (PointKind.field_satisfaction, 1, "群众满意度 5 分")]
    assert awards_for("退回", None) == [(PointKind.field_returned, -1, "被退回")]
    assert awards_for("超时", 3) == [] and awards_for("重复", None) == []


def test_events_feed_the_ledger_once_each_traceable_to_their_number(app, tree):
    set_point_rules(RULES)
    worker = make_user("w1", "worker", tree["g1"])
    other = make_user("w2", "worker", tree["g2"])
    closed = add_events(worker, [(3, "办结", None)], satisfaction=5)
    returned = add_events(worker, [(1, "退回", "描述不清")], satisfaction=2)
    add_events(worker, [(2, "超时", None)])
    add_events(other, [(1, "办结", None)])

    assert award_field_points() == {"entries": 8, "people": 2}
    db.session.commit()
    entries = db.session.scalars(sa.select(PointEntry).where(PointEntry.user_id == worker.id)
                                 .order_by(PointEntry.id)).all()
    assert sum(e.points for e in entries) == 3 * 2 + 3 * 1 - 3
    by_number = {(e.source_id, e.kind): e for e in entries}
    assert by_number[(closed[0].number, PointKind.field_closed)].reason == f"现场事件 {closed[0].number}：办结"
    assert by_number[(returned[0].number, PointKind.field_returned)].points == -3
    assert all(e.source_type == "field_event" and e.org_id == tree["g1"].id for e in entries)

    # again: nothing new; a new event alone is added
    assert award_field_points() == {"entries": 0, "people": 0}
    add_events(worker, [(1, "办结", None)])
    assert award_field_points() == {"entries": 1, "people": 1}
    db.session.commit()
    audits = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "field.points")).all()
    assert [a.details["entries"] for a in audits] == [8, 1]


def test_a_zero_rule_still_records_the_event(app, tree):
    worker = make_user("w1", "worker", tree["g1"])
    add_events(worker, [(1, "办结", None)])
    assert award_field_points() == {"entries": 1, "people": 1}
    assert db.session.scalar(sa.select(PointEntry.points)) == 0


def test_the_command_is_idempotent(app, runner, tree):
    set_point_rules(RULES)
    db.session.commit()
    worker = make_user("w1", "worker", tree["g1"])
    add_events(worker, [(2, "办结", None), (1, "退回", "要素不全")])
    first = runner.invoke(args=["field", "points"])
    assert first.exit_code == 0 and "新记入 3 条，涉及 1 人" in first.output, first.output
    second = runner.invoke(args=["field", "points"])
    assert "新记入 0 条，涉及 0 人" in second.output
    assert db.session.scalar(sa.select(sa.func.sum(PointEntry.points))) == 2 * 2 - 3


def test_one_import_run_only(app, tree):
    from lms.field.models import FieldImport

    worker = make_user("w1", "worker", tree["g1"])
    run = FieldImport(filename="a.csv", source="cli")
    db.session.add(run)
    db.session.commit()
    mine = add_events(worker, [(2, "办结", None)])
    for event in mine:
        event.import_id = run.id
    add_events(worker, [(3, "办结", None)])
    db.session.commit()
    assert award_field_points(import_id=run.id) == {"entries": 2, "people": 1}
    assert award_field_points() == {"entries": 3, "people": 1}


def test_tasks_run_feeds_the_ledger_too(app, runner, tree):
    set_point_rules(RULES)
    db.session.commit()
    worker = make_user("w1", "worker", tree["g1"])
    add_events(worker, [(2, "办结", None)])
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0 and "现场上报积分 2" in result.output, result.output
    assert "现场上报积分 0" in runner.invoke(args=["tasks", "run"]).output
