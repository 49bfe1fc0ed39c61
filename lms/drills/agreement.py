"""Agreement of the automatic checks with reports labelled by a human reviewer (pure).

A labelled corpus (``tests/data/drill_corpus/<drill>.yaml``) holds reports as
workers write them, each with the reviewer's verdict and the exact set of
rules that must fail. ``compare`` runs the engine on every report of one split
and measures:

* exact agreement: the verdict matches AND the failed rules equal the label;
* verdict agreement: only accepted/returned matches;
* the confusion by rule: per rule, reports where both failed it (true fail),
  where only the engine failed it (false fail: a report returned for nothing)
  and where only the reviewer failed it (missed fail).

Nothing here reads the database: drills are passed in as parsed ``Drill``
objects, however the caller loaded them (files or the importer's stored
definitions).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import ClassVar
from pathlib import Path

from lms.contentfile import ContentError, ContentErrors, load_yaml
from lms.drills.content import FORM_FIELDS, RULE_NAMES, Drill
from lms.drills.rules import evaluate

SPLITS = ("tune", "holdout")
VERDICTS = ("accepted", "returned")


@dataclasses.dataclass(frozen=True)
class LabelledReport:
    """One report of the corpus with the reviewer's label."""

    id: str
    drill: str
    split: str
    verdict: str
    failing: frozenset[str]
    report: Mapping[str, str]
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The engine's reading of one labelled report."""

    case: LabelledReport
    verdict: str
    failed: frozenset[str]

    @property
    def verdict_agrees(self) -> bool:
        return self.verdict == self.case.verdict

    @property
    def agrees(self) -> bool:
        return self.verdict_agrees and self.failed == self.case.failing


@dataclasses.dataclass(frozen=True)
class RuleConfusion:
    """Per rule: both failed it / only the engine did / only the reviewer did."""

    rule: str
    true_fail: int = 0
    false_fail: int = 0
    missed_fail: int = 0


@dataclasses.dataclass(frozen=True)
class Agreement:
    """Agreement of the engine with the labels on one split."""

    split: str
    outcomes: tuple[Outcome, ...]
    #: the rules the confusion is counted over (the consultation drills' subclass has its own)
    rule_names: ClassVar[tuple[str, ...]] = RULE_NAMES

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def exact(self) -> int:
        return sum(o.agrees for o in self.outcomes)

    @property
    def verdict(self) -> int:
        return sum(o.verdict_agrees for o in self.outcomes)

    @property
    def exact_rate(self) -> float:
        return self.exact / self.total if self.total else 0.0

    @property
    def verdict_rate(self) -> float:
        return self.verdict / self.total if self.total else 0.0

    @property
    def disagreements(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.agrees)

    def confusion(self) -> tuple[RuleConfusion, ...]:
        rows = []
        for rule in self.rule_names:
            tp = sum(rule in o.failed and rule in o.case.failing for o in self.outcomes)
            fp = sum(rule in o.failed and rule not in o.case.failing for o in self.outcomes)
            fn = sum(rule not in o.failed and rule in o.case.failing for o in self.outcomes)
            rows.append(RuleConfusion(rule, tp, fp, fn))
        return tuple(rows)


def check_label(item: dict, bad, rule_names, what: str) -> list[str]:
    """Check one labelled item's id, split, verdict and failing rules (each problem to ``bad(message, key)``);
    returns the failing rules (empty when they are not a list of rule_names)."""
    failing, verdict = item.get("failing") or [], item.get("verdict")
    if not isinstance(item.get("id"), str) or not item.get("id"):
        bad("缺少 id", "id")
    if item.get("split") not in SPLITS:
        bad(f"split 只能是 {' 或 '.join(SPLITS)}", "split")
    if verdict not in VERDICTS:
        bad(f"verdict 只能是 {' 或 '.join(VERDICTS)}", "verdict")
    if not isinstance(failing, list) or any(rule not in rule_names for rule in failing):
        bad(f"failing 必须是规则名列表（可用：{'、'.join(rule_names)}）", "failing")
        failing = []
    if (verdict == "accepted") != (not failing):
        bad(f"verdict 与 failing 不一致：通过的{what}不能有不通过的规则，退回的{what}至少列一条", "failing")
    return failing


def parse_corpus_file(text: str, path: str) -> list[LabelledReport]:
    """One corpus file (``drill`` and ``reports``); raise ContentErrors with lines on a bad label."""
    data, loc = load_yaml(text, path)
    errors: list[ContentError] = []
    if not isinstance(data, dict) or not isinstance(data.get("drill"), str) or not isinstance(data.get("reports"), list):
        raise ContentErrors([ContentError(path, 1, "语料文件必须包含 drill（演练代码）和 reports（报告列表）")])
    drill = data["drill"]
    cases = []
    for i, item in enumerate(data["reports"]):
        def bad(message, *key):
            errors.append(ContentError(path, loc.line("reports", i, *key), message))

        if not isinstance(item, dict):
            bad(f"第{i + 1}份报告必须是映射")
            continue
        ident, split, verdict = item.get("id"), item.get("split"), item.get("verdict")
        failing, report = check_label(item, bad, RULE_NAMES, "报告"), item.get("report")
        if not isinstance(report, dict) or any(key not in FORM_FIELDS for key in report):
            bad(f"report 必须是表单字段的映射（可用：{'、'.join(FORM_FIELDS)}）", "report")
            continue
        cases.append(LabelledReport(ident, drill, split, verdict, frozenset(failing),
                                    {k: "" if v is None else str(v) for k, v in report.items()},
                                    str(item.get("note") or "")))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        errors.append(ContentError(path, 1, "报告 id 重复"))
    if errors:
        raise ContentErrors(errors)
    return cases


def load_corpus(folder: Path) -> list[LabelledReport]:
    """Every ``*.yaml`` file of the corpus folder, in file order."""
    cases = []
    for path in sorted(Path(folder).glob("*.yaml")):
        cases.extend(parse_corpus_file(path.read_text(encoding="utf-8"), str(path)))
    return cases


def compare(cases: Iterable[LabelledReport], drills: Mapping[str, Drill], split: str) -> Agreement:
    """Run the engine on every report of ``split`` and compare it with the labels."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    outcomes = []
    for case in cases:
        if case.split != split:
            continue
        drill = drills.get(case.drill)
        if drill is None:
            raise KeyError(f"corpus report {case.id} names drill {case.drill!r}, which is not loaded")
        evaluation = evaluate(dict(case.report), drill)
        outcomes.append(Outcome(case, evaluation.verdict, frozenset(c.rule for c in evaluation.failed)))
    return Agreement(split, tuple(outcomes))


def format_agreement(agreement: Agreement, *, details: bool = False) -> str:
    """Plain-text summary: agreement figures, the confusion by rule, optionally each disagreement."""
    lines = [
        f"split {agreement.split}: {agreement.total} reports",
        f"exact agreement   {agreement.exact}/{agreement.total} = {agreement.exact_rate:.1%}",
        f"verdict agreement {agreement.verdict}/{agreement.total} = {agreement.verdict_rate:.1%}",
        "",
        f"{'rule':<22}{'true fail':>10}{'false fail':>12}{'missed fail':>13}",
    ]
    for row in agreement.confusion():
        lines.append(f"{row.rule:<22}{row.true_fail:>10}{row.false_fail:>12}{row.missed_fail:>13}")
    if details:
        lines.append("")
        for outcome in agreement.disagreements:
            extra = sorted(outcome.failed - outcome.case.failing)
            missed = sorted(outcome.case.failing - outcome.failed)
            lines.append(f"{outcome.case.id}: engine {outcome.verdict}, label {outcome.case.verdict}; "
                         f"extra {extra or '-'}, missed {missed or '-'}")
    return "\n".join(lines)
