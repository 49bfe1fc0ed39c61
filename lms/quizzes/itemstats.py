"""Item statistics as Moodle's quiz statistics report computes them.

* facility: mean of mark / max mark over the attempts that had the question (0–1);
* discrimination index: 100 × the Pearson correlation between the question's
  marks and the rest of the test (the attempt's total minus this question),
  with sample (n − 1) variances — Moodle's definition; it reproduces
  ``qstats00.csv`` from ``results00.csv`` of Moodle's own test fixtures;
* option counts: how often each option (or answer) was chosen.

Input rows are plain tuples ``(attempt_id, qid, mark, max_mark, chosen)``;
totals are sums of the question marks of each attempt (API.md).
"""
from __future__ import annotations

import collections
import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class ItemStat:
    """Statistics of one question; ``discrimination`` is None when undefined (no spread)."""

    qid: str
    attempts: int
    facility: float
    discrimination: float | None
    option_counts: dict = dataclasses.field(hash=False)
    unanswered: int = 0
    sd: float | None = None


def _choices(chosen) -> list:
    """What a row's ``chosen`` counts as: one key, several (multiple choice), none (blank)."""
    if chosen is None or chosen == "" or chosen == ():
        return []
    if isinstance(chosen, (set, frozenset, list, tuple)):
        return sorted(str(c) for c in chosen)
    if isinstance(chosen, bool):
        return ["true" if chosen else "false"]
    return [str(chosen)]


def correlation(xs: list[float], ys: list[float]) -> float | None:
    """Pearson correlation with sample variances; None when either side has no spread or n < 2."""
    n = len(xs)
    if n < 2:
        return None
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / (n - 1)
    var_x = sum((x - mean_x) ** 2 for x in xs) / (n - 1)
    var_y = sum((y - mean_y) ** 2 for y in ys) / (n - 1)
    if var_x <= 1e-12 or var_y <= 1e-12:
        return None
    return covariance / math.sqrt(var_x * var_y)


def item_stats(rows) -> dict[str, ItemStat]:
    """Per-question statistics from ``(attempt_id, qid, mark, max_mark, chosen)`` rows, keyed by qid.

    Questions come in order of first appearance. A repeated (attempt, qid) row
    replaces the earlier one.
    """
    per_attempt: dict = collections.defaultdict(dict)
    order: dict[str, None] = {}
    for attempt_id, qid, mark, max_mark, chosen in rows:
        per_attempt[attempt_id][qid] = (float(mark), float(max_mark), chosen)
        order.setdefault(qid, None)
    totals = {a: sum(m for m, _, _ in items.values()) for a, items in per_attempt.items()}

    stats = {}
    for qid in order:
        marks, rests, fractions = [], [], []
        counts: collections.Counter = collections.Counter()
        unanswered = 0
        for attempt_id, items in per_attempt.items():
            if qid not in items:
                continue
            mark, max_mark, chosen = items[qid]
            marks.append(mark)
            rests.append(totals[attempt_id] - mark)
            fractions.append(mark / max_mark if max_mark else 0.0)
            keys = _choices(chosen)
            if not keys:
                unanswered += 1
            counts.update(keys)
        n = len(marks)
        facility = sum(fractions) / n
        sd = None
        if n > 1:
            mean = facility
            sd = math.sqrt(sum((f - mean) ** 2 for f in fractions) / (n - 1))
        r = correlation(marks, rests)
        stats[qid] = ItemStat(
            qid=qid,
            attempts=n,
            facility=facility,
            discrimination=None if r is None else 100.0 * r,
            option_counts=dict(sorted(counts.items())),
            unanswered=unanswered,
            sd=sd,
        )
    return stats


def choice_rows(question, stat: ItemStat) -> list[dict]:
    """What each option of ``question`` drew, as a trainer reads it: ``[{key, text, count, share, correct}]``.

    ``stat.option_counts`` is keyed by the bank's letters (answers already mapped back from each worker's
    shuffled letters), ``true``/``false`` for judge, the answer text for fill. ``share`` is count ÷ the
    attempts that had the question (0–1; multiple choice shares may add up to more than 1).
    """
    from lms.quizzes.grading import get_type

    counts, n = stat.option_counts, stat.attempts or 1
    if question.type in ("single", "multiple"):
        key = question.answer if question.type == "multiple" else {question.answer}
        return [{"key": k, "text": text, "count": counts.get(k, 0), "share": counts.get(k, 0) / n,
                 "correct": k in key} for k, text in question.options.items()]
    if question.type == "judge":
        return [{"key": word, "text": label, "count": counts.get(word, 0), "share": counts.get(word, 0) / n,
                 "correct": question.answer is value}
                for word, label, value in (("true", "正确", True), ("false", "错误", False))]
    rows = []
    for text, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        right = get_type(question.type).is_correct(question, tuple(text.split(" / ")))
        rows.append({"key": "", "text": text, "count": count, "share": count / n, "correct": right})
    return rows
