"""The checker learns from trainers, for consultations (pure): when a trainer accepts an answer the ``key_points``
rule returned, each point still missed (against the consultation's current definition) gets the worker's clause
most like it as a proposed phrasing — the report drills' proposal (lms.drills.synonyms), read over the answer."""
from __future__ import annotations

import dataclasses

from lms.consultations.content import Consultation
from lms.consultations.rules import RULES, clean_answer, fold
from lms.drills.synonyms import Proposal, words_for


def missing_points(answer: str, item: Consultation):
    """The points the key_points rule finds missing in the answer (the rule run on each point alone)."""
    rule = RULES["key_points"]
    text = clean_answer(answer)
    folded = fold(text)
    return [p for p in item.points if not rule.check(text, folded, dataclasses.replace(item, points=(p,))).passed]


def propose(answer: str, item: Consultation) -> list[Proposal]:
    """A proposal per point the answer does not state in any known words."""
    return [Proposal(p.name, words_for(p, {"description": answer}), tuple(p.any)) for p in missing_points(answer, item)]
