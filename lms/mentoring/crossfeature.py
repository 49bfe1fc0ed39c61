"""Guarded reads of features built alongside mentoring (courses, quizzes, drills).

Each function returns None when the other feature (or the function) is not
there, so the dashboard and the outcomes degrade to "—" instead of failing.
The contracts we call:
``lms.drills.queries.return_rate(user, start=None, end=None) -> float | None`` (start/end aware datetimes),
``lms.quizzes.queries.best_scores(user) -> {code: score}``,
``lms.courses.queries.my_learning(user, today) -> [{course, complete, overdue, …}]``,
``lms.drills.models.DrillReport``.
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging

log = logging.getLogger(__name__)


def _optional(module: str, name: str):
    # Late import on purpose: these features may not be installed yet, and they are built concurrently.
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _call(module: str, name: str, *args):
    fn = _optional(module, name)
    if fn is None:
        return None
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001  (another feature's bug must not break the mentor's page)
        log.exception("%s.%s failed", module, name)
        return None


def return_rate(user, start: dt.datetime | None = None, end: dt.datetime | None = None) -> float | None:
    """Share of user's drill reports returned (0–1) in [start, end), or None when unknown."""
    if start is None and end is None:
        value = _call("lms.drills.queries", "return_rate", user)
    else:
        value = _call("lms.drills.queries", "return_rate", user, start, end)
    return float(value) if isinstance(value, (int, float)) else None


def best_scores(user):
    """The user's best quiz scores as the quizzes feature returns them, or None."""
    return _call("lms.quizzes.queries", "best_scores", user)


def course_progress(user, today: dt.date | None = None) -> dict | None:
    """{"done": assigned courses complete, "total": assigned, "overdue": [titles]} or None when courses are absent."""
    summary = _call("lms.courses.queries", "progress_summary", user)
    if summary is not None:
        return summary
    cards = _call("lms.courses.queries", "my_learning", user, today)
    if not isinstance(cards, list):
        return None
    return {"done": sum(1 for c in cards if c.get("complete")), "total": len(cards),
            "overdue": [getattr(c.get("course"), "title", "") for c in cards if c.get("overdue")]}


def drill_report_owner_id(report_id: int) -> int | None | bool:
    """The user id of a drill report; False when it does not exist; None when drills are not installed."""
    model = _optional("lms.drills.models", "DrillReport")
    if model is None:
        return None
    from lms.extensions import db  # late: keeps this module importable without an app

    report = db.session.get(model, report_id)
    if report is None:
        return False
    return getattr(report, "user_id", None)
