"""Mentoring test data: a demo-shaped cast (HR, an eligible mentor, new workers) and pairings."""
from __future__ import annotations

import datetime as dt

from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.mentoring import services
from lms.accounts.permissions import SYSTEM
from tests.factories import make_user

TODAY = utcnow().astimezone(SHANGHAI).date()


def days(n: int) -> dt.date:
    """TODAY shifted by n days."""
    return TODAY + dt.timedelta(days=n)


def make_cast(tree) -> dict:
    """hr (county), hr1 (township 1), mentor (t1, hired 2015), new workers w1/w2/w3 in g1, far worker in g2."""
    return {
        "hr": make_user("hr", "hr", tree["county"], name="李红梅"),
        "hr1": make_user("hr1", "hr", tree["t1"], name="周敏"),
        "hr2": make_user("hr2", "hr", tree["t2"], name="城关人事"),
        "mentor": make_user("mentor", ["worker", ("mentor", tree["t1"])], tree["g1"], name="赵德山",
                            hired_on=dt.date(2015, 6, 1), birth_date=dt.date(1971, 3, 14), education="高中"),
        "w1": make_user("w1", "worker", tree["g1"], name="张小明", hired_on=days(-60),
                        birth_date=dt.date(1998, 7, 19), education="大专"),
        "w2": make_user("w2", "worker", tree["g1"], name="王小红", hired_on=days(-30)),
        "w3": make_user("w3", "worker", tree["g1"], name="刘小刚", hired_on=days(-10)),
        "far": make_user("far", "worker", tree["g2"], name="吴海涛", hired_on=days(-20)),
    }


def make_pairing(mentor, mentees, start=None, end=None, goals="熟悉入户走访", actor=SYSTEM, now=None):
    """A pairing made by the system actor and committed."""
    pairing = services.create_pairing(actor, mentor, list(mentees), start or days(-30), end or days(150), goals,
                                      now=now)
    db.session.commit()
    return pairing


def log(mentor, pairing, now=None, **fields):
    """An activity logged and committed (defaults: shadowing yesterday, 90 minutes)."""
    data = {"kind": "shadowing", "date": days(-1).isoformat(), "minutes": 90, "notes": "跟岗入户走访 12 户",
            **fields}
    activity, _ = services.log_activity(mentor, pairing, data, now=now)
    db.session.commit()
    return activity
