"""Drawing a paper and shuffling options: pure, reproducible with a seeded ``random.Random``.

A stored paper keeps, per question, the ``key_map`` (display key → original
key) so an answer given in display letters can be graded against the bank's
key (``to_original``) and the correct answer shown in the learner's letters
(``to_display``).
"""
from __future__ import annotations

import dataclasses
import random

from lms.quizzes.grading import get_type
from lms.quizzes.questions import OPTION_KEYS, Question, count_blanks, question_from_dict


class DrawError(ValueError):
    """A draw cannot be made (pool too small, unknown bank); the message is Chinese."""


@dataclasses.dataclass(frozen=True)
class PaperItem:
    """One question on a drawn paper, options in display order.

    ``options`` is ``[(display_key, text), …]``; ``key_map`` maps display key →
    the bank's key (identity when options are not shuffled, empty for judge/fill).
    """

    question: Question
    bank: str
    options: list = dataclasses.field(hash=False)
    key_map: dict = dataclasses.field(hash=False)

    @property
    def qid(self) -> str:
        return self.question.id

    def public(self) -> dict:
        """What the learner's client may see before submission: no answer, no explanation."""
        data = {
            "qid": self.question.id,
            "type": self.question.type,
            "stem": self.question.stem,
            "text_format": self.question.text_format,
            "options": [{"key": key, "text": text} for key, text in self.options],
        }
        if self.question.type == "fill":
            data["blanks"] = count_blanks(self.question.stem)
        return data

    def to_stored(self) -> dict:
        """JSON to keep with the attempt: enough, with the question, to rebuild the item."""
        return {"qid": self.question.id, "bank": self.bank, "key_map": dict(self.key_map)}


def item_from_stored(data: dict, question: Question) -> PaperItem:
    """Rebuild a PaperItem from ``PaperItem.to_stored()`` and the (current) question."""
    key_map = dict(data.get("key_map") or {})
    options = [(display, question.options[original]) for display, original in sorted(key_map.items())]
    return PaperItem(question=question, bank=data["bank"], options=options, key_map=key_map)


def answer_slot(item: PaperItem) -> dict:
    """What autosave checks an answer against, without the paper: type, display keys or blanks."""
    question = item.question
    slot = {"type": question.type}
    if question.type in ("single", "multiple"):
        slot["keys"] = "".join(sorted(item.key_map))
    elif question.type == "fill":
        slot["blanks"] = max(1, count_blanks(question.stem))
    return slot


def paper_slots(paper: list[dict]) -> dict[str, dict]:
    """qid → answer_slot of every item of a stored paper (attempts started before the column existed)."""
    return {data["qid"]: answer_slot(item_from_stored(data, question_from_dict(data["question"])))
            for data in paper}


def matches(draw, question: Question) -> bool:
    """True when a question fits a draw's tag and difficulty filters."""
    if draw.tags and not set(draw.tags) & set(question.tags):
        return False
    if draw.difficulty and question.difficulty not in draw.difficulty:
        return False
    return True


def pool(draw, questions) -> list[Question]:
    """The questions a draw may pick from, sorted by id so a seed gives the same paper."""
    return sorted((q for q in questions if matches(draw, q)), key=lambda q: q.id)


def _describe(draw, titles: dict | None = None) -> str:
    parts = [f"题库《{titles[draw.bank]}》" if titles and draw.bank in titles else f"题库 {draw.bank}"]
    if draw.tags:
        parts.append(f"标签 {'、'.join(draw.tags)}")
    if draw.difficulty:
        parts.append(f"难度 {'、'.join(map(str, draw.difficulty))}")
    return "，".join(parts)


