"""Test data for training needs, remediation, outcomes and field points: events written straight to field_events."""
from __future__ import annotations

import datetime as dt
import itertools

from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.field.models import FieldEvent
from lms.field.needs import NEEDS, Training, store

TODAY = utcnow().astimezone(SHANGHAI).date()
_numbers = itertools.count(1)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def add_events(user, specs, *, day: dt.date | None = None, satisfaction=None) -> list[FieldEvent]:
    """specs: [(count, result, reason)], reported on ``day`` (default: 10 days ago) at 10:00 Beijing time."""
    day = day or days(-10)
    at = dt.datetime.combine(day, dt.time(10), SHANGHAI)
    events = []
    for count, result, reason in specs:
        for _ in range(count):
            number = f"SJ{next(_numbers):08d}"
            events.append(FieldEvent(number=number, user_id=user.id, org_id=user.org_id, reported_at=at,
                                     event_type="矛盾纠纷", result=result, return_reason=reason,
                                     satisfaction=satisfaction))
    db.session.add_all(events)
    db.session.commit()
    return events


NEEDS_MAP = {
    "描述不清": Training(drills=("night-construction-noise", "neighbor-water-leak"), courses=("county-event-reporting",)),
    "要素不全": Training(drills=("gas-leak-smell",), courses=("county-event-reporting",)),
    "信息不实": Training(drills=("unpaid-wages",)),
    "分类错误": Training(drills=("square-dance-noise",)),
    "部门错误": Training(drills=("unpaid-wages",), consultations=("dibao-application",)),
    "超时": Training(drills=("road-collapse",), courses=("county-event-reporting",)),
    "重复": Training(drills=("street-vending",)),
}


def seed_needs():
    assert set(NEEDS_MAP) == set(NEEDS)
    store(NEEDS_MAP)
    db.session.commit()
