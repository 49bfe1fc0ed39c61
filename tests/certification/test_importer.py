"""certifications.yaml import: shipped file, path:line errors, idempotent sync, retirement, point rules."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.certification import importer
from lms.certification.models import Program
from lms.contentsync import SyncContext, SyncReport
from lms.extensions import db
from lms.points.models import PointKind, PointRule

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 6, 3, tzinfo=dt.timezone.utc)


def _run(courses_dir: Path, known=None) -> SyncReport:
    ctx = SyncContext(courses_dir, ROOT / "question_bank", NOW, known=known or {})
    report = SyncReport()
    importer.import_certifications(ctx, report)
    db.session.commit()
    return report


@pytest.fixture
def unchecked(monkeypatch):
    """Course/quiz references are checked by the features that own them; here only the file is tested."""
    monkeypatch.setattr(importer, "known_codes", lambda ctx: (None, None))


def test_shipped_file_imports_programs_and_point_rules(app, unchecked):
    report = _run(ROOT / "courses")
    assert report.errors == []
    programs = {p.code: p for p in db.session.scalars(sa.select(Program))}
    assert set(programs) == {"WG-SG", "STAR-1", "STAR-2", "STAR-3", "STAR-4", "STAR-5"}
    assert programs["WG-SG"].valid_months == 36 and programs["WG-SG"].star is None
    assert programs["STAR-5"].star == 5 and programs["STAR-1"].requires["certificates"] == ["WG-SG"]
    assert programs["WG-SG"].requires["quizzes"] == {"quiz-grid-duties": 60, "quiz-event-reporting": 60}
    rules = {r.kind: r.points for r in db.session.scalars(sa.select(PointRule))}
    assert rules[PointKind.quiz_pass] == 5 and rules[PointKind.mentoring_activity] == 4
    assert report.counts["认证项目"]["new"] == 6
    again = _run(ROOT / "courses")
    assert again.counts["认证项目"]["unchanged"] == 6 and again.counts["积分规则"]["unchanged"] == 1


def test_shipped_file_references_exist_when_courses_and_quizzes_are_imported(app):
    """With the real course and quiz codes every reference of the shipped file resolves."""
    codes = {"course_codes": {p.name for p in (ROOT / "courses").iterdir() if (p / "course.md").exists()},
             "quiz_codes": {p.stem for p in (ROOT / "question_bank" / "quizzes").glob("*.yaml")}}
    if not codes["quiz_codes"]:
        pytest.skip("no shipped quizzes in this checkout")
    report = _run(ROOT / "courses", known=codes)
    assert report.errors == [], [str(e) for e in report.errors]


def test_bad_file_reports_path_and_line_and_imports_nothing(app, monkeypatch):
    monkeypatch.setattr(importer, "known_codes", lambda ctx: ({"county-grid-duties"}, {"quiz-grid-duties"}))
    report = _run(ROOT / "tests" / "data" / "certification" / "bad")
    messages = [str(e) for e in report.errors]
    assert any(m.startswith("bad/certifications.yaml:5:") and "valid_months" in m
               for m in messages), messages
    assert any(":7:" in m and "no-such-course" in m for m in messages), messages
    assert db.session.scalar(sa.select(sa.func.count(Program.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(PointRule.id))) == 0


def test_missing_file_is_a_note_not_an_error(app, tmp_path):
    report = _run(tmp_path)
    assert report.errors == [] and "certifications.yaml" in report.notes[0]


def test_not_utf8_is_reported(app, tmp_path):
    (tmp_path / "certifications.yaml").write_bytes("programs: []\n# 注释".encode("gbk"))
    report = _run(tmp_path)
    assert report.errors and "UTF-8" in report.errors[0].message


def test_program_gone_from_the_file_is_retired_and_comes_back(app, tmp_path, unchecked):
    shutil.copy(ROOT / "courses" / "certifications.yaml", tmp_path / "certifications.yaml")
    _run(tmp_path)
    text = (tmp_path / "certifications.yaml").read_text(encoding="utf-8")
    start = text.index("  # 五星")
    end = text.index("# 积分规则")
    (tmp_path / "certifications.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    report = _run(tmp_path)
    assert report.counts["认证项目"]["retired"] == 1
    assert db.session.scalar(sa.select(Program).where(Program.code == "STAR-5")).is_retired
    (tmp_path / "certifications.yaml").write_text(text, encoding="utf-8")
    assert _run(tmp_path).counts["认证项目"]["updated"] == 1
    assert not db.session.scalar(sa.select(Program).where(Program.code == "STAR-5")).is_retired


def test_known_codes_come_from_the_database_tables_when_present(app):
    courses, quizzes = importer.known_codes(SyncContext(ROOT, ROOT, NOW, known={"quiz_codes": {"q-x"}}))
    if "quizzes" in db.metadata.tables:
        assert "q-x" in quizzes
    if "courses" not in db.metadata.tables:
        assert courses is None


def test_content_import_command_registers_the_certification_step(app):
    from lms.contentsync import _IMPORTERS
    assert (60, "certifications", importer.import_certifications) in _IMPORTERS
