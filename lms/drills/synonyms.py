"""The checker learns from trainers: a trainer's accepting override proposes the worker's words (pure).

When a trainer accepts a report the ``key_facts`` rule returned, the worker
said the fact in words the drill's synonym list lacks ("他妈说拿他没办法" for
管不住). For each fact still missing from the report (read against the drill's
current definition, so a synonym added since no longer shows), the clause of
the worker's free text that shares most characters with the fact's name and
synonyms is proposed, cut to ``MAX_WORDS`` characters around the shared part.
The trainer edits the words before adding them: a browser-authored drill takes
them with one click (a new version, audited), a file drill gets a YAML snippet
to paste into its file.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping

import yaml

from lms.drills.content import Drill, Fact
from lms.drills.rules import missing_facts, normalize_report

MAX_WORDS = 12
MAX_SYNONYM_CHARS = 40
_CLAUSE = re.compile(r"[。；;！!？?\n,，、：:（）()]+")
#: characters too common to say two phrases are alike
_COMMON = set("的了是在有和与及也都就还又不没无一个人我他她它们这那里上下到说把被对着过")
_FIELDS = ("parties", "description", "demand", "measures", "location", "occurred_at")


@dataclasses.dataclass(frozen=True)
class Proposal:
    """Words the worker used for a fact the checker missed."""

    fact: str
    words: str  # "" when no clause resembles the fact: the trainer types the words
    synonyms: tuple[str, ...]  # the fact's synonyms now

    def yaml_snippet(self) -> str:
        """The fact as it would read in the drill file with the words added (to paste over the old entry)."""
        words = [*self.synonyms, *([self.words] if self.words else [])]
        return yaml.safe_dump([{"name": self.fact, "any": words}], allow_unicode=True, sort_keys=False,
                              default_flow_style=None, width=1000)


def _chars(text: str) -> set[str]:
    return {ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum() and ch not in _COMMON}


def _best_window(clause: str, target: set[str]) -> str:
    if len(clause) <= MAX_WORDS:
        return clause
    best, best_score = clause[:MAX_WORDS], -1
    for start in range(0, len(clause) - MAX_WORDS + 1):
        window = clause[start:start + MAX_WORDS]
        score = len(_chars(window) & target)
        if score > best_score:
            best, best_score = window, score
    return best


def words_for(fact: Fact, report: Mapping[str, str]) -> str:
    """The worker's clause most like the fact (its name and synonyms), cut to MAX_WORDS; "" when none shares a character."""
    target = _chars(fact.name + "".join(fact.any))
    best, best_score = "", 0
    for name in _FIELDS:
        for clause in _CLAUSE.split(report.get(name, "")):
            clause = clause.strip()
            score = len(_chars(clause) & target)
            if clause and score > best_score:
                best, best_score = clause, score
    return _best_window(best, target) if best else ""


def propose(report, drill: Drill) -> list[Proposal]:
    """A proposal per fact of ``drill`` the report does not state in any known words."""
    fields = normalize_report(report)
    return [Proposal(fact.name, words_for(fact, fields), tuple(fact.any)) for fact in missing_facts(fields, drill)]


def check_synonym(words) -> str:
    """The words as a synonym, or ValueError with the Chinese reason."""
    if not isinstance(words, str) or not words.strip():
        raise ValueError("请填写要加入的说法")
    words = words.strip()
    if len(words) > MAX_SYNONYM_CHARS:
        raise ValueError(f"说法太长：最多 {MAX_SYNONYM_CHARS} 个字，请只保留表达这个要点的几个字")
    if re.search(r"[\n\r\t、,，;；]", words):
        raise ValueError("一次只加一个说法：不要包含换行或顿号、逗号、分号")
    return words
