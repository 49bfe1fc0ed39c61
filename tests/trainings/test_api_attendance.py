"""Roll call and self check-in through the API: idempotence, the rotating code, the window, scope."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.db import utcnow
from lms.extensions import db
from lms.trainings import services
from lms.trainings.models import Attendance, AttendanceMethod
from tests.factories import make_user
from tests.trainings.factories import make_training


def _attendances(training):
    return list(db.session.scalars(sa.select(Attendance).where(Attendance.training_id == training.id)
                                   .order_by(Attendance.id)))


def _code(app, training, now=None):
    return services.current_checkin_code(training, now or utcnow(), secret=app.config["SECRET_KEY"])[0]


@pytest.fixture
def session(people, tree):
    return make_training(tree["t1"], people["tt"], hours="2.5")


# --- roll call ---------------------------------------------------------------------------------------------------

def test_roll_records_attendance_once_and_reports_repeats(api, people, session, recorded):
    api.login("tt01")
    first = api.post(f"/api/v1/trainings/{session.id}/attendance", json={"usernames": ["w001", "w002", "w001"]})
    assert first.status_code == 200
    assert first.get_json() == {"added": ["w001", "w002"], "already": [], "attendance_count": 2}
    again = api.post(f"/api/v1/trainings/{session.id}/attendance", json={"usernames": ["w002"]})
    assert again.get_json() == {"added": [], "already": ["w002"], "attendance_count": 2}
    rows = _attendances(session)
    assert [(a.user.username, a.method, a.recorded_by.username) for a in rows] == [
        ("w001", AttendanceMethod.roll, "tt01"), ("w002", AttendanceMethod.roll, "tt01")]
    assert [(name, kw["hours"], kw["training"].id) for name, kw in recorded] == [
        ("w001", 2.5, session.id), ("w002", 2.5, session.id)]


def test_roll_with_any_bad_username_saves_nothing_and_lists_them(api, people, session, tree):
    from lms.accounts.models import UserStatus
    make_user("gone", "worker", tree["g1"]).status = UserStatus.disabled
    api.login("tt01")
    response = api.post(f"/api/v1/trainings/{session.id}/attendance",
                        json={"usernames": ["w001", "nobody", "w003", "gone"]})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_usernames"
    assert error["details"] == {"unknown": ["nobody"], "disabled": ["gone"], "outside_org": ["w003"]}
    assert "nobody" in error["message"] and "w003" in error["message"] and "未保存任何记录" in error["message"]
    assert _attendances(session) == []


@pytest.mark.parametrize("body", [{}, {"usernames": "w001"}, {"usernames": [1, 2]}, {"usernames": []},
                                  {"usernames": ["  "]}])
def test_roll_shape_errors(api, people, session, body):
    api.login("tt01")
    response = api.post(f"/api/v1/trainings/{session.id}/attendance", json=body)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_usernames"


def test_roll_by_a_trainer_outside_the_training_org_is_forbidden(api, people, session):
    for username in ("tt02", "vt01", "w001"):
        api.login(username)
        response = api.post(f"/api/v1/trainings/{session.id}/attendance", json={"usernames": ["w001"]})
        assert response.status_code == 403, username
    assert _attendances(session) == []


def test_roll_of_a_cancelled_or_future_training_is_a_conflict(api, people, tree):
    cancelled = make_training(tree["t1"], people["tt"], is_cancelled=True)
    future = make_training(tree["t1"], people["tt"], starts_at=utcnow() + dt.timedelta(days=2))
    api.login("tt01")
    first = api.post(f"/api/v1/trainings/{cancelled.id}/attendance", json={"usernames": ["w001"]})
    assert first.status_code == 409 and first.get_json()["error"]["code"] == "training_cancelled"
    second = api.post(f"/api/v1/trainings/{future.id}/attendance", json={"usernames": ["w001"]})
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "training_not_started"


def test_unknown_training_is_404(api, people):
    api.login("tt01")
    assert api.post("/api/v1/trainings/424242/attendance", json={"usernames": ["w001"]}).status_code == 404
    assert api.post("/api/v1/trainings/424242/checkin", json={"code": "123456"}).status_code == 404
    assert api.get("/api/v1/trainings/424242/code").status_code == 404
    assert api.client.get("/trainings/424242/qr.svg").status_code == 404
    assert api.client.get("/trainings/424242").status_code == 404


# --- self check-in -----------------------------------------------------------------------------------------------

def test_checkin_with_the_current_code_then_retries_are_200(app, api, people, session, recorded):
    api.login("w001")
    url = f"/api/v1/trainings/{session.id}/checkin"
    first = api.post(url, json={"code": _code(app, session), "client_id": "c0ffee00-0000-4000-8000-000000000001"})
    assert first.status_code == 201
    body = first.get_json()
    assert body["method"] == "checkin" and body["hours"] == 2.5 and body["training"]["id"] == session.id
    retry = api.post(url, json={"code": _code(app, session), "client_id": "c0ffee00-0000-4000-8000-000000000001"})
    assert retry.status_code == 200 and retry.get_json()["checked_in_at"] == body["checked_in_at"]
    # A retry after the code rotated still gets the first result, not an error.
    stale = api.post(url, json={"code": "000000", "client_id": "c0ffee00-0000-4000-8000-000000000001"})
    assert stale.status_code == 200
    rows = _attendances(session)
    assert len(rows) == 1 and rows[0].org_id == people["w1"].org_id and rows[0].recorded_by_id == people["w1"].id
    assert rows[0].client_id == "c0ffee00-0000-4000-8000-000000000001"
    assert [name for name, _ in recorded] == ["w001"]


def test_checkin_with_full_width_digits_is_accepted(app, api, people, session):
    api.login("w002")
    code = "".join(chr(ord("０") + int(d)) for d in _code(app, session))
    assert api.post(f"/api/v1/trainings/{session.id}/checkin", json={"code": code}).status_code == 201


def test_code_older_than_two_rotations_is_refused(app, api, people, session):
    api.login("w001")
    old = _code(app, session, utcnow() - dt.timedelta(seconds=95))
    current = {_code(app, session, utcnow() - dt.timedelta(seconds=back)) for back in (0, 30, 60)}  # the live steps
    if old in current:  # one chance in 10^6 that two steps share a code
        pytest.skip("code collision")
    response = api.post(f"/api/v1/trainings/{session.id}/checkin", json={"code": old})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_code"
    assert _attendances(session) == []


@pytest.mark.parametrize("code", ["", "12345", "abcdef", None, 123456.5, ["123456"]])
def test_malformed_code_is_invalid_code(api, people, session, code):
    api.login("w001")
    response = api.post(f"/api/v1/trainings/{session.id}/checkin", json={"code": code})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_code"
    assert "6 位数字" in response.get_json()["error"]["message"]


def test_another_trainings_code_does_not_check_in_here(app, api, people, session, tree):
    other = make_training(tree["t1"], people["tt"], title="另一场")
    api.login("w001")
    code = _code(app, other)
    if code in {_code(app, session), _code(app, session, utcnow() - dt.timedelta(seconds=30))}:
        pytest.skip("code collision")
    assert api.post(f"/api/v1/trainings/{session.id}/checkin", json={"code": code}).status_code == 422


def test_checkin_outside_the_training_org_is_403(app, api, people, session):
    api.login("w003")
    response = api.post(f"/api/v1/trainings/{session.id}/checkin", json={"code": _code(app, session)})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_in_training_org"
    assert _attendances(session) == []


@pytest.mark.parametrize("offset,cancelled", [
    (dt.timedelta(minutes=31), False),    # starts in 31 min: not yet open
    (dt.timedelta(hours=-4), False),      # ended an hour ago
    (dt.timedelta(minutes=-10), True),    # running but cancelled
])
def test_checkin_outside_the_window_is_409(app, api, people, tree, offset, cancelled):
    training = make_training(tree["t1"], people["tt"], starts_at=utcnow() + offset, is_cancelled=cancelled)
    api.login("w001")
    response = api.post(f"/api/v1/trainings/{training.id}/checkin", json={"code": _code(app, training)})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "checkin_closed"


def test_checkin_opens_thirty_minutes_before_the_start(app, api, people, tree):
    training = make_training(tree["t1"], people["tt"], starts_at=utcnow() + dt.timedelta(minutes=29))
    api.login("w001")
    assert api.post(f"/api/v1/trainings/{training.id}/checkin", json={"code": _code(app, training)}).status_code == 201


def test_checkin_bad_bodies(api, people, session):
    api.login("w001")
    url = f"/api/v1/trainings/{session.id}/checkin"
    assert api.post(url, json=[1]).status_code == 400
    bad_client = api.post(url, json={"code": "123456", "client_id": 5})
    assert bad_client.status_code == 422 and bad_client.get_json()["error"]["code"] == "invalid_client_id"


def test_roll_after_a_checkin_leaves_the_checkin(app, api, people, session):
    api.login("w001")
    api.post(f"/api/v1/trainings/{session.id}/checkin", json={"code": _code(app, session)})
    api.login("tt01")
    result = api.post(f"/api/v1/trainings/{session.id}/attendance", json={"usernames": ["w001"]}).get_json()
    assert result["already"] == ["w001"]
    assert [a.method for a in _attendances(session)] == [AttendanceMethod.checkin]


# --- the trainer's code endpoint ---------------------------------------------------------------------------------

def test_code_endpoint_gives_a_code_that_checks_in(app, api, people, session):
    api.login("tt01")
    payload = api.get(f"/api/v1/trainings/{session.id}/code").get_json()
    assert payload["open"] is True and len(payload["code"]) == 6 and 1 <= payload["seconds_left"] <= 30
    assert payload["checkin_url"] == f"http://lms.test/trainings/{session.id}/checkin?code={payload['code']}"
    assert payload["qr_url"].startswith(f"/trainings/{session.id}/qr.svg")
    api.login("w001")
    assert api.post(f"/api/v1/trainings/{session.id}/checkin", json={"code": payload["code"]}).status_code == 201


@pytest.mark.parametrize("username", ["tt02", "vt01", "w001"])
def test_code_endpoint_is_for_trainers_in_scope_only(api, people, session, username):
    api.login(username)
    assert api.get(f"/api/v1/trainings/{session.id}/code").status_code == 403
