"""Certification rules: does a holder meet a program, and what is still missing.

Pure: the caller gathers the facts (``HolderFacts``) from the database and
gets back an item-by-item ``Evaluation`` a worker can read (「完成课程《…》」).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from lms.certification.content import Program, dependency_order

# Item kinds, in the order items are listed.
COURSE = "course"
QUIZ = "quiz"
DRILLS = "drills_accepted"
TRAINING_HOURS = "training_hours"
MENTORING = "mentoring_activities"
POINTS = "points"
CERTIFICATE = "certificate"


@dataclasses.dataclass(frozen=True)
class Counted:
    """The counted facts (content.COUNTED_FACTS) over the last N months only."""

    quiz_scores: Mapping[str, float] = dataclasses.field(default_factory=dict)
    drills_accepted: int = 0
    training_hours: float = 0
    mentoring_activities: int = 0


@dataclasses.dataclass(frozen=True)
class HolderFacts:
    """What one person has achieved, as counted by the caller at evaluation time."""

    completed_courses: frozenset[str] = frozenset()
    quiz_scores: Mapping[str, float] = dataclasses.field(default_factory=dict)  # quiz code -> best score
    drills_accepted: int = 0
    training_hours: float = 0  # online course hours + in-person session hours
    mentoring_activities: int = 0  # confirmed activities as mentor or mentee
    points: int = 0
    valid_certificates: frozenset[str] = frozenset()  # program codes of certificates valid now
    #: within_months -> the counted facts of the last N months (for programs with ``within_months``)
    windows: Mapping[int, Counted] = dataclasses.field(default_factory=dict)

    def counted(self, within_months: int | None) -> Counted:
        """The counted facts a program with this window sees (all time when None or not gathered)."""
        if within_months and within_months in self.windows:
            return self.windows[within_months]
        return Counted(self.quiz_scores, self.drills_accepted, self.training_hours, self.mentoring_activities)


@dataclasses.dataclass(frozen=True)
class Item:
    """One requirement: ``required``/``actual`` are numbers, or booleans for courses and certificates."""

    kind: str
    key: str
    label_zh: str
    required: object
    actual: object
    met: bool


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The verdict for one program and every requirement behind it."""

    program: str
    met: bool
    items: list[Item]

    @property
    def missing(self) -> list[Item]:
        """The requirements not yet met, in display order."""
        return [item for item in self.items if not item.met]


def _num(value: float) -> str:
    # 8.0 -> "8", 7.5 -> "7.5": trainers write whole numbers, so show them that way.
    return f"{value:g}" if isinstance(value, float) else str(value)


def evaluate(
    program: Program,
    facts: HolderFacts,
    *,
    course_titles: Mapping[str, str] | None = None,
    quiz_titles: Mapping[str, str] | None = None,
    program_titles: Mapping[str, str] | None = None,
) -> Evaluation:
    """Check every requirement of ``program`` against ``facts``; titles default to codes."""
    course_titles = course_titles or {}
    quiz_titles = quiz_titles or {}
    program_titles = program_titles or {}
    req = program.requires
    items: list[Item] = []
    counted = facts.counted(req.within_months)
    # Windowed facts say so: 「近 12 个月」.
    recent = f"近 {req.within_months} 个月" if req.within_months else ""

    for code in req.certificates:
        held = code in facts.valid_certificates
        items.append(Item(CERTIFICATE, code, f"持有有效的《{program_titles.get(code, code)}》证书", True, held, held))
    for code in req.courses:
        done = code in facts.completed_courses
        items.append(Item(COURSE, code, f"完成课程《{course_titles.get(code, code)}》", True, done, done))
    for code, minimum in req.quizzes.items():
        best = counted.quiz_scores.get(code)
        met = best is not None and best >= minimum
        items.append(Item(QUIZ, code, f"{recent}测验《{quiz_titles.get(code, code)}》成绩达到 {_num(minimum)} 分",
                          minimum, best, met))
    counts = (
        (DRILLS, req.drills_accepted, counted.drills_accepted, recent + "模拟事件上报被采纳 {n} 次"),
        (TRAINING_HOURS, req.training_hours, counted.training_hours,
         (recent + "培训学时达到 {n} 学时") if recent else "培训学时累计达到 {n} 学时"),
        (MENTORING, req.mentoring_activities, counted.mentoring_activities, recent + "已确认的老带新活动达到 {n} 次"),
        (POINTS, req.points, facts.points, "积分达到 {n} 分"),
    )
    for kind, required, actual, template in counts:
        if required:
            items.append(Item(kind, kind, template.format(n=_num(required)), required, actual, actual >= required))

    return Evaluation(program=program.code, met=all(item.met for item in items), items=items)


def star_level(valid_programs: Iterable[Program]) -> int:
    """The highest star among the programs of a holder's valid certificates (0 when none)."""
    return max((p.star for p in valid_programs if p.star), default=0)


def newly_met(programs: list[Program], facts: HolderFacts) -> list[Program]:
    """Programs met now but not held, in dependency order.

    A program met here counts as held for the ones after it, so one pass can
    issue 上岗证 and then a star level that requires it. A program that
    requires nothing is left to HR (manual issue), never issued to everyone.
    """
    held = set(facts.valid_certificates)
    result = []
    for program in dependency_order(programs):
        if program.code in held or program.requires.is_empty:
            continue
        if evaluate(program, dataclasses.replace(facts, valid_certificates=frozenset(held))).met:
            held.add(program.code)
            result.append(program)
    return result
