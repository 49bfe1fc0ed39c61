"""Gather a holder's facts from the other features' query functions.

Those features are built separately; a query function that does not exist
(yet) counts as "no data" for its fact, and `missing_sources()` names it.
"""
from __future__ import annotations

import importlib
import logging

from lms.certification.rules import HolderFacts

log = logging.getLogger(__name__)

#: (module, function) -> what HolderFacts gets from it
SOURCES = (
    ("lms.courses.queries", "completed_course_codes"),
    ("lms.courses.queries", "completed_credit_hours"),
    ("lms.trainings.queries", "attended_hours"),
    ("lms.quizzes.queries", "best_scores"),
    ("lms.drills.queries", "accepted_count"),
    ("lms.mentoring.queries", "confirmed_activity_count"),
)


def _source(module: str, name: str):
    """The query function, or None when its module or the function is not there."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # Only the module itself being absent means "no data"; a broken import inside it is a bug to show.
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise
    return getattr(mod, name, None)


def missing_sources() -> list[str]:
    """The query functions not available in this build, as module.function."""
    return [f"{m}.{n}" for m, n in SOURCES if _source(m, n) is None]


def _call(module: str, name: str, user, default):
    fn = _source(module, name)
    if fn is None:
        return default
    result = fn(user)
    return default if result is None else result


def holder_facts(user, *, today=None) -> HolderFacts:
    """Everything the rules count for ``user`` now (points and certificates from this app's own tables)."""
    # Late imports: queries import models that register in init_app.
    from lms.certification.queries import valid_program_codes
    from lms.points.queries import total_points

    hours = float(_call("lms.courses.queries", "completed_credit_hours", user, 0) or 0)
    hours += float(_call("lms.trainings.queries", "attended_hours", user, 0) or 0)
    return HolderFacts(
        completed_courses=frozenset(_call("lms.courses.queries", "completed_course_codes", user, frozenset())),
        quiz_scores=dict(_call("lms.quizzes.queries", "best_scores", user, {})),
        drills_accepted=int(_call("lms.drills.queries", "accepted_count", user, 0)),
        training_hours=hours,
        mentoring_activities=int(_call("lms.mentoring.queries", "confirmed_activity_count", user, 0)),
        points=total_points(user),
        valid_certificates=frozenset(valid_program_codes(user, today=today)),
    )
