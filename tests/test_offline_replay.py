"""What the tablet's outbox (lms/static/js/app.js) sends when the connection returns, sent twice as a lost reply
makes it: every write is recorded once (the record, and the points it earns), whatever the retry."""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from lms.courses.models import LessonProgress
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.mentoring.models import Activity, ActivityStatus
from lms.points.models import PointEntry
from lms.trainings import services as trainings
from lms.trainings.models import Attendance
from tests.courses.factories import make_course
from tests.factories import make_user
from tests.mentoring.factories import log, make_cast, make_pairing
from tests.trainings.factories import make_training


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _points(user) -> int:
    return _count(PointEntry, PointEntry.user_id == user.id)


def test_lesson_completion_replayed_counts_once(api, client, tree):
    worker = make_user("w1", "worker", tree["g1"])
    make_course("county-c", level="county", org="HX", lessons=2)
    db.session.commit()
    api.login("w1")
    body = {"client_id": str(uuid.uuid4())}
    url = "/api/v1/courses/county-c/lessons/l1/complete"
    first = api.post(url, json=body)
    assert first.status_code == 200 and first.get_json()["done"] is True
    points = _points(worker)
    assert api.post(url, json=body).status_code == 200
    # The form's ordinary post after a replay (a second tap once online) adds nothing either.
    assert client.post("/courses/county-c/lessons/l1/complete", data={"csrf_token": api.csrf}).status_code == 302
    assert _count(LessonProgress, LessonProgress.user_id == worker.id, LessonProgress.completed_at.is_not(None)) == 1
    assert _points(worker) == points


def test_check_in_typed_offline_replayed_counts_once(app, api, tree):
    trainer = make_user("tt01", "trainer", tree["t1"])
    worker = make_user("w001", "worker", tree["g1"])
    training = make_training(tree["t1"], trainer)
    typed_at = utcnow() - dt.timedelta(minutes=5)
    code = trainings.current_checkin_code(training, typed_at, secret=app.config["SECRET_KEY"])[0]
    body = {"code": code, "captured_at": typed_at.astimezone(SHANGHAI).isoformat(), "client_id": str(uuid.uuid4())}
    api.login("w001")
    url = f"/api/v1/trainings/{training.id}/checkin"
    assert api.post(url, json=body).status_code == 201
    points = _points(worker)
    again = api.post(url, json=body)
    assert again.status_code == 200, again.get_json()
    assert _count(Attendance, Attendance.user_id == worker.id) == 1
    assert _points(worker) == points


def test_live_check_in_accepts_a_code_two_rotations_old(app, api, tree):
    # Typed online by a slow typist: the code shown 60 s ago still counts (at least two full rotations).
    trainer = make_user("tt01", "trainer", tree["t1"])
    make_user("w001", "worker", tree["g1"])
    training = make_training(tree["t1"], trainer)
    code = trainings.current_checkin_code(training, utcnow() - dt.timedelta(seconds=60),
                                          secret=app.config["SECRET_KEY"])[0]
    api.login("w001")
    response = api.post(f"/api/v1/trainings/{training.id}/checkin", json={"code": code})
    assert response.status_code == 201, response.get_json()


def test_mentoring_confirmation_replayed_counts_once(api, tree):
    cast = make_cast(tree)
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    activity = log(cast["mentor"], pairing)
    api.login("w1")
    url = f"/api/v1/activities/{activity.id}/confirm"
    body = {"client_id": str(uuid.uuid4())}
    assert api.post(url, json=body).status_code == 200
    points = (_points(cast["w1"]), _points(cast["mentor"]))
    again = api.post(url, json=body)
    # The outbox takes this answer for "already recorded" (app.js ACCEPTED_AGAIN) and drops the item.
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_confirmed"
    assert _count(Activity, Activity.id == activity.id, Activity.status == ActivityStatus.confirmed) == 1
    assert (_points(cast["w1"]), _points(cast["mentor"])) == points


def test_mentoring_dispute_replayed_is_recorded_once(api, tree):
    cast = make_cast(tree)
    pairing = make_pairing(cast["mentor"], [cast["w1"]])
    activity = log(cast["mentor"], pairing)
    api.login("w1")
    url = f"/api/v1/activities/{activity.id}/dispute"
    body = {"reason": "当天我在镇里开会", "client_id": str(uuid.uuid4())}
    assert api.post(url, json=body).status_code == 200
    again = api.post(url, json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_disputed"
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).dispute_reason == "当天我在镇里开会"
