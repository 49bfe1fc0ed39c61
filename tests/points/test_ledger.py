"""Points ledger: signals award once, values from the imported rules, history page, /me."""
from __future__ import annotations

import datetime as dt
import types

import pytest
import sqlalchemy as sa

from lms import signals
from lms.extensions import db
from lms.points import services
from lms.points.models import PointEntry, PointKind
from lms.points.queries import list_entries, total_points
from tests.factories import make_user

NOW = dt.datetime(2026, 6, 3, 2, 0, tzinfo=dt.timezone.utc)
RULES = {"lesson_complete": 1, "quiz_pass": 5, "drill_accepted": 3, "training_hour": 2, "mentoring_activity": 4}


@pytest.fixture
def worker(tree):
    services.set_point_rules(RULES, now=NOW)
    db.session.commit()
    return make_user("w1", "worker", tree["g1"], name="李小红")


def _obj(**fields):
    return types.SimpleNamespace(**fields)


def test_lesson_signal_delivered_twice_awards_once(worker):
    lesson = _obj(id=7, title="入户走访")
    course = _obj(code="ty-home-visits", title="入户走访规范")
    signals.lesson_completed.send(worker, lesson=lesson, course=course, now=NOW)
    signals.lesson_completed.send(worker, lesson=lesson, course=course, now=NOW)
    entries = list(db.session.scalars(sa.select(PointEntry)))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.kind, entry.points, entry.source_type, entry.source_id) == (PointKind.lesson_complete, 1, "lesson", "7")
    assert "入户走访" in entry.reason and entry.org_id == worker.org_id


def test_each_signal_kind_awards_its_rule(worker):
    signals.quiz_passed.send(worker, quiz_code="quiz-grid-duties", score=80.0, attempt_id=11, now=NOW)
    signals.drill_accepted.send(worker, report=_obj(id=3, drill=_obj(title="燃气泄漏")), now=NOW)
    signals.attendance_recorded.send(worker, training=_obj(id=5, title="矛盾调解培训"), hours=2.5, now=NOW)
    signals.activity_confirmed.send(worker, activity=_obj(id=9, date=dt.date(2026, 6, 1)), now=NOW)
    by_kind = {e.kind: e for e in db.session.scalars(sa.select(PointEntry))}
    assert by_kind[PointKind.quiz_pass].points == 5 and "80 分" in by_kind[PointKind.quiz_pass].reason
    assert by_kind[PointKind.drill_accepted].points == 3
    assert by_kind[PointKind.training_hour].points == 5  # 2.5 h x 2, rounded down
    assert by_kind[PointKind.mentoring_activity].points == 4
    assert total_points(worker) == 17


def test_same_source_for_two_people_awards_both(worker, tree):
    other = make_user("w2", "worker", tree["g1"])
    training = _obj(id=5, title="培训")
    signals.attendance_recorded.send(worker, training=training, hours=1, now=NOW)
    signals.attendance_recorded.send(other, training=training, hours=1, now=NOW)
    assert total_points(worker) == 2 and total_points(other) == 2


def test_award_with_no_rule_imported_records_zero(tree):
    user = make_user("w3", "worker", tree["g1"])
    entry = services.award(user, "lesson_complete", reason="完成课时", source_type="lesson", source_id=1, now=NOW)
    assert entry is not None and entry.points == 0


def test_unknown_kind_is_refused(worker):
    with pytest.raises(ValueError):
        services.award(worker, "bribe", reason="x", source_type="x", source_id=1)


def test_duplicate_insert_racing_the_check_counts_once(worker, monkeypatch):
    services.award(worker, PointKind.quiz_pass, reason="a", source_type="quiz_attempt", source_id=1, now=NOW)
    db.session.flush()
    # Another worker inserted between our check and insert: the unique constraint decides.
    monkeypatch.setattr(services.db.session, "scalar", lambda *a, **k: None)
    assert services.award(worker, PointKind.quiz_pass, reason="a", source_type="quiz_attempt", source_id=1,
                          now=NOW) is None
    monkeypatch.undo()
    assert db.session.scalar(sa.select(sa.func.count(PointEntry.id))) == 1


def test_set_point_rules_reports_changes(worker):
    assert set(services.set_point_rules(RULES, now=NOW).values()) == {"unchanged"}
    assert services.set_point_rules({**RULES, "quiz_pass": 6}, now=NOW)["quiz_pass"] == "updated"


def test_history_lists_newest_first_and_pages(worker):
    for i in range(3):
        services.award(worker, PointKind.lesson_complete, reason=f"完成课时 {i}", source_type="lesson", source_id=i,
                       now=NOW + dt.timedelta(minutes=i))
    entries, has_next = list_entries(worker, 1, 2)
    assert [e.reason for e in entries] == ["完成课时 2", "完成课时 1"] and has_next


def test_history_page_and_me_show_points(worker, client, api):
    signals.lesson_completed.send(worker, lesson=_obj(id=1, title="网格员职责"), course=None, now=NOW)
    db.session.commit()
    api.login("w1")
    page = client.get("/points")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "网格员职责" in text and "累计积分：<strong>1</strong>" in text
    me = api.get("/api/v1/me").get_json()
    assert me["points"] == 1 and me["star"] == 0


def test_history_page_needs_login(client):
    assert client.get("/points").status_code in (302, 401)


def test_history_page_with_garbage_page_number_is_not_an_error(worker, client, api):
    api.login("w1")
    assert client.get("/points?page=abc").status_code == 200


def test_points_api_lists_own_entries(worker, api):
    signals.quiz_passed.send(worker, quiz_code="quiz-grid-duties", score=90, attempt_id=1, now=NOW)
    db.session.commit()
    api.login("w1")
    body = api.get("/api/v1/me/points").get_json()
    assert body["total"] == 5 and body["next"] is None
    assert body["entries"][0]["kind"] == "quiz_pass" and body["entries"][0]["points"] == 5
    assert api.get("/api/v1/me/points?per_page=0").status_code == 200
    assert api.get("/api/v1/me/points?page=zz").status_code == 400
