"""`content import-bank` / `export-bank`: Moodle fixtures, malformed files, GIFT round trip through the database."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.quizzes.models import Bank, Origin, Question
from lms.quizzes.sync import bank_questions
from tests.quizzes.factories import QUESTIONS, make_bank

ROOT = Path(__file__).resolve().parents[2]
MOODLE = ROOT.parent / "shared" / "fixtures" / "moodle"


def _moodle(name: str) -> Path:
    path = MOODLE / name
    if not path.exists():
        pytest.skip(f"Moodle fixture {name} not found in ../shared/fixtures/moodle")
    return path


def _qids(bank_code: str) -> list[str]:
    return sorted(db.session.execute(sa.select(Question.qid).join(Bank).where(Bank.code == bank_code)).scalars())


def test_moodle_gift_fixture_imports_supported_questions_and_warns_about_the_rest(runner, tree):
    result = runner.invoke(args=["content", "import-bank", str(_moodle("questions.gift.txt")), "--bank", "moodle"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "警告" in line]
    assert warnings and all(":" in w.split("警告")[0] for w in warnings)
    assert any("questions.gift.txt:2:" in w for w in warnings)  # the essay, by its line
    rows = {q.qid: q for q in db.session.execute(sa.select(Question)).scalars()}
    assert rows and all(q.origin == Origin.web and q.text_format in ("plain", "markdown") for q in rows.values())
    types = sorted(q.type for q in rows.values())
    assert "single" in types and "multiple" in types and "judge" in types
    assert all(qid.startswith("moodle-") for qid in rows)


def test_moodle_examples_and_aiken_fixtures_import_without_crashing(runner, tree):
    gift = runner.invoke(args=["content", "import-bank", str(_moodle("examples.gift.txt")), "--bank", "ex",
                               "--format", "gift"])
    assert gift.exit_code == 0, gift.output
    aiken = runner.invoke(args=["content", "import-bank", str(_moodle("questions.aiken.txt")), "--bank", "ak",
                                "--format", "aiken"])
    assert aiken.exit_code == 0, aiken.output
    stems = [q.stem for q in db.session.execute(sa.select(Question).join(Bank).where(Bank.code == "ak")).scalars()]
    assert len(stems) == 2 and any("<html class=\"cool\">" in s for s in stems)


def test_malformed_gift_exits_1_with_path_line_and_imports_nothing(runner, tree, tmp_path):
    path = tmp_path / "bad.gift"
    path.write_text("::ok:: 好题 {=对 ~错}\n\n::bad:: 坏题 {~甲 ~乙}\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import-bank", str(path), "--bank", "bad"])
    assert result.exit_code == 1
    assert f"{path}:3:" in result.stderr
    assert db.session.query(Question).count() == 0 and db.session.query(Bank).count() == 0


def test_unknown_format_and_bad_bank_code_exit_1(runner, tree, tmp_path):
    path = tmp_path / "x.doc"
    path.write_text("x", encoding="utf-8")
    assert runner.invoke(args=["content", "import-bank", str(path), "--bank", "b"]).exit_code == 1
    ok = tmp_path / "x.gift"
    ok.write_text("::a:: 题 {T}\n", encoding="utf-8")
    bad_code = runner.invoke(args=["content", "import-bank", str(ok), "--bank", "Bad Code"])
    assert bad_code.exit_code == 1 and "题库编码" in bad_code.stderr


def test_gift_export_then_import_round_trips_a_bank_through_the_database(runner, tree, tmp_path):
    make_bank("src", QUESTIONS)
    out = tmp_path / "src.gift"
    exported = runner.invoke(args=["content", "export-bank", "src", "--format", "gift", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "// lms: id=t-single;" in out.read_text(encoding="utf-8")
    # Same ids into the same bank: nothing changes.
    again = runner.invoke(args=["content", "import-bank", str(out), "--bank", "src"])
    assert again.exit_code == 0, again.output
    assert "未变 4" in again.output
    # Into an empty database: every field comes back.
    db.session.execute(sa.delete(Question))
    db.session.execute(sa.delete(Bank))
    db.session.commit()
    fresh = runner.invoke(args=["content", "import-bank", str(out), "--bank", "src"])
    assert fresh.exit_code == 0 and "新增 4" in fresh.output
    after = bank_questions(db.session.execute(sa.select(Bank).where(Bank.code == "src")).scalar_one())
    expected = [q.to_dict() for q in sorted(QUESTIONS, key=lambda q: q.id)]
    assert [q.to_dict() for q in after] == expected


def test_export_xlsx_and_unknown_bank(runner, tree, tmp_path):
    make_bank("src", QUESTIONS)
    out = tmp_path / "src.xlsx"
    assert runner.invoke(args=["content", "export-bank", "src", "--format", "xlsx", "-o", str(out)]).exit_code == 0
    assert out.read_bytes()[:2] == b"PK"
    missing = runner.invoke(args=["content", "export-bank", "nope", "--format", "gift", "-o", str(out)])
    assert missing.exit_code == 1 and "nope" in missing.stderr


def test_import_bank_refuses_ids_of_another_bank(runner, tree, tmp_path):
    make_bank("src", QUESTIONS)
    out = tmp_path / "src.gift"
    runner.invoke(args=["content", "export-bank", "src", "--format", "gift", "-o", str(out)])
    result = runner.invoke(args=["content", "import-bank", str(out), "--bank", "other"])
    assert result.exit_code == 1 and "t-single" in result.stderr
    assert _qids("other") == []
