"""Other: check-in codes (issue 13, item 11; API.md "Check-in offline").

| tries | expected |
| --- | --- |
| 11 wrong codes within a minute through ``POST /api/v1/trainings/<id>/checkin`` | the first 10 answer 422 ``invalid_code``, then 429 ``too_many_wrong_codes`` — even for the right code |
| the same person once the minute has passed (counters are rows in the database) | the right code is accepted |
| a wrong-code burst on the HTML check-in form | the same limit: a 429 page in Chinese |
| a code typed offline 150 s (and 3 h) before the upload, with ``captured_at`` | accepted (201); the same code without ``captured_at`` is refused |
| ``captured_at`` with a code of a different moment, outside the session's window, more than 24 h old, or in the future | 422 ``invalid_code`` / 409 ``checkin_closed`` / 422 ``checkin_upload_too_late`` / 422 ``invalid_captured_at`` |
| a code three steps old typed live | refused: live, the code on screen and the two before it are valid (at least 60 s after it left the screen, for a slow typist) |
| the HTML form with the ``captured_at`` its script fills at the first keystroke | a code typed 150 s earlier is accepted; a tablet clock 10 min off does not stop the code on screen |
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.trainings import codes, services
from lms.trainings.models import Attendance
from tests.factories import make_user
from tests.trainings.factories import make_training


@pytest.fixture
def session(tree):
    trainer = make_user("tt01", "trainer", tree["t1"], name="镇培训师")
    make_user("w001", "worker", tree["g1"], name="张小明")
    return make_training(tree["t1"], trainer, starts_at=utcnow() - dt.timedelta(hours=4),
                         duration=dt.timedelta(hours=6))


def _code(app, training, at=None) -> str:
    return services.current_checkin_code(training, at or utcnow(), secret=app.config["SECRET_KEY"])[0]


def _wrong(app, training) -> str:
    right = {_code(app, training, utcnow() + dt.timedelta(seconds=30 * k)) for k in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in right)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _failures():
    from lms.trainings.models import CheckinFailure  # here, so the module collects (and fails) on older code
    return CheckinFailure


def test_eleventh_wrong_code_in_a_minute_is_429_even_when_right(app, api, session):
    api.login("w001")
    url = f"/api/v1/trainings/{session.id}/checkin"
    wrong = _wrong(app, session)
    statuses = [api.post(url, json={"code": wrong}).status_code for _ in range(services.MAX_WRONG_CODES)]
    assert statuses == [422] * 10
    refused = api.post(url, json={"code": _code(app, session)})
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_wrong_codes" and "每分钟最多 10 次" in error["message"]
    assert _count(_failures()) == 10 and _count(Attendance) == 0
    # The counters are rows: once they are a minute old, the person may try again.
    db.session.execute(sa.update(_failures()).values(failed_at=utcnow() - dt.timedelta(seconds=61)))
    db.session.commit()
    assert api.post(url, json={"code": _code(app, session)}).status_code == 201


def test_the_html_form_shares_the_limit(app, api, client, session):
    api.login("w001")
    url = f"/trainings/{session.id}/checkin"
    wrong = _wrong(app, session)
    for _ in range(services.MAX_WRONG_CODES):
        assert client.post(url, data={"csrf_token": api.csrf, "code": wrong}).status_code == 422
    response = client.post(url, data={"csrf_token": api.csrf, "code": _code(app, session)})
    assert response.status_code == 429
    assert "签到码输错次数太多" in response.get_data(as_text=True)
    assert _count(Attendance) == 0


@pytest.mark.parametrize("typed_ago", [dt.timedelta(seconds=150), dt.timedelta(hours=3)])
def test_a_code_typed_offline_is_accepted_with_captured_at(app, api, session, typed_ago):
    api.login("w001")
    url = f"/api/v1/trainings/{session.id}/checkin"
    typed_at = utcnow() - typed_ago
    code = _code(app, session, typed_at)
    assert api.post(url, json={"code": code}).status_code == 422
    response = api.post(url, json={"code": code, "captured_at": typed_at.astimezone(SHANGHAI).isoformat(),
                                   "client_id": "0b6a3c1e-5d1f-4a43-9a5e-7f1f4b8f2c10"})
    assert response.status_code == 201, response.get_json()
    assert _count(Attendance) == 1


def test_offline_check_ins_outside_the_rules_are_refused(app, api, tree, session):
    api.login("w001")
    url = f"/api/v1/trainings/{session.id}/checkin"
    now = utcnow()
    typed_at = now - dt.timedelta(minutes=30)
    other_moment = _code(app, session, typed_at - dt.timedelta(minutes=5))
    if other_moment != _code(app, session, typed_at):
        response = api.post(url, json={"code": other_moment, "captured_at": typed_at.isoformat()})
        assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_code"
    before = session.starts_at - dt.timedelta(minutes=40)
    response = api.post(url, json={"code": _code(app, session, before), "captured_at": before.isoformat()})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "checkin_closed"
    future = now + dt.timedelta(minutes=10)
    response = api.post(url, json={"code": _code(app, session, future), "captured_at": future.isoformat()})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_captured_at"
    response = api.post(url, json={"code": "123456", "captured_at": "昨天"})
    assert response.get_json()["error"]["code"] == "invalid_captured_at"

    old = make_training(tree["t1"], session.trainer, starts_at=now - dt.timedelta(hours=26))
    typed = now - dt.timedelta(hours=25)
    response = api.post(f"/api/v1/trainings/{old.id}/checkin",
                        json={"code": _code(app, old, typed), "captured_at": typed.isoformat()})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "checkin_upload_too_late" and "24 小时" in error["message"]
    assert _count(Attendance) == 0


def test_live_the_code_on_screen_and_the_two_before_it_are_valid(app, session):
    user = db.session.scalar(sa.select(services.User).where(services.User.username == "w001"))
    secret = app.config["SECRET_KEY"]
    step = codes.time_step(utcnow()) + 3
    start = dt.datetime.fromtimestamp(step * codes.STEP_SECONDS, dt.timezone.utc)  # a step boundary
    three_ago = codes.code_for_step(secret, session.checkin_secret, step - 3)
    two_ago = codes.code_for_step(secret, session.checkin_secret, step - 2)
    with pytest.raises(services.WrongCode):
        services.check_in(user, session, three_ago, now=start + dt.timedelta(seconds=1), secret=secret)
    _, created = services.check_in(user, session, two_ago, now=start + dt.timedelta(seconds=29), secret=secret)
    assert created


def test_the_html_form_accepts_a_slow_typists_code_with_captured_at(app, api, client, session):
    api.login("w001")
    typed_at = utcnow() - dt.timedelta(seconds=150)  # past the live window: only captured_at lets it in
    response = client.post(f"/trainings/{session.id}/checkin", data={
        "csrf_token": api.csrf, "code": _code(app, session, typed_at),
        "captured_at": typed_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    assert response.status_code == 302
    assert _count(Attendance) == 1
    page = client.get(f"/trainings/{session.id}/checkin").get_data(as_text=True)
    assert "您已签到" in page
    # A tablet whose clock is 10 minutes off still checks in with the code on screen.
    for n, clock_error in enumerate((dt.timedelta(minutes=-10), dt.timedelta(minutes=10)), start=2):
        make_user(f"w00{n}", "worker", session.org, name=f"工作人员{n}")
        api.login(f"w00{n}")
        response = client.post(f"/trainings/{session.id}/checkin", data={
            "csrf_token": api.csrf, "code": _code(app, session), "captured_at": (utcnow() + clock_error).isoformat()})
        assert response.status_code == 302, clock_error
    assert _count(Attendance) == 3

