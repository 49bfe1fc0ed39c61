"""学时档案 queries against real rows, without HTTP."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.extensions import db
from lms.records import queries


def test_person_record_gathers_every_section(county):
    record = queries.person_record(county["w1"])
    assert record.user["org_path"] == "红溪县 / 青石镇 / 桃源村 / 桃源村第一网格"
    courses = {c["title"]: c for c in record.courses}
    assert set(courses) == {"网格员基础职责", "矛盾纠纷调解", "网格通操作"}
    assert courses["网格员基础职责"]["hours"] == 4 and courses["网格员基础职责"]["completed"] is not None
    assert courses["网格通操作"]["hours"] == 0 and courses["网格通操作"]["completed"] is None
    assert courses["网格通操作"]["lessons_done"] == 1 and courses["网格通操作"]["lessons"] == 2
    assert [t["title"] for t in record.trainings] == ["矛盾调解实务培训"]  # the cancelled one does not count
    assert record.trainings[0]["hours"] == 3 and record.trainings[0]["level_label"] == "乡培"
    (quiz,) = record.quizzes
    assert quiz["best_score"] == 75 and quiz["attempts"] == 2 and quiz["passed"] is True
    assert quiz["extra_attempts"] == 1 and quiz["allowed"] == 3
    assert quiz["last_attempt"].utcoffset() == dt.timedelta(hours=8)
    assert [d["title"] for d in record.drills] == ["夜间施工噪声扰民"]
    assert record.drills[0]["best_score"] == 85
    (pairing,) = record.mentoring
    assert pairing["role"] == "mentee" and pairing["with"] == ["赵德山"]
    assert pairing["activities"] == 1 and pairing["minutes"] == 90
    assert {c["program"]["title"] for c in record.certificates} == {"网格员上岗证", "一星网格员"}
    assert record.points == 42 and record.star == 1
    totals = record.totals
    assert totals["course_hours"] == {"county": 4.0, "township": 2.5, "village": 0.0, "total": 6.5}
    assert totals["training_hours"] == 3 and totals["hours"] == 9.5
    assert totals["quizzes_passed"] == 1 and totals["drills_accepted"] == 1 and totals["certificates_valid"] == 2


def test_mentor_record_counts_the_pairing_from_the_mentor_side(county):
    record = queries.person_record(county["mentor"])
    (pairing,) = record.mentoring
    assert pairing["role"] == "mentor" and pairing["with"] == ["李小红"] and pairing["activities"] == 1


def test_empty_record(county):
    record = queries.person_record(county["hr2"])
    assert record.courses == record.trainings == record.quizzes == record.drills == record.certificates == []
    assert record.totals["hours"] == 0 and record.points == 0


def _totals(actor, **filters):
    rows = db.session.execute(queries.totals_query(actor, **filters)).all()
    return {row[2]: queries.total_cells(row, ("", "", "")) for row in rows}


def test_totals_agree_with_the_person_record(county):
    rows = _totals(county["hr"])
    assert set(rows) == {"w1", "w2", "far", "mentor", "tr1"}  # learners only: no HR accounts
    cells = dict(zip(queries.TOTAL_COLUMNS, rows["w1"]))
    record = queries.person_record(county["w1"])
    assert cells["县训课程学时"] == 4 and cells["乡培课程学时"] == 2.5 and cells["村练课程学时"] == 0
    assert cells["线下培训学时"] == 3 and cells["合计学时"] == record.totals["hours"]
    assert cells["通过测验数"] == 1 and cells["采纳模拟上报数"] == 1 and cells["有效证书数"] == 2
    assert cells["积分"] == 42 and cells["星级"] == 1 and cells["老带新活动（已确认）"] == 1
    assert cells["入职日期"] == dt.date(2025, 3, 1)
    assert dict(zip(queries.TOTAL_COLUMNS, rows["mentor"]))["老带新活动（已确认）"] == 1


def test_totals_follow_scope_org_and_hired_range(county):
    assert set(_totals(county["hr1"])) == {"w1", "w2", "mentor", "tr1"}
    assert set(_totals(county["hr2"])) == {"far"}
    assert set(_totals(county["hr"], org=county["g2"])) == {"far"}
    assert set(_totals(county["hr"], hired_from=dt.date(2025, 1, 1), hired_to=dt.date(2025, 3, 31))) == {"w1"}


@pytest.mark.parametrize("viewer, target, allowed", [
    ("w1", "w1", True), ("w1", "w2", False), ("hr1", "w1", True), ("hr2", "w1", False), ("hr", "far", True),
    ("trainer", "w1", True), ("trainer", "far", False),
])
def test_who_may_view_a_record(county, viewer, target, allowed):
    assert queries.may_view(county[viewer], county[target]) is allowed
