"""The worker's report beside the drill's model report, field by field (pure: no app, no database).

Shown once the model report is unlocked (API.md "Drills, more rules"): after a
report of the worker's on this drill was accepted, or after their second
return. Each field gets a status and both texts cut into segments, the parts
the other side does not have marked, so the template only renders.

* Select fields (event type, department, urgency): equal or not; a choice the
  answer key also accepts (an overlapping type, a second department, one
  urgency level above) is "accepted, though not the model's".
* Text fields: a character diff (``difflib``, no junk heuristic) after folding
  full-width characters and spaces. Runs shorter than ``MIN_RUN`` characters
  that both sides share are not shown as shared: "的" in common says nothing.
  Texts longer than ``MAX_DIFF_CHARS`` are compared as wholes (the diff is
  quadratic; a 10,000-character paste must not stall the page).
"""
from __future__ import annotations

import dataclasses
import difflib
import unicodedata
from collections.abc import Iterable, Mapping

from lms.drills.content import FIELD_LABELS, FORM_FIELDS

SELECT_FIELDS = ("event_type", "department", "urgency")
MIN_RUN = 2
MAX_DIFF_CHARS = 2000

#: status -> what the worker reads
STATUS_LABELS = {
    "same": "与示范一致",
    "accepted": "与示范不同，但也可以",
    "different": "与示范不同",
    "missing": "你没有填写",
    "extra": "示范报告没有写这一栏",
}


@dataclasses.dataclass(frozen=True)
class Segment:
    """A piece of one side's text; ``marked``: the other side does not have it."""

    text: str
    marked: bool = False


@dataclasses.dataclass(frozen=True)
class FieldComparison:
    """One row of the comparison."""

    name: str
    label: str
    status: str
    worker: tuple[Segment, ...]
    model: tuple[Segment, ...]
    messages: tuple[str, ...] = ()  # the failed checks' messages at this field

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def differs(self) -> bool:
        return self.status != "same"


def model_unlocked(verdicts: Iterable[str]) -> bool:
    """Whether the worker may see the model report: one report accepted, or two returned (current verdicts)."""
    verdicts = list(verdicts)
    return "accepted" in verdicts or verdicts.count("returned") >= 2


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def diff_segments(worker: str, model: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Both texts as segments; what only one side says is marked on that side."""
    if not worker or not model:
        return ((Segment(worker, bool(worker)),) if worker else ()), ((Segment(model, bool(model)),) if model else ())
    if len(worker) > MAX_DIFF_CHARS or len(model) > MAX_DIFF_CHARS:
        same = _fold(worker) == _fold(model)
        return (Segment(worker, not same),), (Segment(model, not same),)
    matcher = difflib.SequenceMatcher(None, worker, model, autojunk=False)
    shared = [(a, b, size) for a, b, size in matcher.get_matching_blocks() if size >= MIN_RUN]
    return _cut(worker, [(a, size) for a, _, size in shared]), _cut(model, [(b, size) for _, b, size in shared])


def _cut(text: str, shared: list[tuple[int, int]]) -> tuple[Segment, ...]:
    segments, at = [], 0
    for start, size in shared:
        if start > at:
            segments.append(Segment(text[at:start], True))
        segments.append(Segment(text[start:start + size], False))
        at = start + size
    if at < len(text):
        segments.append(Segment(text[at:], True))
    merged: list[Segment] = []
    for segment in segments:  # neighbours with the same mark read as one piece
        if merged and merged[-1].marked == segment.marked:
            merged[-1] = Segment(merged[-1].text + segment.text, segment.marked)
        else:
            merged.append(segment)
    return tuple(merged)


def _select_status(worker: str, model: str, accepted: Iterable[str]) -> str:
    if _fold(worker) == _fold(model):
        return "same"
    return "accepted" if _fold(worker) in {_fold(a) for a in accepted} else "different"


def compare_reports(worker: Mapping, model: Mapping, *, checks: Iterable[Mapping] = (),
                    accepted: Mapping[str, Iterable[str]] | None = None) -> list[FieldComparison]:
    """The nine fields of ``worker`` beside ``model`` (both as typed).

    ``checks`` are the report's stored checks (their failed messages are shown at their field);
    ``accepted`` lists, per select field, the other values the answer key accepts.
    """
    accepted = accepted or {}
    messages: dict[str, list[str]] = {name: [] for name in FORM_FIELDS}
    for check in checks or ():
        if isinstance(check, Mapping) and not check.get("passed") and check.get("field") in messages:
            messages[check["field"]].append(str(check.get("message") or ""))
    rows = []
    for name in FORM_FIELDS:
        mine, theirs = _text(worker.get(name)), _text(model.get(name))
        if not mine and not theirs:
            continue
        if not mine:
            status = "missing"
        elif not theirs:
            status = "extra"
        elif name in SELECT_FIELDS:
            status = _select_status(mine, theirs, accepted.get(name, ()))
        else:
            status = "same" if _fold(mine) == _fold(theirs) else "different"
        if name in SELECT_FIELDS or status in ("same", "missing", "extra"):
            marked = status not in ("same", "accepted")
            left = (Segment(mine, marked and bool(mine)),) if mine else ()
            right = (Segment(theirs, marked and bool(theirs)),) if theirs else ()
        else:
            left, right = diff_segments(mine, theirs)
        rows.append(FieldComparison(name, FIELD_LABELS[name], status, left, right, tuple(messages[name])))
    return rows


def accepted_alternatives(answer) -> dict[str, tuple[str, ...]]:
    """What the answer key accepts besides the model's own choice, per select field (``content.Answer``)."""
    from lms.drills.rules import URGENCY_ORDER  # rules imports content; this module stays import-light

    urgencies = (answer.urgency,)
    if answer.urgency in URGENCY_ORDER and URGENCY_ORDER.index(answer.urgency) + 1 < len(URGENCY_ORDER):
        urgencies += (URGENCY_ORDER[URGENCY_ORDER.index(answer.urgency) + 1],)
    return {"event_type": tuple(answer.accepted_types), "department": tuple(answer.departments),
            "urgency": urgencies}
