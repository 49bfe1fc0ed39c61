"""Evaluate a holder's programs when the points feature has counted one of their events."""
from __future__ import annotations

import logging

from lms.certification import services
from lms.extensions import db
from lms.points.signals import event_counted

log = logging.getLogger(__name__)


def on_event_counted(user, *, now=None, **_):
    """Issue what the holder now meets; a failure here must not undo the learner's own action."""
    if getattr(user, "id", None) is None:
        return []
    try:
        with db.session.begin_nested():
            return services.evaluate_holder(user, now=now)
    except Exception:  # tasks run evaluates again; the lesson/quiz/drill the learner did stays saved
        log.exception("certification evaluation failed for user %s", getattr(user, "username", "?"))
        return []


def connect() -> None:
    """Listen after points: the ledger already holds the event's points when rules are evaluated."""
    event_counted.connect(on_event_counted, weak=False)
