"""Progress rows without HTTP: who is concerned, each person's status, progress, best score; scope."""
from __future__ import annotations

import datetime as dt

from lms.accounts.permissions import SYSTEM
from lms.progress import queries
from tests.progress.county import today


def _by_name(rows):
    return {row.username: row for row in rows}


def test_course_rows_count_assigned_workers_with_status(county):
    target = queries.resolve_target("course", "c-duties")
    rows = queries.progress_rows(county["people"]["hr"], target)
    by = _by_name(rows)
    # role-bound to workers: hr and trainer are not concerned, the disabled worker neither
    assert set(by) == {"gl01", "w001", "w002", "w003", "w004", "w005", "w006"}
    assert by["w001"].status == "done" and (by["w001"].done, by["w001"].total) == (2, 2)
    assert by["w002"].status == "overdue" and by["w002"].done == 1
    assert by["w006"].status == "overdue" and by["w006"].due == today() - dt.timedelta(days=5)
    assert by["w001"].last_activity is not None and by["w003"].last_activity is None
    assert queries.summarize(rows) == {"not_started": 0, "in_progress": 0, "done": 2, "overdue": 5}


def test_course_due_in_future_is_not_started_until_begun(county):
    rows = queries.progress_rows(SYSTEM, queries.resolve_target("course", "c-ss"))
    assert queries.summarize(rows) == {"not_started": 5, "in_progress": 0, "done": 1, "overdue": 0}
    assert {r.username for r in rows} == {"hr02", "tt01", "gl01", "w001", "w002", "w003"}


def test_quiz_rows_have_best_score_and_attempts(county):
    rows = _by_name(queries.progress_rows(SYSTEM, queries.resolve_target("quiz", "q-exam")))
    assert rows["w004"].status == "done" and rows["w004"].best_score == 100 and rows["w004"].done == 2
    assert rows["w004"].total == 3
    assert rows["w002"].status == "in_progress" and rows["w002"].best_score == 25
    assert rows["w003"].status == "not_started" and rows["w003"].best_score is None
    assert queries.summarize(list(rows.values())) == {"not_started": 4, "in_progress": 1, "done": 2, "overdue": 0}


def test_assignment_target_is_that_assignment(county):
    target = queries.resolve_target("assignment", str(county["a2"].id))
    assert target.course.code == "c-ss" and "社保政策" in target.label
    rows = queries.progress_rows(SYSTEM, target)
    assert len(rows) == 6 and all(r.due == county["a2"].due_on for r in rows)


def test_program_rows_use_the_certification_rules(county):
    from lms.certification.models import Program
    from lms.extensions import db
    db.session.add(Program(code="pg-basic", title="上岗证", valid_months=24,
                           requires={"courses": ["c-duties"], "quizzes": {"q-exam": 60}}))
    db.session.commit()
    rows = _by_name(queries.progress_rows(SYSTEM, queries.resolve_target("program", "pg-basic")))
    assert (rows["w001"].done, rows["w001"].total) == (2, 2) and rows["w001"].status == "in_progress"
    assert (rows["w002"].done, rows["w002"].status) == (0, "not_started")
    assert "hr01" not in rows  # programs concern grid workers (worker, grid leader)


def test_scope_one_township_over_sees_nobody_from_the_other(county):
    target = queries.resolve_target("course", "c-duties")
    rows = queries.progress_rows(county["people"]["hr_t1"], target)
    assert {r.username for r in rows} == {"gl01", "w001", "w002", "w003"}
    leader_rows = queries.progress_rows(county["people"]["leader"], target)
    assert {r.org_code for r in leader_rows} == {"HX010101"}
    assert queries.progress_rows(county["people"]["w4"], target) == []  # a worker holds no progress scope


def test_org_filter_and_status_filter(county):
    target = queries.resolve_target("course", "c-duties")
    rows = queries.progress_rows(SYSTEM, target, county["tree"]["t2"])
    assert {r.username for r in rows} == {"w004", "w005"}
    assert [r.username for r in queries.filter_rows(rows, "overdue")] == ["w005"]
    assert [r.username for r in queries.filter_rows(rows, "unfinished")] == ["w005"]


def test_unknown_targets_are_none(county):
    assert queries.resolve_target("course", "nope") is None
    assert queries.resolve_target("assignment", "abc") is None
    assert queries.resolve_target("assignment", "999999") is None
    assert queries.resolve_target("lesson", "x") is None
