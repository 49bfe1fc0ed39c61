"""Home page: the 签到 tile goes away once the person has checked in to that session."""
from __future__ import annotations

from lms.extensions import db
from lms.trainings.models import Attendance, AttendanceMethod
from tests.trainings.factories import make_training


def _home(api) -> str:
    response = api.client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_checkin_tile_disappears_after_checking_in(api, people, tree):
    training = make_training(tree["t1"], people["tt"], title="今日乡培")
    other = make_training(tree["t1"], people["tt"], title="今日村练")
    api.login("w001")
    assert "签到：今日乡培" in _home(api) and "签到：今日村练" in _home(api)
    db.session.add(Attendance(training_id=training.id, user_id=people["w1"].id, org_id=people["w1"].org_id,
                              method=AttendanceMethod.checkin))
    db.session.commit()
    html = _home(api)
    assert "签到：今日乡培" not in html
    assert "签到：今日村练" in html  # the other open session still wants a check-in
    db.session.add(Attendance(training_id=training.id, user_id=people["w2"].id, org_id=people["w2"].org_id,
                              method=AttendanceMethod.roll))
    db.session.commit()
    api.login("w002")
    assert "签到：今日乡培" not in _home(api) and "签到：今日村练" in _home(api)
