"""Training factories: add, commit, return."""
from __future__ import annotations

import datetime as dt
import decimal
import secrets

from lms.db import utcnow
from lms.extensions import db
from lms.trainings.models import Attendance, AttendanceMethod, Training, TrainingLevel


def make_training(org, trainer, *, level: str = "township", title: str = "矛盾纠纷调解实务", hours="2",
                  starts_at: dt.datetime | None = None, duration: dt.timedelta = dt.timedelta(hours=3),
                  place: str = "镇综治中心会议室", is_cancelled: bool = False) -> Training:
    """A session; by default it started 10 minutes ago (check-in open)."""
    starts_at = starts_at or utcnow() - dt.timedelta(minutes=10)
    training = Training(level=TrainingLevel(level), title=title, starts_at=starts_at, ends_at=starts_at + duration,
                        place=place, trainer=trainer, hours=decimal.Decimal(hours), org=org, created_by=trainer,
                        checkin_secret=secrets.token_hex(16), is_cancelled=is_cancelled)
    db.session.add(training)
    db.session.commit()
    return training


def attend(training, user, method: str = "roll", org=None) -> Attendance:
    """An attendance row as if recorded then (org defaults to the user's unit now)."""
    attendance = Attendance(training=training, user=user, org_id=(org or user.org).id,
                            method=AttendanceMethod(method), recorded_at=training.starts_at)
    db.session.add(attendance)
    db.session.commit()
    return attendance
