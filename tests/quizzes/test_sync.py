"""`content import` of banks and quizzes: path:line errors, idempotence, versions, retirement, speed."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.contentsync import SyncContext, SyncReport
from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import services, sync
from lms.quizzes.models import Bank, Origin, Question, Quiz

ROOT = Path(__file__).resolve().parents[2]

BANK = """\
bank: demo
title: 演示题库
org: HX
questions:
  - id: demo-1
    type: single
    stem: 第一题
    options: {A: 甲, B: 乙}
    answer: A
    explanation: 因为甲
    source: 规则一
  - id: demo-2
    type: judge
    stem: 第二题
    answer: true
    source: 规则二
"""

QUIZ = """\
code: demo-quiz
title: 演示测验
draw:
  - {bank: demo, count: 2}
time_limit_minutes: 10
pass_score: 60
"""


def _run(questions_dir: Path) -> tuple[SyncReport, SyncContext]:
    ctx = SyncContext(questions_dir.parent / "courses", questions_dir, utcnow())
    report = SyncReport()
    sync.import_banks(ctx, report)
    sync.import_quizzes(ctx, report)
    db.session.commit()
    return report, ctx


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def qdir(tmp_path, tree):
    folder = tmp_path / "question_bank"
    _write(folder, "demo.yaml", BANK)
    _write(folder, "quizzes/demo-quiz.yaml", QUIZ)
    return folder


def test_import_creates_banks_questions_quizzes_and_publishes_quiz_codes(qdir):
    report, ctx = _run(qdir)
    assert report.errors == []
    assert report.counts["题库"]["new"] == 1 and report.counts["题目"]["new"] == 2 and report.counts["测验"]["new"] == 1
    assert ctx.known["quiz_codes"] == {"demo-quiz"}
    question = db.session.execute(sa.select(Question).where(Question.qid == "demo-1")).scalar_one()
    assert (question.version, question.answer, question.options) == (1, "A", {"A": "甲", "B": "乙"})


def test_second_import_is_unchanged(qdir):
    _run(qdir)
    report, ctx = _run(qdir)
    assert report.counts["题目"] == {"unchanged": 2}
    assert report.counts["测验"] == {"unchanged": 1}
    assert ctx.known["quiz_codes"] == {"demo-quiz"}


def test_changed_question_gets_a_new_version_and_a_gone_one_is_retired_not_deleted(qdir):
    _run(qdir)
    changed = BANK.replace("stem: 第一题", "stem: 第一题（修订）").split("  - id: demo-2")[0]
    _write(qdir, "demo.yaml", changed)
    _write(qdir, "quizzes/demo-quiz.yaml", QUIZ.replace("count: 2", "count: 1"))
    report, _ = _run(qdir)
    assert report.errors == []
    assert report.counts["题目"]["updated"] == 1 and report.counts["题目"]["retired"] == 1
    rows = {q.qid: q for q in db.session.execute(sa.select(Question)).scalars()}
    assert rows["demo-1"].version == 2 and rows["demo-1"].stem == "第一题（修订）"
    assert rows["demo-2"].is_retired is True
    quiz = db.session.execute(sa.select(Quiz)).scalar_one()
    assert [q.id for q in services.draw_pools(quiz)["demo"]] == ["demo-1"]


def test_bad_file_is_rejected_whole_with_path_and_line_while_good_files_import(qdir):
    _run(qdir)
    bad = BANK.replace("bank: demo", "bank: broken").replace("demo-", "broken-").replace("answer: A", "answer: C")
    _write(qdir, "broken.yaml", bad)
    _write(qdir, "other.yaml", BANK.replace("bank: demo", "bank: other").replace("demo-", "other-"))
    report, _ = _run(qdir)
    assert [str(e) for e in report.errors] == [
        f"{Path('question_bank') / 'broken.yaml'}:9: 答案 C 不在选项中（A、B）"]
    codes = set(db.session.execute(sa.select(Bank.code)).scalars())
    assert codes == {"demo", "other"}
    assert db.session.query(Question).filter(Question.qid.like("broken-%")).count() == 0


def test_a_question_id_used_by_another_bank_is_an_error_at_its_line(qdir):
    _run(qdir)
    _write(qdir, "copy.yaml", BANK.replace("bank: demo", "bank: copy"))
    report, _ = _run(qdir)
    messages = [str(e) for e in report.errors]
    assert any(m.startswith(str(Path("question_bank") / "copy.yaml") + ":5:") and "demo-1" in m for m in messages)
    assert db.session.execute(sa.select(Bank).where(Bank.code == "copy")).first() is None


def test_unknown_org_and_unsatisfiable_draw_are_errors_with_lines(qdir):
    _write(qdir, "demo.yaml", BANK.replace("org: HX", "org: NOWHERE"))
    _write(qdir, "quizzes/demo-quiz.yaml", QUIZ.replace("count: 2", "count: 3").replace("bank: demo", "bank: nope"))
    report, ctx = _run(qdir)
    messages = [str(e) for e in report.errors]
    assert f"{Path('question_bank') / 'demo.yaml'}:3: 组织编码“NOWHERE”不存在" in messages
    assert any(m.startswith(str(Path("question_bank") / "quizzes" / "demo-quiz.yaml") + ":4:") and "nope" in m
               for m in messages)
    assert ctx.known["quiz_codes"] == set()


def test_browser_edited_question_is_left_alone_and_said_so(qdir):
    _run(qdir)
    row = db.session.execute(sa.select(Question).where(Question.qid == "demo-1")).scalar_one()
    row.origin, row.stem = Origin.web, "网页里改过的题干"
    db.session.commit()
    _write(qdir, "demo.yaml", BANK.replace("stem: 第一题", "stem: 文件里的新题干"))
    report, _ = _run(qdir)
    db.session.refresh(row)
    assert row.stem == "网页里改过的题干"
    assert any("demo-1" in note and "网页" in note for note in report.notes)


def test_bank_and_quiz_files_removed_are_retired(qdir):
    _run(qdir)
    (qdir / "demo.yaml").unlink()
    (qdir / "quizzes" / "demo-quiz.yaml").unlink()
    report, ctx = _run(qdir)
    assert report.counts["题库"]["retired"] == 1 and report.counts["题目"]["retired"] == 2
    assert report.counts["测验"]["retired"] == 1 and ctx.known["quiz_codes"] == set()
    assert db.session.query(Question).count() == 2


def test_shipped_banks_and_quizzes_import_cleanly_and_twice_is_unchanged(tree):
    report, ctx = _run(ROOT / "question_bank")
    assert report.errors == [], "\n".join(map(str, report.errors))
    assert report.counts["题目"]["new"] >= 300
    assert "exam-policy-2026" in ctx.known["quiz_codes"]
    again, _ = _run(ROOT / "question_bank")
    assert set(again.counts["题目"]) == {"unchanged"}


def test_ten_thousand_questions_import_and_reimport_unchanged(tmp_path, tree):
    # How fast is bench/run.py's import row (DESIGN.md: timings belong in bench/, not in tests).
    folder = tmp_path / "question_bank"
    for f in range(10):
        lines = [f"bank: big{f}", f"title: 大题库{f}", "questions:"]
        for n in range(1000):
            lines += [f"  - id: big{f}-{n}", "    type: single", f"    stem: 第 {f}-{n} 题：下列说法哪项正确？",
                      "    options: {A: 选项甲, B: 选项乙, C: 选项丙, D: 选项丁}", "    answer: C",
                      "    explanation: 解析", "    source: 《中华人民共和国社会保险法》第二条",
                      "    difficulty: 2", "    tags: [养老保险]"]
        _write(folder, f"big{f}.yaml", "\n".join(lines) + "\n")
    report, _ = _run(folder)
    assert report.errors == [] and report.counts["题目"]["new"] == 10_000
    again, _ = _run(folder)
    assert again.counts["题目"]["unchanged"] == 10_000 and again.counts["题目"]["new"] == 0
