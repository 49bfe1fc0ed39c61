"""The in-memory question: one frozen value shared by every parser, the grader and the draw.

Canonical answers (``Question.answer``):

=========  ==========================================================
single     ``"B"``
multiple   ``frozenset({"A", "C"})``
judge      ``True`` / ``False``
fill       ``(("养老保险", "养老"), ("十五",))`` — accepted answers per blank
=========  ==========================================================

``answer_to_json`` / ``answer_from_json`` convert to and from the JSON form the
API and a database JSON column use (multiple → sorted list, fill → list of lists).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re

#: Option keys in display order; a question has 2 to 6 options.
OPTION_KEYS = ("A", "B", "C", "D", "E", "F")

#: The four question types, in the order forms and exports list them.
TYPE_NAMES = ("single", "multiple", "judge", "fill")

TEXT_FORMATS = ("markdown", "plain")

#: Question ids go into URLs (/attempts/<id>/answers/<qid>), so keep them URL-safe.
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

#: A blank: four or more underscores, or empty parentheses (full- or half-width).
BLANK_RE = re.compile(r"_{4,}|[（(][ \t\u3000]*[）)]")

#: The marker parsers insert when a format puts the blank somewhere else (GIFT).
BLANK = "____"


@dataclasses.dataclass(frozen=True)
class Question:
    """One question as parsed from a file; ``line`` is where it starts in that file."""

    id: str
    type: str
    stem: str
    # A dict keeps A..F order; excluded from hashing because dicts are unhashable.
    options: dict = dataclasses.field(default_factory=dict, hash=False)
    answer: object = None
    explanation: str = ""
    source: str = ""
    difficulty: int = 3
    tags: tuple = ()
    text_format: str = "markdown"
    # Where the question starts in its file: for messages, not part of its identity.
    line: int = dataclasses.field(default=0, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready content of the question (no ``line``), e.g. for storage or comparison."""
        return {
            "id": self.id,
            "type": self.type,
            "stem": self.stem,
            "options": dict(self.options),
            "answer": answer_to_json(self.type, self.answer),
            "explanation": self.explanation,
            "source": self.source,
            "difficulty": self.difficulty,
            "tags": list(self.tags),
            "text_format": self.text_format,
        }

    def fingerprint(self) -> str:
        """Stable hash of the content, so an importer can skip unchanged questions."""
        payload = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def count_blanks(stem: str) -> int:
    """Number of blanks (``____`` or ``（ ）``/``( )``) in a fill question's stem."""
    return len(BLANK_RE.findall(stem or ""))


def split_blanks(stem: str) -> list[str]:
    """The stem's text around its blanks: ``count_blanks(stem) + 1`` pieces, for rendering inputs."""
    return BLANK_RE.split(stem or "")


def answer_to_json(qtype: str, answer):
    """Canonical answer → JSON value (multiple: sorted list; fill: list of lists)."""
    if answer is None:
        return None
    if qtype == "multiple":
        return sorted(answer)
    if qtype == "fill":
        return [list(alternatives) for alternatives in answer]
    return answer


def answer_from_json(qtype: str, data):
    """JSON value written by ``answer_to_json`` → canonical answer."""
    if data is None:
        return None
    if qtype == "multiple":
        return frozenset(data)
    if qtype == "fill":
        return tuple(tuple(alternatives) for alternatives in data)
    return data


def question_from_dict(data: dict, line: int = 0) -> Question:
    """Rebuild a Question from ``Question.to_dict()`` output (e.g. a stored row)."""
    return Question(
        id=data["id"],
        type=data["type"],
        stem=data["stem"],
        options=dict(data.get("options") or {}),
        answer=answer_from_json(data["type"], data.get("answer")),
        explanation=data.get("explanation") or "",
        source=data.get("source") or "",
        difficulty=int(data.get("difficulty") or 3),
        tags=tuple(data.get("tags") or ()),
        text_format=data.get("text_format") or "markdown",
        line=line,
    )


class IdAllocator:
    """Generates ``<bank>-<n>`` ids (n from 1) for questions that came without one."""

    def __init__(self, bank: str, taken=()):
        self.bank = bank
        self.taken = set(taken)
        self._n = 0

    def reserve(self, qid: str) -> None:
        """Mark an id found in the file as taken so no generated id repeats it."""
        self.taken.add(qid)

    def next(self) -> str:
        """The next free generated id."""
        while True:
            self._n += 1
            candidate = f"{self.bank}-{self._n}"
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate
