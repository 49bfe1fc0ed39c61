"""Receivers of lms.signals: each relevant event earns points once, then event_counted is sent."""
from __future__ import annotations

import sqlalchemy as sa

from lms import signals
from lms.extensions import db
from lms.points import services
from lms.points.models import PointKind
from lms.points.signals import event_counted


def _title(obj, *names, default: str = "") -> str:
    """The first non-empty attribute among names (features are built apart: be lenient)."""
    for name in names:
        value = getattr(obj, name, None)
        if value:
            return str(value)
    return default


def _quiz_title(code: str | None) -> str | None:
    """The quiz's title from the quizzes table when that feature is installed (the signal carries the code)."""
    table = db.metadata.tables.get("quizzes")
    if not code or table is None or "title" not in table.c:
        return None
    return db.session.scalar(sa.select(table.c.title).where(table.c.code == code))


def _num(value) -> str:
    return f"{float(value):g}"


def _finish(user, kind, entry, now, **facts):
    event_counted.send(user, kind=kind, entry=entry, now=now, **facts)
    return entry


def on_lesson_completed(user, *, lesson=None, course=None, now=None, **_):
    course_title = _title(course, "title", "code")
    lesson_title = _title(lesson, "title", "slug", default="课时")
    reason = f"完成课时《{lesson_title}》" + (f"（课程《{course_title}》）" if course_title else "")
    source = _title(lesson, "id", "slug", default="?")
    if not getattr(lesson, "id", None) and course is not None:
        source = f"{_title(course, 'code', 'id')}/{source}"
    entry = services.award(user, PointKind.lesson_complete, reason=reason, source_type="lesson", source_id=source,
                           now=now)
    return _finish(user, PointKind.lesson_complete, entry, now)


def on_quiz_passed(user, *, now=None, attempt=None, quiz_code=None, score=None, attempt_id=None, **_):
    """Points once per quiz and person, like drills: passing the same quiz again earns nothing, or a worker with
    attempts left could retake a passed quiz for stars."""
    # API.md's signal carries the attempt; the quizzes feature may also pass its fields directly.
    attempt_id = attempt_id or getattr(attempt, "id", None)
    quiz = getattr(attempt, "quiz", None)
    quiz_code = quiz_code or _title(quiz, "code")
    score = score if score is not None else getattr(attempt, "score", None)
    label = _title(quiz, "title") or _quiz_title(quiz_code) or quiz_code or "测验"
    reason = f"通过测验《{label}》" + (f"（{_num(score)} 分）" if score is not None else "")
    if quiz_code:
        source_type, source_id = "quiz", quiz_code
    else:  # an attempt without its quiz (should not happen): at least once per attempt
        source_type, source_id = "quiz_attempt", attempt_id if attempt_id is not None else "?"
    entry = services.award(user, PointKind.quiz_pass, reason=reason, source_type=source_type,
                           source_id=source_id, now=now)
    return _finish(user, PointKind.quiz_pass, entry, now, quiz_code=quiz_code)


def on_drill_accepted(user, *, report=None, now=None, **_):
    """Points once per drill and person: a second accepted report of the same drill earns nothing."""
    drill = getattr(report, "drill", None)
    label = _title(drill, "title", "code")
    reason = "模拟事件上报被采纳" + (f"（{label}）" if label else "")
    drill_id = getattr(report, "drill_id", None) or getattr(drill, "id", None)
    if drill_id is not None:
        source_type, source_id = "drill", drill_id
    else:  # a report without its drill (should not happen): at least once per report
        source_type, source_id = "drill_report", _title(report, "id", default="?")
    entry = services.award(user, PointKind.drill_accepted, reason=reason, source_type=source_type,
                           source_id=source_id, now=now)
    return _finish(user, PointKind.drill_accepted, entry, now)


def on_consultation_accepted(user, *, answer=None, now=None, **_):
    """Points once per consultation and person, like drills: a second accepted answer earns nothing."""
    consultation = getattr(answer, "consultation", None)
    label = _title(consultation, "title", "code")
    reason = "政策答询回答通过" + (f"（{label}）" if label else "")
    source_id = getattr(answer, "consultation_id", None) or getattr(consultation, "id", None)
    entry = services.award(user, PointKind.consultation_accepted, reason=reason, source_type="consultation",
                           source_id=source_id if source_id is not None else _title(answer, "id", default="?"),
                           now=now)
    return _finish(user, PointKind.consultation_accepted, entry, now)


def on_attendance_recorded(user, *, training=None, hours=0, now=None, **_):
    hours = float(hours or 0)
    label = _title(training, "title", default="线下培训")
    entry = services.award(user, PointKind.training_hour, quantity=hours,
                           reason=f"参加培训《{label}》{_num(hours)} 学时", source_type="training",
                           source_id=_title(training, "id", default="?"), now=now)
    return _finish(user, PointKind.training_hour, entry, now)


def on_activity_confirmed(user, *, activity=None, now=None, **_):
    when = getattr(activity, "date", None)
    reason = "老带新活动已确认" + (f"（{when}）" if when else "")
    entry = services.award(user, PointKind.mentoring_activity, reason=reason, source_type="mentoring_activity",
                           source_id=_title(activity, "id", default="?"), now=now)
    return _finish(user, PointKind.mentoring_activity, entry, now)


def connect() -> None:
    """Subscribe to the feature signals (weak=False: module functions live for the process anyway)."""
    signals.lesson_completed.connect(on_lesson_completed, weak=False)
    signals.quiz_passed.connect(on_quiz_passed, weak=False)
    signals.drill_accepted.connect(on_drill_accepted, weak=False)
    signals.consultation_accepted.connect(on_consultation_accepted, weak=False)
    signals.attendance_recorded.connect(on_attendance_recorded, weak=False)
    signals.activity_confirmed.connect(on_activity_confirmed, weak=False)