def check_draws(spec_draws, questions_by_bank, titles: dict | None = None) -> list[str]:
    """Problems that could make a draw fail (unknown bank, pool too small), empty when every draw always succeeds.

    ``titles`` ({bank code: name}) names the banks as a page shows them; files' messages keep the codes.

    Draws from one bank never repeat a question, so each draw is checked
    against the worst case: earlier draws took as many of its questions as they could.
    """
    problems = []
    for index, draw in enumerate(spec_draws):
        if draw.bank not in questions_by_bank:
            problems.append(f"第 {index + 1} 条抽题规则引用了不存在的题库 {draw.bank}")
            continue
        ids = {q.id for q in pool(draw, questions_by_bank[draw.bank])}
        taken = 0
        for earlier in spec_draws[:index]:
            if earlier.bank == draw.bank and earlier.bank in questions_by_bank:
                overlap = ids & {q.id for q in pool(earlier, questions_by_bank[earlier.bank])}
                taken += min(earlier.count, len(overlap))
        available = len(ids) - taken
        if available < draw.count:
            problems.append(
                f"第 {index + 1} 条抽题规则（{_describe(draw, titles)}）要抽 {draw.count} 题，"
                f"符合条件的题只有 {len(ids)} 道" + (f"，其中最多 {taken} 道可能已被前面的规则抽走" if taken else "")
            )
    return problems


def shuffle_options(question: Question, rng: random.Random) -> tuple[list, dict]:
    """Options in a random order relabelled A, B, …: ``([(display_key, text)], {display_key: original_key})``."""
    original = list(question.options)
    rng.shuffle(original)
    display = [(OPTION_KEYS[i], question.options[key]) for i, key in enumerate(original)]
    return display, {OPTION_KEYS[i]: key for i, key in enumerate(original)}


def _in_order(question: Question) -> tuple[list, dict]:
    return list(question.options.items()), {key: key for key in question.options}


def choose(spec_draws, questions_by_bank, rng: random.Random) -> list[tuple[str, object]]:
    """Pick each draw's count at random from its pool, never a question twice: ``[(bank, question)]`` in draw order.

    Only ``id``, ``tags`` and ``difficulty`` of the questions are read, so the caller
    may pass light pool entries and load just the chosen questions in full.
    Raises DrawError when a pool is too small.
    """
    chosen: set[str] = set()
    picked = []
    for index, draw in enumerate(spec_draws):
        if draw.bank not in questions_by_bank:
            raise DrawError(f"第 {index + 1} 条抽题规则引用了不存在的题库 {draw.bank}")
        candidates = [q for q in pool(draw, questions_by_bank[draw.bank]) if q.id not in chosen]
        if len(candidates) < draw.count:
            raise DrawError(
                f"第 {index + 1} 条抽题规则（{_describe(draw)}）要抽 {draw.count} 题，只剩 {len(candidates)} 道可抽"
            )
        for question in rng.sample(candidates, draw.count):
            chosen.add(question.id)
            picked.append((draw.bank, question))
    return picked


def lay_out(picked, rng: random.Random, *, shuffle: bool = False) -> list[PaperItem]:
    """Chosen full questions ``[(bank, Question)]`` as paper items, options shuffled when asked."""
    paper = []
    for bank, question in picked:
        options, key_map = shuffle_options(question, rng) if shuffle else _in_order(question)
        paper.append(PaperItem(question=question, bank=bank, options=options, key_map=key_map))
    return paper


def draw_paper(spec_draws, questions_by_bank, rng: random.Random, *, shuffle: bool = False) -> list[PaperItem]:
    """Draw a paper: each draw's count at random from its pool, never a question twice.

    ``questions_by_bank`` maps bank code → questions (retired ones left out by the
    caller). Items come in draw order. Raises DrawError when a pool is too small.
    """
    return lay_out(choose(spec_draws, questions_by_bank, rng), rng, shuffle=shuffle)


def to_original(question: Question, raw_answer, key_map: dict):
    """A raw answer in display letters → canonical answer in the bank's letters (None when unreadable)."""
    answer = get_type(question.type).normalize(raw_answer)
    if answer is None or not key_map or question.type not in ("single", "multiple"):
        return answer
    if question.type == "single":
        return key_map.get(answer)
    if not answer <= key_map.keys():
        return None
    return frozenset(key_map[key] for key in answer)


def to_display(question: Question, answer, key_map: dict):
    """A canonical answer in the bank's letters → the learner's display letters."""
    if answer is None or not key_map or question.type not in ("single", "multiple"):
        return answer
    back = {original: display for display, original in key_map.items()}
    if question.type == "single":
        return back[answer]
    return frozenset(back[key] for key in answer)
