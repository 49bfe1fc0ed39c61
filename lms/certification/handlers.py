"""Evaluate a holder's programs when the points feature has counted one of their events."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from lms.certification import content, queries, services
from lms.extensions import db
from lms.points.models import PointKind
from lms.points.signals import event_counted

log = logging.getLogger(__name__)


def on_event_counted(user, *, kind=None, entry=None, now=None, quiz_code=None, **_):
    """Issue what the holder now meets; a failure here must not undo the learner's own action."""
    if getattr(user, "id", None) is None:
        return []
    try:
        programs = None
        if kind == PointKind.quiz_pass and quiz_code:
            # Left by lms.courses' receiver of the same pass (it ran first); taken in any case, never stale.
            quiz_courses = db.session.info.pop(("courses_of_quiz", quiz_code), None)
            programs = queries.list_programs()
            if not _quiz_pass_may_issue(user, quiz_code, entry, programs, now, quiz_courses):
                return []
        with db.session.begin_nested():
            return services.evaluate_holder(user, now=now, programs=programs)
    except Exception:  # tasks run evaluates again; the lesson/quiz/drill the learner did stays saved
        log.exception("certification evaluation failed for user %s", getattr(user, "username", "?"))
        return []


def _quiz_pass_may_issue(user, quiz_code: str, entry, programs, now, quiz_courses: set[str] | None) -> bool:
    """Whether passing ``quiz_code`` can make the holder newly meet a program (else the full evaluation,
    ~12 statements on every passing submit of an exam, is skipped).

    A pass changes three facts only: the quiz's best score, the points (when its entry is worth some) and
    the courses whose final quiz it is (completed by lms.courses before this runs). A program none of
    them touches met or missed its rules before this event as it does now, so it cannot be newly met;
    the full evaluation runs when a touched program's required certificates are all held (it then also
    issues what follows from a newly issued one). The nightly `tasks run` still evaluates everyone.
    """
    if not programs:
        return False
    points_changed = entry is not None and (getattr(entry, "points", 0) or 0) > 0
    rule_programs = [queries.as_rule_program(p) for p in programs]

    def touched(program: content.Program) -> bool:
        nonlocal quiz_courses
        req = program.requires
        if quiz_code in req.quizzes or (points_changed and req.points):
            return True
        if not req.courses:
            return False
        if quiz_courses is None:
            quiz_courses = _courses_of_quiz(quiz_code)
        return bool(quiz_courses.intersection(req.courses))

    touched_programs = [p for p in rule_programs if not p.requires.is_empty and touched(p)]
    if not touched_programs:
        return False
    held = queries.valid_program_codes(user, today=queries.local_today(now))
    return any(p.code not in held and all(code in held for code in p.requires.certificates)
               for p in touched_programs)


def _courses_of_quiz(quiz_code: str) -> set[str]:
    """Codes of the courses whose final quiz this is (none when the courses feature is absent)."""
    table = db.metadata.tables.get("courses")
    if table is None or "quiz_code" not in table.c:
        return set()
    return set(db.session.scalars(sa.select(table.c.code).where(table.c.quiz_code == quiz_code)))


def connect() -> None:
    """Listen after points: the ledger already holds the event's points when rules are evaluated."""
    event_counted.connect(on_event_counted, weak=False)
