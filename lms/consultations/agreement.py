"""Agreement of the consultation checks with answers labelled by a human reviewer (pure).

The labelled corpus (``tests/data/consultation_corpus/<code>.yaml``: ``consultation`` and ``answers``, each
answer with ``id``, ``split`` tune|holdout, ``verdict``, the exact ``failing`` rules, ``note`` and the
``answer`` text) is measured exactly as the report-drill corpus is (``lms.drills.agreement``: exact and
verdict agreement, the confusion by rule); only the file format and the rule names differ.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from lms.consultations.content import RULE_NAMES, Consultation
from lms.consultations.rules import evaluate
from lms.contentfile import ContentError, ContentErrors, load_yaml
# One agreement measure and report for both drill kinds.
from lms.drills.agreement import SPLITS, Agreement, LabelledReport, Outcome, check_label
from lms.drills.agreement import format_agreement  # noqa: F401  (re-exported: works on any Agreement)


class ConsultationAgreement(Agreement):
    """Agreement on one split, its confusion over the consultation rules."""

    rule_names = RULE_NAMES


def parse_corpus_file(text: str, path: str) -> list[LabelledReport]:
    """One corpus file; raise ContentErrors with lines on a bad label."""
    data, loc = load_yaml(text, path)
    if not isinstance(data, dict) or not isinstance(data.get("consultation"), str) \
            or not isinstance(data.get("answers"), list):
        raise ContentErrors([ContentError(path, 1, "语料文件必须包含 consultation（答询代码）和 answers（回答列表）")])
    code = data["consultation"]
    errors, cases = [], []
    for i, item in enumerate(data["answers"]):
        def bad(message, *key):
            errors.append(ContentError(path, loc.line("answers", i, *key), message))

        if not isinstance(item, dict):
            bad(f"第{i + 1}个回答必须是映射")
            continue
        ident, split, verdict = item.get("id"), item.get("split"), item.get("verdict")
        failing, answer = check_label(item, bad, RULE_NAMES, "回答"), item.get("answer")
        if answer is None:
            answer = ""
        if not isinstance(answer, str):
            bad("answer 必须是一段文字", "answer")
            continue
        cases.append(LabelledReport(str(ident), code, split, verdict, frozenset(failing), {"answer": answer},
                                    str(item.get("note") or "")))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        errors.append(ContentError(path, 1, "回答 id 重复"))
    if errors:
        raise ContentErrors(errors)
    return cases


def load_corpus(folder: Path) -> list[LabelledReport]:
    """Every ``*.yaml`` file of the corpus folder, in file order."""
    cases = []
    for path in sorted(Path(folder).glob("*.yaml")):
        cases.extend(parse_corpus_file(path.read_text(encoding="utf-8"), str(path)))
    return cases


def compare(cases: Iterable[LabelledReport], items: Mapping[str, Consultation], split: str) -> ConsultationAgreement:
    """Run the checks on every answer of ``split`` and compare them with the labels."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    outcomes = []
    for case in cases:
        if case.split != split:
            continue
        item = items.get(case.drill)
        if item is None:
            raise KeyError(f"corpus answer {case.id} names consultation {case.drill!r}, which is not loaded")
        evaluation = evaluate(case.report["answer"], item)
        outcomes.append(Outcome(case, evaluation.verdict, frozenset(c.rule for c in evaluation.failed)))
    return ConsultationAgreement(split, tuple(outcomes))
