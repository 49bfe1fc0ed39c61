"""Gather a holder's facts from the other features' query functions.

Those features are built separately; a query function that does not exist
(yet) counts as "no data" for its fact, and `missing_sources()` names it.
"""
from __future__ import annotations

import importlib
import logging

import datetime as dt

import sqlalchemy as sa

from lms.certification.rules import Counted, HolderFacts

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


def window_start(today: dt.date, months: int) -> dt.datetime:
    """Start of the last ``months`` months before ``today`` (local midnight of the same day N months back)."""
    from lms.certification.services import add_months  # late: services import this module
    from lms.db import SHANGHAI

    return dt.datetime.combine(add_months(today, -months) + dt.timedelta(days=1), dt.time(), SHANGHAI)


def program_windows() -> set[int]:
    """The within_months values of the programs in force (the windows worth counting)."""
    from lms.certification.models import Program

    return {int(req["within_months"]) for req in db_scalars(sa.select(Program.requires)
                                                            .where(Program.is_retired.is_(False)))
            if isinstance(req, dict) and req.get("within_months")}


def db_scalars(statement):
    from lms.extensions import db

    return list(db.session.scalars(statement))


def counted_since(user, since: dt.datetime) -> Counted:
    """The counted facts of ``user`` since ``since``: best scores of attempts started then, distinct drills
    accepted (reports made then), hours of courses completed and sessions attended then, confirmed
    mentoring activities dated then. A feature not built counts nothing."""
    from lms.extensions import db

    scores: dict[str, float] = {}
    drills = 0
    hours = 0.0
    mentoring = 0
    try:
        from lms.quizzes.models import Attempt, Quiz
        from lms.quizzes.queries import GRADED
    except ModuleNotFoundError:
        pass
    else:
        scores = {code: float(score) for code, score in db.session.execute(
            sa.select(Quiz.code, sa.func.max(Attempt.score)).join(Quiz, Quiz.id == Attempt.quiz_id)
            .where(Attempt.user_id == user.id, Attempt.status.in_(GRADED), Attempt.score.is_not(None),
                   Attempt.started_at >= since).group_by(Quiz.code))}
    accepted = _source("lms.drills.queries", "accepted_count")
    if accepted is not None:
        drills = int(accepted(user, since=since) or 0)
    try:
        from lms.courses.models import Course, CourseEnrollment
    except ModuleNotFoundError:
        pass
    else:
        hours += float(db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Course.hours), 0))
            .join(CourseEnrollment, CourseEnrollment.course_id == Course.id)
            .where(CourseEnrollment.user_id == user.id, CourseEnrollment.completed_at >= since)) or 0)
    try:
        from lms.trainings.models import Attendance, Training
    except ModuleNotFoundError:
        pass
    else:
        hours += float(db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Training.hours), 0))
            .join(Attendance, Attendance.training_id == Training.id)
            .where(Attendance.user_id == user.id, Training.is_cancelled.is_(False),
                   Training.starts_at >= since)) or 0)
    try:
        from lms.mentoring.models import Activity, ActivityStatus, Pairing
    except ModuleNotFoundError:
        pass
    else:
        mentoring = int(db.session.scalar(
            sa.select(sa.func.count()).select_from(Activity).join(Pairing, Pairing.id == Activity.pairing_id)
            .where(Activity.status == ActivityStatus.confirmed, Activity.date >= since.date(),
                   sa.or_(Activity.mentee_id == user.id, Pairing.mentor_id == user.id))) or 0)
    return Counted(quiz_scores=scores, drills_accepted=drills, training_hours=hours, mentoring_activities=mentoring)


def holder_facts(user, *, today=None, windows=None) -> HolderFacts:
    """Everything the rules count for ``user`` now (points and certificates from this app's own tables).

    ``windows``: the within_months values to count the recent facts for (default: those of the programs
    in force)."""
    # Late imports: queries import models that register in init_app.
    from lms.certification.queries import valid_program_codes
    from lms.points.queries import total_points

    from lms.certification.queries import local_today

    day = today or local_today()
    windows = program_windows() if windows is None else windows
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
        windows={months: counted_since(user, window_start(day, months)) for months in sorted(windows)},
    )
