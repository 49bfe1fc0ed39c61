"""The question banks and quizzes shipped in question_bank/ parse cleanly and fit together."""
from pathlib import Path

import pytest

from lms.contentfile import ContentErrors
from lms.quizzes.draw import check_draws
from lms.quizzes.formats.quiz_file import parse_quiz
from lms.quizzes.formats.yaml_bank import check_unique_ids, parse_bank

ROOT = Path(__file__).resolve().parents[2]
BANK_DIR = ROOT / "question_bank"
#: YAML files beside the banks that hold something else (API.md).
NOT_BANKS = {"taxonomy.yaml", "field_needs.yaml"}  # as lms.quizzes.sync.NOT_BANKS

BANK_FILES = sorted(p for p in BANK_DIR.glob("*.yaml") if p.name not in NOT_BANKS)
QUIZ_FILES = sorted((BANK_DIR / "quizzes").glob("*.yaml"))


def _parse(parser, path: Path):
    try:
        return parser(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), expected_code=path.stem)
    except ContentErrors as exc:
        pytest.fail(f"{path.name} has content errors:\n{exc}")


@pytest.fixture(scope="module")
def banks():
    if not BANK_FILES:
        pytest.skip("no question_bank/*.yaml committed yet")
    return {bank.code: bank for bank in (_parse(parse_bank, path) for path in BANK_FILES)}


@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.name)
def test_shipped_bank_parses_with_questions_and_sources(path):
    bank = _parse(parse_bank, path)
    assert bank.questions, f"{path.name} has no questions"
    missing = [q.id for q in bank.questions if not q.source.strip()]
    assert not missing, f"{path.name}: questions without source: {missing}"


def test_question_ids_are_unique_across_shipped_banks(banks):
    errors = check_unique_ids(banks.values())
    assert not errors, "\n".join(map(str, errors))


@pytest.mark.parametrize("path", QUIZ_FILES, ids=lambda p: p.name)
def test_shipped_quiz_draws_from_existing_banks_with_enough_questions(path, banks):
    spec = _parse(parse_quiz, path)
    problems = check_draws(spec.draws, {code: bank.questions for code, bank in banks.items()})
    assert not problems, f"{path.name}: " + "; ".join(problems)
